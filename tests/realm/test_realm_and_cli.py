"""The realm file and the command line, as an operator uses them."""

from __future__ import annotations

import json

import yaml

from tests.helpers import AUTHORIZE

REALM = {
    "options": {"userinfo_profile": "current"},
    "clients": [
        {
            "client_id": "realm-app",
            "name": "Application du realm",
            "secret": "s3cr3t-realm-app-value-long-enough",
            "redirect_uris": ["https://app.example/callback"],
            "post_logout_redirect_uris": ["https://app.example/"],
        }
    ],
    "practitioners": [
        {
            "national_id": "899700100094",
            "civility": "MME",
            "family_name": "REALM",
            "given_names": ["ALICE"],
            "exercices": [
                {
                    "profession": "60",
                    "category": "C",
                    "nom_exercice": "REALM",
                    "prenom_exercice": "ALICE",
                    "activities": [{"mode": "S", "sector": "SA01", "raison_sociale": "CHU TEST"}],
                }
            ],
        }
    ],
}


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def test_realm_import_is_idempotent_and_export_round_trips(app, tmp_path):
    path = tmp_path / "realm.yaml"
    path.write_text(yaml.safe_dump(REALM, allow_unicode=True))
    first = invoke(app, "realm", "import", str(path), "--json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    assert report["clients_changed"] == ["realm-app"]
    assert report["practitioners_changed"] == 1
    second = json.loads(invoke(app, "realm", "import", str(path), "--json").output)
    assert second == {
        "clients_changed": [],
        "practitioners_changed": 0,
        "scenarios_changed": 0,
        "options_changed": [],
        "apis_changed": 0,
        "identity_providers_changed": 0,
        "dev_scenarios_changed": 0,
    }
    exported = tmp_path / "export.json"
    assert invoke(app, "realm", "export", "--format", "json", "-o", str(exported)).exit_code == 0
    data = json.loads(exported.read_text())
    client = next(c for c in data["clients"] if c["client_id"] == "realm-app")
    assert "secret" not in client and client["secret_hash"]
    assert any(p["national_id"] == "899700100094" for p in data["practitioners"])
    again = json.loads(invoke(app, "realm", "import", str(exported), "--json").output)
    assert again["clients_changed"] == [] and again["practitioners_changed"] == 0
    assert any(api["audience"] == "demo-api" for api in data["apis"])
    assert again["apis_changed"] == 0


def test_imported_client_can_start_a_login(app, tmp_path):
    path = tmp_path / "realm.json"
    path.write_text(json.dumps(REALM))
    assert invoke(app, "realm", "import", str(path)).exit_code == 0
    response = app.test_client().get(
        AUTHORIZE,
        query_string={
            "response_type": "code",
            "client_id": "realm-app",
            "redirect_uri": "https://app.example/callback",
            "scope": "openid scope_all",
        },
    )
    assert response.status_code == 302 and "/wallet/login/" in response.headers["Location"]


def test_realm_import_refuses_bad_files_clearly(app, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("clients:\n  - client_id: x\n    redirect_uris: [not-a-uri]\n")
    result = invoke(app, "realm", "import", str(bad))
    assert result.exit_code != 0 and "not-a-uri" in result.output
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("users: []\n")
    result = invoke(app, "realm", "import", str(unknown))
    assert result.exit_code == 2 and "users (ligne 1) : clé inconnue" in result.output


def test_clients_add_list_show_remove(app):
    added = invoke(
        app,
        "clients",
        "add",
        "cli-app",
        "--name",
        "CLI",
        "--redirect-uri",
        "https://cli.example/cb",
        "--json",
    )
    assert added.exit_code == 0, added.output
    created = json.loads(added.output)
    assert (
        created["client_secret"] and created["token_endpoint_auth_method"] == "client_secret_basic"
    )
    listed = json.loads(invoke(app, "clients", "list", "--json").output)
    assert "cli-app" in {row["client_id"] for row in listed}
    shown = json.loads(invoke(app, "clients", "show", "cli-app", "--json").output)
    assert shown["redirect_uris"] == ["https://cli.example/cb"] and "client_secret" not in shown
    assert invoke(app, "clients", "remove", "cli-app").exit_code == 0
    assert invoke(app, "clients", "show", "cli-app").exit_code != 0


def test_client_secret_is_stored_hashed(app):
    from psc_idp.extensions import db
    from psc_idp.protocol.models import Client

    created = json.loads(
        invoke(
            app, "clients", "add", "hash-app", "--redirect-uri", "https://h.example/cb", "--json"
        ).output
    )
    with app.app_context():
        stored = db.session.get(Client, "hash-app").secret_hash
    assert stored and created["client_secret"] not in stored and len(stored) == 64


def test_directory_show_prints_userinfo(app):
    result = invoke(app, "directory", "show", "899700218896", "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["SubjectNameID"] == "899700218896" and info["SubjectRefPro"]["exercices"]


def test_client_secret_jwt_in_the_realm_file_round_trips_sealed(app, tmp_path):
    secret = "a-client-secret-jwt-value-of-at-least-32-octets"
    realm = {
        "clients": [
            {
                "client_id": "realm-hs",
                "token_endpoint_auth_method": "client_secret_jwt",
                "secret": secret,
                "grant_types": ["client_credentials"],
            }
        ]
    }
    path = tmp_path / "realm-hs.yaml"
    path.write_text(yaml.safe_dump(realm))
    assert json.loads(invoke(app, "realm", "import", str(path), "--json").output)[
        "clients_changed"
    ] == ["realm-hs"]
    again = json.loads(invoke(app, "realm", "import", str(path), "--json").output)
    assert again["clients_changed"] == []
    exported = tmp_path / "export.json"
    assert invoke(app, "realm", "export", "--format", "json", "-o", str(exported)).exit_code == 0
    client = next(
        c for c in json.loads(exported.read_text())["clients"] if c["client_id"] == "realm-hs"
    )
    assert "secret_hash" not in client and secret not in json.dumps(client)
    assert client["secret_sealed"].startswith("s1.")
    back = json.loads(invoke(app, "realm", "import", str(exported), "--json").output)
    assert back["clients_changed"] == []


def test_client_secret_jwt_without_a_long_secret_is_refused_in_french(app, tmp_path):
    realm = {
        "clients": [
            {
                "client_id": "realm-hs-short",
                "token_endpoint_auth_method": "client_secret_jwt",
                "secret": "court",
                "grant_types": ["client_credentials"],
            }
        ]
    }
    path = tmp_path / "realm-hs-short.yaml"
    path.write_text(yaml.safe_dump(realm))
    result = invoke(app, "realm", "import", str(path))
    assert result.exit_code != 0
    assert "au moins 32 octets" in result.output


def test_pairwise_in_the_realm_file(app, tmp_path):
    client = {
        "client_id": "realm-pairwise",
        "secret": "s3cr3t-realm-pairwise-long-enough",
        "subject_type": "pairwise",
        "redirect_uris": ["https://app.example/cb", "https://app.example/other"],
    }
    path = tmp_path / "realm-pw.yaml"
    path.write_text(yaml.safe_dump({"clients": [client]}))
    imported = invoke(app, "realm", "import", str(path), "--json")
    assert json.loads(imported.output)["clients_changed"] == ["realm-pairwise"]
    exported = tmp_path / "export-pw.json"
    assert invoke(app, "realm", "export", "--format", "json", "-o", str(exported)).exit_code == 0
    clients = json.loads(exported.read_text())["clients"]
    assert next(c for c in clients if c["client_id"] == "realm-pairwise")["subject_type"] == (
        "pairwise"
    )
    client["redirect_uris"].append("https://elsewhere.example/cb")
    client["client_id"] = "realm-pairwise-hosts"
    path.write_text(yaml.safe_dump({"clients": [client, {**client, "subject_type": "paire"}]}))
    result = invoke(app, "realm", "import", str(path))
    assert result.exit_code != 0
    assert "clients[0].sector_identifier_uri" in result.output
    assert "pairwise demande sector_identifier_uri" in result.output
    assert "clients[1].subject_type" in result.output


def test_request_object_fields_in_the_realm_file_and_the_cli(app, tmp_path):
    client = {
        "client_id": "realm-jar",
        "secret": "s3cr3t-realm-jar-value-long-enough",
        "redirect_uris": ["https://app.example/cb"],
        "request_uris": ["https://app.example/request.jwt#v1"],
        "require_signed_request_object": True,
    }
    path = tmp_path / "realm-jar.yaml"
    path.write_text(yaml.safe_dump({"clients": [client]}))
    imported = invoke(app, "realm", "import", str(path), "--json")
    assert json.loads(imported.output)["clients_changed"] == ["realm-jar"]
    shown = json.loads(invoke(app, "clients", "show", "realm-jar", "--json").output)
    assert shown["request_uris"] == ["https://app.example/request.jwt#v1"]
    assert shown["require_signed_request_object"] is True

    updated = invoke(
        app,
        "clients",
        "update",
        "realm-jar",
        "--request-uri",
        "https://app.example/other.jwt",
        "--no-require-signed-request-object",
        "--json",
    )
    assert updated.exit_code == 0, updated.output
    shown = json.loads(updated.output)
    assert shown["request_uris"] == ["https://app.example/other.jwt"]
    assert "require_signed_request_object" not in shown
    refused = invoke(app, "clients", "update", "realm-jar", "--request-uri", "http://app.example/x")
    assert refused.exit_code != 0 and "request_uris" in refused.output

    bad = {**client, "client_id": "realm-jar-bad", "request_uris": ["http://app.example/r.jwt"]}
    path.write_text(
        yaml.safe_dump({"clients": [bad, {**bad, "client_id": "b2", "request_uris": "x"}]})
    )
    result = invoke(app, "realm", "import", str(path))
    assert result.exit_code != 0
    assert (
        "clients[0].request_uris[0]" in result.output and "n'est pas une URL https" in result.output
    )
    assert "clients[1].request_uris" in result.output
