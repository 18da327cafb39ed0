"""Development-only pages: the outbox of e-mails and SMS (``/dev/outbox``)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from psc_idp.ecps import outbox

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.get("/outbox")
def outbox_page() -> ResponseReturnValue:
    national_id = request.args.get("national_id", "")[:64] or None
    return render_template(
        "wallet/outbox.html",
        messages=outbox.latest(national_id, limit=100),
        national_id=national_id or "",
        dev_mode=True,
    )
