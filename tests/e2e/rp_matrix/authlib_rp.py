"""A Flask relying party built with Authlib's Flask client, set up as Authlib's documentation
shows: ``server_metadata_url``, ``client_kwargs={"scope": "openid email profile"}``, and the
``fetch_token`` / ``update_token`` pair so that an expired access token (PSC: 120 s) is refreshed
on the next call and the rotated refresh token is kept (PSC refuses a used one).

Tokens are kept on the relying party's side, keyed by its session (a cookie cannot hold three
JWTs); ``/refresh`` makes the stored access token expired, as 120 seconds would, then calls
UserInfo, which refreshes through Authlib."""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.flask_client import OAuth
from flask import Flask, jsonify, redirect, session


def fingerprint(value: str | None) -> str | None:
    return hashlib.sha256(value.encode()).hexdigest()[:16] if value else None


def create_rp(issuer: str, client_id: str, client_secret: str, base_url: str) -> Flask:
    app = Flask("authlib_rp")
    app.secret_key = secrets.token_hex(32)
    # psc-idp runs on the same host: cookies ignore ports, so the names must differ.
    app.config["SESSION_COOKIE_NAME"] = "authlib_rp"
    tokens: dict[str, dict[str, Any]] = {}

    def fetch_token(name: str) -> dict[str, Any] | None:
        return tokens.get(session.get("sid", ""))

    def update_token(name: str, token: dict[str, Any], refresh_token=None, access_token=None):
        # Called by Authlib after an automatic refresh: keep the rotated refresh token.
        tokens[session["sid"]] = dict(token)

    oauth = OAuth(app, fetch_token=fetch_token, update_token=update_token)
    oauth.register(
        "psc",
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile"},
    )

    @app.get("/login")
    def login():
        return oauth.psc.authorize_redirect(f"{base_url}/callback")

    @app.get("/callback")
    def callback():
        token = oauth.psc.authorize_access_token()  # checks state, the ID token and its nonce
        session["sid"] = secrets.token_urlsafe(16)
        tokens[session["sid"]] = dict(token)
        return redirect("/me")

    def described(userinfo: dict[str, Any]):
        token = tokens[session["sid"]]
        return jsonify(
            userinfo=dict(userinfo),
            id_token_claims=dict(token.get("userinfo") or {}),
            access_token=fingerprint(token.get("access_token")),
            refresh_token=fingerprint(token.get("refresh_token")),
        )

    @app.get("/me")
    def me():
        if fetch_token("psc") is None:
            return jsonify(error="not logged in"), 401
        return described(oauth.psc.userinfo())

    @app.get("/refresh")
    def refresh():
        token = fetch_token("psc")
        if token is None:
            return jsonify(error="not logged in"), 401
        token["expires_at"] = int(time.time()) - 1  # as if 120 s had gone by
        return described(oauth.psc.userinfo())  # Authlib refreshes, then update_token

    @app.get("/logout")
    def logout():
        token = tokens.pop(session.pop("sid", ""), None) or {}
        end_session = oauth.psc.load_server_metadata()["end_session_endpoint"]
        query = {"post_logout_redirect_uri": f"{base_url}/bye", "state": secrets.token_urlsafe(8)}
        if token.get("id_token"):
            query["id_token_hint"] = token["id_token"]
        return redirect(f"{end_session}?{urlencode(query)}")

    @app.get("/bye")
    def bye():
        return "Déconnecté"

    return app
