"""Logs: one JSON line per request (id, client, endpoint, method, status, duration, address);
every line written while handling a request carries its id, echoed in ``X-Request-ID``."""

from __future__ import annotations

import json
import logging

import pytest

from psc_idp.config import Settings
from psc_idp.observe.logs import configure_logging
from tests.helpers import TOKEN, basic


@pytest.fixture(autouse=True)
def _restore_logging():
    yield
    configure_logging(Settings(dev_mode=True))  # back to the suite's stream and format


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _app_logging_within_a_request(make_app, **settings):
    app = make_app(log_format="json", **settings)

    @app.get("/_logs-from-a-view")
    def talkative():
        logging.getLogger("psc_idp.something").info("inside the view")
        logging.getLogger("sqlalchemy.pool").warning("a library speaks too")
        return "ok"

    return app


def test_every_line_of_a_request_carries_its_id(make_app, capsys):
    app = _app_logging_within_a_request(make_app)
    response = app.test_client().get("/_logs-from-a-view")
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32
    lines = _json_lines(capsys.readouterr().err)
    mine = [line for line in lines if line["request_id"] == request_id]
    messages = [line["message"] for line in mine]
    assert "inside the view" in messages
    assert "a library speaks too" in messages
    access = [line for line in mine if line["logger"] == "psc_idp.access"]
    assert len(access) == 1
    assert access[0]["endpoint"] == "talkative"
    assert access[0]["method"] == "GET"
    assert access[0]["status"] == 200
    assert access[0]["remote_addr"] == "127.0.0.1"
    assert isinstance(access[0]["duration_ms"], float)
    assert access[0]["level"] == "INFO" and access[0]["time"]


def test_a_well_formed_incoming_id_is_kept(make_app, capsys):
    app = _app_logging_within_a_request(make_app)
    response = app.test_client().get(
        "/_logs-from-a-view", headers={"X-Request-ID": "nginx-4f2a.91:b"}
    )
    assert response.headers["X-Request-ID"] == "nginx-4f2a.91:b"
    ids = {line["request_id"] for line in _json_lines(capsys.readouterr().err)}
    assert "nginx-4f2a.91:b" in ids


@pytest.mark.parametrize("hostile", ["a b", "x" * 129, 'id"}{"level":"ERROR', "é", "line\tbreak"])
def test_a_malformed_incoming_id_is_replaced(make_app, hostile):
    app = make_app(log_format="json")
    response = app.test_client().get("/health/live", headers={"X-Request-ID": hostile})
    replaced = response.headers["X-Request-ID"]
    assert replaced != hostile and len(replaced) == 32


def test_the_token_endpoint_line_names_the_client(make_app, clients, capsys):
    app = make_app(log_format="json")
    response = app.test_client().post(
        TOKEN,
        data={"grant_type": "client_credentials"},
        headers=basic(clients.web.client_id, clients.web.secret),
    )
    assert response.status_code == 200
    lines = _json_lines(capsys.readouterr().err)
    access = [line for line in lines if line["request_id"] == response.headers["X-Request-ID"]]
    assert access[-1]["client_id"] == clients.web.client_id
    assert access[-1]["endpoint"] == "protocol.token"


def test_access_log_off(make_app, capsys):
    app = make_app(log_format="json", access_log=False)
    app.test_client().get("/health/live")
    assert [
        line for line in _json_lines(capsys.readouterr().err) if line["logger"] == "psc_idp.access"
    ] == []


def test_text_in_development_mode(make_app, capsys):
    app = make_app()  # dev_mode, no PSC_LOG_FORMAT
    response = app.test_client().get("/health/live")
    err = capsys.readouterr().err
    line = next(line for line in err.splitlines() if "psc_idp.access" in line)
    assert f"[{response.headers['X-Request-ID']}]" in line
    assert "GET health.live 200" in line
    assert not line.startswith("{")


def test_json_outside_development_mode(make_app, capsys):
    app = make_app(dev_mode=False)
    app.test_client().get("/health/live")
    assert any(line["logger"] == "psc_idp.access" for line in _json_lines(capsys.readouterr().err))


def test_an_unknown_format_is_refused(make_app):
    with pytest.raises(ValueError, match="PSC_LOG_FORMAT"):
        make_app(log_format="xml")
