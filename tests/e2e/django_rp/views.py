"""The relying party's pages: who is logged in (and what UserInfo says now), logout at the OP."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCLogoutView


def fingerprint(value: str | None) -> str | None:
    return hashlib.sha256(value.encode()).hexdigest()[:16] if value else None


def login(request: HttpRequest) -> HttpResponse:
    return redirect("oidc_authentication_init")


logout = OIDCLogoutView.as_view()


def provider_logout(request: HttpRequest) -> str:
    """``OIDC_OP_LOGOUT_URL_METHOD``: RP-initiated logout at psc-idp, back to /bye."""
    query = {
        "id_token_hint": request.session.get("oidc_id_token", ""),
        "post_logout_redirect_uri": request.build_absolute_uri("/bye"),
    }
    return f"{settings.OIDC}/logout?{urlencode(query)}"


def me(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return JsonResponse({"error": "not logged in"}, status=401)
    access_token = request.session["oidc_access_token"]
    userinfo = OIDCAuthenticationBackend().get_userinfo(access_token, None, None)
    return JsonResponse(
        {
            "username": request.user.get_username(),
            "email": request.user.email,
            "userinfo": userinfo,
            "access_token": fingerprint(access_token),
        }
    )


def expire(request: HttpRequest) -> HttpResponse:
    """As if the ID token's lifetime had passed: the next page renews the login silently."""
    request.session["oidc_id_token_expiration"] = 0
    return JsonResponse({"expired": True})


def home(request: HttpRequest) -> HttpResponse:
    # Also where mozilla-django-oidc lands after a failed login (LOGIN_REDIRECT_URL_FAILURE).
    state = "connecté" if request.user.is_authenticated else "non connecté"
    return HttpResponse(f"Accueil : {state}", content_type="text/plain; charset=utf-8")


def bye(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Déconnecté", content_type="text/plain; charset=utf-8")
