"""``psc-idp purge`` removes what expired and keeps what is alive."""

from __future__ import annotations

import json
from datetime import timedelta

from psc_idp.extensions import db
from psc_idp.login.models import SsoSession
from psc_idp.protocol.models import AccessToken, RefreshToken
from tests.helpers import USERINFO, Browser, login_and_get_tokens


def test_purge_removes_expired_rows_only(app, browser, clients):
    alive = login_and_get_tokens(app, browser, clients.web)
    expired = login_and_get_tokens(app, Browser(app), clients.post)  # another professional's SSO
    with app.app_context():
        sid = expired["session_state"]
        for model in (AccessToken, RefreshToken):
            for row in db.session.query(model).filter(model.grant.has(sid=sid)):
                row.expires_at -= timedelta(days=1)
        db.session.get(SsoSession, sid).created_at -= timedelta(days=1)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["purge", "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert counts["access_tokens"] >= 1 and counts["refresh_tokens"] >= 1
    assert counts["sso_sessions"] >= 1
    headers = {"Authorization": f"Bearer {alive['access_token']}"}
    assert app.test_client().get(USERINFO, headers=headers).status_code == 200
