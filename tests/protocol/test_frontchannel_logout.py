"""Front-channel logout (OIDC Front-Channel Logout 1.0): the logout page loads every client's
``frontchannel_logout_uri`` in a hidden iframe, with ``iss`` and ``sid`` when the client asks,
under a Content-Security-Policy that allows those frames only; then the browser goes on."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.protocol.clients import InvalidClient, client_to_dict, validate
from psc_idp.protocol.models import Client
from tests.helpers import LOGOUT, login_and_get_tokens, register_client

FRAME = re.compile(r'<iframe class="frontchannel-frame" src="([^"]+)"')


def issuer(app) -> str:
    with app.app_context():
        return current_settings().issuer


def test_the_logout_page_loads_each_clients_frontchannel_uri(app, browser, clients):
    with_sid = register_client(
        app,
        "fcl-a-sid",
        frontchannel_logout_uri="https://rp-one.example/logout?from=psc",
        frontchannel_logout_session_required=True,
    )
    plain = register_client(
        app, "fcl-plain", frontchannel_logout_uri="http://localhost:4100/logout"
    )
    tokens = login_and_get_tokens(app, browser, with_sid)
    login_and_get_tokens(app, browser, plain)
    login_and_get_tokens(app, browser, clients.web)  # no front-channel URI: no frame

    response = browser.http.get(
        LOGOUT,
        query_string={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "http://localhost:3000/",
            "state": "au revoir",
        },
    )
    assert response.status_code == 200  # a page, not the redirect: the frames must load
    html = response.get_data(as_text=True)
    frames = [unescape(src) for src in FRAME.findall(html)]
    assert len(frames) == 2
    first, second = (urlsplit(url) for url in frames)
    assert (first.scheme, first.netloc, first.path) == ("https", "rp-one.example", "/logout")
    assert parse_qs(first.query) == {
        "from": ["psc"],
        "iss": [issuer(app)],
        "sid": [tokens["session_state"]],
    }
    assert frames[1] == "http://localhost:4100/logout"  # session not required: as registered
    continue_link = re.search(r'id="frontchannel-continue"[^>]*data-continue="([^"]+)"', html)
    assert unescape(continue_link.group(1)) == "http://localhost:3000/?state=au+revoir"
    assert "frontchannel-logout.js" in html

    policy = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["frame-src"] == "https://rp-one.example http://localhost:4100"
    assert directives["frame-ancestors"] == "'none'" and directives["script-src"] == "'self'"
    assert "PSC_SESSION=;" in response.headers["Set-Cookie"]  # the SSO session is over


def test_without_frontchannel_clients_the_logout_redirects_and_frames_nothing(
    app, browser, clients
):
    tokens = login_and_get_tokens(app, browser, clients.web)
    response = browser.http.get(
        LOGOUT,
        query_string={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "http://localhost:3000/",
        },
    )
    assert response.status_code == 302
    assert "frame-src" not in response.headers["Content-Security-Policy"]


def test_without_a_redirect_the_page_says_logged_out_with_the_frames(app, browser):
    client = register_client(
        app, "fcl-plain", frontchannel_logout_uri="http://localhost:4100/logout"
    )
    tokens = login_and_get_tokens(app, browser, client)
    response = browser.http.get(LOGOUT, query_string={"id_token_hint": tokens["id_token"]})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Vous êtes déconnecté" in html
    assert FRAME.findall(html) == ["http://localhost:4100/logout"]
    assert "frontchannel-continue" not in html


@pytest.mark.parametrize(
    "uri",
    [
        "http://rp.example/logout",  # http off localhost
        "https://rp.example/logout#x",  # fragment
        "https://user@rp.example/logout",  # user information
        "https://rp.example;script-src */logout",  # would widen the page's policy
        "/logout",
        "",
    ],
)
@pytest.mark.parametrize("name", ["frontchannel_logout_uri", "backchannel_logout_uri"])
def test_logout_uris_must_be_https_urls(name, uri):
    description = {"client_id": "fcl-bad", "secret": "x" * 32, "redirect_uris": ["https://a/"]}
    if uri == "":
        assert validate({**description, name: uri})[name] is None  # empty: none registered
        return
    with pytest.raises(InvalidClient, match=name):
        validate({**description, name: uri})


def test_the_logout_metadata_round_trips(app):
    register_client(
        app,
        "fcl-round-trip",
        backchannel_logout_uri="https://rp.example/bcl",
        backchannel_logout_session_required=True,
        frontchannel_logout_uri="https://[::1]:8443/fcl",
    )
    with app.app_context():
        shown = client_to_dict(db.session.get(Client, "fcl-round-trip"))
    assert shown["backchannel_logout_uri"] == "https://rp.example/bcl"
    assert shown["backchannel_logout_session_required"] is True
    assert shown["frontchannel_logout_uri"] == "https://[::1]:8443/fcl"
    assert "frontchannel_logout_session_required" not in shown  # false, the default


def test_discovery_advertises_both_logouts(app):
    body = (
        app.test_client()
        .get("/auth/realms/esante-wallet/.well-known/openid-configuration")
        .get_json()
    )
    for name in (
        "frontchannel_logout_supported",
        "frontchannel_logout_session_supported",
        "backchannel_logout_supported",
        "backchannel_logout_session_supported",
    ):
        assert body[name] is True, name


def test_the_realm_file_and_the_cli_take_the_logout_keys(app, tmp_path):
    client = {
        "client_id": "fcl-realm",
        "secret": "s3cr3t-fcl-realm-value-long-enough",
        "redirect_uris": ["https://app.example/cb"],
        "frontchannel_logout_uri": "https://app.example/fcl",
        "frontchannel_logout_session_required": True,
        "backchannel_logout_uri": "https://app.example/bcl",
    }
    path = tmp_path / "realm.yaml"
    path.write_text(yaml.safe_dump({"clients": [client]}))
    imported = app.test_cli_runner().invoke(args=["realm", "import", str(path)])
    assert imported.exit_code == 0, imported.output
    updated = app.test_cli_runner().invoke(
        args=[
            "clients",
            "update",
            "fcl-realm",
            "--backchannel-logout-uri",
            "http://localhost:4000/bcl",
            "--no-frontchannel-logout-session-required",
            "--json",
        ]
    )
    assert updated.exit_code == 0, updated.output
    shown = json.loads(updated.output)
    assert shown["backchannel_logout_uri"] == "http://localhost:4000/bcl"
    assert shown["frontchannel_logout_uri"] == "https://app.example/fcl"
    assert "frontchannel_logout_session_required" not in shown

    path.write_text(
        yaml.safe_dump(
            {"clients": [{**client, "backchannel_logout_uri": "http://app.example/bcl"}]}
        )
    )
    refused = app.test_cli_runner().invoke(args=["realm", "import", str(path)])
    assert refused.exit_code != 0
    assert "clients[0].backchannel_logout_uri" in refused.output
    assert "n'est pas une URL https" in refused.output
