"""What a browser-facing protocol endpoint answers when the answer is a page: a value naming
the page and its facts. The protocol renders nothing; the UI layer registers the one renderer
(``register_renderer``, done by ``psc_idp.wallet``) that turns these values into French pages.

The protocol keeps what belongs to it: status codes, cookies, redirects, response modes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, current_app

RENDERER = "psc_protocol_pages"


@dataclass(frozen=True)
class BrowserPage:
    status: int = 200


@dataclass(frozen=True)
class InvalidAuthorizationRequest(BrowserPage):
    """No registered redirect URI to send the error to: the professional is told here."""

    status: int = 400
    details: str = ""
    #: In development mode, the received and registered redirect URIs (``redirect_check``).
    redirect_check: dict[str, Any] | None = None


@dataclass(frozen=True)
class UnencryptableResponse(BrowserPage):
    """The client asked for encrypted authorization responses and no key of its can encrypt
    them: the response is not sent in clear, the professional is told here."""

    status: int = 400
    details: str = ""


@dataclass(frozen=True)
class AlreadyResumed(BrowserPage):
    """The login transaction was resumed already (a second tab, a reload)."""

    status: int = 400
    details: str = "used_transaction"


@dataclass(frozen=True)
class LogoutRefused(BrowserPage):
    status: int = 400
    details: str = ""


@dataclass(frozen=True)
class LogoutConfirmation(BrowserPage):
    """The professional confirms the logout with a form bound to the browser."""

    action_url: str = ""
    csrf_token: str = ""
    hidden: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoggedOut(BrowserPage):
    """The session has ended. ``frames``: the clients' front-channel logout URLs, loaded in
    hidden iframes; ``continue_url``: where the browser goes once they have loaded."""

    frames: tuple[str, ...] = ()
    continue_url: str | None = None


@dataclass(frozen=True)
class FormPost(BrowserPage):
    """Response mode ``form_post``: a page that posts ``fields`` to ``action``."""

    action: str = ""
    fields: dict[str, str] = field(default_factory=dict)


def register_renderer(app: Flask, renderer: Callable[[BrowserPage], Response]) -> None:
    app.extensions[RENDERER] = renderer


def render(page: BrowserPage) -> Response:
    """The UI's page for ``page``, with ``page.status``."""
    response = current_app.extensions[RENDERER](page)
    response.status_code = page.status
    return response
