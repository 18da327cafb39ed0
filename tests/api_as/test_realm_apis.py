"""The realm file's ``apis:`` section and the token-exchange clients: checked before anything
is applied (in French, with places), imported idempotently, exported."""

from __future__ import annotations

import json

import pytest

from psc_idp.api_as.apis import all_apis, api_to_dict
from psc_idp.realm.loader import RealmInvalid, import_realm, read_realm_file

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


def _problems(tmp_path, text: str) -> list[str]:
    path = tmp_path / "realm.yaml"
    path.write_text(text)
    with pytest.raises(RealmInvalid) as caught:
        read_realm_file(path)
    return caught.value.problems.lines()


def test_api_entries_are_checked(tmp_path):
    lines = _problems(
        tmp_path,
        "apis:\n"
        "  - audience: bonne-api\n"
        "    scopes: [lecture]\n"
        "  - audience: bonne-api\n"
        "    scopes: [lecture]\n"
        "  - audience: 'avec/barre'\n"
        "    scopes: []\n"
        "    lifetime: 0\n"
        "    allowed_client: [x]\n",
    )
    assert any("apis[1].audience" in line and "déjà défini en apis[0]" in line for line in lines)
    assert any(line.startswith("apis[2].audience") for line in lines)
    assert any(line.startswith("apis[2].scopes") for line in lines)
    assert any(line.startswith("apis[2].lifetime") and "de 1 à 3600" in line for line in lines)
    assert any(
        line.startswith("apis[2].allowed_client") and "allowed_clients" in line for line in lines
    )


def test_token_exchange_clients_are_checked(tmp_path):
    lines = _problems(
        tmp_path,
        f"clients:\n  - client_id: lps\n    secret: s3cret\n    grant_types: ['{EXCHANGE}']\n",
    )
    assert any("demande tls_client_auth" in line for line in lines)
    assert any(line.startswith("clients[0].audiences") for line in lines)
    assert any(line.startswith("clients[0].tls_client_certificate_bound") for line in lines)


def test_a_client_naming_an_api_the_file_does_not_declare_is_refused(tmp_path):
    lines = _problems(
        tmp_path,
        "apis:\n"
        "  - audience: dmp\n"
        "    scopes: [lecture]\n"
        "clients:\n"
        "  - client_id: lps\n"
        "    token_endpoint_auth_method: tls_client_auth\n"
        "    tls_client_auth_subject_dn: CN=lps\n"
        "    tls_client_certificate_bound_access_tokens: true\n"
        f"    grant_types: ['{EXCHANGE}']\n"
        "    audiences: [dmp, insi]\n",
    )
    assert [line for line in lines if line.startswith("clients[0].audiences")] == [
        line for line in lines if "« insi » n'est pas une API de ce fichier" in line
    ]
    assert any("« insi »" in line for line in lines)
    assert not any("« dmp »" in line for line in lines)


def test_apis_import_idempotently(app_context):
    data = {
        "apis": [
            {
                "audience": "api-import",
                "name": "API importée",
                "scopes": ["lecture"],
                "allowed_structures": ["1B0064166"],
            }
        ]
    }
    assert import_realm(data).apis_changed == 1
    assert import_realm(data).apis_changed == 0
    imported = next(api for api in all_apis() if api.audience == "api-import")
    assert api_to_dict(imported) == {
        "audience": "api-import",
        "name": "API importée",
        "scopes": ["lecture"],
        "lifetime": 60,
        "allowed_clients": [],
        "allowed_structures": ["1B0064166"],
    }
    data["apis"][0]["lifetime"] = 30
    assert import_realm(data).apis_changed == 1


def test_an_api_issuer_rotates_its_own_keys(app, pki):
    from tests.api_as.conftest import DEMO

    runner = app.test_cli_runner()
    certs = f"/api-as/realms/{DEMO}/protocol/openid-connect/certs"
    realm_certs = "/auth/realms/esante-wallet/protocol/openid-connect/certs"
    before = {k["kid"] for k in app.test_client().get(certs).get_json()["keys"]}
    realm_before = app.test_client().get(realm_certs).get_json()
    result = runner.invoke(args=["keys", "rotate", "--api", DEMO, "--alg", "RS256", "--json"])
    assert result.exit_code == 0, result.output
    (new,) = json.loads(result.output)
    after = {k["kid"] for k in app.test_client().get(certs).get_json()["keys"]}
    assert new["kid"] in after and before <= after  # the old key stays published
    assert app.test_client().get(realm_certs).get_json() == realm_before
    unknown = runner.invoke(args=["keys", "list", "--api", "pas-une-api"])
    assert unknown.exit_code != 0 and "pas-une-api" in unknown.output


def test_the_command_line_registers_an_exchanging_client(app):
    runner = app.test_cli_runner()
    base = ["clients", "add", "--auth-method", "tls_client_auth"]
    base += ["--tls-subject-dn", "CN=LPS,OU=1B0064166,O=CABINET,C=FR", "--grant-type", EXCHANGE]
    added = runner.invoke(
        args=[*base[:2], "cli-lps", *base[2:], "--bound-tokens", "--audience", "demo-api"]
        + ["--json"]
    )
    assert added.exit_code == 0, added.output
    shown = json.loads(runner.invoke(args=["clients", "show", "cli-lps", "--json"]).output)
    assert shown["audiences"] == ["demo-api"] and shown["grant_types"] == [EXCHANGE]
    without = runner.invoke(args=[*base[:2], "cli-lps-2", *base[2:], "--bound-tokens"])
    assert without.exit_code != 0 and "audiences" in without.output
