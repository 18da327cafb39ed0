"""The scenarios both servers answer, each turned into a wrk load for one target.

Preparation (tokens, CIBA requests, refresh tokens) happens here, before the timed phase; the
load then only cycles through what was prepared."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from bench.servers import Target
from bench.wrk import Load, Request

FORM = "application/x-www-form-urlencoded"


@dataclass
class Sizes:
    """How much to prepare for one phase."""

    #: CIBA requests a pending-poll phase cycles over.
    ciba_polls: int = 1000
    #: Distinct CIBA request bodies (spread over the professionals whose requests stay pending).
    ciba_bodies: int = 600
    #: Refresh tokens per connection at the start; rotation keeps the queue full.
    refresh_per_connection: int = 2


def _wrk_url(url: str) -> tuple[str, str]:
    """(URL on 127.0.0.1, Host header): wrk connects to the address, the server sees its name."""
    parts = urlsplit(url)
    address = parts._replace(netloc=f"127.0.0.1:{parts.port}")
    return urlunsplit(address), parts.netloc


def _load(url: str, requests: list[Request], **expect: object) -> Load:
    address, host = _wrk_url(url)
    for item in requests:
        item.headers = {"Host": host, **item.headers}
    return Load(address, requests, **expect)  # type: ignore[arg-type]


def _post(target: Target, body: str) -> Request:
    return Request("POST", body, {"Authorization": target.basic, "Content-Type": FORM})


def discovery(target: Target, sizes: Sizes, connections: int) -> Load:
    return _load(f"{target.issuer}/.well-known/openid-configuration", [Request()])


def jwks(target: Target, sizes: Sizes, connections: int) -> Load:
    return _load(target.endpoint("jwks_uri"), [Request()])


def client_credentials(target: Target, sizes: Sizes, connections: int) -> Load:
    body = "grant_type=client_credentials"
    return _load(target.endpoint("token_endpoint"), [_post(target, body)])


def introspection(target: Target, sizes: Sizes, connections: int) -> Load:
    body = urlencode({"token": target.access_token()})
    return _load(
        target.endpoint("introspection_endpoint"),
        [_post(target, body)],
        expect_body='"active"%s*:%s*true',
    )


def userinfo(target: Target, sizes: Sizes, connections: int) -> Load:
    bearer = {"Authorization": f"Bearer {target.access_token()}"}
    return _load(target.endpoint("userinfo_endpoint"), [Request(headers=bearer)])


def refresh_token(target: Target, sizes: Sizes, connections: int) -> Load:
    tokens = target.refresh_tokens(connections * sizes.refresh_per_connection)
    bodies = [urlencode({"grant_type": "refresh_token", "refresh_token": t}) for t in tokens]
    return _load(
        target.endpoint("token_endpoint"),
        [_post(target, body) for body in bodies],
        rotate_refresh=True,
    )


def ciba_request(target: Target, sizes: Sizes, connections: int) -> Load:
    bodies = [urlencode(target.ciba_form(i)) for i in range(sizes.ciba_bodies)]
    return _load(
        target.endpoint("backchannel_authentication_endpoint"),
        [_post(target, body) for body in bodies],
        expect_body="auth_req_id",
    )


def ciba_poll(target: Target, sizes: Sizes, connections: int) -> Load:
    grant = "urn:openid:params:grant-type:ciba"
    bodies = [
        urlencode({"grant_type": grant, "auth_req_id": auth_req_id})
        for auth_req_id in target.ciba_requests(sizes.ciba_polls)
    ]
    return _load(
        target.endpoint("token_endpoint"),
        [_post(target, body) for body in bodies],
        expect_status=400,
        expect_body="authorization_pending",
    )


Builder = Callable[[Target, Sizes, int], Load]

#: Scenarios run against both servers, in the order of the report.
SHARED: dict[str, Builder] = {
    "discovery": discovery,
    "jwks": jwks,
    "client_credentials": client_credentials,
    "introspection": introspection,
    "userinfo": userinfo,
    "refresh_token": refresh_token,
    "ciba_request": ciba_request,
    "ciba_poll": ciba_poll,
}
