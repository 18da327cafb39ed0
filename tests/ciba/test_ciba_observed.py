"""A CIBA login is counted and audited as a browser login is: the request, the phone's answer
(and how long it took), the login, the tokens."""

from __future__ import annotations

from tests.ciba.conftest import GRANT
from tests.means.ecps.helpers import activate_by_contact
from tests.observe.test_audit import _events_since, _last_id
from tests.observe.test_metrics import scrape, value

NURSE = "899700100490"


def test_an_approved_request_is_counted_and_audited(app, dpi):
    phone = activate_by_contact(app, NURSE, pin="1357")
    before, start = scrape(app), _last_id(app)
    asked = dpi.ask(login_hint=NURSE, acr_values="eidas1").get_json()
    request = next(r for r in phone.pending() if r["kind"] == "ciba")
    assert phone.decide(request, "approve", pin="1357").status_code == 200
    assert dpi.poll(asked["auth_req_id"]).status_code == 200
    after = scrape(app)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("psc_ciba_requests_total", outcome="accepted") == 1
    assert delta("psc_ciba_requests_total", outcome="approved") == 1
    assert delta("psc_ecps_push_answer_seconds_count", outcome="approved") == 1
    assert delta("psc_logins_total", means="MOBILE", outcome="success") == 1
    assert delta("psc_tokens_issued_total", grant_type=GRANT, client="dpi-test") == 1

    events = [e for e in _events_since(app, start) if e.national_id == NURSE]
    names = [e.event for e in events]
    assert names[:2] == ["push_sent", "ciba_requested"]  # the means pushes, then it is stored
    assert {e.client_id for e in events[:2]} == {"dpi-test"}
    assert "push_approved" in names
    login = next(e for e in events if e.event == "login_succeeded")
    assert (login.client_id, login.means, login.acr) == ("dpi-test", "MOBILE", "eidas1")
    assert login.detail["headless"] is True
    issued = next(e for e in events if e.event == "token_issued")
    assert issued.detail["grant_type"] == GRANT


def test_a_denied_request_is_a_failed_login(app, dpi):
    phone = activate_by_contact(app, NURSE)
    before, start = scrape(app), _last_id(app)
    denied = dpi.ask(login_hint=NURSE, binding_message="07").get_json()["auth_req_id"]
    request = next(r for r in phone.pending() if r["binding_message"] == "07")
    phone.decide(request, "deny")
    assert dpi.poll(denied).get_json()["error"] == "access_denied"
    after = scrape(app)
    assert value(after, "psc_ciba_requests_total", outcome="denied") == (
        value(before, "psc_ciba_requests_total", outcome="denied") + 1
    )
    assert value(after, "psc_logins_total", means="MOBILE", outcome="failure") == (
        value(before, "psc_logins_total", means="MOBILE", outcome="failure") + 1
    )
    failed = [e for e in _events_since(app, start) if e.event == "login_failed"]
    assert [(e.national_id, e.client_id, e.means) for e in failed] == [
        (NURSE, "dpi-test", "MOBILE")
    ]
