"""Pairwise subject identifiers (OIDC Core §8.1), for the clients that ask for them.

PSC gives every client the same ``sub`` (``public``, the default here too). A client registered
with ``subject_type: pairwise`` gets instead a keyed hash of its **sector** and the national id:
the same for every client of one sector, unrelated across sectors, and never reversible without
the app secret. The sector is the host of its ``sector_identifier_uri`` (a JSON array of URLs
that must list every redirect URI of the client, fetched when the client is registered or its
URIs change, OIDC Registration §5), else the one host of its redirect URIs.

The ``sub`` is computed where each token or answer is built (ID token, access token, refresh
token, UserInfo; introspection answers the token's own claims), so it is the same everywhere
for one client, on every instance."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit
from urllib.request import urlopen

from flask import current_app

from psc_idp import bounded_json

PUBLIC = "public"
PAIRWISE = "pairwise"
SUBJECT_TYPES = (PUBLIC, PAIRWISE)
#: Fetching a sector identifier document: far more than any list of redirect URIs.
FETCH_TIMEOUT = 5
MAX_DOCUMENT_BYTES = 64 * 1024
HASH_PURPOSE = "pairwise-sub"
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


class SectorError(ValueError):
    """Why a pairwise registration cannot be accepted (said to the operator)."""


def check_sector_uri(uri: Any) -> str:
    """An https URL (http only on a loopback host, for development and tests)."""
    parts = urlsplit(uri) if isinstance(uri, str) else None
    if parts is None or not parts.hostname or parts.fragment:
        raise SectorError(f"sector_identifier_uri {uri!r} is not an absolute URL")
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
        raise SectorError("sector_identifier_uri must use https")
    return uri


def redirect_host(redirect_uris: list[str]) -> str:
    """The sector of a client without ``sector_identifier_uri``: its redirect URIs' one host."""
    hosts = {urlsplit(uri).hostname for uri in redirect_uris}
    if len(hosts) != 1 or None in hosts:
        raise SectorError(
            "pairwise needs a sector_identifier_uri unless every redirect URI has the same host"
        )
    return str(hosts.pop())


def sector_of(client: Any) -> str:
    uri = getattr(client, "sector_identifier_uri", None)
    if uri:
        return str(urlsplit(uri).hostname)
    return redirect_host(list(client.redirect_uris or []))


def fetch_sector_uris(uri: str) -> list[str]:
    """The sector identifier document: a JSON array of URLs. Raises ``SectorError``."""
    try:
        with urlopen(uri, timeout=FETCH_TIMEOUT) as response:  # noqa: S310 (checked scheme)
            body = response.read(MAX_DOCUMENT_BYTES + 1)
    except (OSError, ValueError) as error:
        raise SectorError(f"sector_identifier_uri could not be read: {error}") from error
    if len(body) > MAX_DOCUMENT_BYTES:
        raise SectorError("sector_identifier_uri: document too large")
    try:
        document = bounded_json.loads(body, max_depth=2)
    except (ValueError, UnicodeDecodeError) as error:
        raise SectorError("sector_identifier_uri: not a JSON document") from error
    if not isinstance(document, list) or not all(isinstance(item, str) for item in document):
        raise SectorError("sector_identifier_uri: not a JSON array of URLs")
    return document


def check_sector_document(uri: str, redirect_uris: list[str]) -> None:
    """Every redirect URI of the client is in the sector's document (OIDC Registration §5)."""
    listed = set(fetch_sector_uris(uri))
    missing = [redirect for redirect in redirect_uris if redirect not in listed]
    if missing:
        shown = json.dumps(missing[:3])
        raise SectorError(f"sector_identifier_uri does not list the redirect URIs {shown}")


def pairwise_subject(sector: str, national_id: str) -> str:
    return current_app.extensions["psc_app_secret"].keyed_hash(
        f"{sector}\0{national_id}", HASH_PURPOSE
    )


def subject_for(client: Any, national_id: str, public: str) -> str:
    """The ``sub`` of ``national_id`` for ``client``: ``public`` unless it is pairwise."""
    if client is None or getattr(client, "subject_type", PUBLIC) != PAIRWISE:
        return public
    return pairwise_subject(sector_of(client), national_id)
