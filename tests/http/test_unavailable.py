"""An unreachable database answers 503 with Retry-After (JSON on the protocol, a page in the
browser), never a 500."""

from __future__ import annotations

import os
import shutil

import pytest
from flask import g, request
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import _fresh_postgres, create_app_for_tests
from tests.helpers import OIDC, basic


def _assert_unavailable(app) -> None:
    http = app.test_client()
    form = {"grant_type": "client_credentials"}
    protocol = http.post(f"{OIDC}/token", data=form, headers=basic("demo-web", "secret"))
    assert protocol.status_code == 503, protocol.get_data(as_text=True)
    assert protocol.headers["Retry-After"].isdigit()
    assert protocol.get_json()["error"] == "temporarily_unavailable"
    page = http.get("/dev/outbox")
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert page.headers["Retry-After"].isdigit()
    assert "momentanément indisponible" in page.get_data(as_text=True)


def test_sqlite_file_gone_is_503(tmp_path):
    database = tmp_path / "psc-idp.sqlite3"
    app = create_app_for_tests(
        {
            "database_url": f"sqlite:///{database}",
            "keys_dir": str(tmp_path / "keys"),
            "dev_mode": True,
            "realm_file": "",
        }
    )
    from psc_idp.extensions import db

    with app.app_context():
        db.engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"psc-idp.sqlite3{suffix}").unlink(missing_ok=True)
    database.mkdir()  # a folder where the file was: SQLite cannot open it
    _assert_unavailable(app)
    shutil.rmtree(database)


@pytest.mark.skipif(not os.environ.get("PSC_TEST_BASE_DATABASE_URL"), reason="PostgreSQL only")
def test_postgresql_refusing_connections_is_503(tmp_path):
    url = _fresh_postgres(os.environ["PSC_TEST_BASE_DATABASE_URL"], "outage")
    app = create_app_for_tests(
        {"database_url": url, "keys_dir": str(tmp_path), "dev_mode": True, "realm_file": ""}
    )
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
    try:
        _assert_unavailable(app)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


def test_an_outage_met_after_the_view_is_still_503(make_app):
    """An exception escaping the error handlers (here from a hook after the view) reaches
    Flask's last resort as a 500 carrying it: an outage there is still a 503, page or JSON."""
    from sqlalchemy.exc import OperationalError

    app = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as served: Flask's last resort answers

    @app.after_request
    def database_gone(response):
        # Once per request: the hooks also run on the error handler's answer.
        if "X-Test-Outage" in request.headers and not g.get("outage_met"):
            g.outage_met = True
            raise OperationalError("SELECT 1", {}, Exception("the connection is closed"))
        return response

    http = app.test_client()
    page = http.get("/dev/outbox", headers={"X-Test-Outage": "1"})
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "momentanément indisponible" in page.get_data(as_text=True)
    protocol = http.post(
        f"{OIDC}/token",
        data={"grant_type": "client_credentials"},
        headers={**basic("demo-web", "secret"), "X-Test-Outage": "1"},
    )
    assert protocol.status_code == 503
    assert protocol.get_json()["error"] == "temporarily_unavailable"
    assert http.get("/dev/outbox").status_code == 200  # and nothing else changed


def test_a_session_whose_connection_died_is_closed_without_failing_the_answer(make_app):
    """Closing a request's session rolls back; on a connection the database dropped that
    fails after the answer is made (the restart test met it as a 500 from the server). The
    answer stands, and the session is forgotten rather than handed to a later request."""
    from sqlalchemy.exc import OperationalError

    from psc_idp.extensions import db

    app = make_app()
    broken = []

    @app.after_request
    def connection_dies(response):
        if "X-Test-Outage" in request.headers:
            session = db.session()

            def close_on_a_dead_connection():
                raise OperationalError("ROLLBACK", {}, Exception("server closed the connection"))

            session.close = close_on_a_dead_connection
            broken.append(session)
        return response

    http = app.test_client()
    answer = http.get("/dev/outbox", headers={"X-Test-Outage": "1"})
    assert answer.status_code == 200
    assert broken and broken[0] not in db.session.registry.registry.values()
    assert http.get("/dev/outbox").status_code == 200
