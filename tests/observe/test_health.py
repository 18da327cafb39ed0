"""/health/live and /health/ready: Keycloak's shape, DOWN with the failed check and 503 when the
database is out of reach or behind the code's migrations; ``psc-idp db upgrade`` brings it up."""

from __future__ import annotations

from alembic import command

from psc_idp.extensions import db
from psc_idp.migrations import alembic_config, head_revision
from psc_idp.observe.health import ENGINE

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/none"


def _checks(response) -> dict[str, dict]:
    return {check["name"]: check for check in response.get_json()["checks"]}


def test_live_answers_without_the_database(app):
    response = app.test_client().get("/health/live")
    assert response.status_code == 200
    assert response.get_json() == {"status": "UP", "checks": []}
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"  # security headers kept


def test_ready_reports_each_check(app):
    response = app.test_client().get("/health/ready")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "UP"
    checks = _checks(response)
    assert checks["database"]["status"] == "UP"
    assert checks["database"]["data"] == {"revision": head_revision(), "head": head_revision()}
    assert checks["signing_keys"]["status"] == "UP"
    assert checks["signing_keys"]["data"]["alg"] == "RS256"


def test_ready_is_down_when_the_database_is_unreachable(make_app):
    app = make_app()
    app.extensions["psc_settings"].database_url = UNREACHABLE
    app.extensions.pop(ENGINE, None)
    response = app.test_client().get("/health/ready")
    assert response.status_code == 503
    assert response.get_json()["status"] == "DOWN"
    database = _checks(response)["database"]
    assert database["status"] == "DOWN"
    assert database["data"]["reason"].startswith("OperationalError")
    assert "postgres@" not in database["data"]["reason"]  # no connection string
    assert _checks(response)["signing_keys"]["status"] == "UP"
    assert app.test_client().get("/health/live").status_code == 200


def test_ready_is_down_while_migrations_are_behind(make_app, fresh_database_url):
    app = make_app(database_url=fresh_database_url)
    with app.app_context():
        config = alembic_config()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0016")
    response = app.test_client().get("/health/ready")
    assert response.status_code == 503
    database = _checks(response)["database"]
    assert database["status"] == "DOWN"
    assert database["data"]["revision"] == "0016"
    assert database["data"]["head"] == head_revision()
    assert "psc-idp db upgrade" in database["data"]["reason"]


def test_db_upgrade_is_a_step_of_its_own(make_app, fresh_database_url):
    """With PSC_AUTO_MIGRATE=0 the app starts on a schema behind (and says it is not ready);
    ``psc-idp db upgrade`` migrates it, ``db current`` tells."""
    first = make_app(database_url=fresh_database_url)
    with first.app_context():
        config = alembic_config()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0016")
        db.engine.dispose()
    app = make_app(database_url=fresh_database_url, auto_migrate=False)
    assert app.test_client().get("/health/ready").status_code == 503
    runner = app.test_cli_runner()
    behind = runner.invoke(args=["db", "current"])
    assert behind.exit_code == 1 and "base : 0016" in behind.output
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"révision {head_revision()}" in upgraded.output
    assert runner.invoke(args=["db", "current"]).exit_code == 0
    assert app.test_client().get("/health/ready").status_code == 200
