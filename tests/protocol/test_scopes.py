"""Scopes as relying-party libraries send them: PSC's 20 scopes, what each adds to the tokens,
UserInfo and introspection (Keycloak's client scopes), per-client allowed scopes, default scopes,
and ``Invalid scopes: …`` naming the ones refused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from psc_idp.extensions import db
from psc_idp.protocol import scopes
from psc_idp.protocol.clients import InvalidClient, upsert_client, validate
from tests.helpers import (
    DOCTOR,
    INTROSPECT,
    OIDC,
    REDIRECT,
    USERINFO,
    RegisteredClient,
    basic,
    decode,
    login_and_get_tokens,
    query_of,
    token_call,
)

PSC_SCOPES = [
    "openid",
    "microprofile-jwt",
    "rpps",
    "referentiel",
    "web-origins",
    "basic",
    "identity",
    "acr",
    "offline_access",
    "eidas1",
    "profile",
    "roles",
    "email",
    "scope_all",
    "phone",
    "interop",
    "scope_1",
    "address",
    "scope_2",
    "eidas2",
]
NARROW = "scopes-narrow"
DOCTOR_EMAIL = "robert.specialiste0021889@example.org"


@pytest.fixture(scope="module")
def narrow(app) -> RegisteredClient:
    """A client allowed only ``openid scope_all``, as a realm file may restrict one."""
    with app.app_context():
        upsert_client(
            {
                "client_id": NARROW,
                "secret": "narrow-secret-" + "x" * 20,
                "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code", "client_credentials"],
                "scopes": ["openid", "scope_all"],
            }
        )
        db.session.commit()
    return RegisteredClient(NARROW, "narrow-secret-" + "x" * 20)


def userinfo(app, access_token: str) -> dict:
    response = app.test_client().get(USERINFO, headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def introspect(app, clients, token: str) -> dict:
    auth = basic(clients.web.client_id, clients.web.secret)
    return app.test_client().post(INTROSPECT, data={"token": token}, headers=auth).get_json()


def refused_scope(browser, client_id: str, scope: str) -> dict[str, str]:
    response = browser.authorize(
        client_id, scope=scope, code_challenge="c" * 43, code_challenge_method="S256"
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith(REDIRECT + "?")
    return query_of(response.headers["Location"])


# --- the catalogue -------------------------------------------------------------------------------
def test_discovery_lists_psc_scopes(app):
    metadata = (
        app.test_client()
        .get(f"{OIDC.rsplit('/protocol', 1)[0]}/.well-known/openid-configuration")
        .get_json()
    )
    assert metadata["scopes_supported"] == PSC_SCOPES
    assert {"name", "email", "email_verified"} <= set(metadata["claims_supported"])


@pytest.mark.parametrize(
    "scope",
    [
        "openid profile",
        "openid email profile",
        "openid profile offline_access",
        "openid profile email phone address",
        "openid microprofile-jwt rpps referentiel",
    ],
)
def test_library_default_scopes_log_in(app, browser, clients, scope):
    tokens = login_and_get_tokens(app, browser, clients.web, scope=scope)
    assert tokens["scope"].split() == [*scope.split(), "identity"]
    assert decode(tokens["id_token"])["sub"].endswith(DOCTOR)


def test_every_advertised_scope_at_once(app, browser, clients):
    """Spring Security asks for all of ``scopes_supported`` when no scope is configured."""
    tokens = login_and_get_tokens(app, browser, clients.web, scope=" ".join(PSC_SCOPES))
    hidden = {"web-origins", "basic", "acr", "roles"}
    assert tokens["scope"].split() == [s for s in PSC_SCOPES if s not in hidden]
    assert decode(tokens["refresh_token"])["typ"] == "Offline"
    assert "SubjectRefPro" in userinfo(app, tokens["access_token"])


def test_psc_shape_is_unchanged_without_standard_scopes(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web)
    for claims in (decode(tokens["id_token"]), decode(tokens["access_token"])):
        assert not {"name", "email", "upn", "realm_access", "address"} & set(claims)
    info = userinfo(app, tokens["access_token"])
    assert "name" not in info and "email" not in info and info["email_verified"] is False


def test_profile_and_email_claims_where_keycloak_puts_them(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web, scope="openid profile email")
    id_token, access = decode(tokens["id_token"]), decode(tokens["access_token"])
    info = userinfo(app, tokens["access_token"])
    for claims in (id_token, access, info, introspect(app, clients, tokens["access_token"])):
        assert claims["name"] == "ROBERT SPECIALISTE0021889"
        assert (claims["given_name"], claims["family_name"]) == ("ROBERT", "SPECIALISTE0021889")
        assert claims["preferred_username"] == DOCTOR
        assert claims["email"] == DOCTOR_EMAIL and claims["email_verified"] is False
    assert "SubjectRefPro" not in info  # no scope_all: no sectoral claims


def test_profile_claims_come_before_sectoral_claims_in_userinfo(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web, scope="openid scope_all email")
    keys = list(userinfo(app, tokens["access_token"]))
    assert keys.index("email") < keys.index("Secteur_Activite")


def test_phone_address_microprofile_and_roles(app, browser, clients):
    scope = "openid phone address microprofile-jwt roles"
    tokens = login_and_get_tokens(app, browser, clients.web, scope=scope)
    assert tokens["scope"] == "openid phone address microprofile-jwt identity"  # roles: hidden
    id_token, access = decode(tokens["id_token"]), decode(tokens["access_token"])
    info = userinfo(app, tokens["access_token"])
    for claims in (id_token, access, info):
        assert claims["phone_number"] == "06 00 00 00 01"
        assert claims["phone_number_verified"] is False
        assert claims["address"] == {}
    for claims in (id_token, access):
        assert claims["upn"] == DOCTOR
        assert "offline_access" in claims["groups"]
    assert access["realm_access"]["roles"] == list(scopes.REALM_ROLES)
    assert "realm_access" not in id_token and "realm_access" not in info
    assert (
        introspect(app, clients, tokens["access_token"])["realm_access"] == access["realm_access"]
    )


def test_web_origins_claim_reads_the_clients_origins():
    client = SimpleNamespace(client_id="spa", web_origins=["https://spa.example"])
    subject = scopes.Subject(None, client)
    claims = scopes.claims_for(scopes.ACCESS_TOKEN, {"web-origins"}, subject)
    assert claims == {"allowed-origins": ["https://spa.example"]}
    without = scopes.Subject(None, SimpleNamespace(client_id="web"))
    assert scopes.claims_for(scopes.ACCESS_TOKEN, {"web-origins"}, without) == {}
    assert scopes.claims_for(scopes.ID_TOKEN, {"web-origins"}, subject) == {}


# --- refused scopes ----------------------------------------------------------------------------
def test_unknown_scope_is_named(browser, clients):
    answer = refused_scope(browser, "test-web", "openid profile nope other")
    assert answer["error"] == "invalid_scope"
    assert answer["error_description"] == "Invalid scopes: nope other"


@pytest.mark.parametrize("scope", ['openid "quoted\\', "openid é", "openid " + "x" * 3000])
def test_unprintable_or_long_unknown_scope_is_refused_without_error(browser, clients, scope):
    answer = refused_scope(browser, "test-web", scope)
    assert answer["error"] == "invalid_scope"
    assert answer["error_description"].startswith("Invalid scopes: ")
    assert len(answer["error_description"]) <= len("Invalid scopes: ") + scopes.MAX_NAMED


def test_scope_not_allowed_for_the_client_is_named(browser, narrow):
    answer = refused_scope(browser, NARROW, "openid scope_all profile email")
    assert (answer["error"], answer["error_description"]) == (
        "invalid_scope",
        "Invalid scopes: profile email",
    )


def test_client_restricted_to_psc_scopes_still_logs_in(app, browser, narrow):
    tokens = login_and_get_tokens(app, browser, narrow)
    assert tokens["scope"] == "openid scope_all identity"


def test_unknown_scope_in_a_client_description_is_refused():
    with pytest.raises(InvalidClient, match="unknown scopes \\['profil'\\]"):
        validate(
            {
                "client_id": "c",
                "secret": "s",
                "redirect_uris": [REDIRECT],
                "scopes": ["openid", "profil"],
            }
        )


def test_default_client_scopes_allow_every_scope():
    allowed = validate({"client_id": "c", "secret": "s", "redirect_uris": [REDIRECT]})["scopes"]
    assert allowed == PSC_SCOPES


def test_unknown_default_scope_stops_the_start(make_app):
    with pytest.raises(ValueError, match="default_scopes"):
        make_app(default_scopes=["identity", "nope"])


# --- client credentials ------------------------------------------------------------------------
def test_client_credentials_get_the_default_scopes(app, clients):
    body = token_call(app, clients.web, grant_type="client_credentials").get_json()
    assert body["scope"] == "identity"
    assert decode(body["access_token"])["scope"] == "identity"


def test_client_credentials_with_roles_and_a_refused_scope(app, clients, narrow):
    body = token_call(app, clients.web, grant_type="client_credentials", scope="roles").get_json()
    claims = decode(body["access_token"])
    assert claims["realm_access"]["roles"] == list(scopes.REALM_ROLES)
    response = token_call(app, narrow, grant_type="client_credentials", scope="roles")
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "invalid_scope",
        "error_description": "Invalid scopes: roles",
    }


def test_refresh_naming_a_wider_scope_names_it(app, browser, clients):
    tokens = login_and_get_tokens(app, browser, clients.web)
    response = token_call(
        app,
        clients.web,
        grant_type="refresh_token",
        refresh_token=tokens["refresh_token"],
        scope="openid profile nope",
    )
    assert response.get_json()["error_description"] == "Invalid scopes: nope"
    response = token_call(
        app,
        clients.web,
        grant_type="refresh_token",
        refresh_token=tokens["refresh_token"],
        scope="openid profile",
    )
    assert response.get_json()["error_description"] == "Invalid scopes: profile"


def test_a_client_granted_profile_gets_it(app, browser):
    from psc_idp.realm.loader import import_realm

    secret = "granted-profile-" + "x" * 20
    with app.app_context():
        client = {
            "client_id": "scopes-profile",
            "secret": secret,
            "redirect_uris": [REDIRECT],
            "scopes": ["openid", "profile"],
        }
        import_realm({"clients": [client]})
        db.session.commit()
    tokens = login_and_get_tokens(
        app, browser, RegisteredClient("scopes-profile", secret), scope="openid profile"
    )
    assert tokens["scope"] == "openid profile identity"
    assert decode(tokens["id_token"])["name"] == "ROBERT SPECIALISTE0021889"


@pytest.mark.parametrize("scope", ["openid\x00", "r\u00f4les", 'a"b\\c', "x" * 5000])
def test_hostile_scopes_at_the_token_endpoint_are_invalid_scope(app, browser, clients, scope):
    response = token_call(app, clients.web, grant_type="client_credentials", scope=scope)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_scope"
    assert response.get_json()["error_description"].startswith("Invalid scopes: ")
    tokens = login_and_get_tokens(app, browser, clients.web)
    response = token_call(
        app,
        clients.web,
        grant_type="refresh_token",
        refresh_token=tokens["refresh_token"],
        scope=scope,
    )
    assert response.get_json()["error"] == "invalid_scope"
    assert response.get_json()["error_description"].startswith("Invalid scopes: ")
