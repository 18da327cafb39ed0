"""The console's scenarios page: a client's list, add (the CLI's checks, its French refusals),
remove one or all after confirmation, each action audited with the administrator as actor;
the page says when PSC_SCENARIOS is off; an added scenario applies to the protocol."""

from __future__ import annotations

import html
import re
import uuid

import pytest

from psc_idp.devtools.scenarios import store
from psc_idp.extensions import db
from tests.admin.conftest import Console, admin_events, create_admin
from tests.helpers import register_client, token_call

ADD = "/admin/scenarios/add"
REMOVE = "/admin/scenarios/remove"


@pytest.fixture
def client_id(app) -> str:
    client_id = f"scn-{uuid.uuid4().hex[:8]}"
    register_client(app, client_id, grant_types=["authorization_code", "client_credentials"])
    return client_id


def _stored(app, client_id: str) -> list[tuple[str, str, str, str | None]]:
    with app.app_context():
        rows = [(r.endpoint, r.effect, r.value, r.national_id) for r in store.for_client(client_id)]
        db.session.remove()
        return rows


def _add(console: Console, client_id: str, **fields: str):
    return console.post(ADD, {"client_id": client_id, **fields})


def _text_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def _text(response) -> str:
    """The page's text as read: tags out, entities decoded."""
    return _text_of(response.get_data(as_text=True))


def test_the_page_lists_a_clients_scenarios_and_says_they_are_off(app, console, client_id):
    assert _stored(app, client_id) == []
    response = console.get(f"/admin/scenarios?client_id={client_id}")
    page = _text(response)
    assert "Aucun scénario pour ce client." in page
    assert 'id="scenarios-off"' in response.get_data(as_text=True)
    assert "Scénarios inactifs : PSC_SCENARIOS est désactivé sur ce serveur" in page
    done = _add(console, client_id, endpoint="token", effect="error", value="invalid_grant")
    assert done.status_code == 302
    assert done.location.endswith(f"/admin/scenarios?client_id={client_id}")
    page = _text(console.get(done.location))
    assert "token : répond l'erreur invalid_grant (tous les professionnels)" in page
    assert f"{client_id} (1 scénario)" in page  # the client picker counts them
    # Reached from the client's own page too.
    edit = console.get(f"/admin/clients/{client_id}").get_data(as_text=True)
    assert f"/admin/scenarios?client_id={client_id}" in edit


def test_adding_uses_the_clis_rules_and_audits_the_administrator(app, console, admin, client_id):
    _add(
        console,
        client_id,
        endpoint="userinfo",
        effect="drop_claim",
        value="SubjectRefPro",
        national_id="899700218896",
    )
    _add(console, client_id, endpoint="token", effect="delay", value="2.50")
    _add(console, client_id, endpoint="token", effect="expired_token", value="")
    assert sorted(_stored(app, client_id)) == [
        ("token", "delay", "2.5", None),
        ("token", "expired_token", "", None),
        ("userinfo", "drop_claim", "SubjectRefPro", "899700218896"),
    ]
    # The same effect again replaces its value, as `psc-idp scenarios add`.
    _add(console, client_id, endpoint="token", effect="delay", value="4")
    assert ("token", "delay", "4", None) in _stored(app, client_id)
    assert len(_stored(app, client_id)) == 3
    rows = admin_events(app, "admin_scenario_added", actor=admin.login)
    mine = [r for r in rows if r.client_id == client_id]
    assert [(r.detail["effect"], r.detail["value"]) for r in mine] == [
        ("drop_claim", "SubjectRefPro"),
        ("delay", "2.5"),
        ("expired_token", ""),
        ("delay", "4"),
    ]
    assert mine[0].national_id == "899700218896"
    assert [r.detail["changed"] for r in mine][-1] is True


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"endpoint": "userinfo", "effect": "error", "value": "invalid_grant"},
            "erreur « invalid_grant » non prévue au point d'accès userinfo",
        ),
        (
            {"endpoint": "nowhere", "effect": "error", "value": "invalid_grant"},
            "point d'accès inconnu « nowhere »",
        ),
        ({"endpoint": "token", "effect": "status", "value": "302"}, "statut HTTP 302 hors limites"),
        ({"endpoint": "token", "effect": "delay", "value": "31"}, "délai 31 hors limites"),
        (
            {"endpoint": "authorize", "effect": "acr", "value": "eidas2"},
            "l'effet acr ne s'applique qu'à : token",
        ),
        ({"endpoint": "token", "effect": "drop_claim", "value": "a b"}, "nom de claim « a b »"),
        (
            {"endpoint": "token", "effect": "wrong_signature", "value": "oui"},
            "wrong_signature ne prend pas de valeur",
        ),
        (
            {
                "endpoint": "token",
                "effect": "error",
                "value": "invalid_grant",
                "national_id": "899700218897",
            },
            "Identifiant RPPS invalide",
        ),
        ({"endpoint": "token", "effect": "magic", "value": "x"}, "effet inconnu « magic »"),
    ],
)
def test_refused_input_gets_a_french_message_and_stores_nothing(
    app, console, admin, client_id, fields, message
):
    response = _add(console, client_id, **fields)
    assert response.status_code == 400
    page = _text(response)
    assert "Scénario refusé :" in page
    assert message in page
    # The form keeps what was typed.
    assert f'value="{fields["value"]}"' in response.get_data(as_text=True)
    assert _stored(app, client_id) == []
    assert [r for r in admin_events(app, "admin_scenario_added") if r.client_id == client_id] == []


def test_an_unknown_client_is_refused(app, console):
    response = _add(console, "no-such-client", endpoint="token", effect="delay", value="1")
    assert response.status_code == 400
    assert "Choisissez un client enregistré." in _text(response)
    missing = console.get("/admin/scenarios?client_id=no-such-client")
    assert missing.status_code == 404 and "Aucun client" in _text(missing)


def test_removing_one_or_all_asks_for_confirmation_and_is_audited(app, console, admin, client_id):
    for value in ("invalid_grant", "1"):
        effect = "error" if value == "invalid_grant" else "delay"
        _add(console, client_id, endpoint="token", effect=effect, value=value)
    _add(console, client_id, endpoint="userinfo", effect="error", value="invalid_token")
    with app.app_context():
        ids = {r.effect + r.endpoint: r.id for r in store.for_client(client_id)}
        db.session.remove()
    one = ids["errortoken"]
    asked = console.post(REMOVE, {"client_id": client_id, "scenario_id": one})
    assert asked.status_code == 200
    page = _text(asked)
    assert "Confirmer l'action" in page and f"Retirer le scénario {one}" in page
    assert len(_stored(app, client_id)) == 3  # nothing removed before the confirmation
    done = console.post(REMOVE, {"client_id": client_id, "scenario_id": one}, confirm=True)
    assert done.status_code == 302
    assert sorted(e for e, *_ in _stored(app, client_id)) == ["token", "userinfo"]
    unknown = console.post(REMOVE, {"client_id": client_id, "scenario_id": "ffffffff"})
    assert unknown.status_code == 404 and "Aucun scénario « ffffffff »" in _text(unknown)

    asked_all = _text(console.post(REMOVE, {"client_id": client_id}))
    assert f"Retirer les 2 scénarios du client « {client_id} »" in asked_all
    console.post(REMOVE, {"client_id": client_id}, confirm=True)
    assert _stored(app, client_id) == []
    rows = [
        r
        for r in admin_events(app, "admin_scenario_removed", actor=admin.login)
        if r.client_id == client_id
    ]
    assert [(r.detail["scenario"], r.detail["removed"]) for r in rows] == [(one, 1), ("all", 2)]


def test_without_a_session_every_scenarios_route_redirects_to_the_login(app, client_id):
    http = app.test_client()
    for method, path in (
        ("GET", "/admin/scenarios"),
        ("GET", f"/admin/scenarios?client_id={client_id}"),
        ("POST", ADD),
        ("POST", REMOVE),
    ):
        response = http.open(
            path,
            method=method,
            data={"client_id": client_id, "endpoint": "token", "effect": "delay", "value": "1"},
        )
        assert response.status_code == 302, (method, path)
        assert response.location.endswith("/admin/login")
    assert _stored(app, client_id) == []


def test_a_post_without_its_csrf_token_changes_nothing(app, console, client_id):
    data = {"client_id": client_id, "endpoint": "token", "effect": "delay", "value": "1"}
    for token in (None, "x" * 64):
        form = dict(data) if token is None else {**data, "csrf_token": token}
        response = console.http.post(ADD, data=form)
        assert response.status_code == 400 and "expiré" in _text(response)
    assert _stored(app, client_id) == []
    _add(console, client_id, **{k: v for k, v in data.items() if k != "client_id"})
    forged = console.http.post(REMOVE, data={"client_id": client_id, "confirm": "oui"})
    assert forged.status_code == 400
    assert len(_stored(app, client_id)) == 1


def test_with_scenarios_on_the_page_says_so_and_the_scenario_applies(make_app):
    app = make_app(scenarios=True)
    client = register_client(
        app, f"scn-on-{uuid.uuid4().hex[:6]}", grant_types=["client_credentials"]
    )
    console = Console(app)
    assert console.login(create_admin(app)).status_code == 302
    _add(console, client.client_id, endpoint="token", effect="error", value="invalid_grant")
    page = console.get(f"/admin/scenarios?client_id={client.client_id}").get_data(as_text=True)
    assert "Les scénarios sont appliqués (PSC_SCENARIOS activé)" in _text_of(page)
    assert 'id="scenarios-off"' not in page
    scenario_id = re.search(r'name="scenario_id" value="([0-9a-f]+)"', page).group(1)
    answer = token_call(app, client, grant_type="client_credentials")
    assert answer.status_code == 400
    assert answer.get_json() == {
        "error": "invalid_grant",
        "error_description": f"psc-idp scenario {scenario_id}",
    }
    assert answer.headers["X-PSC-Scenario"] == scenario_id
