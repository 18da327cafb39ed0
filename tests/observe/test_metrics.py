"""/metrics: protected (token, allow-list, loopback in development), and counting what happened:
a real login and token exchange move the counters they should, by exactly one."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from psc_idp.observe.metrics import count_refusal
from tests.helpers import login_and_get_tokens, token_call

SECRET = "scrape-me-0123456789"


def scrape(app, **headers: str) -> dict[tuple[str, frozenset], float]:
    response = app.test_client().get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_login_and_tokens_are_counted(app, browser, clients):
    before = scrape(app)
    tokens = login_and_get_tokens(app, browser, clients.web)
    refreshed = token_call(
        app, clients.web, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refreshed.status_code == 200
    after = scrape(app)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("psc_logins_total", means="MOBILE", outcome="success") == 1
    web = clients.web.client_id
    assert delta("psc_tokens_issued_total", grant_type="authorization_code", client=web) == 1
    assert delta("psc_tokens_issued_total", grant_type="refresh_token", client=web) == 1
    token_latency = "psc_http_request_duration_seconds_count"
    assert delta(token_latency, endpoint="protocol.token", method="POST") == 2
    assert delta("psc_http_responses_total", endpoint="protocol.token", status="200") == 2
    # Endpoint names, never raw paths: the login page's transaction id is no label.
    assert not any("/wallet/login/" in str(labels) for _, labels in after)


def test_a_failed_client_authentication_issues_nothing(app, clients):
    before = scrape(app)
    response = app.test_client().post(
        "/auth/realms/esante-wallet/protocol/openid-connect/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic d3Jvbmc6d3Jvbmc="},
    )
    assert response.status_code == 401
    after = scrape(app)
    assert value(after, "psc_http_responses_total", endpoint="protocol.token", status="401") == (
        value(before, "psc_http_responses_total", endpoint="protocol.token", status="401") + 1
    )
    issued = [k for k in after if k[0] == "psc_tokens_issued_total" and after[k] != before.get(k)]
    assert issued == []


def test_rate_limit_refusals_are_exposed(app):
    before = value(scrape(app), "psc_rate_limit_refusals_total", limit="token_per_client")
    count_refusal("token_per_client")
    count_refusal("token_per_client")
    after = value(scrape(app), "psc_rate_limit_refusals_total", limit="token_per_client")
    assert after == before + 2


def test_dev_mode_opens_metrics_to_loopback_only(app):
    client = app.test_client()
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    far = client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert far.status_code == 403
    assert far.get_json()["error"] == "forbidden"


def test_outside_dev_mode_metrics_are_closed_until_configured(make_app):
    app = make_app(dev_mode=False)
    response = app.test_client().get("/metrics")
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_bearer_token(make_app):
    app = make_app(dev_mode=False, metrics_token=SECRET)
    client = app.test_client()
    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {SECRET}"}).status_code == 401
    assert scrape(app, Authorization=f"Bearer {SECRET}")  # from anywhere, with the token
    far = client.get(
        "/metrics",
        headers={"Authorization": f"Bearer {SECRET}"},
        environ_base={"REMOTE_ADDR": "198.51.100.4"},
    )
    assert far.status_code == 200


def test_allow_list_and_token_together(make_app):
    app = make_app(dev_mode=False, metrics_token=SECRET, metrics_allow=["10.0.0.0/8"])
    client = app.test_client()
    inside = {"REMOTE_ADDR": "10.1.2.3"}
    good = {"Authorization": f"Bearer {SECRET}"}
    assert client.get("/metrics", headers=good, environ_base=inside).status_code == 200
    assert client.get("/metrics", environ_base=inside).status_code == 401
    outside = client.get("/metrics", headers=good, environ_base={"REMOTE_ADDR": "11.0.0.1"})
    assert outside.status_code == 403


def test_allow_list_alone(make_app):
    app = make_app(dev_mode=False, metrics_allow=["192.0.2.0/24", "::1"])
    client = app.test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/metrics").status_code == 403  # 127.0.0.1 is not listed
