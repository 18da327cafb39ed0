"""The realm file is checked strictly: every problem at once, with its place, nothing applied."""

from __future__ import annotations

import json

import pytest

from psc_idp.extensions import db
from psc_idp.protocol.models import Client
from psc_idp.realm.loader import DEMO_FILES, RealmInvalid, import_realm, read_realm_file

GOOD_CLIENT = """\
  - client_id: valid-{suffix}
    secret: s3cr3t-valid-client-long-enough
    redirect_uris: [https://ok.example/cb]
"""

BAD_FILE = """\
options:
  userinfo_profil: current
clients:
{good}  - client_id: typo-{suffix}
    secret: s3cr3t-typo-client-long-enough
    redirect_uris: [https://typo.example/cb]
    post_logout_redirect_uri: https://typo.example/
  - client_id: method-{suffix}
    token_endpoint_auth_method: self_signed_tls_client_auth
    redirect_uris: [not-a-uri]
practitioners:
  - national_id: "899700100110"
    family_name: CODES
    given_names: [ANNE]
    exercices:
      - profession: "11"
        savoir_faire: SM62
        activities:
          - mode: X
            sectr: SA01
ecps_scenarios:
  - {{national_id: "899700100565", action: aprove}}
"""


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def _write(tmp_path, suffix: str):
    path = tmp_path / "realm.yaml"
    path.write_text(BAD_FILE.format(good=GOOD_CLIENT.format(suffix=suffix), suffix=suffix))
    return path


def _problems(path) -> list[str]:
    with pytest.raises(RealmInvalid) as caught:
        read_realm_file(path)
    return caught.value.problems.lines()


def test_a_misspelt_key_is_an_error_with_a_suggestion_and_its_line(tmp_path):
    lines = _problems(_write(tmp_path, "a"))
    assert (
        "clients[1].post_logout_redirect_uri (ligne 10) : clé inconnue — vouliez-vous dire "
        "« post_logout_redirect_uris » ?"
    ) in lines
    assert any(line.startswith("options.userinfo_profil (ligne 2)") for line in lines)
    assert any(
        line.startswith("practitioners[0].exercices[0].activities[0].sectr") for line in lines
    )


def test_every_problem_is_reported_at_once(tmp_path):
    lines = _problems(_write(tmp_path, "b"))
    places = [line.split(" (ligne")[0] for line in lines]
    assert places == [
        "options.userinfo_profil",
        "clients[1].post_logout_redirect_uri",
        "clients[2].token_endpoint_auth_method",
        "clients[2].redirect_uris[0]",
        "practitioners[0].exercices[0].profession",
        "practitioners[0].exercices[0].savoir_faire",
        "practitioners[0].exercices[0].activities[0].sectr",
        "practitioners[0].exercices[0].activities[0].mode",
        "ecps_scenarios[0].action",
    ]


def test_codes_are_checked_against_the_code_systems(tmp_path):
    lines = "\n".join(_problems(_write(tmp_path, "c")))
    assert "code « 11 » absent de TRE_G15" in lines
    assert "code « SM62 » absent de TRE_R38 — vouliez-vous dire" in lines
    assert "code « X » absent de TRE_R23 (codes possibles : L, S, B)" in lines


def test_realm_import_exits_2_and_applies_nothing(app, tmp_path):
    result = invoke(app, "realm", "import", str(_write(tmp_path, "d")))
    assert result.exit_code == 2
    assert "9 erreurs, rien n'a été importé" in result.output
    assert "clients[1].post_logout_redirect_uri (ligne 10)" in result.output
    with app.app_context():
        assert db.session.get(Client, "valid-d") is None  # the sound client was not applied


def test_realm_check_reports_without_importing(app, tmp_path):
    result = invoke(app, "realm", "check", str(_write(tmp_path, "f")))
    assert result.exit_code == 2 and "9 erreurs" in result.output
    good = invoke(app, "realm", "check", str(DEMO_FILES[0]))
    assert good.exit_code == 0 and "fichier de realm valide" in good.output


def test_realm_import_json_lists_the_errors_for_scripts(app, tmp_path):
    result = invoke(app, "realm", "import", str(_write(tmp_path, "e")), "--json")
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert report["imported"] is False and len(report["errors"]) == 9
    assert report["errors"][1] == {
        "place": "clients[1].post_logout_redirect_uri",
        "line": 10,
        "message": "clé inconnue — vouliez-vous dire « post_logout_redirect_uris » ?",
    }


def test_json_files_get_places_too(tmp_path):
    path = tmp_path / "realm.json"
    data = {"clients": [{"client_id": "json-x", "redirect_uri": ["https://j.example/cb"]}]}
    path.write_text(json.dumps(data, indent=2))
    lines = _problems(path)
    assert lines[0].startswith("clients[0].redirect_uri (ligne 5) : clé inconnue")
    assert "« redirect_uris »" in lines[0]


def test_import_of_a_description_not_read_from_a_file_is_checked_too(app_context):
    with pytest.raises(RealmInvalid) as caught:
        import_realm({"clients": [{"client_id": "dict-x", "redirect_uris": [], "nom": "x"}]})
    assert any("clients[0].nom : clé inconnue" in line for line in caught.value.problems.lines())
    assert db.session.get(Client, "dict-x") is None


def test_client_rules_are_said_in_french(tmp_path):
    path = tmp_path / "realm.yaml"
    path.write_text(
        "clients:\n"
        "  - client_id: rules\n"
        "    token_endpoint_auth_method: none\n"
        "    grant_types: [client_credentials]\n"
        "  - client_id: rules\n"
        "    redirect_uris: [https://r.example/cb]\n"
    )
    lines = _problems(path)
    assert (
        "clients[0].grant_types (ligne 4) : un client public ne peut pas utiliser "
        "client_credentials." in lines
    )
    assert any(
        line.startswith("clients[1].secret") and "demande un secret" in line for line in lines
    )
    assert any("déjà défini en clients[0]" in line for line in lines)


def test_the_demo_realm_files_pass(tmp_path):
    for path in DEMO_FILES:
        assert read_realm_file(path)


def test_a_key_given_twice_is_an_error(tmp_path):
    path = tmp_path / "realm.yaml"
    path.write_text(
        "clients:\n"
        "  - client_id: twice\n"
        "    secret: s3cr3t-twice-client-long-enough\n"
        "    redirect_uris: [https://t.example/cb]\n"
        "    redirect_uris: [https://other.example/cb]\n"
    )
    assert _problems(path) == [
        "clients[0].redirect_uris (ligne 5) : clé en double : seule la dernière valeur serait lue."
    ]


def test_nul_characters_are_refused_before_the_database_sees_them(app, tmp_path):
    path = tmp_path / "realm.json"
    path.write_text(
        json.dumps(
            {
                "clients": [
                    {
                        "client_id": "nul-client",
                        "name": "Nom\u0000caché",
                        "secret": "s3cr3t-nul-client-long-enough",
                        "redirect_uris": ["https://n.example/cb"],
                    }
                ],
                "practitioners": [
                    {
                        "national_id": "899700100110",
                        "family_name": "NUL\u0000",
                        "given_names": ["A"],
                    }
                ],
            }
        )
    )
    result = invoke(app, "realm", "import", str(path))
    assert result.exit_code == 2, result.output
    assert "clients[0].name" in result.output and "practitioners[0].family_name" in result.output
    assert "caractère de contrôle" in result.output
    with app.app_context():
        assert db.session.get(Client, "nul-client") is None


def test_yaml_aliases_are_walked_once(tmp_path, monkeypatch):
    # Four levels of ten aliases: 10 000 strings if every alias were walked again (nine
    # levels, a "billion laughs", would never end).
    from psc_idp.realm import checks
    from psc_idp.realm.problems import line_marks

    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 5):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        levels.append(f"a{level}: &a{level} [{refs}]")
    text = "bomb:\n" + "".join(f"  {line}\n" for line in levels)
    path = tmp_path / "realm.yaml"
    path.write_text(text)
    looked_at: list[str] = []
    real = checks._is_control
    monkeypatch.setattr(checks, "_is_control", lambda c: looked_at.append(c) or real(c))
    assert _problems(path) == ["bomb (ligne 1) : clé inconnue"]
    assert len(looked_at) < 100
    assert len(line_marks(text)[0]) < 100


def test_dpop_bound_access_tokens_is_read_from_the_realm_file(app_context, tmp_path):
    path = tmp_path / "realm.yaml"
    path.write_text(
        "clients:\n"
        "  - client_id: realm-dpop\n"
        "    token_endpoint_auth_method: none\n"
        "    redirect_uris: [https://dpop.example/cb]\n"
        "    dpop_bound_access_tokens: true\n"
    )
    import_realm(read_realm_file(path))
    db.session.commit()
    assert db.session.get(Client, "realm-dpop").dpop_bound_access_tokens is True
    path.write_text(path.read_text().replace(": true", ": oui"))
    assert any(line.startswith("clients[0].dpop_bound_access_tokens") for line in _problems(path))
