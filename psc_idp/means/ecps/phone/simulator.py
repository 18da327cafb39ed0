"""The e-CPS simulator, at ``/ecps``: a phone-sized web app acting as the professional's phone.

It is a device like any other: it keeps its private keys in the browser (IndexedDB,
non-extractable WebCrypto keys) and talks to the device API (``api.py``) exactly as a mobile
app would, so the server gives it no privilege. The page is static; everything happens in
``static/js/ecps-simulator.js``."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask.typing import ResponseReturnValue

from psc_idp.config import current_settings
from psc_idp.means.ecps.phone import api

bp = Blueprint("ecps_simulator", __name__)

#: The page signs with the professional's keys: stricter than the common policy
#: (psc_idp/http/headers.py, which adds the other headers and keeps this one): nothing but
#: its own script, style and API, and no form.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-cache",
}


@bp.get("/ecps")
@bp.get("/ecps/")
def simulator() -> ResponseReturnValue:
    settings = current_settings()
    page = render_template(
        "ecps/simulator.html",
        api_path=api.bp.url_prefix,
        # Device tokens name the public URL (``htu``); the server compares it with
        # PSC_BASE_URL, which differs from the page's origin when the page is reached by
        # another name (127.0.0.1, a LAN address).
        public_base=settings.base_url.rstrip("/"),
        outbox_url=url_for("dev.outbox_page") if settings.dev_mode else "",
        dev_mode=settings.dev_mode,
    )
    return page, 200, HEADERS
