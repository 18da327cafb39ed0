"""Pairings in the account space: the professional removes one (the next login through that
establishment asks for the e-CPS approval again)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, url_for
from flask.typing import ResponseReturnValue

from psc_idp import audit
from psc_idp.extensions import db
from psc_idp.login.account import account_csrf
from psc_idp.login.csrf import same_token
from psc_idp.login.sessions import current_session
from psc_idp.means.fi_tiers.pairing import remove_pairing

bp = Blueprint("fi_tiers_account", __name__)


@bp.post("/account/pairings/remove")
def remove() -> ResponseReturnValue:
    session = current_session(request)
    if session is None:
        abort(403)
    if not same_token(request.form.get("csrf_token"), account_csrf(session)):
        abort(400)
    alias, local_id = request.form.get("alias", "")[:64], request.form.get("local_id", "")[:255]
    # Only the professional's own pairing: another's is as absent as an unknown one.
    if not remove_pairing(alias, local_id, national_id=session.national_id):
        abort(404)
    audit.record("fi_tiers_unpaired", session.national_id, alias=alias, by="account")
    db.session.commit()
    return redirect(url_for("account.home"))
