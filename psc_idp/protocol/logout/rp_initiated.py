"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0), as Keycloak does it:

- the session ends at once only with an ``id_token_hint`` of the browser's own session (or any
  valid hint when the browser has no session: nothing of its own is at stake); otherwise, hint of
  another session or no hint, the professional confirms with a form bound to the browser, so
  that another site cannot end a session (§2: the OP MUST ask when no hint is given or the
  hint does not belong to the current session);
- ``post_logout_redirect_uri`` is followed only if registered for the client (exact match) and
  the client is known from ``id_token_hint`` or ``client_id``;
- ending the SSO session revokes the tokens issued in it, owes a logout token to every client
  of the session with a ``backchannel_logout_uri`` (``backchannel``) and loads every
  ``frontchannel_logout_uri`` in the page that follows (``frontchannel``);
- a session opened through another provider (FI Tiers) that supports RP-initiated logout is
  ended there too: the browser goes to that provider's logout and comes back to
  ``/logout/upstream`` with the ``state`` of a continuation, which finishes as above (Keycloak's
  broker does the same)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from authlib.common.urls import add_params_to_uri
from flask import Request, Response, redirect, url_for
from sqlalchemy import delete

from psc_idp import audit
from psc_idp.audit import events
from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.login.csrf import bound_token, same_token
from psc_idp.login.models import SsoSession
from psc_idp.login.sessions import clear_cookie, current_session, end_session
from psc_idp.login.transactions import (
    browser_cookie,
    issued_browser_cookie,
    set_browser_cookie,
)
from psc_idp.login.upstream_logout import take_logout_url
from psc_idp.protocol import pages
from psc_idp.protocol.logout import backchannel, frontchannel
from psc_idp.protocol.logout.models import LogoutContinuation
from psc_idp.protocol.models import Client
from psc_idp.protocol.tokens import decode_id_token_hint, revoke_grants_of_session
from psc_idp.timeutil import now

#: How long the browser may stay at the other provider's logout before coming back.
CONTINUATION_LIFETIME = timedelta(minutes=10)

PARAMS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state")


class LogoutError(Exception):
    pass


def logout_response(req: Request) -> Response:
    params = req.values
    for name in PARAMS:
        if len(params.getlist(name)) > 1:
            return _failure(f"duplicated parameter: {name}")
    try:
        hint = _hint_claims(params["id_token_hint"]) if params.get("id_token_hint") else None
        client = _client(hint, params.get("client_id"))
        target = _redirect_target(client, params.get("post_logout_redirect_uri"))
    except LogoutError as error:
        return _failure(str(error))
    hinted = _hinted_session(hint)
    browser = current_session(req)
    # A browser without a live session has nothing at stake: a valid hint suffices.
    at_once = hint is not None and (browser is None or browser is hinted)
    if not at_once and not _confirmed(req):
        return _confirmation(req)
    ended = [s for s in (hinted, browser) if s is not None]
    frames = _end(ended, client)
    state = params.get("state")
    target = add_params_to_uri(target, [("state", state)] if state else []) if target else None
    upstream = _upstream_logout(ended, frames, target)
    db.session.commit()
    response = redirect(upstream) if upstream else _finish(frames, target)
    clear_cookie(response)
    return response


def _finish(frames: list[str], target: str | None) -> Response:
    """What the browser sees once every session has ended: the clients' front-channel pages,
    then (or at once) the client's ``post_logout_redirect_uri``, or the logged-out page."""
    if frames:
        # The clients' pages load in this one; it then goes on to the target, if any.
        response = pages.render(pages.LoggedOut(frames=tuple(frames), continue_url=target))
        response.headers["Content-Security-Policy"] = frontchannel.frame_policy(frames)
        return response
    if target:
        return redirect(target)
    return pages.render(pages.LoggedOut())


def upstream_return_uri() -> str:
    """psc-idp's ``post_logout_redirect_uri`` at the other providers (they register it)."""
    return f"{current_settings().issuer}/protocol/openid-connect/logout/upstream"


def _upstream_logout(ended: list[SsoSession], frames: list[str], target: str | None) -> str | None:
    """The other provider's logout URL for the first ended session opened through one (the
    continuation that finishes this logout stored), or None."""
    continuation = secrets.token_urlsafe(32)
    # Each session's upstream part is taken (dropped), even past the first URL.
    urls = [take_logout_url(s, upstream_return_uri(), continuation) for s in dict.fromkeys(ended)]
    url = next((u for u in urls if u), None)
    if url:
        db.session.add(
            LogoutContinuation(
                id=continuation,
                target=target,
                frames=frames,
                expires_at=now() + CONTINUATION_LIFETIME,
            )
        )
    return url


def upstream_logout_done(req: Request) -> Response:
    """Back from the other provider's logout: the continuation, used once, finishes it. An
    unknown or spent one (a replay, a forged state) shows the logged-out page: every session
    was already ended before the browser left."""
    state = req.args.get("state", "")[:64]
    row = db.session.get(LogoutContinuation, state) if state else None
    if row is None:
        return pages.render(pages.LoggedOut())
    frames, target, live = list(row.frames or []), row.target, row.expires_at > now()
    # Deleted by whoever comes first: of two concurrent returns, one finishes.
    taken = db.session.execute(
        delete(LogoutContinuation).where(LogoutContinuation.id == state),
        execution_options={"synchronize_session": False},
    ).rowcount
    db.session.commit()
    if taken != 1 or not live:
        return pages.render(pages.LoggedOut())
    return _finish(frames, target)


def _hint_claims(value: str) -> dict[str, Any]:
    try:
        return decode_id_token_hint(value)
    except ValueError as error:
        raise LogoutError(str(error)) from error


def _client(hint: dict[str, Any] | None, client_id: str | None) -> Client | None:
    hinted = hint.get("azp") if hint else None
    if hinted and client_id and hinted != client_id:
        raise LogoutError("client_id does not match id_token_hint")
    wanted = hinted or client_id
    if not wanted:
        return None
    client = db.session.get(Client, str(wanted)[:255])  # a NUL was refused by http.guard
    if client is None:
        raise LogoutError("unknown client_id")
    return client


def _redirect_target(client: Client | None, uri: str | None) -> str | None:
    if not uri:
        return None
    if client is None:
        raise LogoutError("post_logout_redirect_uri needs id_token_hint or client_id")
    if uri not in client.post_logout_redirect_uris:
        raise LogoutError("post_logout_redirect_uri is not registered for this client")
    return uri


def _hinted_session(hint: dict[str, Any] | None) -> SsoSession | None:
    """The session the hint names, unless it has already ended."""
    sid = hint.get("sid") if hint else None
    if not isinstance(sid, str) or not sid or "\x00" in sid:
        return None
    session = db.session.get(SsoSession, sid[:64])
    return session if session is not None and session.ended_at is None else None


def _end(sessions: list[SsoSession], client: Client | None) -> list[str]:
    """End each session and its clients' sessions; the front-channel frames to load."""
    frames: list[str] = []
    for session in dict.fromkeys(sessions):
        end_session(session)
        revoke_grants_of_session(session.id)
        backchannel.enqueue(session.id)
        frames += frontchannel.frame_urls(session.id)
        audit.record(
            events.LOGOUT,
            session.national_id,
            client_id=client.client_id if client is not None else None,
            means=session.auth_mode,
            acr=session.acr,
            outcome="success",
            sid=session.id,
        )
    return list(dict.fromkeys(frames))


# --- confirmation: no hint, or a hint that is not this browser's session ----------------------
def _csrf_for(browser: str) -> str:
    # Bound to the browser cookie: another site cannot make the browser post a valid form.
    return bound_token(browser, "logout")


def _confirmed(req: Request) -> bool:
    if req.method != "POST" or req.form.get("confirm") != "yes":
        return False
    cookie = issued_browser_cookie(req)
    return cookie is not None and same_token(req.form.get("csrf_token"), _csrf_for(cookie))


def _confirmation(req: Request) -> Response:
    browser = browser_cookie(req)
    # The hint goes along: after confirmation it still names the client and its session.
    hidden = {name: req.values[name] for name in PARAMS if name in req.values}
    response = pages.render(
        pages.LogoutConfirmation(
            action_url=url_for("protocol.logout"), csrf_token=_csrf_for(browser), hidden=hidden
        )
    )
    set_browser_cookie(response, browser)
    return response


def _failure(details: str) -> Response:
    return pages.render(pages.LogoutRefused(details=details))
