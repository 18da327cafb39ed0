"""Sending one request to the workers' app (``http/prepared.wrap``) and to the same app
without its shortcuts before Flask, and knowing whether Flask was reached."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import Client

from psc_idp.http.prepared import wrap

FORM = "application/x-www-form-urlencoded"
#: Set by the server on the way out, or new for each request.
PER_RESPONSE = {"Date", "Server"}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    query: str | None = None


@dataclass
class Workers:
    """The workers' app, the same without the shortcut, and how often each reached Flask."""

    fast: Any
    flask_only: Any
    reached: list[str]


def workers_of(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Workers:
    reached: list[str] = []
    flask_app = app.wsgi_app

    def counting(environ: dict[str, Any], start_response: Any) -> Any:
        reached.append(environ["PATH_INFO"])
        return flask_app(environ, start_response)

    monkeypatch.setattr(app, "wsgi_app", counting)
    with pytest.MonkeyPatch.context() as without:
        without.setitem(app.extensions, "psc_direct_routes", {})
        flask_only = wrap(app)  # the same environ handling, no shortcut
    return Workers(wrap(app), flask_only, reached)


def send(wsgi: Any, request: Request) -> tuple[str, list[tuple[str, str]], bytes]:
    # The peer of a request through the server (the test client sets none).
    response = Client(wsgi).open(
        request.path,
        method=request.method,
        headers=request.headers,
        data=request.body,
        query_string=request.query,
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    headers = [
        (name, "-" if name == "X-Request-ID" else value)
        for name, value in response.headers.items()
        if name not in PER_RESPONSE
    ]
    return response.status, headers, response.get_data()
