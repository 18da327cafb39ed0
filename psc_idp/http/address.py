"""The caller's address: the peer, or, when the peer is a proxy listed in
``PSC_TRUSTED_PROXIES``, the last ``X-Forwarded-For`` hop (the one that proxy added). The one
answer for every use — the limits per address, the audit trail, the access line, the metrics
allow-list: behind nginx they all see the browser, not nginx. A header from any other peer is
ignored, so nobody chooses the address they are counted or allowed under."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from flask import Request

from psc_idp.config import current_settings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: The audit trail's column width (an IPv4-mapped IPv6 address at its longest).
MAX_ADDRESS = 45


@lru_cache(maxsize=16)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    # Parsed once per configured list: the access line asks on every request.
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    return tuple(networks)


def is_trusted_proxy(peer: str, trusted: Iterable[str]) -> bool:
    """Whether ``peer`` is one of the trusted proxies (addresses or networks)."""
    networks = _networks(tuple(trusted))
    if not networks:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in networks)


def address_of(environ: Mapping[str, Any], trusted: Iterable[str]) -> str:
    """The caller's address from a WSGI environ (also before Flask, ``http/prepared.py``)."""
    peer = environ.get("REMOTE_ADDR") or ""
    if not is_trusted_proxy(peer, trusted):
        return peer
    hop = str(environ.get("HTTP_X_FORWARDED_FOR", "")).split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(hop))[:MAX_ADDRESS]
    except ValueError:
        return peer  # a proxy that forwards no readable address: the proxy is the caller


def client_address(request: Request) -> str:
    """The caller's address of the current request."""
    return address_of(request.environ, current_settings().trusted_proxies)
