"""Recording: one row per protocol request attributable to a client, when the journal is on.

``after_request`` captures what the client sent and what it got (the answer's body included,
before it leaves); ``teardown_request`` writes the row in a transaction of its own, after the
request's session is over (on SQLite, a second writer beside an unfinished one would wait for
it). Nothing is kept in the process. A row that cannot be written is logged and dropped: the
request's answer stands."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import Flask, Response, g, request
from sqlalchemy import delete, func, insert, select, text
from werkzeug.exceptions import HTTPException

from psc_idp.devtools.journal import masking
from psc_idp.devtools.journal.checks import detect
from psc_idp.devtools.journal.models import JournalEntry
from psc_idp.extensions import db
from psc_idp.observe.request_id import current_client
from psc_idp.protocol import pages
from psc_idp.protocol.client_auth.assertion import claims_of
from psc_idp.protocol.models import Client
from psc_idp.timeutil import now

log = logging.getLogger(__name__)

#: The protocol's views by Flask endpoint, and what the journal calls them.
KINDS = {
    "protocol.authorize_keycloak_path": "authorize",
    "authorization.authorize": "authorize",
    "authorization.resume": "authorize",
    "protocol.pushed_authorization_request": "par",
    "protocol.token": "token",
    "protocol.backchannel_authentication": "ciba",
    "protocol.userinfo": "userinfo",
    "protocol.introspect": "introspection",
    "protocol.revoke": "revocation",
    "protocol.logout": "end_session",
    "api_as.token": "token",
    "api_as.userinfo": "userinfo",
}
#: The kinds whose bearer token names the client (``azp``, ``client_id``).
BEARER_KINDS = frozenset({"userinfo"})
#: Advisory lock namespace (PostgreSQL): the inserts of one client take turns, so that the
#: cap's delete sees every committed row of that client.
LOCK_NAMESPACE = 0x4A524E4C
_CAPTURED = "_psc_journal"
_PAGE = "_psc_journal_page"


def init_app(app: Flask) -> None:
    app.after_request(_capture)
    app.teardown_request(_write_captured)
    _note_pages(app)


def _note_pages(app: Flask) -> None:
    """The protocol's pages (an invalid request, ``form_post``) are rendered by the UI's
    renderer: wrapped, it leaves the page in ``g`` for the journal to read what it said."""
    renderer = app.extensions.get(pages.RENDERER)
    if renderer is None:
        return

    def noting(page: pages.BrowserPage) -> Response:
        g.setdefault(_PAGE, page)
        return renderer(page)

    app.extensions[pages.RENDERER] = noting


def _capture(response: Response) -> Response:
    kind = KINDS.get(request.endpoint or "")
    if kind is None or request.method in ("OPTIONS", "HEAD"):
        return response
    try:
        g.setdefault(_CAPTURED, _captured(kind, response))
    except Exception:  # the journal never fails the request
        log.exception("journal des requêtes : requête non lue")
    return response


def _captured(kind: str, response: Response) -> dict[str, Any]:
    body = b"" if response.is_streamed else response.get_data()
    return {
        "kind": kind,
        "resume": request.endpoint == "authorization.resume",
        "method": request.method,
        "path": request.path,
        "query": list(request.args.items(multi=True)),
        "form": _form(),
        "headers": {
            name: request.headers[name] for name in masking.HEADERS if name in request.headers
        },
        "certificate": bool(
            request.environ.get("SSL_CLIENT_CERT")
            or request.headers.get("Client-Cert")
            or request.headers.get("X-SSL-Client-Cert")
        ),
        "noted_client": current_client(),
        "status": response.status_code,
        "mimetype": response.mimetype or "",
        "location": response.headers.get("Location"),
        "body": body[:65536],
        "page": _page_of(g.get(_PAGE)),
    }


def _form() -> list[tuple[str, str]]:
    """The form as the view read it; nothing for a body refused before it (too large)."""
    try:
        return list(request.form.items(multi=True))
    except HTTPException:
        return []


def _page_of(page: pages.BrowserPage | None) -> dict[str, Any] | None:
    if page is None:
        return None
    if isinstance(page, pages.FormPost):
        return {"name": "form_post", "action": page.action, "fields": dict(page.fields)}
    return {"name": type(page).__name__, "details": str(getattr(page, "details", ""))[:512]}


def _write_captured(_error: BaseException | None) -> None:
    captured = g.pop(_CAPTURED, None)
    if captured is None:
        return
    try:
        db.session.remove()  # the request's transaction is over (as the app context's end)
        entry = build_entry(captured)
        if entry is not None:
            write(entry, _cap())
    except Exception:
        log.exception("journal des requêtes : entrée non écrite")
        db.session.rollback()
    finally:
        db.session.remove()


def _cap() -> int:
    from psc_idp.config import current_settings

    return max(1, current_settings().request_journal_cap)


# --- what the row holds -------------------------------------------------------------------
def build_entry(captured: dict[str, Any]) -> dict[str, Any] | None:
    """The row's values, or None when no registered client can be named."""
    params = _params(captured)
    client_id = _client_id(captured, params)
    client = db.session.get(Client, client_id) if client_id else None
    if client is None:
        return None
    answer = _answer(captured)
    basic = captured["headers"].get("Authorization", "").lower().startswith("basic ")
    checks = (
        []
        if captured["resume"]  # checked when the request was sent
        else detect(captured["kind"], params, client, answer, basic)
    )
    sent: dict[str, Any] = {
        "query": masking.mask_pairs(captured["query"]),
        "form": masking.mask_pairs(captured["form"]),
        "headers": {k: masking.mask_header(k, v) for k, v in captured["headers"].items()},
    }
    if captured["certificate"]:
        sent["client_certificate"] = True
    return {
        "client_id": client.client_id,
        "at": now(),
        "kind": captured["kind"],
        "method": captured["method"],
        "path": masking.mask_path(captured["path"])[:512],
        "status": captured["status"],
        "sent": sent,
        "answer": answer,
        "checks": checks,
    }


def _params(captured: dict[str, Any]) -> dict[str, str]:
    """Query then form, the first value of each name (what the checks read)."""
    params: dict[str, str] = {}
    for name, value in [*captured["query"], *captured["form"]]:
        params.setdefault(name, value)
    return params


def _client_id(captured: dict[str, Any], params: dict[str, str]) -> str | None:
    """The client the protocol found, else the one the request names (form, Basic, an
    assertion's ``iss``, a bearer token's or an ``id_token_hint``'s ``azp``)."""
    if captured["noted_client"]:
        return captured["noted_client"]
    if params.get("client_id"):
        return params["client_id"]
    authorization = captured["headers"].get("Authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "basic":
        return masking.basic_user(credentials)
    for source in (
        params.get("client_assertion"),
        credentials if scheme.lower() in ("bearer", "dpop") else None,
        params.get("access_token") if captured["kind"] in BEARER_KINDS else None,
        params.get("id_token_hint"),
    ):
        named = _named_in(source)
        if named:
            return named
    return None


def _named_in(jws: str | None) -> str | None:
    """The client a JWS names (unverified: it only chooses whose journal shows the request)."""
    if not jws or jws.count(".") != 2:
        return None
    try:
        claims = claims_of(jws)
    except (ValueError, UnicodeDecodeError):
        return None
    for name in ("azp", "client_id", "iss"):
        value = claims.get(name)
        if isinstance(value, str) and value and "://" not in value:
            return value[:255]
    return None


def _answer(captured: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {"status": captured["status"]}
    page = captured.get("page")
    if page is not None and page["name"] == "form_post":
        fields = page["fields"]
        shown = masking.mask_pairs(fields.items())
        answer["form_post"] = {"action": page["action"], "fields": shown}
        answer.update(_outcome_of(fields))
        return answer
    if page is not None:
        answer["page"] = page["name"]
        if page["details"]:
            answer["error_description"] = page["details"]
        return answer
    location = captured["location"]
    if location:
        answer["location"] = masking.mask_url(location)
        answer.update(_redirect_outcome(location))
        return answer
    mimetype = captured["mimetype"]
    if mimetype == "application/json":
        try:
            document = json.loads(captured["body"] or b"null")
        except ValueError:
            document = None
        if isinstance(document, dict):
            answer.update(_document_outcome(captured["kind"], document))
        return answer
    answer["summary"] = {"content_type": mimetype or "—"}
    return answer


def _redirect_outcome(location: str) -> dict[str, Any]:
    parts = urlsplit(location)
    pairs = dict(parse_qsl(parts.query)) | dict(parse_qsl(parts.fragment))
    outcome = _outcome_of(pairs)
    return outcome or {"summary": {"redirect": masking.mask_path(parts.path)}}


def _outcome_of(pairs: dict[str, str]) -> dict[str, Any]:
    """An authorization response's parameters: its error, or what it issued."""
    if "error" in pairs:
        return {"error": pairs["error"], "error_description": pairs.get("error_description")}
    issued = sorted(
        name for name in ("code", "access_token", "id_token", "response") if name in pairs
    )
    return {"summary": {"issued": issued}} if issued else {}


def _document_outcome(kind: str, document: dict[str, Any]) -> dict[str, Any]:
    if "error" in document:
        return {
            "error": str(document["error"])[:128],
            "error_description": str(document.get("error_description") or "")[:512] or None,
        }
    if kind == "token":
        keys = ("token_type", "scope", "expires_in", "refresh_expires_in")
        summary = {k: document[k] for k in keys if k in document}
        issued = ("access_token", "id_token", "refresh_token", "issued_token_type")
        summary["issued"] = [k for k in issued if k in document]
    elif kind == "introspection":
        keys = ("active", "scope", "token_type", "client_id", "exp")
        summary = {k: document[k] for k in keys if k in document}
    elif kind in ("par", "ciba"):
        summary = {k: v for k, v in document.items() if k in ("expires_in", "interval")}
        for name in ("request_uri", "auth_req_id"):
            if name in document:
                summary[name] = masking.shortened(str(document[name]))
    else:
        summary = {"claims": sorted(document)[:64]}
    return {"summary": summary}


# --- the write, capped ---------------------------------------------------------------------
def write(entry: dict[str, Any], cap: int) -> None:
    """Insert, then drop the client's rows beyond the newest ``cap``, in one transaction. On
    PostgreSQL the client's writers take turns on an advisory lock (two concurrent inserts
    would each keep ``cap`` rows of their own snapshot: ``cap + 1`` together); SQLite has one
    writer at a time already."""
    session = db.session
    client_id = entry["client_id"]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(CAST(:ns AS integer), hashtext(:client))"),
            {"ns": LOCK_NAMESPACE, "client": client_id},
        )
    session.execute(insert(JournalEntry).values(**entry))
    oldest_kept = (
        select(JournalEntry.id)
        .where(JournalEntry.client_id == client_id)
        .order_by(JournalEntry.id.desc())
        .offset(cap - 1)
        .limit(1)
        .scalar_subquery()
    )
    session.execute(
        delete(JournalEntry).where(
            JournalEntry.client_id == client_id, JournalEntry.id < func.coalesce(oldest_kept, 0)
        )
    )
    session.commit()
