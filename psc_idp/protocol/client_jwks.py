"""A client's registered keys: its ``jwks`` as registered, or the document at its ``jwks_uri``.

Client assertions read the document afresh at each use (a client rotating its signing key is
seen at once). Encryption to the client reads it through a small cache per process, bounded in
entries and in age (``PSC_CLIENT_JWKS_CACHE_LIFETIME``): a second instance simply fetches it
again, and a key not found in a cached document is looked for once more in a fresh one."""

from __future__ import annotations

import json
import time
import urllib.request
from collections import OrderedDict
from threading import Lock
from typing import Any

from psc_idp.config import current_settings
from psc_idp.protocol.models import Client

JWKS_MAX_BYTES = 256 * 1024
#: Distinct ``jwks_uri`` documents kept at once; the oldest leaves first.
CACHE_ENTRIES = 256


class ClientKeysUnavailable(Exception):
    """The client has no keys, or its ``jwks_uri`` could not be read as a JWK set."""


def fetch_jwks(uri: str | None) -> dict[str, Any]:
    """The JWK set at ``uri``, within ``PSC_CLIENT_JWKS_TIMEOUT`` and ``JWKS_MAX_BYTES``."""
    if not uri:
        raise ClientKeysUnavailable("Client has no registered keys")
    timeout = float(current_settings().client_jwks_timeout)
    try:
        with urllib.request.urlopen(uri, timeout=timeout) as response:  # noqa: S310 (registered)
            data = json.loads(response.read(JWKS_MAX_BYTES))
    except (OSError, ValueError) as error:
        raise ClientKeysUnavailable("Client jwks_uri could not be read") from error
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise ClientKeysUnavailable("Client jwks_uri is not a JWK set")
    return data


def registered_jwks(client: Client) -> dict[str, Any]:
    """The client's keys, read afresh from its ``jwks_uri`` when it has no ``jwks``."""
    return client.jwks or fetch_jwks(client.jwks_uri)


class _JwksCache:
    def __init__(self, entries: int = CACHE_ENTRIES):
        self.entries = entries
        self._lock = Lock()
        self._documents: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()

    def get(self, uri: str, fresh: bool) -> dict[str, Any]:
        moment = time.monotonic()
        with self._lock:
            known = self._documents.get(uri)
        if known is not None and not fresh and known[0] > moment:
            return known[1]
        document = fetch_jwks(uri)  # outside the lock: a slow client delays no other
        lifetime = int(current_settings().client_jwks_cache_lifetime)
        with self._lock:
            self._documents[uri] = (moment + lifetime, document)
            self._documents.move_to_end(uri)
            while len(self._documents) > self.entries:
                self._documents.popitem(last=False)
        return document

    def clear(self) -> None:
        with self._lock:
            self._documents.clear()


_cache = _JwksCache()


def cached_jwks(client: Client, fresh: bool = False) -> dict[str, Any]:
    """The client's keys, its ``jwks_uri`` document from the cache unless ``fresh``."""
    if client.jwks:
        return client.jwks
    if not client.jwks_uri:
        raise ClientKeysUnavailable("Client has no registered keys")
    return _cache.get(client.jwks_uri, fresh)


def forget_cached_jwks() -> None:
    """Empty the cache (tests; a realm reload need not: entries age out)."""
    _cache.clear()
