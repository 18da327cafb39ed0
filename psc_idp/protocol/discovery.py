"""OpenID Provider metadata (OIDC Discovery 1.0, RFC 8414): only what is implemented."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from psc_idp.config import Settings
from psc_idp.http.published import Document
from psc_idp.keystore.signing import SUPPORTED_ALGS
from psc_idp.protocol.ciba.signed_request import SIGNING_ALGS as CIBA_REQUEST_ALGS
from psc_idp.protocol.client_auth import CONFIDENTIAL_AUTH_METHODS
from psc_idp.protocol.client_auth.client_secret_jwt import ALGORITHMS as SECRET_JWT_ALGS
from psc_idp.protocol.dpop.proof import SIGNING_ALGS as DPOP_SIGNING_ALGS
from psc_idp.protocol.encryption.algorithms import CONTENT_ENCRYPTION_ENCS, KEY_MANAGEMENT_ALGS
from psc_idp.protocol.jarm import JWT_MODES
from psc_idp.protocol.pairwise import SUBJECT_TYPES
from psc_idp.protocol.request_object import SIGNING_ALGS as REQUEST_OBJECT_ALGS
from psc_idp.protocol.scopes import SUPPORTED_SCOPES


def endpoint(settings: Settings, path: str) -> str:
    return f"{settings.issuer}/protocol/openid-connect/{path}"


def mtls_aliases(settings: Settings) -> dict[str, str]:
    """The same endpoints on the origin that asks for a client certificate (RFC 8705 §5)."""
    base = f"{settings.mtls_base}{urlsplit(settings.issuer).path}/protocol/openid-connect"
    return {
        "token_endpoint": f"{base}/token",
        "introspection_endpoint": f"{base}/token/introspect",
        "revocation_endpoint": f"{base}/revoke",
        "userinfo_endpoint": f"{base}/userinfo",
        "backchannel_authentication_endpoint": f"{base}/ext/ciba/auth",
        "pushed_authorization_request_endpoint": f"{base}/ext/par/request",
    }


def tls_metadata(settings: Settings) -> dict[str, Any]:
    """RFC 8705 metadata, only when some origin asks for a client certificate: without one
    (``PSC_TLS_PORT=0``, http base, no ``PSC_TLS_BASE_URL``) an alias at ``https://host:0``
    would send clients nowhere."""
    if not settings.mtls_available:
        return {}
    return {
        "tls_client_certificate_bound_access_tokens": True,
        "mtls_endpoint_aliases": mtls_aliases(settings),
    }


#: Algorithms of client assertions: the client's keys (private_key_jwt), its secret
#: (client_secret_jwt).
ASSERTION_SIGNING_ALGS = [*SUPPORTED_ALGS, *SECRET_JWT_ALGS]


def client_auth_methods(settings: Settings) -> list[str]:
    methods = [*CONFIDENTIAL_AUTH_METHODS]
    if not settings.mtls_available:
        methods.remove("tls_client_auth")
    return methods


_last: tuple[dict[str, Any], Document] | None = None


def metadata_document(settings: Settings) -> Document:
    """The metadata serialised, reused while it is unchanged: building the dictionary is cheap
    (settings may change at run time, so it is built each time), serialising it is not."""
    global _last
    current = metadata(settings)
    cached = _last
    if cached is not None and cached[0] == current:
        return cached[1]
    document = Document.of(current)
    _last = (current, document)
    return document


def metadata(settings: Settings) -> dict[str, Any]:
    confidential = client_auth_methods(settings)
    auth_methods = [*confidential, "none"]
    return {
        "issuer": settings.issuer,
        "authorization_endpoint": settings.authorization_endpoint,
        "token_endpoint": endpoint(settings, "token"),
        "introspection_endpoint": endpoint(settings, "token/introspect"),
        "userinfo_endpoint": endpoint(settings, "userinfo"),
        "end_session_endpoint": endpoint(settings, "logout"),
        "jwks_uri": endpoint(settings, "certs"),
        "revocation_endpoint": endpoint(settings, "revoke"),
        "pushed_authorization_request_endpoint": endpoint(settings, "ext/par/request"),
        "require_pushed_authorization_requests": False,
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:openid:params:grant-type:ciba",
        ],
        "backchannel_authentication_endpoint": endpoint(settings, "ext/ciba/auth"),
        "backchannel_token_delivery_modes_supported": ["poll", "ping"],
        "backchannel_user_code_parameter_supported": False,
        "backchannel_authentication_request_signing_alg_values_supported": list(CIBA_REQUEST_ALGS),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post", *JWT_MODES],
        "authorization_signing_alg_values_supported": list(SUPPORTED_ALGS),
        "authorization_encryption_alg_values_supported": list(KEY_MANAGEMENT_ALGS),
        "authorization_encryption_enc_values_supported": list(CONTENT_ENCRYPTION_ENCS),
        "subject_types_supported": list(SUBJECT_TYPES),
        "id_token_signing_alg_values_supported": list(SUPPORTED_ALGS),
        "id_token_encryption_alg_values_supported": list(KEY_MANAGEMENT_ALGS),
        "id_token_encryption_enc_values_supported": list(CONTENT_ENCRYPTION_ENCS),
        "userinfo_signing_alg_values_supported": list(SUPPORTED_ALGS),
        "userinfo_encryption_alg_values_supported": list(KEY_MANAGEMENT_ALGS),
        "userinfo_encryption_enc_values_supported": list(CONTENT_ENCRYPTION_ENCS),
        "introspection_endpoint_auth_methods_supported": confidential,
        "introspection_endpoint_auth_signing_alg_values_supported": ASSERTION_SIGNING_ALGS,
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_SIGNING_ALGS,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_signing_alg_values_supported": ASSERTION_SIGNING_ALGS,
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "acr",
            "amr",  # after a login through an establishment's provider (FI Tiers)
            "nonce",
            "sid",
            "session_state",
            "azp",
            "typ",
            "authMode",
            "SubjectNameID",
            "preferred_username",
            "given_name",
            "family_name",
            "otherIds",
            "name",
            "email",
            "email_verified",
            "phone_number",
            "phone_number_verified",
            "address",
            "upn",
            "groups",
            "realm_access",
            "allowed-origins",
        ],
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": True,
        "scopes_supported": SUPPORTED_SCOPES,
        "acr_values_supported": sorted(set(settings.acr_by_auth_mode.values())),
        "code_challenge_methods_supported": ["plain", "S256"],
        "request_parameter_supported": True,
        "request_uri_parameter_supported": True,
        "require_request_uri_registration": True,
        "request_object_signing_alg_values_supported": list(REQUEST_OBJECT_ALGS),
        "request_object_encryption_alg_values_supported": list(KEY_MANAGEMENT_ALGS),
        "request_object_encryption_enc_values_supported": list(CONTENT_ENCRYPTION_ENCS),
        "ui_locales_supported": ["fr"],
        "authorization_response_iss_parameter_supported": True,
        **tls_metadata(settings),
        "frontchannel_logout_supported": True,
        "frontchannel_logout_session_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "dpop_signing_alg_values_supported": list(DPOP_SIGNING_ALGS),
    }
