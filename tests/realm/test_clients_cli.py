"""``psc-idp clients``: updates merge, secrets change only when asked, the help is psc-idp's."""

from __future__ import annotations

import json
from importlib.metadata import version

import pytest
from click.testing import CliRunner

from psc_idp.cli import build_cli
from psc_idp.extensions import db
from psc_idp.protocol.models import Client
from psc_idp.protocol.secrets import verify_secret


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def _add(app, client_id: str, *extra: str) -> dict:
    result = invoke(
        app,
        "clients",
        "add",
        client_id,
        "--name",
        "Mon service",
        "--redirect-uri",
        "https://svc.example/cb",
        "--post-logout-redirect-uri",
        "https://svc.example/",
        *extra,
        "--json",
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _stored(app, client_id: str) -> Client:
    with app.app_context():
        client = db.session.get(Client, client_id)
        db.session.expunge(client)
        return client


def _secret_ok(app, client_id: str, secret: str) -> bool:
    with app.app_context():
        return verify_secret(secret, db.session.get(Client, client_id).secret_hash)


def test_add_refuses_an_existing_client_and_keeps_its_secret(app):
    created = _add(app, "upd-refused")
    again = invoke(app, "clients", "add", "upd-refused", "--redirect-uri", "https://x.example/cb")
    assert again.exit_code != 0
    assert "clients update upd-refused" in again.output
    assert _secret_ok(app, "upd-refused", created["client_secret"])
    assert _stored(app, "upd-refused").redirect_uris == ["https://svc.example/cb"]


def test_update_merges_given_options_and_keeps_the_rest(app):
    created = _add(app, "upd-merge", "--scope", "openid", "--scope", "scope_all")
    result = invoke(app, "clients", "update", "upd-merge", "--name", "Nouveau nom", "--json")
    assert result.exit_code == 0, result.output
    updated = json.loads(result.output)
    assert "client_secret" not in updated
    assert updated["name"] == "Nouveau nom"
    assert updated["redirect_uris"] == ["https://svc.example/cb"]
    assert updated["post_logout_redirect_uris"] == ["https://svc.example/"]
    assert updated["scopes"] == ["openid", "scope_all"]
    assert _secret_ok(app, "upd-merge", created["client_secret"])


def test_update_replaces_a_list_given_again(app):
    _add(app, "upd-list")
    result = invoke(
        app, "clients", "update", "upd-list", "--redirect-uri", "https://new.example/cb"
    )
    assert result.exit_code == 0, result.output
    assert _stored(app, "upd-list").redirect_uris == ["https://new.example/cb"]


def test_rotate_secret_prints_the_new_one_once(app):
    created = _add(app, "upd-rotate")
    result = invoke(app, "clients", "update", "upd-rotate", "--rotate-secret", "--json")
    assert result.exit_code == 0, result.output
    new = json.loads(result.output)["client_secret"]
    assert new and new != created["client_secret"]
    assert _secret_ok(app, "upd-rotate", new)
    assert not _secret_ok(app, "upd-rotate", created["client_secret"])
    shown = json.loads(invoke(app, "clients", "show", "upd-rotate", "--json").output)
    assert "client_secret" not in shown


def test_update_of_an_unknown_client_is_refused(app):
    result = invoke(app, "clients", "update", "upd-nobody", "--name", "x")
    assert result.exit_code != 0 and "client inconnu" in result.output


def test_scope_option_is_stored_in_scopes(app):
    created = _add(app, "upd-scope", "--scope", "openid", "--scope", "rpps")
    assert created["scopes"] == ["openid", "rpps"]
    assert _stored(app, "upd-scope").scopes == ["openid", "rpps"]


@pytest.mark.skipif(not hasattr(Client, "web_origins"), reason="Client has no web_origins yet")
def test_web_origin_option_is_stored(app):
    _add(app, "upd-origins", "--web-origin", "https://app.example", "--web-origin", "+")
    assert _stored(app, "upd-origins").web_origins == ["https://app.example", "+"]


def test_show_says_pkce_is_required_for_public_clients(app):
    _add(app, "upd-public", "--auth-method", "none")
    shown = json.loads(invoke(app, "clients", "show", "upd-public", "--json").output)
    assert shown["token_endpoint_auth_method"] == "none"
    assert shown["require_pkce"] is True and "client_secret" not in shown


def test_update_to_public_drops_the_secret(app):
    _add(app, "upd-to-public")
    result = invoke(app, "clients", "update", "upd-to-public", "--auth-method", "none")
    assert result.exit_code == 0, result.output
    assert _stored(app, "upd-to-public").secret_hash is None
    refused = invoke(app, "clients", "update", "upd-to-public", "--rotate-secret")
    assert refused.exit_code != 0 and "n'a pas de secret" in refused.output


@pytest.fixture
def psc_env(monkeypatch, database_url, keys_dir):
    """``psc-idp`` as a shell runs it: the app built from PSC_* variables."""
    monkeypatch.setenv("PSC_DATABASE_URL", database_url)
    monkeypatch.setenv("PSC_KEYS_DIR", str(keys_dir))
    monkeypatch.setenv("PSC_DEV_MODE", "1")


def test_version_is_psc_idp_s(psc_env):
    result = CliRunner().invoke(build_cli(), ["--version"], prog_name="psc-idp")
    assert result.exit_code == 0
    assert result.output.strip() == f"psc-idp {version('psc-idp')}"


def test_help_lists_psc_idp_commands_only(psc_env):
    result = CliRunner().invoke(build_cli(), ["--help"], prog_name="psc-idp")
    assert result.exit_code == 0, result.output
    commands = result.output.split("Commands:")[1].split()
    assert "clients" in commands and "serve" in commands
    for flask_command in ("run", "shell", "routes"):
        assert flask_command not in commands
    assert "--app" not in result.output and "Flask" not in result.output


def test_flask_s_routes_command_still_works_hidden(psc_env):
    result = CliRunner().invoke(build_cli(), ["routes"], prog_name="psc-idp")
    assert result.exit_code == 0, result.output
    assert "/wallet/auth" in result.output


def test_an_invalid_startup_realm_file_is_reported_not_a_traceback(psc_env, monkeypatch, tmp_path):
    bad = tmp_path / "realm.yaml"
    bad.write_text("clients:\n  - client_id: x\n    redirect_uri: [https://x.example/cb]\n")
    monkeypatch.setenv("PSC_REALM_FILE", str(bad))
    result = CliRunner().invoke(build_cli(), ["clients", "list"], prog_name="psc-idp")
    assert result.exit_code == 2
    assert "PSC_REALM_FILE" in result.output
    assert "clients[0].redirect_uri (ligne 3) : clé inconnue" in result.output
    assert "Traceback" not in result.output


def _unsealed(app, client_id: str) -> str:
    from psc_idp.protocol.client_auth.client_secret_jwt import client_secret

    with app.app_context():
        return client_secret(db.session.get(Client, client_id))


def test_client_secret_jwt_gets_a_sealed_secret_long_enough_for_hs512(app):
    created = _add(
        app, "upd-hs", "--auth-method", "client_secret_jwt", "--grant-type", "client_credentials"
    )
    secret = created["client_secret"]
    assert len(secret.encode()) >= 64
    stored = _stored(app, "upd-hs")
    assert stored.secret_hash is None and stored.secret_sealed
    assert _unsealed(app, "upd-hs") == secret
    shown = json.loads(invoke(app, "clients", "show", "upd-hs", "--json").output)
    assert "client_secret" not in shown and "secret_sealed" not in shown


def test_client_secret_jwt_rotation_and_moves_between_methods(app):
    created = _add(app, "upd-hs-rot", "--auth-method", "client_secret_jwt")
    rotated = json.loads(
        invoke(app, "clients", "update", "upd-hs-rot", "--rotate-secret", "--json").output
    )["client_secret"]
    assert rotated != created["client_secret"] and _unsealed(app, "upd-hs-rot") == rotated
    # A name change keeps the secret.
    assert invoke(app, "clients", "update", "upd-hs-rot", "--name", "autre").exit_code == 0
    assert _unsealed(app, "upd-hs-rot") == rotated
    # To a presented secret: the sealed one cannot be hashed afterwards, a new one is given.
    moved = invoke(
        app, "clients", "update", "upd-hs-rot", "--auth-method", "client_secret_basic", "--json"
    )
    assert moved.exit_code == 0, moved.output
    basic_secret = json.loads(moved.output)["client_secret"]
    stored = _stored(app, "upd-hs-rot")
    assert stored.secret_sealed is None and _secret_ok(app, "upd-hs-rot", basic_secret)
    # And back: a hash cannot key an HMAC, so again a new secret.
    back = invoke(
        app, "clients", "update", "upd-hs-rot", "--auth-method", "client_secret_jwt", "--json"
    )
    assert back.exit_code == 0, back.output
    assert _unsealed(app, "upd-hs-rot") == json.loads(back.output)["client_secret"]
    assert _stored(app, "upd-hs-rot").secret_hash is None


def test_dpop_bound_tokens_option_is_stored_and_can_be_turned_off(app):
    created = _add(app, "upd-dpop", "--dpop-bound-tokens")
    assert created["dpop_bound_access_tokens"] is True
    assert _stored(app, "upd-dpop").dpop_bound_access_tokens is True
    result = invoke(app, "clients", "update", "upd-dpop", "--no-dpop-bound-tokens")
    assert result.exit_code == 0, result.output
    assert _stored(app, "upd-dpop").dpop_bound_access_tokens is False
