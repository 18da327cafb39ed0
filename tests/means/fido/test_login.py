"""Logging in to a service with a FIDO2 security key (« Clé de sécurité FIDO » on la mire),
through the real pages: the options are read from the page, answered by the software key, and
the tokens say ``authMode: FIDO``, ``acr: eidas2``. Every refusal is a French message on the
page (400), never a server error, and the professional can try again."""

from __future__ import annotations

import html as htmllib
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from psc_idp.extensions import db
from psc_idp.means.fido.models import FidoCeremony, FidoCredential
from psc_idp.timeutil import now
from tests.helpers import Browser, RegisteredClient, decode, exchange_code, pkce_pair, query_of
from tests.means.fido.authenticator import SoftKey
from tests.means.fido.test_enrolment import (
    ACCOUNT,
    DOCTOR,
    KEYS,
    OTHER,
    Account,
    assert_refused,
    enrolled_key,
    policy,
    stored,
    webauthn_form,
)


class FidoLogin:
    """A service sends the professional to la mire; they choose « Clé de sécurité FIDO »."""

    def __init__(self, app: Flask, client: RegisteredClient, **params: str) -> None:
        self.app = app
        self.client = client
        self.browser = Browser(app)
        self.http = self.browser.http
        self.verifier, challenge = pkce_pair()
        start = self.browser.authorize(
            client.client_id, code_challenge=challenge, code_challenge_method="S256", **params
        )
        assert start.status_code == 302, start.get_data(as_text=True)
        self.login_page = start.headers["Location"]
        self.means = f"{self.login_page}/fido"

    def open(self, national_id: str | None = None) -> tuple[dict[str, Any], str]:
        """GET the page (``?nid=`` when given): its options and ceremony."""
        page = self.http.get(self.means, query_string={"nid": national_id} if national_id else {})
        assert page.status_code == 200, page.get_data(as_text=True)
        return self._read(page.get_data(as_text=True))

    def _read(self, html: str) -> tuple[dict[str, Any], str]:
        """The form as the browser would post it: its action, CSRF token, options, ceremony."""
        form = re.search(r'<form method="post" action="([^"]+)" id="webauthn-form"', html)
        self.action = htmllib.unescape(form.group(1))
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        return webauthn_form(html)

    def identify(self, national_id: str) -> Any:
        """« …ou saisissez d'abord votre identifiant national »."""
        self.open()
        return self.http.post(
            self.means,
            data={"csrf_token": self.csrf, "step": "identify", "national_id": national_id},
        )

    def answer(self, posted: dict[str, Any] | str, ceremony: str) -> Any:
        """Post the key's answer to the form's action; a refusal page becomes the current form."""
        response = self.http.post(
            self.action,
            data={
                "csrf_token": self.csrf,
                "step": "complete",
                "ceremony": ceremony,
                "response": posted if isinstance(posted, str) else json.dumps(posted),
            },
        )
        if response.status_code == 400:
            self._read(response.get_data(as_text=True))
        return response

    def tokens(self, done: Any) -> dict[str, Any]:
        """After a successful answer: back to the service, code exchanged; the ID token."""
        assert done.status_code == 302, done.get_data(as_text=True)
        back = self.http.get(done.headers["Location"])
        assert back.status_code == 302
        callback = query_of(back.headers["Location"])
        response = exchange_code(self.app, self.client, callback["code"], self.verifier)
        assert response.status_code == 200, response.get_json()
        return response.get_json()


def claims_of(tokens: dict[str, Any]) -> tuple[str, str, str]:
    claims = decode(tokens["id_token"])
    return claims["SubjectNameID"], claims["authMode"], claims["acr"]


def log_in(app: Flask, clients, key: SoftKey, **knobs: Any) -> Any:
    """A discoverable login answered by ``key``: the response to the answer."""
    login = FidoLogin(app, clients.web)
    options, ceremony = login.open()
    return login.answer(key.get(options, **knobs), ceremony)


@pytest.fixture(scope="module")
def doctor_key(app) -> SoftKey:
    return enrolled_key(app, DOCTOR)


@pytest.fixture(scope="module")
def other_key(app) -> SoftKey:
    return enrolled_key(app, OTHER)


# --- logging in -------------------------------------------------------------------------------
def test_login_with_a_discoverable_credential(app, clients, doctor_key):
    login = FidoLogin(app, clients.web)
    listed = login.http.get(login.login_page).get_data(as_text=True)
    assert 'class="means" href="' in listed and 'data-means="fido"' in listed
    options, ceremony = login.open()
    assert options["allowCredentials"] == [] and options["rpId"] == "localhost"
    assert options["userVerification"] == "required"

    tokens = login.tokens(login.answer(doctor_key.get(options), ceremony))
    assert claims_of(tokens) == (DOCTOR, "FIDO", "eidas2")
    access = decode(tokens["access_token"])
    assert (access["authMode"], access["acr"]) == ("FIDO", "eidas2")
    credential = stored(app, doctor_key)
    assert credential.sign_count == doctor_key.counter and credential.last_used_at is not None


def test_login_with_the_national_id_first(app, clients, doctor_key, other_key):
    login = FidoLogin(app, clients.web)
    identified = login.identify(DOCTOR)
    assert identified.status_code == 302 and identified.headers["Location"].endswith(
        f"/fido?nid={DOCTOR}"
    )
    options, ceremony = login.open(DOCTOR)
    with app.app_context():
        mine = db.session.scalars(
            select(FidoCredential.credential_id).where(
                FidoCredential.national_id == DOCTOR, FidoCredential.revoked_at.is_(None)
            )
        ).all()
    listed = [c["id"] for c in options["allowCredentials"]]
    assert sorted(listed) == sorted(mine) and doctor_key.id in listed
    assert other_key.id not in listed
    tokens = login.tokens(login.answer(doctor_key.get(options), ceremony))
    assert claims_of(tokens) == (DOCTOR, "FIDO", "eidas2")


def test_a_refusal_keeps_the_national_id(app, clients, doctor_key):
    login = FidoLogin(app, clients.web)
    options, ceremony = login.open(DOCTOR)
    refused = login.answer(doctor_key.get(options, user_verified=False), ceremony)
    page = assert_refused(refused, "vérification est obligatoire")
    assert f'Clés de <span class="mono">{DOCTOR}</span>' in page
    options, ceremony = webauthn_form(page)
    assert doctor_key.id in [c["id"] for c in options["allowCredentials"]]
    tokens = login.tokens(login.answer(doctor_key.get(options), ceremony))
    assert claims_of(tokens) == (DOCTOR, "FIDO", "eidas2")


def test_a_malformed_national_id_is_refused(app, clients):
    login = FidoLogin(app, clients.web)
    refused = login.identify("899700366241")
    assert_refused(refused, "la clé de contrôle (dernier chiffre) ne correspond pas")


def test_login_to_the_account_space_with_the_key(app, doctor_key):
    browser = Browser(app)
    start = browser.http.get(ACCOUNT)
    means = f"{start.headers['Location']}/fido"
    html = browser.http.get(means).get_data(as_text=True)
    options, ceremony = webauthn_form(html)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    done = browser.http.post(
        means,
        data={
            "csrf_token": csrf,
            "step": "complete",
            "ceremony": ceremony,
            "response": json.dumps(doctor_key.get(options)),
        },
    )
    assert done.status_code == 302 and done.headers["Location"] == ACCOUNT
    home = htmllib.unescape(browser.http.get(ACCOUNT).get_data(as_text=True))
    assert "Session ouverte avec : clé de sécurité FIDO" in home


def test_the_acr_follows_the_configuration(app, clients, doctor_key):
    mapping = {**app.extensions["psc_settings"].acr_by_auth_mode, "FIDO": "eidas1"}
    with policy(app, acr_by_auth_mode=mapping):
        login = FidoLogin(app, clients.web)
        options, ceremony = login.open()
        tokens = login.tokens(login.answer(doctor_key.get(options), ceremony))
    assert claims_of(tokens) == (DOCTOR, "FIDO", "eidas1")


@pytest.mark.parametrize("acr_values", ["eidas1", "eidas2"])
def test_fido_meets_eidas2_and_below(app, clients, doctor_key, acr_values):
    login = FidoLogin(app, clients.web, acr_values=acr_values)
    options, ceremony = login.open()
    tokens = login.tokens(login.answer(doctor_key.get(options), ceremony))
    assert claims_of(tokens) == (DOCTOR, "FIDO", "eidas2")


def test_fido_is_not_offered_when_eidas3_is_required(app, clients, doctor_key):
    login = FidoLogin(app, clients.web, acr_values="eidas3")
    listed = htmllib.unescape(login.http.get(login.login_page).get_data(as_text=True))
    assert re.search(r'<div class="means means--disabled" data-means="fido">', listed)
    assert "Niveau de sécurité insuffisant pour ce service." in listed
    for response in (
        login.http.get(login.means),
        login.http.post(login.means, data={"step": "complete", "response": "{}"}),
    ):
        assert response.status_code == 404
        page = htmllib.unescape(response.get_data(as_text=True))
        assert "Ce moyen d'authentification n'est pas proposé pour cette connexion." in page


# --- refusals ---------------------------------------------------------------------------------
FORGED = {
    "another origin": ({"origin": "https://evil.example"}, "un autre site que Pro Santé Connect"),
    "another RP ID": ({"rp_id": "evil.example"}, "un autre domaine que « localhost »"),
    "another challenge": ({"challenge": "b3RoZXItY2hhbGxlbmdl"}, "ne correspond pas à cette"),
    "a registration": ({"kind": "webauthn.create"}, "ne correspond pas à cette opération"),
    "embedded in a frame": ({"cross_origin": True}, "page intégrée à un autre site"),
    "no user presence": ({"user_present": False}, "n'a pas constaté votre présence"),
    "no user verification": ({"user_verified": False}, "vérification est obligatoire"),
    "another signer": ({"sign_with": SoftKey().private_key}, "La signature de la clé est invalide"),
    "another user handle": ({"user_handle": OTHER.encode()}, "n'appartient pas à ce professionnel"),
}


@pytest.mark.parametrize("knobs, message", FORGED.values(), ids=FORGED.keys())
def test_forged_assertions_are_refused(app, clients, doctor_key, knobs, message):
    login = FidoLogin(app, clients.web)
    options, ceremony = login.open()
    before = stored(app, doctor_key).sign_count
    page = assert_refused(login.answer(doctor_key.get(options, **knobs), ceremony), message)
    assert "La connexion n'a pas abouti" in page
    assert stored(app, doctor_key).sign_count == before
    # The page offers a new challenge: the professional tries again, and it works.
    options, ceremony = webauthn_form(page)
    assert claims_of(login.tokens(login.answer(doctor_key.get(options), ceremony)))[1] == "FIDO"


UNREADABLE = {
    "nothing": ("", "La clé n'a pas répondu. Réessayez."),
    "not JSON": ("{pas du json", "La clé n'a pas répondu. Réessayez."),
    "nested deep": ("[" * 5000, "La clé n'a pas répondu. Réessayez."),
    "an empty object": ("{}", "La réponse de la clé est illisible"),
    "truncated authenticator data": ("authenticatorData", "La réponse de la clé est illisible"),
    "an unknown key": ("rawId", "Cette clé n'est pas (ou plus) enregistrée."),
}


@pytest.mark.parametrize("what, message", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_unreadable_answers_are_refused(app, clients, doctor_key, what, message):
    login = FidoLogin(app, clients.web)
    options, ceremony = login.open()
    posted: Any = doctor_key.get(options)
    if what == "authenticatorData":
        posted["response"]["authenticatorData"] = posted["response"]["authenticatorData"][:20]
    elif what == "rawId":
        posted["id"] = posted["rawId"] = "aW5jb25udWU"
    else:
        posted = what
    assert_refused(login.answer(posted, ceremony), message)


def test_a_challenge_answers_once(app, clients, doctor_key):
    login = FidoLogin(app, clients.web)
    options, ceremony = login.open()
    assert_refused(
        login.answer(doctor_key.get(options, origin="https://evil.example"), ceremony),
        "un autre site",
    )
    replayed = login.answer(doctor_key.get(options), ceremony)
    assert_refused(replayed, "Cette demande de clé a déjà servi : recommencez.")


def test_a_challenge_of_another_login_is_unknown(app, clients, doctor_key):
    first, second = FidoLogin(app, clients.web), FidoLogin(app, clients.web)
    options, ceremony = first.open()
    second.open()
    refused = second.answer(doctor_key.get(options), ceremony)
    assert_refused(refused, "Cette demande de clé est inconnue.")


def test_an_expired_challenge_is_refused(app, clients, doctor_key):
    login = FidoLogin(app, clients.web)
    options, ceremony = login.open()
    with app.app_context():
        db.session.execute(
            update(FidoCeremony)
            .where(FidoCeremony.id == ceremony)
            .values(expires_at=now() - timedelta(seconds=1))
        )
        db.session.commit()
    assert_refused(login.answer(doctor_key.get(options), ceremony), "Le délai est dépassé")


def test_a_counter_that_goes_back_blocks_the_key(app, clients):
    key = enrolled_key(app)
    assert log_in(app, clients, key).status_code == 302  # counter 1
    assert log_in(app, clients, key, counter=5).status_code == 302

    refused = log_in(app, clients, key, counter=3)  # a clone, behind the original
    assert_refused(refused, "Le compteur de cette clé a reculé")
    assert stored(app, key).suspected_clone_at is not None
    assert stored(app, key).sign_count == 5

    blocked = log_in(app, clients, key, counter=9)  # even the original now
    assert_refused(blocked, "Cette clé est bloquée (copie suspectée)")
    assert "bloquée (copie suspectée)" in Account(app).home()


def test_an_equal_counter_is_a_regression_too(app, clients):
    key = enrolled_key(app)
    assert log_in(app, clients, key, counter=7).status_code == 302
    assert_refused(log_in(app, clients, key, counter=7), "Le compteur de cette clé a reculé")


def test_a_key_that_never_counts_is_accepted(app, clients):
    """Some authenticators keep their counter at zero (WebAuthn §6.1.1)."""
    key = enrolled_key(app)
    for _ in range(2):
        assert log_in(app, clients, key, counter=0).status_code == 302


def test_a_revoked_key_is_refused(app, clients):
    account = Account(app)
    key = SoftKey()
    assert account.enrol(key).status_code == 302
    key_id = stored(app, key).id
    revoked = account.http.post(f"{KEYS}/{key_id}/revoke", data={"csrf_token": account.csrf})
    assert revoked.status_code == 302

    assert_refused(log_in(app, clients, key), "Cette clé n'est pas (ou plus) enregistrée.")
    login = FidoLogin(app, clients.web)
    options, ceremony = login.open(DOCTOR)
    assert key.id not in [c["id"] for c in options["allowCredentials"]]
    forged = key.get(options, ignore_allow_list=True)
    assert_refused(login.answer(forged, ceremony), "Cette clé n'est pas (ou plus) enregistrée.")


def test_the_key_of_another_professional_with_the_national_id_first(app, clients, other_key):
    login = FidoLogin(app, clients.web)
    assert login.identify(DOCTOR).status_code == 302
    options, ceremony = login.open(DOCTOR)
    with pytest.raises(LookupError):
        other_key.get(options)  # a real key does not answer for someone else's list
    forged = other_key.get(options, ignore_allow_list=True)
    assert_refused(login.answer(forged, ceremony), "Cette clé n'appartient pas à cet identifiant.")


def test_too_many_refusals_end_the_login(app, clients, doctor_key):
    login = FidoLogin(app, clients.web)
    options, ceremony = login.open()
    for _ in range(4):
        page = assert_refused(login.answer("", ceremony), "La clé n'a pas répondu")
        options, ceremony = webauthn_form(page)
    ended = login.answer("", ceremony)
    assert ended.status_code == 302
    back = login.http.get(ended.headers["Location"])
    assert query_of(back.headers["Location"])["error"] == "access_denied"
