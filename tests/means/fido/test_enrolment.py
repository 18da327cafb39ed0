"""Enrolling a FIDO2 security key in the account space, through the real pages: log in to the
account with the test identity picker, ask the e-CPS approval, approve it on the phone, open
« Ajouter une clé de sécurité », answer its options with the software key, post the answer.

Every refusal is a French page (400), never a server error; times are moved in the database,
nobody sleeps."""

from __future__ import annotations

import html as htmllib
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from psc_idp.extensions import db
from psc_idp.means.ecps.models import EcpsPush
from psc_idp.means.fido.models import FidoCeremony, FidoCredential
from psc_idp.timeutil import now
from tests.helpers import Browser
from tests.means.ecps.helpers import Phone, activate_by_contact
from tests.means.fido.authenticator import SOFT_AAGUID, AttestationCA, SoftKey

ACCOUNT = "/wallet/account"
KEYS = "/wallet/account/keys"
#: Nobody else in the suite enrols keys or answers pushes for these two.
DOCTOR = "899700366240"
OTHER = "899700427885"
PIN = "1234"

_phones: dict[str, Phone] = {}


def phone_of(app: Flask, national_id: str) -> Phone:
    """The professional's e-CPS (activated once per test run)."""
    if national_id not in _phones:
        _phones[national_id] = activate_by_contact(app, national_id, pin=PIN)
    return _phones[national_id]


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def webauthn_form(page: str) -> tuple[dict[str, Any], str]:
    """The options embedded in the form (``data-options``) and its ``ceremony`` field."""
    options = re.search(r'data-options="([^"]*)"', page)
    assert options, "the page holds no WebAuthn options"
    ceremony = re.search(r'name="ceremony" value="([^"]+)"', page).group(1)
    return json.loads(htmllib.unescape(options.group(1))), ceremony


def assert_refused(response, message: str) -> str:
    """A French refusal page naming ``message``; returns the page."""
    page = response.get_data(as_text=True)
    assert response.status_code == 400, (response.status_code, page[:2000])
    assert 'role="alert"' in page and message in htmllib.unescape(page), page
    return page


@contextmanager
def policy(app: Flask, **changes: Any) -> Iterator[None]:
    """Change settings of the running app for one block (restored whatever happens)."""
    settings = app.extensions["psc_settings"]
    saved = {name: getattr(settings, name) for name in changes}
    try:
        for name, value in changes.items():
            setattr(settings, name, value)
        yield
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)


class Account:
    """A professional's browser in their account space (Flask's test client)."""

    def __init__(self, app: Flask, national_id: str = DOCTOR) -> None:
        self.app = app
        self.national_id = national_id
        self.phone = phone_of(app, national_id)  # an e-CPS to approve with
        self.browser = Browser(app)
        self.http = self.browser.http
        start = self.http.get(ACCOUNT)
        assert start.status_code == 302 and "/wallet/login/" in start.headers["Location"]
        done = self.browser.pick_identity(start.headers["Location"], national_id, "MOBILE")
        assert done.status_code == 302 and done.headers["Location"] == ACCOUNT
        self.csrf = csrf_of(self.add_page())  # the account page has forms only for its keys

    def home(self) -> str:
        page = self.http.get(ACCOUNT)
        assert page.status_code == 200
        return htmllib.unescape(page.get_data(as_text=True))

    # --- the e-CPS approval --------------------------------------------------------------------
    def ask_approval(self) -> dict[str, Any]:
        """« Demander l'accord sur mon e-CPS »; returns the request as the phone sees it."""
        asked = self.http.post(f"{KEYS}/approval", data={"csrf_token": self.csrf})
        assert asked.status_code == 302 and asked.headers["Location"] == f"{KEYS}/add"
        page = self.add_page()
        binding = re.search(r'class="binding-code mono">(\d+)<', page).group(1)
        pending = [r for r in self.phone.pending() if r["kind"] == "enrolment"]
        request = max(pending, key=lambda r: r["created_at"])
        assert request["binding_message"] == binding
        assert request["client_name"] == "Activation d'une clé de sécurité"
        return request

    def approve(self, decision: str = "approve") -> dict[str, Any]:
        request = self.ask_approval()
        decided = self.phone.decide(request, decision, pin=PIN if decision == "approve" else "")
        assert decided.status_code == 200, decided.get_json()
        return request

    # --- the enrolment page --------------------------------------------------------------------
    def add_page(self) -> str:
        page = self.http.get(f"{KEYS}/add")
        assert page.status_code == 200
        return page.get_data(as_text=True)

    def options(self) -> tuple[dict[str, Any], str]:
        return webauthn_form(self.add_page())

    def register(
        self, posted: dict[str, Any] | str, ceremony: str, name: str = "Clé du cabinet"
    ) -> Any:
        return self.http.post(
            f"{KEYS}/register",
            data={
                "csrf_token": self.csrf,
                "ceremony": ceremony,
                "response": posted if isinstance(posted, str) else json.dumps(posted),
                "name": name,
            },
        )

    def enrol(self, key: SoftKey, name: str = "Clé du cabinet", **knobs: Any) -> Any:
        """Approve, open the page, answer with ``key``; the register response."""
        self.approve()
        options, ceremony = self.options()
        return self.register(key.create(options, **knobs), ceremony, name)


def enrolled_key(app: Flask, national_id: str = DOCTOR, **knobs: Any) -> SoftKey:
    """A key enrolled for ``national_id``, ready to log in."""
    key = SoftKey()
    done = Account(app, national_id).enrol(key, **knobs)
    assert done.status_code == 302 and done.headers["Location"] == ACCOUNT, done.get_data(
        as_text=True
    )
    return key


def stored(app: Flask, key: SoftKey) -> FidoCredential:
    with app.app_context():
        credential = db.session.scalar(
            select(FidoCredential).where(FidoCredential.credential_id == key.id)
        )
        assert credential is not None
        db.session.expunge(credential)
        return credential


# --- enrolment after a fresh approval ---------------------------------------------------------
def test_enrolment_after_a_fresh_ecps_approval(app):
    account = Account(app)
    before = account.add_page()
    assert "Demander l'accord sur mon e-CPS" in before and "data-options" not in before

    account.approve()
    options, ceremony = account.options()
    assert options["rp"] == {"name": "Pro Santé Connect", "id": "localhost"}
    assert options["user"]["name"] == DOCTOR
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["attestation"] == "direct"
    assert {"type": "public-key", "alg": -7} in options["pubKeyCredParams"]

    key = SoftKey()
    done = account.register(key.create(options, fmt="none"), ceremony, "Clé du cabinet")
    assert done.status_code == 302 and done.headers["Location"] == ACCOUNT

    home = account.home()
    assert "Clé du cabinet" in home and "Clé de sécurité enregistrée" in home
    assert str(SOFT_AAGUID) in home
    credential = stored(app, key)
    assert (credential.national_id, credential.attestation_format) == (DOCTOR, "none")
    assert credential.transports == ["usb"] and credential.revoked_at is None


def test_packed_self_attestation_is_accepted_by_default(app):
    key = enrolled_key(app, fmt="packed")
    assert stored(app, key).attestation_format == "packed"


def test_without_approval_the_key_is_refused(app):
    account = Account(app)
    forged = SoftKey().create({"challenge": "AAAA", "rp": {"id": "localhost"}})
    refused = account.register(forged, "une-demande-inventee")
    assert_refused(refused, "Demandez d'abord l'accord de votre e-CPS.")


def test_approval_still_pending_is_not_enough(app):
    account = Account(app)
    request = account.ask_approval()
    page = account.add_page()
    assert "Activation d'une clé de sécurité" in page and "data-options" not in page
    refused = account.register(SoftKey().create({"challenge": "AAAA"}), "x")
    assert_refused(refused, "Approuvez d'abord la demande sur votre e-CPS.")
    account.phone.decide(request, "deny")  # leave nothing pending behind


def test_denied_approval_refuses_the_key(app):
    account = Account(app)
    account.approve()
    options, ceremony = account.options()  # a page opened while the approval was good
    account.approve(decision="deny")  # …then a newer request, denied on the phone
    assert "La demande a été refusée sur votre e-CPS." in htmllib.unescape(account.add_page())
    refused = account.register(SoftKey().create(options), ceremony)
    assert_refused(refused, "La demande a été refusée sur votre e-CPS")


def test_approval_older_than_the_window_is_refused(app):
    account = Account(app)
    request = account.approve()
    options, ceremony = account.options()
    window = app.extensions["psc_settings"].fido_enrolment_approval_window
    with app.app_context():
        db.session.execute(
            update(EcpsPush)
            .where(EcpsPush.id == request["id"])
            .values(decided_at=now() - timedelta(seconds=window + 1))
        )
        db.session.commit()
    refused = account.register(SoftKey().create(options), ceremony)
    assert_refused(refused, "L'accord de votre e-CPS a expiré : demandez-le à nouveau.")
    page = htmllib.unescape(account.add_page())
    assert "L'accord est trop ancien" in page and "data-options" not in page


def test_an_approval_counts_for_its_own_session_only(app):
    first, second = Account(app), Account(app)  # two browsers of the same professional
    first.approve()
    assert "data-options" in first.add_page()
    assert "data-options" not in second.add_page()


def test_a_key_already_enrolled_is_refused_clearly(app):
    account = Account(app)
    key = SoftKey()
    assert account.enrol(key).status_code == 302
    options, ceremony = account.options()  # the approval is still fresh
    assert key.id in [c["id"] for c in options["excludeCredentials"]]
    refused = account.register(key.create(options), ceremony)
    assert_refused(refused, "Cette clé est déjà enregistrée.")


def test_an_enrolment_ceremony_answers_once(app):
    account = Account(app)
    account.approve()
    options, ceremony = account.options()
    assert account.register(SoftKey().create(options), ceremony).status_code == 302
    refused = account.register(SoftKey().create(options), ceremony)
    assert_refused(refused, "Cette demande de clé a déjà servi : recommencez.")


def test_an_expired_enrolment_challenge_is_refused(app):
    account = Account(app)
    account.approve()
    options, ceremony = account.options()
    with app.app_context():
        db.session.execute(
            update(FidoCeremony)
            .where(FidoCeremony.id == ceremony)
            .values(expires_at=now() - timedelta(seconds=1))
        )
        db.session.commit()
    refused = account.register(SoftKey().create(options), ceremony)
    assert_refused(refused, "Le délai est dépassé : recommencez.")


def test_a_ceremony_of_another_session_is_unknown(app):
    mine, theirs = Account(app), Account(app, OTHER)
    mine.approve()
    theirs.approve()
    options, ceremony = mine.options()
    refused = theirs.register(SoftKey().create(options), ceremony)
    assert_refused(refused, "Cette demande de clé est inconnue.")


FORGED = {
    "another origin": ({"origin": "https://evil.example"}, "un autre site que Pro Santé Connect"),
    "another RP ID": ({"rp_id": "evil.example"}, "un autre domaine que « localhost »"),
    "another challenge": ({"challenge": "b3RoZXItY2hhbGxlbmdl"}, "ne correspond pas à cette"),
    "an assertion": ({"kind": "webauthn.get"}, "ne correspond pas à cette opération"),
    "embedded in a frame": ({"cross_origin": True}, "page intégrée à un autre site"),
    "no user presence": ({"user_present": False}, "n'a pas constaté votre présence"),
    "no user verification": ({"user_verified": False}, "vérification est obligatoire"),
    "no public key": ({"attested_data": False}, "n'a pas fourni sa clé publique"),
}


@pytest.mark.parametrize("knobs, message", FORGED.values(), ids=FORGED.keys())
def test_forged_registrations_are_refused(app, knobs, message):
    account = Account(app)
    account.approve()
    options, ceremony = account.options()
    key = SoftKey()
    assert_refused(account.register(key.create(options, **knobs), ceremony), message)
    with app.app_context():
        assert (
            db.session.scalar(
                select(FidoCredential.id).where(FidoCredential.credential_id == key.id)
            )
            is None
        )


UNREADABLE = {
    "not JSON": ("{pas du json", "La clé n'a pas répondu."),
    "nothing": ("", "La clé n'a pas répondu."),
    "a list": ("[]", "La clé n'a pas répondu."),
    "nested deep": ("[" * 5000, "La clé n'a pas répondu."),
    "garbage CBOR": ("attestationObject", "La réponse de la clé est illisible"),
    "not base64url": ("@@@", "La réponse de la clé est illisible"),
    "another rawId": ("rawId", "La réponse de la clé est illisible"),
}


@pytest.mark.parametrize("what, message", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_unreadable_answers_are_refused(app, what, message):
    account = Account(app)
    account.approve()
    options, ceremony = account.options()
    posted: Any = SoftKey().create(options)
    if what == "attestationObject":
        posted["response"]["attestationObject"] = "oWNmbXQ"
    elif what == "@@@":
        posted["response"]["attestationObject"] = "@@@"
    elif what == "rawId":
        posted["rawId"] = posted["id"] = "b3RoZXI"
    else:
        posted = what
    assert_refused(account.register(posted, ceremony), message)


def test_a_credential_id_longer_than_webauthn_allows_is_refused(app):
    account = Account(app)
    account.approve()
    options, ceremony = account.options()
    key = SoftKey()
    key.credential_id = bytes(1024)
    assert_refused(account.register(key.create(options), ceremony), "illisible")


def test_a_key_name_is_cleaned(app):
    key = SoftKey()
    assert Account(app).enrol(key, name="Clé\x01 bleue\n").status_code == 302
    assert stored(app, key).name == "Clé bleue"


# --- the attestation policy -------------------------------------------------------------------
def test_a_format_left_out_of_the_policy_is_refused(app):
    with policy(app, fido_attestation_formats=["packed"]):
        account = Account(app)
        refused = account.enrol(SoftKey(), fmt="none")
        assert_refused(refused, "Cette clé utilise une attestation « none » non acceptée.")
        assert account.enrol(SoftKey(), fmt="packed").status_code == 302


def test_an_unknown_format_is_refused(app):
    refused = Account(app).enrol(SoftKey(), fmt="tpm")
    assert_refused(refused, "attestation « tpm » non acceptée")


def test_a_forged_self_attestation_is_refused(app):
    account = Account(app)
    account.approve()
    options, ceremony = account.options()
    posted = SoftKey().create(options, fmt="packed", sign_with=SoftKey().private_key)
    assert_refused(account.register(posted, ceremony), "L'attestation de la clé est invalide.")


def test_aaguid_allow_list(app):
    allowed = uuid.uuid4()
    with policy(app, fido_aaguid_allowlist=[str(allowed).upper()]):
        refused = Account(app).enrol(SoftKey())
        assert_refused(refused, "ne figure pas dans la liste des clés FIDO compatibles")
        key = SoftKey(aaguid=allowed)
        assert Account(app).enrol(key).status_code == 302
        assert stored(app, key).aaguid == str(allowed)


def test_trust_anchors(app, tmp_path):
    manufacturer, stranger = AttestationCA(), AttestationCA("Racine inconnue")
    anchor = tmp_path / "anchors.pem"
    anchor.write_bytes(manufacturer.pem())
    with policy(app, fido_trust_anchors=[str(anchor)]):
        trusted = SoftKey(attester=manufacturer.issue())
        assert Account(app).enrol(trusted, fmt="packed").status_code == 302
        assert stored(app, trusted).attestation_format == "packed"

        untrusted = Account(app).enrol(SoftKey(attester=stranger.issue()), fmt="packed")
        assert_refused(untrusted, "n'est signée par aucun fabricant reconnu")
        for fmt in ("packed", "none"):  # self-attestation, no attestation
            refused = Account(app).enrol(SoftKey(), fmt=fmt)
            assert_refused(refused, "ne présente pas d'attestation vérifiable")


def test_an_attestation_certificate_of_another_model_is_refused(app):
    """The certificate's AAGUID extension names another model than the authenticator data."""
    key = SoftKey(attester=AttestationCA().issue(aaguid=uuid.uuid4()))
    assert_refused(Account(app).enrol(key, fmt="packed"), "L'attestation de la clé est invalide.")


# --- rename and revoke ------------------------------------------------------------------------
def test_rename_and_revoke_need_the_csrf_token(app):
    account = Account(app)
    key = SoftKey()
    assert account.enrol(key).status_code == 302
    key_id = stored(app, key).id
    rename, revoke = f"{KEYS}/{key_id}/rename", f"{KEYS}/{key_id}/revoke"

    for token in (None, "faux", "jeton-é"):
        data = {"name": "Volée"} if token is None else {"name": "Volée", "csrf_token": token}
        assert account.http.post(rename, data=data).status_code == 400
        assert account.http.post(revoke, data=data).status_code == 400
    assert stored(app, key).name == "Clé du cabinet" and stored(app, key).revoked_at is None

    renamed = account.http.post(rename, data={"csrf_token": account.csrf, "name": " Clé bleue "})
    assert renamed.status_code == 302 and stored(app, key).name == "Clé bleue"
    kept = account.http.post(rename, data={"csrf_token": account.csrf, "name": "  "})
    assert kept.status_code == 302 and stored(app, key).name == "Clé bleue"

    revoked = account.http.post(revoke, data={"csrf_token": account.csrf})
    assert revoked.status_code == 302 and stored(app, key).revoked_at is not None
    home = account.home()
    assert "Clé bleue" in home and "révoquée" in home and "Clé de sécurité révoquée" in home
    # A revoked key is no longer excluded from a new enrolment.
    account.approve()
    options, _ = account.options()
    assert key.id not in [c["id"] for c in options.get("excludeCredentials") or []]


def test_someone_else_cannot_touch_my_key(app):
    key = enrolled_key(app)
    key_id = stored(app, key).id
    intruder = Account(app, OTHER)
    for action in ("rename", "revoke"):
        response = intruder.http.post(
            f"{KEYS}/{key_id}/{action}", data={"csrf_token": intruder.csrf, "name": "x"}
        )
        assert response.status_code == 404
    assert stored(app, key).revoked_at is None


def test_without_a_session(app):
    http = app.test_client()
    assert http.get(f"{KEYS}/add").status_code == 302
    for path in ("approval", "register", "some-key/revoke"):
        response = http.post(f"{KEYS}/{path}", data={"csrf_token": "x"})
        assert response.status_code == 403
        assert "La demande n'a pas pu être traitée." in htmllib.unescape(
            response.get_data(as_text=True)
        )
