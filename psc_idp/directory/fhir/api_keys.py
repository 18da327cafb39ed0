"""``ESANTE-API-KEY``: once a key exists, every FHIR request but ``/metadata`` must carry one.

Keys are random (256 bits) and stored as keyed hashes only, so a read of the database does
not give a usable key; the key is shown once, when it is created."""

from __future__ import annotations

import secrets

from flask import current_app
from sqlalchemy import select

from psc_idp.directory.fhir.models import ApiKey
from psc_idp.extensions import db

HEADER = "ESANTE-API-KEY"
_PURPOSE = "fhir-api-key"


def _hash(key: str) -> str:
    return current_app.extensions["psc_app_secret"].keyed_hash(key, _PURPOSE)


def keys_configured() -> bool:
    return db.session.scalar(select(ApiKey.id).limit(1)) is not None


def is_valid(key: str | None) -> bool:
    if not key or len(key) > 256:
        return False
    return db.session.scalar(select(ApiKey.id).where(ApiKey.key_hash == _hash(key))) is not None


def add(label: str) -> str:
    """Create a key named ``label`` and return it (the only time it is readable)."""
    key = secrets.token_urlsafe(32)
    db.session.add(ApiKey(label=label, key_hash=_hash(key)))
    db.session.commit()
    return key


def remove(label: str) -> bool:
    found = db.session.scalar(select(ApiKey).where(ApiKey.label == label))
    if found is None:
        return False
    db.session.delete(found)
    db.session.commit()
    return True


def listing() -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.label)))
