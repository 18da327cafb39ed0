"""Pushed authorization requests (RFC 9126) at rest: stored by the PAR endpoint, taken once by
the authorization endpoint, on any instance.

The ``request_uri`` is ``urn:ietf:params:oauth:request_uri:`` followed by 256 random bits; only a
keyed hash of the random part is stored. A request is taken at most once and only by the client
that pushed it (RFC 9126 §4, as Keycloak)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.protocol.models import PushedAuthorizationRequest
from psc_idp.protocol.secrets import hash_secret, new_secret
from psc_idp.timeutil import now

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
HASH_PURPOSE = "par-request-uri"
_MAX_REFERENCE = 128


def par_lifetime() -> int:
    return getattr(current_settings(), "par_lifetime", 60)


def is_pushed_reference(request_uri: str | None) -> bool:
    """Whether ``request_uri`` names a pushed request (rather than a request object by URL)."""
    return isinstance(request_uri, str) and request_uri.startswith(REQUEST_URI_PREFIX)


def store_pushed_request(client_id: str, params: dict[str, str]) -> tuple[str, int]:
    """Keep validated ``params`` for ``client_id``; the ``request_uri`` and its lifetime."""
    reference = new_secret(32)
    lifetime = par_lifetime()
    db.session.add(
        PushedAuthorizationRequest(
            uri_hash=hash_secret(reference, HASH_PURPOSE),
            client_id=client_id,
            params=params,
            expires_at=now() + timedelta(seconds=lifetime),
        )
    )
    db.session.commit()
    return REQUEST_URI_PREFIX + reference, lifetime


def take_pushed_request(client_id: str | None, request_uri: str | None) -> dict[str, str] | None:
    """The pushed parameters, once: None if unknown, expired, already used or pushed by another
    client. Committed at once, so a request that then fails still uses the ``request_uri``."""
    if not is_pushed_reference(request_uri) or not client_id:
        return None
    reference = request_uri[len(REQUEST_URI_PREFIX) :]
    if not reference or len(reference) > _MAX_REFERENCE:  # a NUL was refused by http.guard
        return None
    uri_hash = hash_secret(reference, HASH_PURPOSE)
    row = db.session.get(PushedAuthorizationRequest, uri_hash)
    if row is None or row.client_id != client_id or row.expires_at < now():
        return None
    params = dict(row.params)
    db.session.expunge(row)
    # Of two concurrent uses, only one deletes the row.
    taken = db.session.execute(
        delete(PushedAuthorizationRequest).where(
            PushedAuthorizationRequest.uri_hash == uri_hash,
            PushedAuthorizationRequest.client_id == client_id,
        ),
        execution_options={"synchronize_session": False},
    ).rowcount
    db.session.commit()
    return params if taken == 1 else None
