"""The professional's account space (``/wallet/account``): their e-CPS devices and FIDO keys,
and the recent events of their means. Reached with the SSO session; without one, a login to the
wallet itself starts first. Each means serves its own actions (``ecps_account``, ``keys``)."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask.typing import ResponseReturnValue

from psc_idp import audit
from psc_idp.audit.events import LABELS as TRAIL_LABELS
from psc_idp.config import current_settings
from psc_idp.directory.lookup import display_name, find_practitioner
from psc_idp.extensions import db
from psc_idp.login.account import account_csrf, session_or_login
from psc_idp.means.ecps import devices
from psc_idp.means.fi_tiers.pairing import pairings
from psc_idp.means.fi_tiers.providers import all_providers
from psc_idp.means.fido.enrolment import keys_for
from psc_idp.means.registry import audit_labels, registered_authenticators

bp = Blueprint("account", __name__)


@bp.get("/account")
def home() -> ResponseReturnValue:
    session, login = session_or_login(url_for("account.home"))
    if login is not None:
        return login
    practitioner = find_practitioner(session.national_id)
    labels = {**TRAIL_LABELS, **audit_labels()}
    page = render_template(
        "wallet/account.html",
        name=display_name(practitioner) if practitioner else session.national_id,
        national_id=session.national_id,
        auth_mode=session.auth_mode,
        devices=devices.devices_for(session.national_id),
        keys=keys_for(session.national_id),
        pairings=pairings(session.national_id),
        provider_names={p.alias: p.name for p in all_providers()},
        events=[(e, labels.get(e.event, e.event)) for e in audit.recent(session.national_id)],
        setup_urls={a.id: a.setup_url() for a in registered_authenticators()},
        csrf_token=account_csrf(session),
        logout_url=f"{current_settings().issuer}/protocol/openid-connect/logout",
        dev_mode=current_settings().dev_mode,
    )
    db.session.commit()
    return page
