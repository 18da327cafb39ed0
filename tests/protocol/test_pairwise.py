"""Pairwise subject identifiers (OIDC Core §8.1): per client ``subject_type: pairwise``, the sector
from ``sector_identifier_uri`` (fetched, must list the redirect URIs) or the redirect URIs' host;
the same ``sub`` in the ID token, the access token, UserInfo and introspection; public stays the
default, as at PSC."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from psc_idp.extensions import db
from psc_idp.protocol.clients import InvalidClient, upsert_client
from tests.helpers import (
    DOCTOR,
    INTROSPECT,
    ISSUER_PATH,
    OIDC,
    REDIRECT,
    USERINFO,
    RegisteredClient,
    basic,
    decode,
    login_and_get_tokens,
    token_call,
)

PUBLIC_SUB = f"f:550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd:{DOCTOR}"
CIBA_AUTH = f"{OIDC}/ext/ciba/auth"
OTHER_REDIRECT = "https://elsewhere.example/cb"


class SectorHost:
    """A sector identifier host on 127.0.0.1: ``documents`` maps a path to what it serves."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}
        self.fetches = 0
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                host.fetches += 1
                body = host.documents.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def serve(self, path: str, document) -> str:
        self.documents[path] = (
            document if isinstance(document, bytes) else json.dumps(document).encode()
        )
        return self.base + path


@pytest.fixture(scope="module")
def sectors() -> Iterator[SectorHost]:
    host = SectorHost()
    thread = threading.Thread(target=host.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        host.server.shutdown()
        host.server.server_close()
        thread.join()


def register(app, **fields) -> RegisteredClient:
    client_id = fields.pop("client_id", f"pw-{secrets.token_hex(4)}")
    secret = secrets.token_urlsafe(32)
    with app.app_context():
        upsert_client(
            {
                "client_id": client_id,
                "secret": secret,
                "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
                **fields,
            }
        )
        db.session.commit()
    return RegisteredClient(client_id, secret)


def refused(app, match: str, **fields) -> None:
    with app.app_context():
        with pytest.raises(InvalidClient, match=match):
            upsert_client(
                {
                    "client_id": "pw-refused",
                    "secret": "s" * 32,
                    "redirect_uris": [REDIRECT],
                    **fields,
                }
            )
        db.session.rollback()


@pytest.fixture(scope="module")
def by_host(app) -> RegisteredClient:
    return register(app, subject_type="pairwise")


@pytest.fixture(scope="module")
def by_sector(app, sectors) -> RegisteredClient:
    uri = sectors.serve("/sector.json", [REDIRECT, OTHER_REDIRECT])
    return register(
        app,
        subject_type="pairwise",
        sector_identifier_uri=uri,
        redirect_uris=[REDIRECT, OTHER_REDIRECT],
    )


def sub_everywhere(app, browser, client: RegisteredClient) -> set[str]:
    """The ``sub`` of the ID token, the access token, UserInfo, introspection of both tokens,
    and the refreshed ID token."""
    tokens = login_and_get_tokens(app, browser, client)
    seen = {decode(tokens["id_token"])["sub"], decode(tokens["access_token"])["sub"]}
    info = app.test_client().get(
        USERINFO, headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    seen.add(info.get_json()["sub"])
    for kind in ("access_token", "refresh_token"):
        introspected = app.test_client().post(
            INTROSPECT, data={"token": tokens[kind]}, headers=basic(client.client_id, client.secret)
        )
        assert introspected.get_json()["active"] is True
        seen.add(introspected.get_json()["sub"])
    refreshed = token_call(
        app, client, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    ).get_json()
    seen.add(decode(refreshed["id_token"])["sub"])
    return seen


def test_discovery_lists_both_subject_types(app):
    document = app.test_client().get(f"{ISSUER_PATH}/.well-known/openid-configuration").get_json()
    assert document["subject_types_supported"] == ["public", "pairwise"]


def test_public_stays_the_default(app, browser, clients):
    assert sub_everywhere(app, browser, clients.web) == {PUBLIC_SUB}


def test_a_pairwise_client_sees_one_sub_everywhere_and_not_the_public_one(app, browser, by_host):
    subs = sub_everywhere(app, browser, by_host)
    assert len(subs) == 1
    (sub,) = subs
    assert sub != PUBLIC_SUB and DOCTOR not in sub
    assert len(sub) == 64  # a keyed SHA-256, in hex


def test_clients_of_one_sector_share_the_sub_other_sectors_do_not(app, browser, by_host, by_sector):
    same_host = register(app, subject_type="pairwise")
    first = decode(login_and_get_tokens(app, browser, by_host)["id_token"])
    second = decode(login_and_get_tokens(app, browser, same_host)["id_token"])
    other = decode(login_and_get_tokens(app, browser, by_sector)["id_token"])
    assert first["sub"] == second["sub"]  # both: the host of http://localhost:3000/callback
    assert other["sub"] != first["sub"]  # sector 127.0.0.1, from its sector_identifier_uri
    # PSC's own claims still name the professional (they are what SPs key on at PSC).
    assert other["SubjectNameID"] == DOCTOR


def test_another_professional_gets_another_sub(app, browser, by_host):
    doctor = decode(login_and_get_tokens(app, browser, by_host)["id_token"])
    other_browser = type(browser)(app)
    pharmacist = decode(
        login_and_get_tokens(app, other_browser, by_host, national_id="899700100151")["id_token"]
    )
    assert pharmacist["SubjectNameID"] == "899700100151"
    assert pharmacist["sub"] != doctor["sub"]


def test_ciba_accepts_a_pairwise_id_token_hint(app, browser, by_host):
    dpi = register(app, grant_types=["urn:openid:params:grant-type:ciba"], redirect_uris=[])
    id_token = login_and_get_tokens(app, browser, by_host)["id_token"]
    response = app.test_client().post(
        CIBA_AUTH,
        data={"scope": "openid", "id_token_hint": id_token, "channel": "CARD"},
        headers=basic(dpi.client_id, dpi.secret),
    )
    assert response.status_code == 200, response.get_json()


# --- registration ------------------------------------------------------------------------------
def test_the_sector_document_must_list_every_redirect_uri(app, sectors):
    uri = sectors.serve("/partial.json", [REDIRECT])
    refused(
        app,
        "does not list the redirect URIs",
        subject_type="pairwise",
        sector_identifier_uri=uri,
        redirect_uris=[REDIRECT, OTHER_REDIRECT],
    )


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/gone.json", None, "could not be read"),
        ("/html.json", b"<html>", "not a JSON document"),
        ("/object.json", b'{"redirect_uris": []}', "not a JSON array"),
    ],
    ids=["404", "not-json", "not-an-array"],
)
def test_an_unusable_sector_document_is_refused(app, sectors, path, body, message):
    if body is not None:
        sectors.serve(path, body)
    refused(app, message, subject_type="pairwise", sector_identifier_uri=sectors.base + path)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"subject_type": "pairwise", "redirect_uris": [REDIRECT, OTHER_REDIRECT]}, "same host"),
        ({"subject_type": "secret"}, "public or pairwise"),
        (
            {"subject_type": "pairwise", "sector_identifier_uri": "http://sector.example/s.json"},
            "must use https",
        ),
        ({"sector_identifier_uri": "https://sector.example/s.json"}, "pairwise client only"),
    ],
    ids=["several-hosts", "unknown-type", "plain-http", "public-with-sector"],
)
def test_registration_rules(app, fields, message):
    refused(app, message, **fields)


def test_the_document_is_fetched_only_when_the_uris_change(app, sectors):
    uri = sectors.serve("/changing.json", [REDIRECT])
    spec = {"client_id": "pw-changing", "subject_type": "pairwise", "sector_identifier_uri": uri}
    register(app, **spec)
    fetched = sectors.fetches
    sectors.documents.pop("/changing.json")  # the host stops serving it
    register(app, **spec)  # unchanged (a realm file imported again): not fetched
    assert sectors.fetches == fetched
    refused_spec = {**spec, "redirect_uris": [REDIRECT, OTHER_REDIRECT]}
    with app.app_context():
        with pytest.raises(InvalidClient, match="could not be read"):
            upsert_client({**refused_spec, "secret": "s" * 32})
        db.session.rollback()
    assert sectors.fetches == fetched + 1


def test_the_cli_registers_a_pairwise_client(app, sectors):
    uri = sectors.serve("/cli.json", ["https://svc.example/cb"])
    result = app.test_cli_runner().invoke(
        args=[
            "clients",
            "add",
            "pw-cli",
            "--redirect-uri",
            "https://svc.example/cb",
            "--subject-type",
            "pairwise",
            "--sector-identifier-uri",
            uri,
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert (shown["subject_type"], shown["sector_identifier_uri"]) == ("pairwise", uri)
    bad = app.test_cli_runner().invoke(
        args=["clients", "update", "pw-cli", "--redirect-uri", "https://other.example/cb"]
    )
    assert bad.exit_code != 0 and "does not list the redirect URIs" in bad.output
