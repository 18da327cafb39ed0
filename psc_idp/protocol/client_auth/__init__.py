"""Client authentication methods: which endpoint accepts which; ``private_key_jwt`` and
``client_secret_jwt`` (assertions), ``tls_client_auth``, ``client_secret_basic``."""

#: Methods a confidential client may use (introspection, client credentials).
CONFIDENTIAL_AUTH_METHODS = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "client_secret_jwt",
    "tls_client_auth",
]
#: Methods accepted wherever a public client may also come (token, revocation).
TOKEN_AUTH_METHODS = [*CONFIDENTIAL_AUTH_METHODS, "none"]
