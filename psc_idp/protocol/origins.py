"""Origins (RFC 6454) as Keycloak's "Web origins" list them: ``scheme://host[:port]``, ``+`` for
the origins of the client's redirect URIs, ``*`` for any origin (development only)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:  # models imports the scope catalogue, which expands web origins
    from psc_idp.protocol.models import Client

SAME_AS_REDIRECTS = "+"
ANY_ORIGIN = "*"
DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
_HOST = re.compile(r"[a-z0-9.\-_~!$&'()*+,;=%]+|\[[0-9a-f:.]+\]")


def parse_origin(value: object) -> str | None:
    """The serialized origin ``value`` denotes (lower case, default port dropped), or None when
    it is not exactly ``scheme://host[:port]`` (a path, query, fragment or user part)."""
    if not isinstance(value, str) or not value.isascii() or not value.isprintable():
        return None
    parts = urlsplit(value)
    if parts.path or parts.query or parts.fragment or "?" in value or "#" in value:
        return None
    scheme, netloc = parts.scheme.lower(), parts.netloc.lower()
    return _serialize(scheme, netloc)


def origin_of(uri: str) -> str | None:
    """The origin of an absolute URI (a redirect URI); None for one without a host."""
    parts = urlsplit(uri)
    return _serialize(parts.scheme.lower(), parts.netloc.lower())


def _serialize(scheme: str, netloc: str) -> str | None:
    if not _SCHEME.fullmatch(scheme) or not netloc or "@" in netloc or " " in netloc:
        return None
    try:
        port = urlsplit(f"{scheme}://{netloc}").port
    except ValueError:
        return None
    host = netloc.rsplit(":", 1)[0] if port is not None or netloc.endswith(":") else netloc
    if not _HOST.fullmatch(host):
        return None
    if port is None or port == DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def allowed_origins(client: Client) -> list[str]:
    """The client's web origins with ``+`` expanded to its redirect URIs' origins (Keycloak's
    ``WebOriginsUtils.resolveValidWebOrigins``); ``*`` is kept as it is."""
    expanded: list[str] = []
    for entry in client.web_origins or []:
        if entry == SAME_AS_REDIRECTS:
            expanded.extend(filter(None, (origin_of(uri) for uri in client.redirect_uris or [])))
        else:
            expanded.append(entry)
    return list(dict.fromkeys(expanded))
