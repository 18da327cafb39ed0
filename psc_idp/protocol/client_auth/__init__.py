"""Client authentication methods: which endpoint accepts which, and ``private_key_jwt``."""

#: Methods a confidential client may use (introspection, client credentials).
CONFIDENTIAL_AUTH_METHODS = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "tls_client_auth",
]
#: Methods accepted wherever a public client may also come (token, revocation).
TOKEN_AUTH_METHODS = [*CONFIDENTIAL_AUTH_METHODS, "none"]
