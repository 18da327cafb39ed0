"""The realm file's ``apis:`` section and the token-exchange clients: checked before anything
is applied (in French, with places), imported idempotently, exported."""

from __future__ import annotations

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
