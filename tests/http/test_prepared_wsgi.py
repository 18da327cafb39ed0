"""The WSGI application of the server's workers (psc_idp/http/prepared.py): published
documents answered before Flask exactly as Flask answers them, everything that could change the
answer left to Flask, and bounded responses handed over in one piece."""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, Response, stream_with_context
from werkzeug.test import Client

from psc_idp.http.prepared import Published, published_routes, wrap

#: Set by the server on the way out, or new for each request (checked on their own).
PER_RESPONSE = {"Date", "Server", "X-Request-ID"}


def _paths(app: Flask) -> list[str]:
    issuer = urlsplit(app.extensions["psc_settings"].issuer).path
    return [
        f"{issuer}/.well-known/openid-configuration",
        f"{issuer}/.well-known/wallet-openid-configuration",
        f"{issuer}/protocol/openid-connect/certs",
    ]


def _answer(wsgi: Any, path: str, **headers: str) -> tuple[str, dict[str, str], bytes]:
    # The peer of a request through the server (the test client sets none).
    response = Client(wsgi).get(path, headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    kept = {k: v for k, v in response.headers.items() if k not in PER_RESPONSE}
    return response.status, kept, response.get_data()


def test_every_published_path_is_served_before_flask(app):
    assert sorted(published_routes(app)) == sorted(_paths(app))


@pytest.mark.parametrize("index", range(3))
def test_published_answer_is_flasks_answer(app, index):
    path = _paths(app)[index]
    fast, through_flask = wrap(app), app.wsgi_app
    status, headers, body = _answer(fast, path)
    assert status == "200 OK" and body.startswith(b"{")
    assert (status, headers, body) == _answer(through_flask, path)
    etag = headers["ETag"]
    not_modified = _answer(fast, path, **{"If-None-Match": etag})
    assert not_modified[0].startswith("304") and not_modified[2] == b""
    assert not_modified == _answer(through_flask, path, **{"If-None-Match": etag})
    # Another tag, or a weak form of this one (compared weakly, RFC 9110).
    assert _answer(fast, path, **{"If-None-Match": '"other"'})[0] == "200 OK"
    assert _answer(fast, path, **{"If-None-Match": f"W/{etag}"})[0].startswith("304")


@pytest.mark.parametrize(
    "environ",
    [
        {"QUERY_STRING": "x=1"},
        {"HTTP_ORIGIN": "https://sp.example"},
        {"HTTP_AUTHORIZATION": "Bearer x"},
        {"REQUEST_METHOD": "HEAD"},
    ],
)
def test_what_could_change_the_answer_goes_to_flask(app, monkeypatch, environ):
    path = _paths(app)[2]
    routes = dict(published_routes(app))

    def refused() -> Any:
        raise AssertionError("answered before Flask")

    monkeypatch.setitem(
        app.extensions,
        "psc_published_routes",
        {path: Published(route.endpoint, refused) for path, route in routes.items()},
    )
    base = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }
    client = Client(wrap(app))
    scheme = environ.get("wsgi.url_scheme", "http")
    response = client.open(
        environ_base={**base, **environ},
        path=path,
        base_url=f"{scheme}://localhost",
        method=environ.get("REQUEST_METHOD", "GET"),
        query_string=environ.get("QUERY_STRING"),
    )
    assert response.status == "200 OK"  # Flask's view, not the refusing producer
    if "HTTP_ORIGIN" in environ:  # CORS, which only Flask adds
        assert response.headers["Access-Control-Allow-Origin"] == "https://sp.example"


def _tiny() -> Flask:
    tiny = Flask("tiny")

    @tiny.get("/sized")
    def sized() -> Response:
        return Response(b"abc")

    @tiny.get("/streamed")
    def streamed() -> Response:
        return Response(stream_with_context(iter([b"a", b"b"])))

    return tiny


def _raw(wsgi: Any, path: str) -> Any:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SERVER_NAME": "x",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": None,
        "wsgi.errors": None,
    }
    seen: list[str] = []
    body = wsgi(environ, lambda status, headers, *exc: seen.append(status))
    return seen, body


def test_a_response_of_known_length_is_handed_over_in_one_piece():
    seen, body = _raw(wrap(_tiny()), "/sized")
    assert seen == ["200 OK"] and body == [b"abc"]


def test_a_streamed_response_is_left_to_the_server():
    seen, body = _raw(wrap(_tiny()), "/streamed")
    assert seen == ["200 OK"] and not isinstance(body, list)
    assert b"".join(body) == b"ab"
    body.close()


@pytest.mark.parametrize("proto", ["http", "https"])
def test_behind_a_proxy_on_this_host_the_answer_is_flasks_with_hsts_over_https(
    app, monkeypatch, proto
):
    settings = app.extensions["psc_settings"]
    monkeypatch.setattr(settings, "base_url", "https://idp.example")  # HSTS is sent over https
    path = _paths(app)[2]
    forwarded = {"X-Forwarded-Proto": proto}  # from 127.0.0.1 (this host): believed
    fast = _answer(wrap(app), path, **forwarded)
    through_flask = _answer(wrap_without_shortcut(app), path, **forwarded)
    assert fast == through_flask
    assert ("Strict-Transport-Security" in fast[1]) == (proto == "https")


def wrap_without_shortcut(app: Flask) -> Any:
    """The workers' app with no published route: every request reaches Flask."""
    wsgi = wrap(app)
    return lambda environ, start: wsgi(
        {**environ, "QUERY_STRING": environ.get("QUERY_STRING") or "flask=1"}, start
    )


def test_process_variables_do_not_read_as_the_request(app, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://attacker.example")
    monkeypatch.setenv("SSL_CLIENT_CERT", "-----BEGIN CERTIFICATE-----")
    seen: dict[str, Any] = {}

    def spy(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ)
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]

    monkeypatch.setattr(app, "wsgi_app", spy)
    wsgi = wrap(app)
    environ = {
        **os.environ,
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/x",
        "SERVER_NAME": "x",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "REMOTE_ADDR": "10.1.2.3",
    }
    environ["HTTP_X_FORWARDED_PROTO"] = "https"  # from a peer that is not trusted
    wsgi(environ, lambda *args: None)
    assert "HTTP_PROXY" not in seen and "SSL_CLIENT_CERT" not in seen
    assert seen["wsgi.url_scheme"] == "http"


def test_published_answers_are_observed_as_flasks(app, caplog):
    path = _paths(app)[2]
    client = Client(wrap(app))
    fresh = client.get(path).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", fresh)
    echoed = client.get(path, headers={"X-Request-ID": "trace-42"}).headers["X-Request-ID"]
    assert echoed == "trace-42"
    forged = client.get(path, headers={"X-Request-ID": 'bad "id"'}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", forged)  # replaced: not a well-formed id
    counted = _count(app, "protocol.jwks")
    client.get(path)
    assert _count(app, "protocol.jwks") == counted + 1


def _count(app: Flask, endpoint: str) -> float:
    from prometheus_client import REGISTRY

    value = REGISTRY.get_sample_value(
        "psc_http_request_duration_seconds_count", {"endpoint": endpoint, "method": "GET"}
    )
    return value or 0.0
