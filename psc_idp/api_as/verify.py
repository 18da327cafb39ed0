"""Checking a token an API's authorization server issued, as its resource server does: the
signature with the API's keys, issuer, audience, expiry, and the certificate of the request
against ``cnf.x5t#S256`` (RFC 8705 §3)."""

from __future__ import annotations

from typing import Any

import jwt
from sqlalchemy import select

from psc_idp.api_as.issuer import issuer_of
from psc_idp.api_as.keys import api_signing_keys
from psc_idp.api_as.models import ExchangedToken, UserinfoCache
from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.jose_header import unverified_header
from psc_idp.protocol.tokens import binding_matches
from psc_idp.timeutil import now


class TokenRefused(Exception):
    def __init__(self, description: str):
        super().__init__(description)
        self.description = description


def verified_api_token(audience: str, value: str) -> dict[str, Any]:
    keys = api_signing_keys(audience)
    try:
        header = unverified_header(value)
        key = keys.by_kid(str(header.get("kid", "")))
        if key is None or header.get("alg") != key.alg:
            raise TokenRefused("Token verification failed")
        claims = jwt.decode(
            value,
            key.private_key.public_key(),
            algorithms=[key.alg],
            audience=audience,
            issuer=issuer_of(current_settings(), audience),
            options={"require": ["exp", "iat", "jti", "cnf"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise TokenRefused("Token expired") from error
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise TokenRefused("Token verification failed") from error
    cnf = claims.get("cnf")
    thumbprint = cnf.get("x5t#S256") if isinstance(cnf, dict) else None
    if not isinstance(thumbprint, str) or not binding_matches(thumbprint):
        raise TokenRefused("Certificate binding does not match")
    return claims


def userinfo_of(audience: str, claims: dict[str, Any]) -> dict[str, Any]:
    """The professional and situation d'exercice the token was issued for (its row, its
    subject token's cached document)."""
    document = db.session.scalar(
        select(UserinfoCache.document)
        .join(ExchangedToken, ExchangedToken.userinfo_key == UserinfoCache.key)
        .where(
            ExchangedToken.jti == str(claims["jti"]),
            ExchangedToken.audience == audience,
            ExchangedToken.expires_at > now(),
        )
    )
    if document is None:
        raise TokenRefused("Token not active")
    return document
