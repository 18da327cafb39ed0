"""A minimal Django project logging in with mozilla-django-oidc, configured as its
documentation says. mozilla-django-oidc reads no discovery document: every endpoint is set
here, from the psc-idp issuer (``RP_ISSUER``) and the wallet's authorization endpoint."""

from __future__ import annotations

import os
import secrets

ISSUER = os.environ["RP_ISSUER"]
OIDC = f"{ISSUER}/protocol/openid-connect"

SECRET_KEY = secrets.token_urlsafe(50)
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
ROOT_URLCONF = "tests.e2e.django_rp.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "mozilla_django_oidc",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Renews the login silently (prompt=none) once the ID token has expired.
    "mozilla_django_oidc.middleware.SessionRefresh",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["RP_DB"]}}
# psc-idp runs on the same host: cookies ignore ports, so the names must differ.
SESSION_COOKIE_NAME = "django_rp_session"
CSRF_COOKIE_NAME = "django_rp_csrf"

AUTHENTICATION_BACKENDS = ["mozilla_django_oidc.auth.OIDCAuthenticationBackend"]
OIDC_RP_CLIENT_ID = os.environ["RP_CLIENT_ID"]
OIDC_RP_CLIENT_SECRET = os.environ["RP_CLIENT_SECRET"]
OIDC_RP_SIGN_ALGO = "RS256"  # the library's default is HS256
OIDC_OP_JWKS_ENDPOINT = f"{OIDC}/certs"
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ["RP_AUTHORIZATION_ENDPOINT"]
OIDC_OP_TOKEN_ENDPOINT = f"{OIDC}/token"
OIDC_OP_USER_ENDPOINT = f"{OIDC}/userinfo"
OIDC_STORE_ACCESS_TOKEN = True  # to call UserInfo later
OIDC_STORE_ID_TOKEN = True  # for id_token_hint at logout
OIDC_OP_LOGOUT_URL_METHOD = "tests.e2e.django_rp.views.provider_logout"
ALLOW_LOGOUT_GET_METHOD = True
LOGIN_REDIRECT_URL = "/me"
LOGOUT_REDIRECT_URL = "/bye"
# Errors on the relying party's output, where the test shows them.
LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR"},
        "mozilla_django_oidc": {"handlers": ["console"], "level": "WARNING"},
    },
}
