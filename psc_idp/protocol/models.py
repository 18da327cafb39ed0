"""What the OAuth/OIDC protocol persists: clients, codes, grants and the tokens issued under them.

Every secret (client secret, code, refresh token) is stored as a keyed hash, never in clear.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin
from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.protocol import scopes as client_scopes
from psc_idp.protocol.client_auth import secret_lockout
from psc_idp.timeutil import UTCDateTime, now

#: The two ways of presenting a client secret (RFC 6749 §2.3.1).
SECRET_METHODS = frozenset({"client_secret_basic", "client_secret_post"})


class Client(db.Model, ClientMixin):
    """A relying party, as registered in the realm file or with ``psc-idp clients add``."""

    __tablename__ = "oauth_client"

    client_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    secret_hash: Mapped[str | None] = mapped_column(String(128))
    #: ``client_secret_jwt`` only: the secret keys the client's HMAC, so the server must read
    #: it back; sealed (``AppSecret.seal``) instead of hashed.
    secret_sealed: Mapped[str | None] = mapped_column(Text)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(40))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Keycloak's "Web origins": origins a browser may call the protocol from (CORS); ``+``
    #: stands for the redirect URIs' origins, ``*`` for any origin (development only).
    web_origins: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: ["+"], server_default=text("'[\"+\"]'")
    )
    grant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    response_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Scopes the client may ask for; ``default_scopes`` are always granted (Keycloak's default
    #: client scopes).
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    jwks_uri: Mapped[str | None] = mapped_column(String(2000))
    id_token_signed_response_alg: Mapped[str | None] = mapped_column(String(10))
    access_token_signed_response_alg: Mapped[str | None] = mapped_column(String(10))
    userinfo_signed_response_alg: Mapped[str | None] = mapped_column(String(10))
    #: Encryption (JWE, OIDC Registration §2): of the ID token and UserInfo to the client's key
    #: (``alg`` set: encrypted; ``enc`` defaults to A128CBC-HS256), and of the request objects
    #: it sends to ours (set: required with that ``alg``, as Keycloak).
    id_token_encrypted_response_alg: Mapped[str | None] = mapped_column(String(20))
    id_token_encrypted_response_enc: Mapped[str | None] = mapped_column(String(20))
    userinfo_encrypted_response_alg: Mapped[str | None] = mapped_column(String(20))
    userinfo_encrypted_response_enc: Mapped[str | None] = mapped_column(String(20))
    request_object_encryption_alg: Mapped[str | None] = mapped_column(String(20))
    request_object_encryption_enc: Mapped[str | None] = mapped_column(String(20))
    #: JARM (``response_mode=jwt`` and the like): the algorithm of the ``response`` JWT;
    #: unset, RS256 (JARM §3).
    authorization_signed_response_alg: Mapped[str | None] = mapped_column(String(10))
    #: JARM §3: the signed ``response`` JWT nested in a JWE to the client's key (``enc``
    #: defaults to A128CBC-HS256).
    authorization_encrypted_response_alg: Mapped[str | None] = mapped_column(String(20))
    authorization_encrypted_response_enc: Mapped[str | None] = mapped_column(String(20))
    #: PKCE ``plain`` is refused unless the client allows it explicitly.
    allow_plain_pkce: Mapped[bool] = mapped_column(default=False)
    #: Confidential clients may be forced to use PKCE too.
    require_pkce: Mapped[bool] = mapped_column(default=False)
    #: ``tls_client_auth`` (RFC 8705 §2.1.2): the certificate's expected subject DN (RFC 4514)
    #: or DNS name in its SubjectAltName.
    tls_client_auth_subject_dn: Mapped[str | None] = mapped_column(String(1000))
    tls_client_auth_san_dns: Mapped[str | None] = mapped_column(String(255))
    #: Access tokens bound to the client certificate (``cnf.x5t#S256``, RFC 8705 §3).
    tls_client_certificate_bound_access_tokens: Mapped[bool] = mapped_column(default=False)
    #: Every token request must carry a DPoP proof; tokens bound to its key (RFC 9449 §5.2).
    dpop_bound_access_tokens: Mapped[bool] = mapped_column(default=False)
    #: CIBA (heavy clients): ``poll`` (PSC) or ``ping``, and where pings go.
    backchannel_token_delivery_mode: Mapped[str] = mapped_column(String(10), default="poll")
    backchannel_client_notification_endpoint: Mapped[str | None] = mapped_column(String(2000))
    #: OIDC Core §8: ``public`` (PSC's ``sub``, the default) or ``pairwise`` (a keyed hash of
    #: the sector and the national id, ``protocol/pairwise.py``).
    subject_type: Mapped[str] = mapped_column(
        String(10), default="public", server_default=text("'public'")
    )
    #: Pairwise: a URL whose JSON array lists the client's redirect URIs; its host is the sector.
    sector_identifier_uri: Mapped[str | None] = mapped_column(String(2000))
    #: Request objects by reference (RFC 9101 §5.2): the only URLs ever fetched for the client.
    request_uris: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    #: Keycloak's "request object required": every authorization request signed (``request``,
    #: ``request_uri``, or pushed with ``request``).
    require_signed_request_object: Mapped[bool] = mapped_column(default=False)
    #: OIDC Back-Channel Logout 1.0 §2.2: where the logout token is POSTed when a session the
    #: client took part in ends, and whether the client needs its ``sid`` (always sent).
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(2000))
    backchannel_logout_session_required: Mapped[bool] = mapped_column(
        default=False, server_default=text("false")
    )
    #: OIDC Front-Channel Logout 1.0 §2: the page the logout page loads in an iframe, with
    #: ``iss`` and ``sid`` when ``frontchannel_logout_session_required``.
    frontchannel_logout_uri: Mapped[str | None] = mapped_column(String(2000))
    frontchannel_logout_session_required: Mapped[bool] = mapped_column(
        default=False, server_default=text("false")
    )
    #: « API Pro Santé Connectées »: the protected APIs (``apis:`` of the realm) the client may
    #: exchange its PSC access tokens for (RFC 8693 ``audience``).
    audiences: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    # --- Authlib ClientMixin -------------------------------------------------------------
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # RFC 6749 §3.1.2.3: without redirect_uri, only a single registered URI is unambiguous.
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        """The requested scopes, each allowed for the client (else ``invalid_scope`` naming
        them, as Keycloak), plus the realm's default scopes.

        Keycloak's default client scopes: PSC grants ``openid scope_all identity`` to a
        request for ``openid scope_all``."""
        return client_scopes.grant(scope, self.scopes, current_settings().default_scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris  # exact match only

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_lockout.check(self, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # As Keycloak, a secret client may send its secret with Basic or in the form body,
        # whichever it registered (libraries differ in their default).
        if self.token_endpoint_auth_method in SECRET_METHODS:
            return method in SECRET_METHODS
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type in self.response_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"


class AuthorizationCode(db.Model):
    """An issued code, kept after use so that a replay revokes what it issued (RFC 6749 §4.1.2)."""

    __tablename__ = "oauth_code"

    code_hash: Mapped[str] = mapped_column(String(128), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_client.client_id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text, default="")
    nonce: Mapped[str | None] = mapped_column(Text)
    #: The ``claims`` request parameter (OIDC Core §5.5), as sent: its ID token and UserInfo
    #: members outlive the code in the token family.
    claims: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(10))
    #: ``dpop_jkt`` (RFC 9449 §10): only a proof of that key may exchange the code.
    dpop_jkt: Mapped[str | None] = mapped_column(String(64))
    national_id: Mapped[str] = mapped_column(String(64))
    sid: Mapped[str] = mapped_column(String(64))
    auth_time: Mapped[int]
    acr: Mapped[str] = mapped_column(String(20))
    auth_mode: Mapped[str] = mapped_column(String(20))
    #: The login's ``amr``, space-separated (FI Tiers); None for psc-idp's own means.
    amr: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # --- Authlib AuthorizationCodeMixin ---------------------------------------------------
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


class Grant(db.Model):
    """One authorization: the family of access and refresh tokens issued from one code or one
    client-credentials call. Revoking it revokes every token in the family."""

    __tablename__ = "oauth_grant"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_client.client_id", ondelete="CASCADE"))
    national_id: Mapped[str | None] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text, default="")
    sid: Mapped[str | None] = mapped_column(String(64), index=True)
    auth_time: Mapped[int | None]
    acr: Mapped[str | None] = mapped_column(String(20))
    auth_mode: Mapped[str | None] = mapped_column(String(20))
    amr: Mapped[str | None] = mapped_column(String(255))
    nonce: Mapped[str | None] = mapped_column(Text)
    #: The authorization's ``claims`` parameter, for the ID tokens of refreshes and UserInfo.
    claims: Mapped[str | None] = mapped_column(Text)
    code_hash: Mapped[str | None] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Joined: checking a token (userinfo, introspection) reads its client in the same query.
    client: Mapped[Client] = relationship(lazy="joined")


class AccessToken(db.Model):
    """An issued access token (a JWS); the row lets introspection and revocation see it."""

    __tablename__ = "oauth_access_token"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_grant.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: SHA-256 thumbprint of the certificate the token is bound to (``cnf.x5t#S256``).
    cnf_x5t: Mapped[str | None] = mapped_column(String(64))
    #: JWK thumbprint of the DPoP key the token is bound to (``cnf.jkt``, RFC 9449 §6).
    cnf_jkt: Mapped[str | None] = mapped_column(String(64))

    grant: Mapped[Grant] = relationship(lazy="joined")


class RefreshToken(db.Model):
    """A refresh token. Rotation marks it used; presenting a used one revokes its grant."""

    __tablename__ = "oauth_refresh_token"

    token_hash: Mapped[str] = mapped_column(String(128), primary_key=True)
    grant_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_grant.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A public client's refresh token is bound to its DPoP key (RFC 9449 §5).
    cnf_jkt: Mapped[str | None] = mapped_column(String(64))

    grant: Mapped[Grant] = relationship(lazy="joined")

    # --- Authlib TokenMixin (what the refresh grant asks) ---------------------------------
    def check_client(self, client: Client) -> bool:
        return self.grant.client_id == client.client_id

    def get_scope(self) -> str:
        return self.grant.scope


class PushedAuthorizationRequest(db.Model):
    """An authorization request pushed to the PAR endpoint (RFC 9126), waiting for the browser.

    Keyed by a hash of the random part of its ``request_uri``; deleted when used (single use)."""

    __tablename__ = "oauth_par_request"

    uri_hash: Mapped[str] = mapped_column(String(128), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_client.client_id", ondelete="CASCADE"))
    params: Mapped[dict[str, str]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


Index("ix_oauth_code_expires", AuthorizationCode.expires_at)
