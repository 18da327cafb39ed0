"""Where each protected API's authorization server lives and what its metadata says.

The issuer is ``{base}/api-as/realms/<audience>``; its token endpoint and userinfo, which
require the client's certificate, are announced on the mutual-TLS origin (RFC 8705 §5)."""

from __future__ import annotations

from typing import Any

from psc_idp.api_as.keys import TOKEN_ALG
from psc_idp.config import Settings

PREFIX = "/api-as/realms"
OIDC = "protocol/openid-connect"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"


def issuer_of(settings: Settings, audience: str) -> str:
    return f"{settings.base_url.rstrip('/')}{PREFIX}/{audience}"


def mtls_endpoint(settings: Settings, audience: str, path: str) -> str:
    return f"{settings.mtls_base}{PREFIX}/{audience}/{OIDC}/{path}"


def metadata(settings: Settings, audience: str, scopes: list[str]) -> dict[str, Any]:
    """RFC 8414 metadata of the API's authorization server: only what it does."""
    issuer = issuer_of(settings, audience)
    token_endpoint = mtls_endpoint(settings, audience, "token")
    userinfo_endpoint = mtls_endpoint(settings, audience, "userinfo")
    return {
        "issuer": issuer,
        "token_endpoint": token_endpoint,
        "userinfo_endpoint": userinfo_endpoint,
        "jwks_uri": f"{issuer}/{OIDC}/certs",
        "grant_types_supported": [TOKEN_EXCHANGE],
        "scopes_supported": list(scopes),
        "token_endpoint_auth_methods_supported": ["tls_client_auth"],
        "tls_client_certificate_bound_access_tokens": True,
        "mtls_endpoint_aliases": {
            "token_endpoint": token_endpoint,
            "userinfo_endpoint": userinfo_endpoint,
        },
        "token_exchange_subject_token_types_supported": [ACCESS_TOKEN_TYPE, JWT_TYPE],
        "token_exchange_actor_token_types_supported": [JWT_TYPE],
        "token_exchange_issued_token_types_supported": [ACCESS_TOKEN_TYPE],
        "access_token_signing_alg_values_supported": [TOKEN_ALG],
    }
