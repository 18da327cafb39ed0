"""The console's blueprint and what every page shares: the session guard (every route but the
login's redirects to the login page), CSRF on every POST, confirmation of destructive actions,
audit rows naming the administrator."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from psc_idp import audit
from psc_idp.admin import sessions
from psc_idp.admin.models import AdminSession
from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.login.csrf import same_token

bp = Blueprint("admin", __name__)

#: Routes reachable without an administrator session.
PUBLIC = frozenset({"admin.login_page", "admin.login", "admin.card_start", "admin.card_return"})
#: Answer of ``confirmed()`` forms: the second post of a destructive action.
CONFIRM_VALUE = "oui"


@bp.before_request
def require_session() -> ResponseReturnValue | None:
    if request.endpoint in PUBLIC:
        return None
    session = sessions.current(request)
    if session is None:
        # A page, never JSON: the console is for browsers.
        return redirect(url_for("admin.login_page"))
    sessions.touch(session)
    db.session.commit()  # the idle timeout counts from the last request
    g.admin_session = session
    if request.method == "POST" and not same_token(
        request.form.get("csrf_token"), sessions.csrf_token(session)
    ):
        abort(400, description="Le formulaire a expiré : rechargez la page et recommencez.")
    return None


TITLES = {
    400: "Demande invalide",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non autorisée",
    413: "Demande trop volumineuse",
}


@bp.errorhandler(HTTPException)
def refused(error: HTTPException) -> ResponseReturnValue:
    """A French page saying what was wrong (the console's own messages), never JSON."""
    db.session.rollback()
    status = error.code or 500
    own = error.description if error.description != type(error).description else ""
    message = own or "La demande n'a pas pu être traitée."
    return page("error.html", title=TITLES.get(status, "Erreur"), message=message), status


@bp.after_request
def no_store(response: Any) -> Any:
    # Pages with client settings or a secret shown once: never kept by a cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def admin() -> AdminSession:
    return g.admin_session


def page(template: str, **context: Any) -> str:
    session = g.get("admin_session")
    return render_template(
        f"admin/{template}",
        admin_login=session.login if session else None,
        csrf_token=sessions.csrf_token(session) if session else "",
        dev_mode=current_settings().dev_mode,
        **context,
    )


def audited(
    event: str,
    national_id: str | None = None,
    *,
    client_id: str | None = None,
    device_id: str | None = None,
    outcome: str = "success",
    **detail: Any,
) -> None:
    """An admin action's audit row, staged with the action; ``actor`` is the administrator."""
    audit.record(
        event,
        national_id,
        device_id,
        client_id=client_id,
        means="admin",
        outcome=outcome,
        actor=admin().login,
        **detail,
    )


def confirmed(question: str, cancel_url: str) -> ResponseReturnValue | None:
    """None once the administrator confirmed; else the confirmation page, which posts the
    same form again with ``confirm=oui`` (no script: works with any browser and keyboard)."""
    if request.form.get("confirm") == CONFIRM_VALUE:
        return None
    fields = [
        (k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", "confirm")
    ]
    return page(
        "confirm.html",
        question=question,
        action=request.path,
        fields=fields,
        cancel_url=cancel_url,
    )
