from __future__ import annotations

from django.urls import include, path

from tests.e2e.django_rp import views

urlpatterns = [
    path("", views.home),
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("login", views.login),
    path("logout", views.logout),
    path("me", views.me),
    path("expire", views.expire),
    path("bye", views.bye),
]
