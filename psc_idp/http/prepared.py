"""The WSGI application each server worker runs: the Flask app, its environ made sound, and
two shortcuts.

- **The environ.** granian starts every request's environ from the process environment: a
  variable such as ``HTTP_PROXY`` or ``SSL_CLIENT_CERT`` set for the process would read as a
  request header or as a certificate from psc-idp's own TLS listener. Those that the request
  did not set itself are removed. And the scheme is ``https`` when a proxy on this host
  (loopback, as gunicorn's default ``forwarded_allow_ips`` had it) or in ``PSC_TRUSTED_PROXIES``
  says so in ``X-Forwarded-Proto``: cookies, HSTS, the card's origin and the URLs Flask builds
  then know the request came over TLS. The certificate headers are still believed from
  ``PSC_TRUSTED_PROXIES`` alone (``tls/presented.py``).

- **Published documents before Flask.** Discovery and JWKS are the same bytes for every caller
  (``http/published.py``); a plain ``GET`` of one of them (no query, no ``Origin``, no
  credentials) is answered here with exactly the headers Flask would send,
  in a few microseconds instead of a whole request cycle (HSTS included over https), with what
  Flask's hooks give every answer (request id, metrics, access line). Anything
  else about such a request (a CORS ``Origin``, credentials, a query string the guard must
  see) goes to Flask.
- **The plain case of UserInfo and introspection before Flask.** The protocol registers, per
  method and path, a function that answers a request only when nothing about it needs more
  than the protocol's own logic (``protocol/direct.py``) and returns None otherwise, before it
  has written or counted anything that Flask would write or count again; Flask then answers.
  Its answer gets what Flask's hooks would add: security headers, HSTS over https, request id,
  metrics and access line (with the client the protocol noted).
- **One piece.** A response of known, bounded length is handed to the server as one bytes
  object: granian then writes it at once instead of iterating over it from Rust."""

from __future__ import annotations

import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask

from psc_idp.http.address import address_of, is_trusted_proxy
from psc_idp.http.headers import HEADERS as SECURITY_HEADERS
from psc_idp.http.headers import strict_transport
from psc_idp.http.published import Document, matches
from psc_idp.observe import request_id
from psc_idp.observe.logs import access_line
from psc_idp.observe.metrics import observe_request

StartResponse = Callable[..., Any]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Published:
    """A published path: the Flask endpoint that also serves it (its name in the metrics and
    the access log) and the current document (it may change on key rotation)."""

    endpoint: str
    document: Callable[[], Document]


#: Request headers that make a published document's answer differ (CORS, HSTS, the guard's
#: checks of credentials): with one of them, Flask answers.
_FLASK_DECIDES = (
    "QUERY_STRING",
    "HTTP_ORIGIN",
    "HTTP_AUTHORIZATION",
    "HTTP_DPOP",
    "HTTP_CLIENT_CERT",
    "HTTP_X_SSL_CLIENT_CERT",
    "HTTP_ECPS_DEVICE",
)
#: Process variables that would read as part of the request (headers, certificate, peer).
_REQUEST_PREFIXES = ("HTTP_", "SSL_", "REMOTE_", "CONTENT_", "AUTH_")
#: Larger bodies are left to the server's own iteration (files, exports).
ONE_PIECE_LIMIT = 1 << 20


@dataclass(frozen=True)
class Answer:
    """A whole answer given before Flask: status line, headers (before the hooks' own), body."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Direct:
    """A path answered before Flask in its plain case: the Flask endpoint that also serves it
    (metrics, access log) and the function that answers, or returns None to leave the request
    to Flask."""

    endpoint: str
    answer: Callable[[dict[str, Any]], Answer | None]


def published_routes(app: Flask) -> dict[str, Published]:
    """The published documents by path, as the protocol registered them."""
    return app.extensions.setdefault("psc_published_routes", {})


def direct_routes(app: Flask) -> dict[tuple[str, str], Direct]:
    """The paths answered before Flask in their plain case, by ``(method, path)``."""
    return app.extensions.setdefault("psc_direct_routes", {})


def wrap(app: Flask) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    routes = published_routes(app)
    direct = direct_routes(app)
    flask_app = app.wsgi_app
    inherited = {k: v for k, v in os.environ.items() if k.startswith(_REQUEST_PREFIXES)}
    settings = app.extensions.get("psc_settings")
    trusted = settings.trusted_proxies if settings is not None else []

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        for name, value in inherited.items():
            if environ.get(name) == value:
                del environ[name]
        if environ.get("HTTP_X_FORWARDED_PROTO") and _believed(environ, trusted):
            forwarded = environ["HTTP_X_FORWARDED_PROTO"].split(",")[0].strip().lower()
            if forwarded in ("http", "https"):
                environ["wsgi.url_scheme"] = forwarded
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if method == "GET":
            published = routes.get(path)
            if published is not None and not any(environ.get(name) for name in _FLASK_DECIDES):
                return _observed(published, environ, start_response, settings, trusted)
        route = direct.get((method, path))
        if route is not None:
            answered = _answered(route, environ, start_response, settings, trusted)
            if answered is not None:
                return answered
        return _in_one_piece(flask_app, environ, start_response)

    return application


def _believed(environ: dict[str, Any], trusted: list[str]) -> bool:
    """A proxy on this host, or one in ``PSC_TRUSTED_PROXIES``."""
    peer = environ.get("REMOTE_ADDR", "")
    try:
        loopback = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False
    return loopback or is_trusted_proxy(peer, trusted)


def _observed(
    published: Published,
    environ: dict[str, Any],
    start_response: StartResponse,
    settings: Any,
    trusted: list[str],
) -> list[bytes]:
    """The published answer with what Flask's hooks give every answer: the request id (and
    its header), the request's metrics and its access line."""
    started = time.perf_counter()
    request_id.begin(request_id.accepted_or_new(environ.get("HTTP_X_REQUEST_ID")))
    try:
        https = environ.get("wsgi.url_scheme") == "https"
        hsts = strict_transport(settings) if https and settings is not None else ""
        status: list[int] = []

        def noting_status(line: str, headers: list[tuple[str, str]]) -> Any:
            status.append(int(line[:3]))
            return start_response(line, [*headers, (request_id.HEADER, request_id.current())])

        body = _published(published.document(), environ, noting_status, hsts)
        elapsed = time.perf_counter() - started
        observe_request(published.endpoint, "GET", status[0], elapsed)
        access_line(
            {
                "method": "GET",
                "endpoint": published.endpoint,
                "status": status[0],
                "duration_ms": round(elapsed * 1000, 2),
                "remote_addr": address_of(environ, trusted),
                "client_id": None,
            }
        )
        return body
    finally:
        request_id.end()


def _answered(
    route: Direct,
    environ: dict[str, Any],
    start_response: StartResponse,
    settings: Any,
    trusted: list[str],
) -> list[bytes] | None:
    """The route's answer with what Flask's hooks add to it, or None (Flask answers): nothing
    is sent, observed or logged then."""
    started = time.perf_counter()
    request_id.begin(request_id.accepted_or_new(environ.get("HTTP_X_REQUEST_ID")), environ)
    try:
        try:
            answer = route.answer(environ)
        except Exception:  # Flask meets the same failure and answers it (503 on an outage…)
            log.debug("left to Flask after a failure before it", exc_info=True)
            return None
        if answer is None:
            return None
        headers = [*answer.headers, *SECURITY_HEADERS.items()]
        if environ.get("wsgi.url_scheme") == "https" and settings is not None:
            hsts = strict_transport(settings)
            if hsts:
                headers.append(("Strict-Transport-Security", hsts))
        headers.append((request_id.HEADER, request_id.current()))
        start_response(answer.status, headers)
        status = int(answer.status[:3])
        elapsed = time.perf_counter() - started
        method = environ["REQUEST_METHOD"]
        observe_request(route.endpoint, method, status, elapsed)
        access_line(
            {
                "method": method,
                "endpoint": route.endpoint,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "remote_addr": address_of(environ, trusted),
                "client_id": request_id.current_client() or None,
            }
        )
        return [answer.body]
    finally:
        request_id.end()


def _published(
    document: Document, environ: dict[str, Any], start_response: StartResponse, hsts: str
) -> list[bytes]:
    quoted = f'"{document.etag}"'
    # As Flask sends them (CORS adds Vary: Origin to every protocol answer).
    common = [
        ("ETag", quoted),
        ("Cache-Control", "no-cache"),
        ("Vary", "Origin"),
        *SECURITY_HEADERS.items(),
    ]
    if hsts:
        common.append(("Strict-Transport-Security", hsts))
    if matches(environ.get("HTTP_IF_NONE_MATCH", ""), quoted):
        start_response("304 NOT MODIFIED", common)
        return []
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(document.body))),
        *common,
    ]
    start_response("200 OK", headers)
    return [document.body]


def _in_one_piece(
    flask_app: Callable[..., Iterable[bytes]],
    environ: dict[str, Any],
    start_response: StartResponse,
) -> Iterable[bytes]:
    length: list[int] = []

    def noting_length(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
        for name, value in headers:
            if name.lower() == "content-length" and value.isdigit():
                length.append(int(value))
        return start_response(status, headers, *exc_info)

    iterable = flask_app(environ, noting_length)
    if not length or length[0] > ONE_PIECE_LIMIT:
        return iterable  # streamed, or large: the server iterates (and closes) it
    try:
        return [b"".join(iterable)]
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
