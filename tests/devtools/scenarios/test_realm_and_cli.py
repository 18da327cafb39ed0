"""``scenarios:`` in the realm file (import, export, strict check with lines) and
``psc-idp scenarios add|list|remove``."""

from __future__ import annotations

import json

import pytest
import yaml

from psc_idp.extensions import db
from psc_idp.realm.loader import RealmInvalid, export_realm, import_realm, read_realm_file
from tests.devtools.scenarios.conftest import CLIENT_ID

DOCTOR = "899700218896"

SCENARIOS = [
    {"client_id": CLIENT_ID, "endpoint": "token", "error": "invalid_grant"},
    {"client_id": CLIENT_ID, "national_id": DOCTOR, "endpoint": "userinfo", "drop_claim": "email"},
    {"client_id": CLIENT_ID, "endpoint": "token", "delay": 2.5},
    {"client_id": CLIENT_ID, "endpoint": "token", "expired_token": True},
    {"client_id": CLIENT_ID, "endpoint": "ciba", "ciba_outcome": "denied"},
]


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def test_realm_import_is_idempotent_and_round_trips(app, rp, tmp_path):
    path = tmp_path / "realm.yaml"
    path.write_text(yaml.safe_dump({"scenarios": SCENARIOS}))
    with app.app_context():
        first = import_realm(read_realm_file(path))
        db.session.commit()
        assert first.dev_scenarios_changed == 5
        assert import_realm(read_realm_file(path)).dev_scenarios_changed == 0
        exported = [
            s
            for s in export_realm(app.extensions["psc_settings"])["scenarios"]
            if s["client_id"] == CLIENT_ID
        ]
    assert sorted(map(json.dumps, exported)) == sorted(map(json.dumps, SCENARIOS))


def test_realm_problems_have_their_lines(app, tmp_path):
    text = """\
clients:
  - client_id: in-file-rp
    secret: s3cret-s3cret-s3cret
    redirect_uris: [http://localhost:3000/cb]
scenarios:
  - client_id: in-file-rp
    endpoint: token
    error: invalid_grant
  - client_id: nobody
    endpoint: token
    error: invalid_grant
  - client_id: in-file-rp
    endpoint: logout
    status: 500
  - client_id: in-file-rp
    endpoint: userinfo
    error: invalid_grant
  - client_id: in-file-rp
    endpoint: token
    delay: 90
  - client_id: in-file-rp
    endpoint: token
    status: 500
    delay: 1
  - client_id: in-file-rp
    endpoint: token
    eror: invalid_grant
"""
    path = tmp_path / "realm.yaml"
    path.write_text(text)
    with app.app_context(), pytest.raises(RealmInvalid) as invalid:
        read_realm_file(path)
    lines = invalid.value.problems.lines()
    assert any(
        line.startswith("scenarios[1].client_id (ligne 9) : client inconnu « nobody »")
        for line in lines
    ), lines
    assert any(
        line.startswith("scenarios[2].endpoint (ligne 13) : point d'accès inconnu")
        for line in lines
    ), lines
    assert any(
        line.startswith("scenarios[3].error (ligne 17) : erreur « invalid_grant » non")
        for line in lines
    ), lines
    assert any(line.startswith("scenarios[4].delay (ligne 20)") for line in lines), lines
    assert any(line.startswith("scenarios[5] (ligne 21) : un effet et un seul") for line in lines)
    assert any("scenarios[6].eror (ligne 27)" in line and "error" in line for line in lines), lines
    assert len(lines) == 7  # the first entry is right: a client of the file


def test_cli_add_list_remove(app, rp):
    added = invoke(
        app,
        "scenarios",
        "add",
        "--client",
        CLIENT_ID,
        "--national-id",
        DOCTOR,
        "--endpoint",
        "token",
        "--rename-claim",
        "acr=level",
        "--json",
    )
    assert added.exit_code == 0, added.output
    first = json.loads(added.output)
    assert first["rename_claim"] == "acr=level" and first["changed"] is True
    again = invoke(
        app,
        "scenarios",
        "add",
        "--client",
        CLIENT_ID,
        "--national-id",
        DOCTOR,
        "--endpoint",
        "token",
        "--rename-claim",
        "acr=loa",
        "--json",
    )
    assert json.loads(again.output)["id"] == first["id"]  # the same claim renamed: replaced
    second = json.loads(
        invoke(
            app,
            "scenarios",
            "add",
            "--client",
            CLIENT_ID,
            "--endpoint",
            "authorize",
            "--error",
            "login_required",
            "--json",
        ).output
    )
    listed = json.loads(invoke(app, "scenarios", "list", "--client", CLIENT_ID, "--json").output)
    assert [(s["id"], s["endpoint"]) for s in listed] == [
        (second["id"], "authorize"),
        (first["id"], "token"),
    ]
    assert listed[1] == {
        "id": first["id"],
        "client_id": CLIENT_ID,
        "national_id": DOCTOR,
        "endpoint": "token",
        "rename_claim": "acr=loa",
    }
    text = invoke(app, "scenarios", "list", "--client", CLIENT_ID).output
    assert "login_required" in text
    one = invoke(app, "scenarios", "remove", "--client", CLIENT_ID, "--id", first["id"], "--json")
    assert json.loads(one.output)["removed"] == 1
    missing = invoke(app, "scenarios", "remove", "--client", CLIENT_ID, "--id", first["id"])
    assert missing.exit_code == 2 and "aucun scénario" in missing.output
    rest = invoke(app, "scenarios", "remove", "--client", CLIENT_ID, "--json")
    assert json.loads(rest.output)["removed"] == 1
    assert (
        json.loads(invoke(app, "scenarios", "list", "--client", CLIENT_ID, "--json").output) == []
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--endpoint", "logout", "--error", "x"], "point d'accès inconnu"),
        (["--endpoint", "userinfo", "--error", "invalid_grant"], "non prévue"),
        (["--endpoint", "token", "--status", "302"], "hors limites"),
        (["--endpoint", "token", "--delay", "45"], "de 0 à 30 secondes"),
        (["--endpoint", "token", "--drop-claim", "a b"], "nom de claim"),
        (["--endpoint", "token"], "un effet et un seul"),
        (["--endpoint", "token", "--status", "500", "--delay", "1"], "un effet et un seul"),
        (["--endpoint", "token", "--national-id", "x!", "--status", "500"], ""),
    ],
)
def test_cli_refusals_exit_2(app, rp, args, message):
    result = invoke(app, "scenarios", "add", "--client", CLIENT_ID, *args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Erreur : ") and message in result.output


def test_cli_unknown_client(app):
    result = invoke(
        app, "scenarios", "add", "--client", "nobody", "--endpoint", "token", "--status", "500"
    )
    assert result.exit_code == 2 and "client inconnu : nobody" in result.output
    assert invoke(app, "scenarios", "list", "--client", "nobody").exit_code == 2


def test_cli_cap_per_client(app, rp, monkeypatch):
    from psc_idp.devtools.scenarios import store

    monkeypatch.setattr(store, "MAX_PER_CLIENT", 2)
    for claim in ("a", "b"):
        assert (
            invoke(
                app,
                "scenarios",
                "add",
                "--client",
                CLIENT_ID,
                "--endpoint",
                "token",
                "--drop-claim",
                claim,
            ).exit_code
            == 0
        )
    refused = invoke(
        app, "scenarios", "add", "--client", CLIENT_ID, "--endpoint", "token", "--drop-claim", "c"
    )
    assert refused.exit_code == 2 and "déjà 2 scénarios" in refused.output


def test_a_scenario_for_a_client_of_the_same_file(app):
    data = {
        "clients": [
            {
                "client_id": "scenario-in-file",
                "secret": "s3cret-s3cret-s3cret",
                "redirect_uris": ["http://localhost:3000/cb"],
            }
        ],
        "scenarios": [{"client_id": "scenario-in-file", "endpoint": "userinfo", "status": 503}],
    }
    with app.app_context():
        assert import_realm(data).dev_scenarios_changed == 1
        db.session.commit()
        from psc_idp.devtools.scenarios import store

        [row] = store.for_client("scenario-in-file")
        assert (row.endpoint, row.effect, row.value) == ("userinfo", "status", "503")
        store.remove("scenario-in-file")
        db.session.commit()
