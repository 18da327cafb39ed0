"""Issuing and checking the tokens: access token and ID token (JWS signed with the realm keys),
refresh token (a JWT like Keycloak's, but only its hash in the database counts)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError, OAuth2Error
from flask import current_app
from sqlalchemy import bindparam, select, update

from psc_idp import audit, prepared_sql
from psc_idp.audit import events
from psc_idp.config import Settings, current_settings
from psc_idp.directory.reading import read_practitioner
from psc_idp.extensions import db
from psc_idp.jose_header import is_compact_jwe, unverified_header
from psc_idp.protocol import changes as issuance
from psc_idp.protocol import claims as claim_sets
from psc_idp.protocol import scopes as client_scopes
from psc_idp.protocol.claims_request import requested_claims
from psc_idp.protocol.client_auth.tls_client_auth import current_certificate, thumbprint
from psc_idp.protocol.context import TokenContext
from psc_idp.protocol.dpop.binding import access_token_jkt
from psc_idp.protocol.encryption.algorithms import ID_TOKEN, registered
from psc_idp.protocol.encryption.client_key import EncryptionKeyUnavailable
from psc_idp.protocol.encryption.incoming import decrypt_id_token_hint
from psc_idp.protocol.encryption.outgoing import encrypt_to_client
from psc_idp.protocol.lookups import AccessTokenWithClient, access_token_with_client
from psc_idp.protocol.models import AccessToken, Client, Grant, RefreshToken
from psc_idp.protocol.secrets import hash_secret
from psc_idp.protocol.staged import stage
from psc_idp.protocol.verified import VerifiedTokens
from psc_idp.timeutil import epoch, now

_HASHES = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}


def signing_keys():
    return current_app.extensions["psc_signing_keys"]


def sign(claims: dict[str, Any], alg: str) -> str:
    key = signing_keys().active(alg)
    return jwt.encode(claims, key.private_key, algorithm=alg, headers={"kid": key.kid})


def sign_changed(claims: dict[str, Any], alg: str, changes: issuance.Changes | None) -> str:
    """``sign``, after what a development scenario changes (``protocol/changes.py``)."""
    if changes is None:
        return sign(claims, alg)
    claims = changes.apply(claims)
    if changes.expired:
        claims = issuance.expire(claims)
    if changes.foreign_key:
        return issuance.sign_with_foreign_key(claims, alg, signing_keys().active(alg).kid)
    return sign(claims, alg)


def half_hash(value: str, alg: str) -> str:
    """``at_hash``: left half of the hash of the token, with the signing algorithm's hash size."""
    digest = _HASHES[alg[-3:]](value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def envelope(settings: Settings, lifetime: int) -> dict[str, Any]:
    issued = epoch()
    return {
        "exp": issued + lifetime,
        "iat": issued,
        "jti": str(uuid.uuid4()),
        "iss": settings.issuer,
    }


def _refresh_token_value(
    settings: Settings, client: Client, scope: str, ctx: TokenContext, offline: bool
) -> str:
    """Opaque to clients; shaped like Keycloak's HS512 refresh token, keyed by the app secret.

    An offline token is ``typ: Offline`` and, as Keycloak's, has no ``exp``: the server keeps its
    idle expiry (the row) and its maximum lifetime (from the family's creation)."""
    body = envelope(settings, settings.refresh_token_lifetime)
    if offline:
        del body["exp"]
    body.update(aud=settings.issuer, typ="Offline" if offline else "Refresh", azp=client.client_id)
    body["scope"] = scope
    body.update(claim_sets.session_claims(ctx))
    if ctx.national_id:
        body["sub"] = claim_sets.subject_for(settings, client, ctx.national_id)
    body["nonce"] = ctx.nonce or ""
    # The random part makes two tokens issued in the same second distinct.
    body["jti"] = f"{body['jti']}.{secrets.token_urlsafe(16)}"
    key = current_app.extensions["psc_app_secret"].derive("refresh-token")
    return jwt.encode(body, key, algorithm="HS512")


@dataclass(frozen=True)
class _Family:
    id: str
    scope: str


_GRANT_SCOPE = prepared_sql.PreparedRead(
    select(Grant.id, Grant.scope).where(Grant.id == bindparam("grant_id"))
)


def _open_grant(client: Client, scope: str, ctx: TokenContext) -> _Family:
    """The token family: the grant being refreshed (CIBA, refresh), else a new one."""
    if ctx.grant_id and ctx.grant_scope is not None:
        return _Family(ctx.grant_id, ctx.grant_scope)
    if ctx.grant_id:
        row = _GRANT_SCOPE.first(db.session.connection(), grant_id=ctx.grant_id)
        if row is not None:
            return _Family(row.id, row.scope or "")
    family = _Family(str(uuid.uuid4()), scope)
    # Prepared inserts, staged: run and committed with the grant's own writes by save_token,
    # after the signatures (protocol/staged.py), without the unit of work's bookkeeping.
    _insert(
        Grant,
        id=family.id,
        client_id=client.client_id,
        national_id=ctx.national_id,
        scope=scope,
        sid=ctx.sid,
        auth_time=ctx.auth_time,
        acr=ctx.acr,
        auth_mode=ctx.auth_mode,
        amr=ctx.amr,
        nonce=ctx.nonce,
        claims=ctx.claims,
        code_hash=ctx.code_hash,
        created_at=now(),
    )
    return family


def _insert(model: Any, **values: Any) -> None:
    stage(lambda: prepared_sql.insert(model.__table__, db.session.connection(), **values))


def generate_token(
    grant_type: str,
    client: Client,
    user: TokenContext | None = None,
    scope: str | None = None,
    expires_in: int | None = None,
    include_refresh_token: bool = True,
) -> dict[str, Any]:
    """Authlib's token generator: builds the PSC token response and stages its rows.

    The rows are staged; ``save_token`` writes and commits them with the rest of the grant's
    work."""
    settings = current_settings()
    ctx = user or TokenContext(national_id=None)
    scope = scope or ""
    practitioner = None
    if ctx.national_id:
        practitioner = read_practitioner(ctx.national_id)
        if practitioner is None or not practitioner.active:
            # Keycloak's answer when the user behind a grant was disabled.
            raise InvalidGrantError("User disabled")

    grant = _open_grant(client, scope, ctx)
    granted = client_scopes.effective(scope, settings.default_scopes)
    subject = client_scopes.Subject(practitioner, client)
    shown_scope = client_scopes.shown(scope)
    alg = client.access_token_signed_response_alg or settings.default_signing_alg
    access_claims = envelope(settings, settings.access_token_lifetime)
    sub = claim_sets.subject_for(settings, client, ctx.national_id) if ctx.national_id else None
    access_claims.update(
        claim_sets.access_token_claims(
            settings, client.client_id, shown_scope, ctx, practitioner, sub
        )
    )
    access_claims.update(client_scopes.claims_for(client_scopes.ACCESS_TOKEN, granted, subject))
    bound_to = certificate_binding(client)
    if bound_to:
        access_claims["cnf"] = {"x5t#S256": bound_to}
    dpop_key = access_token_jkt()
    if dpop_key:
        access_claims["cnf"] = {**access_claims.get("cnf", {}), "jkt": dpop_key}
    changes = issuance.changes_for("token", client.client_id, ctx.national_id)
    access_body = claim_sets.in_order(access_claims, claim_sets.ACCESS_TOKEN_ORDER)
    access_token = sign_changed(access_body, alg, changes)
    _insert(
        AccessToken,
        jti=access_claims["jti"],
        grant_id=grant.id,
        expires_at=now() + timedelta(seconds=settings.access_token_lifetime),
        revoked_at=None,
        cnf_x5t=bound_to,
        cnf_jkt=dpop_key,
    )
    token: dict[str, Any] = {
        "access_token": access_token,
        "expires_in": settings.access_token_lifetime,
        "refresh_expires_in": 0,
        "token_type": "DPoP" if dpop_key else "Bearer",
    }
    if practitioner is not None and "openid" in scope.split():
        extra = client_scopes.claims_for(client_scopes.ID_TOKEN, granted, subject)
        extra.update(requested_claims(ctx.claims, "id_token", subject, client.scopes or []))
        token["id_token"] = _id_token(
            settings, client, ctx, practitioner, access_token, extra, sub, changes
        )
    if include_refresh_token and practitioner is not None:
        # RFC 9449 §5: a public client's refresh token is bound to the key (a confidential
        # client's is bound to the client's own authentication).
        refresh_key = dpop_key if client.is_public else None
        token.update(_stage_refresh_token(settings, client, grant, shown_scope, ctx, refresh_key))
    token["not-before-policy"] = 0
    if ctx.sid:
        token["session_state"] = ctx.sid
    token["scope"] = shown_scope
    _audit_issuance(grant_type, client, ctx, grant.id)
    return token


def _audit_issuance(grant_type: str, client: Client, ctx: TokenContext, family: str) -> None:
    """One audit row, a Core insert staged with the token rows: no transaction of its own."""
    refreshed = grant_type == "refresh_token"
    event = events.TOKEN_REFRESHED if refreshed else events.TOKEN_ISSUED
    values = audit.row(
        event,
        ctx.national_id,
        client_id=client.client_id,
        means=ctx.auth_mode,
        acr=ctx.acr,
        outcome="success",
        grant_type=grant_type,
        grant=family,
    )
    _insert(audit.AuditEvent, **values)


def _stage_refresh_token(
    settings: Settings,
    client: Client,
    grant: _Family,
    scope: str,
    ctx: TokenContext,
    dpop_key: str | None,
) -> dict[str, Any]:
    """A refresh token of the family; offline when the family was granted ``offline_access``
    (a narrowed refresh stays offline: the family's scope decides)."""
    offline = client_scopes.is_offline(grant.scope)
    refresh = _refresh_token_value(settings, client, scope, ctx, offline)
    lifetime = (
        settings.offline_session_idle_lifetime if offline else settings.refresh_token_lifetime
    )
    _insert(
        RefreshToken,
        token_hash=hash_secret(refresh, "refresh"),
        grant_id=grant.id,
        expires_at=now() + timedelta(seconds=lifetime),
        used_at=None,
        revoked_at=None,
        cnf_jkt=dpop_key,
    )
    # Keycloak answers 0 for an offline token: no expiry the client can count on.
    return {"refresh_token": refresh, "refresh_expires_in": 0 if offline else lifetime}


def certificate_binding(client: Client) -> str | None:
    """The thumbprint to bind the access token to (RFC 8705 §3), for clients that asked."""
    if not client.tls_client_certificate_bound_access_tokens:
        return None
    certificate = current_certificate()
    if certificate is None:
        raise InvalidRequestError("A client certificate is required for bound access tokens")
    return thumbprint(certificate)


def _id_token(
    settings: Settings,
    client: Client,
    ctx: TokenContext,
    practitioner: Any,
    access_token: str,
    extra: dict[str, Any],
    sub: str | None,
    changes: issuance.Changes | None = None,
) -> str:
    alg = client.id_token_signed_response_alg or settings.default_signing_alg
    body = envelope(settings, settings.id_token_lifetime)
    body.update(claim_sets.id_token_claims(settings, client.client_id, ctx, practitioner, sub))
    body.update(extra)
    body["at_hash"] = half_hash(access_token, alg)
    signed = sign_changed(claim_sets.in_order(body, claim_sets.ID_TOKEN_ORDER), alg, changes)
    return encrypted_id_token(client, signed)


class UnusableClientKeyError(OAuth2Error):
    """The client's registration, not its request nor its credentials, is at fault: 400 and no
    authentication challenge (retrying with other credentials would change nothing)."""

    error = "invalid_client"
    status_code = 400


def encrypted_id_token(client: Client, signed: str) -> str:
    """The signed ID token, encrypted to the client if it registered an algorithm (nested JWT,
    OIDC Core §10.2). A client whose key cannot be had gets ``invalid_client`` and nothing of
    the request is kept (the staged writes are discarded)."""
    choice = registered(client, ID_TOKEN)
    if choice is None:
        return signed
    try:
        return encrypt_to_client(client, choice, signed.encode("ascii"), nested=True)
    except EncryptionKeyUnavailable as error:
        raise UnusableClientKeyError(description=f"ID token encryption: {error}") from error


# --- checking ------------------------------------------------------------------------------
def decode_access_token(value: str) -> dict[str, Any] | None:
    """Signature, issuer and expiry of an access token; None if any is wrong."""
    verified = current_app.extensions.setdefault("psc_verified_tokens", VerifiedTokens())
    known = verified.get(value)
    if known is not None:
        kid, claims = known
        if signing_keys().by_kid(kid) is not None and claims["exp"] > time.time():
            return claims
        verified.forget(value)  # expired, or its key left the key set: checked afresh below
    try:
        header = unverified_header(value)
        key = signing_keys().by_kid(str(header.get("kid", "")))
        if key is None or header.get("alg") != key.alg:
            return None
        claims = jwt.decode(
            value,
            key.private_key.public_key(),
            algorithms=[key.alg],
            issuer=current_settings().issuer,
            options={"verify_aud": False, "require": ["exp", "iat", "jti"]},
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    verified.put(value, key.kid, claims)
    return claims


def decode_id_token_hint(value: str) -> dict[str, Any]:
    """Claims of an ID token this server issued, expired or not (``id_token_hint`` at logout and
    at the CIBA endpoint, as Keycloak accepts), signed, or re-encrypted to our key by the client
    it was encrypted to. Raises ``ValueError``."""
    if is_compact_jwe(value):
        value = decrypt_id_token_hint(value)  # DecryptionRefused: a ValueError
    try:
        header = unverified_header(value)
        key = signing_keys().by_kid(str(header.get("kid", "")))
        if key is None or header.get("alg") != key.alg:
            raise ValueError("id_token_hint: unknown signing key")
        claims = jwt.decode(
            value,
            key.private_key.public_key(),
            algorithms=[key.alg],
            issuer=current_settings().issuer,
            options={"verify_exp": False, "verify_aud": False},
        )
    except (jwt.PyJWTError, TypeError) as error:
        raise ValueError("invalid id_token_hint") from error
    if claims.get("typ") != "ID":
        raise ValueError("id_token_hint is not an ID token")
    return claims


def find_active_access_token(value: str) -> tuple[dict[str, Any], AccessTokenWithClient] | None:
    """A valid, unrevoked access token of a live family, with its client, in one query."""
    claims = decode_access_token(value)
    if claims is None or claims.get("typ") != "Bearer":
        return None
    state = access_token_with_client(str(claims["jti"]))
    if state is None or state.revoked_at is not None or not state.family.live:
        return None
    return claims, state


def binding_satisfied(row: AccessToken) -> bool:
    return binding_matches(row.cnf_x5t)


#: A token's ``cnf`` thumbprint (None: not bound) → whether the request may use the token.
BindingCheck = Callable[[str | None], bool]


def binding_matches(cnf_x5t: str | None) -> bool:
    """A certificate-bound token is usable only with the same certificate (RFC 8705 §3)."""
    if cnf_x5t is None:
        return True
    certificate = current_certificate()
    return certificate is not None and thumbprint(certificate) == cnf_x5t


def grant_is_live(grant: Grant) -> bool:
    """Not revoked, and its client still enabled: as Keycloak, disabling a client ends the use of
    its tokens at userinfo and introspection, not only new logins."""
    return grant.revoked_at is None and grant.client is not None and grant.client.enabled


def find_refresh_token(value: str) -> RefreshToken | None:
    return db.session.get(RefreshToken, hash_secret(value, "refresh"))


def revoke_grant(grant_id: str) -> None:
    """Revoke a token family: every access and refresh token issued under it."""
    moment = now()
    db.session.execute(
        update(Grant)
        .where(Grant.id == grant_id, Grant.revoked_at.is_(None))
        .values(revoked_at=moment)
    )


def revoke_grants_of_code(code_hash: str) -> None:
    ids = db.session.scalars(select(Grant.id).where(Grant.code_hash == code_hash)).all()
    for grant_id in ids:
        revoke_grant(grant_id)


def revoke_grants_of_session(sid: str) -> None:
    """The end of an SSO session ends its token families, except offline ones (Keycloak's
    offline sessions outlive the user session; revocation ends them)."""
    rows = db.session.execute(select(Grant.id, Grant.scope).where(Grant.sid == sid)).all()
    for grant_id, scope in rows:
        if not client_scopes.is_offline(scope):
            revoke_grant(grant_id)
