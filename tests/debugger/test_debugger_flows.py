"""/dev/debugger on a real server: each flow started from the page, followed through la mire
where it needs a login, and what the run page shows of it."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import pytest

from tests.cluster import live_deployment
from tests.debugger.browsing import AUTO_APPROVED, DebuggerBrowser, text_of, token_in
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def live_server(database_url: str) -> Iterator[LiveServer]:
    env = {"PSC_DATABASE_URL": database_url} if database_url.startswith("postgresql") else {}
    with live_deployment(env) as server:
        yield server


@pytest.fixture
def browser(live_server) -> DebuggerBrowser:
    return DebuggerBrowser(live_server)


def test_the_form_lists_clients_scopes_and_which_lack_the_callback(browser, live_server):
    page = browser.form()
    assert f"{live_server.base_url}/dev/debugger/callback" in page
    assert 'value="demo-debugger" selected' in page
    assert "demo-web — Service web de démonstration (client_secret_basic) — sans l" in page
    for scope in ("openid", "scope_all", "eidas1", "offline_access", "scope_2"):
        assert f'id="scope-{scope}"' in page


def test_code_flow_with_pkce_shows_every_exchange_and_checks_the_tokens(browser, live_server):
    run = browser.code_flow(pkce="S256", acr_values="eidas1")
    text = text_of(run)
    assert "Demande d'autorisation (redirection du navigateur)" in text
    assert "code_challenge_method" in text and "S256" in text
    assert "Réponse d'autorisation (retour du navigateur)" in text
    assert "✔ conforme : state identique à l'envoyé" in text
    assert f"✔ conforme : iss = {live_server.issuer}" in text
    assert f"POST {live_server.issuer}/protocol/openid-connect/token" in text
    assert "200 OK" in text
    assert "✔ conforme : nonce de l'id_token" in text
    assert text.count("Signature valide (RS256") == 2  # the ID token and the access token
    assert "Signature non vérifiable par un service (HS512" in text  # the refresh token
    assert "Signature invalide" not in text
    # The PSC claims explained in French.
    assert "Moyen d'authentification utilisé par le professionnel" in text
    assert "application e-CPS sur le téléphone du professionnel" in text
    assert "Identifiant national du professionnel (idNat_PS)" in text
    # The secret is masked, the client id readable.
    secret = live_server.demo_secret("demo-debugger")
    assert secret not in run.text
    assert "Basic •••••• (client_id « demo-debugger » : secret masqué)" in text
    # This server's request journal is off: no link to it, and no scenario to list.
    assert "/dev/requests/" not in run.text
    assert "Scénarios d'erreur du client" not in text


@pytest.mark.parametrize("method", ["plain", "none"])
def test_code_flow_with_plain_pkce_or_none(browser, method):
    text = text_of(browser.code_flow(pkce=method))
    assert "200 OK" in text
    assert ("code_verifier" in text) is (method != "none")
    if method == "plain":
        assert "plain" in text


def test_client_secret_post_masks_the_secret_in_the_form(browser, live_server):
    run = browser.code_flow(auth_method="client_secret_post")
    text = text_of(run)
    assert "200 OK" in text
    assert "client_secret" in text and "••••••" in text
    assert live_server.demo_secret("demo-debugger") not in run.text


def test_par_then_the_code(browser, live_server):
    text = text_of(browser.code_flow("par"))
    assert "Requête d'autorisation poussée (PAR)" in text
    assert f"POST {live_server.issuer}/protocol/openid-connect/ext/par/request" in text
    assert "201 Created" in text and "request_uri" in text
    assert "Signature valide" in text


def test_refresh_introspection_userinfo_and_logout_from_a_run(browser, live_server):
    run = browser.code_flow()
    refreshed = browser.act(run, "refresh")
    assert "4. Rafraîchissement" in text_of(refreshed)
    assert text_of(refreshed).count("200 OK") == 2
    introspected = text_of(browser.act(refreshed, "introspect"))
    assert f"POST {live_server.issuer}/protocol/openid-connect/token/introspect" in introspected
    assert '"active": true' in introspected
    assert "Introspection : le jeton est-il encore valable ?" in introspected
    userinfo = browser.act(refreshed, "userinfo")
    text = text_of(userinfo)
    assert f"GET {live_server.issuer}/protocol/openid-connect/userinfo" in text
    access_token = token_in(text, "access_token")
    assert f"Bearer {access_token[:12]}••••••" in text  # the start of the token only
    assert f"Bearer {access_token}" not in text
    assert "Situation professionnelle complète (UserInfo)" in text
    assert "SubjectRefPro" in text and "Raison sociale de la structure" in text

    logged_out = browser.act(userinfo, "logout")
    text = text_of(logged_out)
    assert "Déconnexion initiée par le service (navigateur)" in text
    assert "Retour après la déconnexion (navigateur)" in text
    # The session is over: the refresh token no longer works.
    again = text_of(browser.act(logged_out, "refresh"))
    assert "invalid_grant" in again


def test_ciba_request_then_polls_until_the_tokens(browser, live_server):
    started = browser.start("ciba", login_hint=AUTO_APPROVED, binding_message="42")
    text = text_of(started)
    assert f"POST {live_server.issuer}/protocol/openid-connect/ext/ciba/auth" in text
    assert "auth_req_id" in text and "Interroger maintenant" in text
    page = started
    deadline = time.monotonic() + 40
    while "Interroger maintenant" in page.text and time.monotonic() < deadline:
        time.sleep(5.2)  # the request's interval
        page = browser.act(page, "poll")
    text = text_of(page)
    assert "Interroger maintenant" not in text
    assert "Interrogation n° 1" in text
    assert "Signature valide" in text
    assert '"authMode": "MOBILE"' in text


def test_a_tampered_token_is_shown_invalid_and_the_real_one_valid(browser):
    text = text_of(browser.code_flow())
    id_token = token_in(text, "id_token")
    header, payload, signature = id_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["SubjectNameID"] = "899700366240"  # another professional
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    kid = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]

    real = text_of(browser.start("decode", token=id_token))
    assert f"Signature valide (RS256, kid « {kid} »)" in real
    tampered = text_of(browser.start("decode", token=f"{header}.{forged}.{signature}"))
    assert f"Signature invalide (RS256, kid « {kid} ») : signature invalide" in tampered
    assert '"SubjectNameID": "899700366240"' in tampered


def test_a_client_without_the_callback_is_refused_clearly(browser, live_server):
    response = browser.start("code", client_id="demo-web")
    assert response.status_code == 400
    assert "n'a pas enregistré l'URI de retour du débogueur" in text_of(response)
    assert f"{live_server.base_url}/dev/debugger/callback" in response.text


def test_a_run_opens_only_in_its_browser(browser, live_server):
    run = browser.code_flow()
    stranger = DebuggerBrowser(live_server)
    assert stranger.http.get(run.url, timeout=20).status_code == 400
    assert "Exécution introuvable" in stranger.http.get(run.url, timeout=20).text


def test_a_form_without_its_csrf_token_is_refused(browser, live_server):
    browser.form()
    response = browser.http.post(
        live_server.url("/dev/debugger/start"), data={"flow": "decode", "token": "x"}, timeout=20
    )
    assert response.status_code == 400
    assert "Formulaire expiré ou venu d'ailleurs : rien n'a été envoyé" in text_of(response)


def test_the_callback_of_an_unknown_state_is_a_page_not_an_error(browser, live_server):
    response = browser.http.get(
        live_server.url("/dev/debugger/callback"), params={"state": "nope", "code": "x"}, timeout=20
    )
    assert response.status_code == 400
    assert "Exécution introuvable" in response.text


def test_a_wrong_secret_shows_the_servers_refusal_and_stays_masked(browser):
    run = browser.code_flow(client_secret="not-the-secret-typed-here")
    text = text_of(run)
    assert "401" in text and "invalid_client" in text
    assert "not-the-secret-typed-here" not in run.text
