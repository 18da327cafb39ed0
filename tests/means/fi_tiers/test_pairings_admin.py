"""Pairings seen by their owner (account page) and by an administrator (psc-idp pairings)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from psc_idp.extensions import db
from psc_idp.means.fi_tiers.models import FiTiersPairing
from psc_idp.timeutil import now
from tests.helpers import Browser
from tests.means.fi_tiers.conftest import ALIAS

OWNER = "899700100987"
SOMEONE_ELSE = "899700101068"


def _pair(app, local_id: str, national_id: str, paired_by: str = "MOBILE") -> None:
    with app.app_context():
        db.session.merge(
            FiTiersPairing(
                alias=ALIAS,
                local_id=local_id,
                national_id=national_id,
                paired_by=paired_by,
                created_at=now(),
                expires_at=now() + timedelta(days=1),
            )
        )
        db.session.commit()


def _exists(app, local_id: str) -> bool:
    with app.app_context():
        return db.session.get(FiTiersPairing, (ALIAS, local_id)) is not None


def test_account_page_lists_and_removes_own_pairings(app, configured):
    _pair(app, "owner-local", OWNER)
    _pair(app, "owner-card", OWNER, paired_by="CARD")
    _pair(app, "other-local", SOMEONE_ELSE)
    browser = Browser(app)
    start = browser.http.get("/wallet/account")
    browser.pick_identity(start.headers["Location"], OWNER, "CARD")
    html = browser.http.get("/wallet/account").get_data(as_text=True)
    assert "CHU de démonstration" in html and "owner-local" in html
    assert "other-local" not in html
    assert "Associé avec la carte CPS" in html and "Associé avec l&#39;application e-CPS" in html
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    form = {"csrf_token": csrf, "alias": ALIAS}
    forged = browser.http.post("/wallet/account/pairings/remove", data={**form, "csrf_token": ""})
    assert forged.status_code == 400
    not_mine = browser.http.post(
        "/wallet/account/pairings/remove", data={**form, "local_id": "other-local"}
    )
    assert not_mine.status_code == 404 and _exists(app, "other-local")
    removed = browser.http.post(
        "/wallet/account/pairings/remove", data={**form, "local_id": "owner-local"}
    )
    assert removed.status_code == 302 and not _exists(app, "owner-local")
    browser.http.post("/wallet/account/pairings/remove", data={**form, "local_id": "owner-card"})
    html = browser.http.get("/wallet/account").get_data(as_text=True)
    assert "Aucun compte d'établissement associé" in html.replace("&#39;", "'")
    assert "Association d'un compte d'établissement supprimée" in html.replace("&#39;", "'")


def test_cli_lists_and_removes(app, configured):
    _pair(app, "cli-local", OWNER)
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["pairings", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = [row for row in json.loads(listed.output) if row["local_id"] == "cli-local"]
    assert rows[0]["national_id"] == OWNER and rows[0]["expired"] is False
    assert runner.invoke(args=["pairings", "remove", ALIAS, "cli-local"]).exit_code == 0
    assert not _exists(app, "cli-local")
    again = runner.invoke(args=["pairings", "remove", ALIAS, "cli-local"])
    assert again.exit_code != 0 and "Aucune association" in again.output
