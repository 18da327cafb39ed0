"""The exchanged token: signed with the API's own keys, bound to the client certificate
(``cnf.x5t#S256``), for the API's audience; and the userinfo document it gives access to
(the professional and the chosen situation d'exercice), cached for the subject token's life."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import jwt
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from psc_idp import audit
from psc_idp.api_as.actor import Actor
from psc_idp.api_as.errors import refused_token
from psc_idp.api_as.issuer import ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE, issuer_of
from psc_idp.api_as.keys import TOKEN_ALG, api_signing_keys
from psc_idp.api_as.models import ExchangedToken, ProtectedApi, UserinfoCache
from psc_idp.api_as.subject import Subject
from psc_idp.audit import events
from psc_idp.config import current_settings
from psc_idp.directory.reading import read_practitioner
from psc_idp.directory.userinfo import ACTIVITY_CLAIMS, EXERCICE_CLAIMS, display_names
from psc_idp.extensions import db
from psc_idp.protocol.models import Client
from psc_idp.protocol.staged import stage
from psc_idp.timeutil import epoch, from_epoch, now


def _text(value: object) -> str:
    return "" if value is None else str(value)


def userinfo_document(subject: Subject, situation: str | None) -> dict[str, Any]:
    """The professional and one situation d'exercice: the one named, else the first (the one
    PSC's summary claims describe). A name that is not one of theirs is refused."""
    practitioner = read_practitioner(subject.national_id)
    if practitioner is None:
        raise refused_token("Subject token does not name a known professional")
    chosen = None
    for exercice in practitioner.exercices:
        for activity in exercice.activities:
            if chosen is None and situation in (None, activity.structure_id):
                chosen = (exercice, activity)
    if chosen is None and situation is not None:
        raise refused_token("situation_exercice is not one of the professional's activities")
    given_name, family_name = display_names(practitioner)
    document: dict[str, Any] = {
        "sub": practitioner.national_id,
        "SubjectNameID": practitioner.national_id,
        "preferred_username": practitioner.national_id,
        "given_name": given_name,
        "family_name": family_name,
        "authMode": subject.auth_mode,
        "acr": subject.acr,
        "situation_exercice": None,
    }
    if chosen is not None:
        exercice, activity = chosen
        situation_claims = {claim: _text(getattr(exercice, a)) for claim, a in EXERCICE_CLAIMS}
        situation_claims.update(
            {claim: _text(getattr(activity, a)) for claim, a in ACTIVITY_CLAIMS}
        )
        document["situation_exercice"] = situation_claims
    return document


def _cache_key(audience: str, subject: Subject, situation: str | None) -> str:
    secret = current_app.extensions["psc_app_secret"]
    return secret.keyed_hash(f"{audience}\0{subject.jti}\0{situation or ''}", "api-userinfo")


def cached_userinfo(audience: str, subject: Subject, situation: str | None, until: int) -> str:
    """The cache entry's key, after reading (or reusing) the document: a second exchange of
    the same subject token for the same situation reads nothing from the directory. The entry
    lives as long as the subject token, or the last token issued from it."""
    key = _cache_key(audience, subject, situation)
    cached = db.session.get(UserinfoCache, key)
    if cached is not None and cached.expires_at > now():
        document = cached.document
        expires_at = max(cached.expires_at, from_epoch(until))
    else:
        document = userinfo_document(subject, situation)
        expires_at = from_epoch(max(subject.exp, until))
    values = {"key": key, "document": document, "expires_at": expires_at}
    stage(lambda: _put_cache(values))
    return key


def _put_cache(values: dict[str, Any]) -> None:
    """Concurrent exchanges of one subject token write the same document: the last one wins."""
    connection = db.session.connection()
    dialect = connection.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(UserinfoCache.__table__).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["key"],
        set_={"document": statement.excluded.document, "expires_at": statement.excluded.expires_at},
    )
    connection.execute(statement)


def exchanged_token(
    api: ProtectedApi,
    client: Client,
    subject: Subject,
    actor: Actor | None,
    scope: str,
    thumbprint: str,
) -> dict[str, Any]:
    """The token response (RFC 8693 §2.2.1); its rows and audit row staged for ``save_token``."""
    settings = current_settings()
    situation = actor.situation_exercice if actor else None
    issued = epoch()
    lifetime = api.lifetime
    userinfo_key = cached_userinfo(api.audience, subject, situation, issued + lifetime)
    claims: dict[str, Any] = {
        "iss": issuer_of(settings, api.audience),
        "sub": subject.national_id,
        "aud": api.audience,
        "azp": client.client_id,
        "exp": issued + lifetime,
        "iat": issued,
        "jti": str(uuid.uuid4()),
        "typ": "Bearer",
        "scope": scope,
        "cnf": {"x5t#S256": thumbprint},
        "act": {"sub": client.client_id, **(actor.software if actor else {})},
    }
    if situation:
        claims["situation_exercice"] = situation
    key = api_signing_keys(api.audience).active(TOKEN_ALG)
    value = jwt.encode(claims, key.private_key, algorithm=TOKEN_ALG, headers={"kid": key.kid})
    row = {
        "jti": claims["jti"],
        "audience": api.audience,
        "client_id": client.client_id,
        "national_id": subject.national_id,
        "userinfo_key": userinfo_key,
        "cnf_x5t": thumbprint,
        "expires_at": now() + timedelta(seconds=lifetime),
        "created_at": now(),
    }
    audit_row = audit.row(
        events.TOKEN_ISSUED,
        subject.national_id,
        client_id=client.client_id,
        means=subject.auth_mode or None,
        acr=subject.acr or None,
        outcome="success",
        grant_type=TOKEN_EXCHANGE,
        audience=api.audience,
    )
    stage(lambda: db.session.connection().execute(ExchangedToken.__table__.insert(), row))
    stage(lambda: db.session.connection().execute(audit.AuditEvent.__table__.insert(), audit_row))
    return {
        "access_token": value,
        "issued_token_type": ACCESS_TOKEN_TYPE,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": scope,
    }
