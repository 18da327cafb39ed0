"""Rate limits: refused past the configured count with 429, ``Retry-After`` and Keycloak-like
JSON on the protocol endpoints (a French page on the login pages), allowed again once the
window has passed."""

from __future__ import annotations

import pytest

from psc_idp.rate_limits import parse
from tests.defend.conftest import defaults, new_client
from tests.helpers import INTROSPECT, OIDC, REDIRECT, TOKEN, basic

PAR = f"{OIDC}/ext/par/request"
CIBA = f"{OIDC}/ext/ciba/auth"
DOCTOR = "899700218896"


@pytest.fixture(scope="module")
def strict(make_app):
    return make_app(
        **{
            **defaults(),
            "rate_limit_token": "3/min",
            "rate_limit_introspection": "3/min",
            "rate_limit_par": "3/min",
            "rate_limit_ciba": "3/min",
            "rate_limit_ciba_per_national_id": "2/min",
            "rate_limit_login_per_ip": "3/min",
        }
    )


def _token(app, client_id, secret):
    return app.test_client().post(
        TOKEN, data={"grant_type": "client_credentials"}, headers=basic(client_id, secret)
    )


def _introspect(app, client_id, secret):
    return app.test_client().post(
        INTROSPECT, data={"token": "not-a-token"}, headers=basic(client_id, secret)
    )


def _par(app, client_id, secret):
    data = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    return app.test_client().post(PAR, data=data, headers=basic(client_id, secret))


def _ciba(app, client_id, secret, login_hint="899700999990"):
    data = {"scope": "openid", "login_hint": login_hint, "binding_message": "42"}
    return app.test_client().post(CIBA, data=data, headers=basic(client_id, secret))


def _assert_refused(response, limit_seconds: int) -> None:
    assert response.status_code == 429, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert body["error"] == "too_many_requests"
    assert body["error_description"]
    assert 1 <= int(response.headers["Retry-After"]) <= limit_seconds
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("call", [_token, _introspect, _par, _ciba], ids=lambda c: c.__name__)
def test_each_protocol_endpoint_refuses_past_its_limit_then_recovers(strict, clock, call):
    client_id, secret = new_client(strict)
    answers = [call(strict, client_id, secret) for _ in range(3)]
    assert all(answer.status_code != 429 for answer in answers)
    _assert_refused(call(strict, client_id, secret), 60)
    clock.advance(61)
    assert call(strict, client_id, secret).status_code != 429


def test_the_limit_is_per_authenticated_client(strict, clock):
    first, first_secret = new_client(strict)
    other, other_secret = new_client(strict)
    for _ in range(3):
        _token(strict, first, first_secret)
    assert _token(strict, first, first_secret).status_code == 429
    assert _token(strict, other, other_secret).status_code == 200
    # Naming a client without its secret spends nothing of its quota.
    for _ in range(5):
        assert _token(strict, other, "wrong").status_code == 401


def test_ciba_requests_are_limited_per_professional(strict, clock):
    first, first_secret = new_client(strict)
    other, other_secret = new_client(strict)
    hint = "899700101068"  # Mme Chloe BLANC, without an e-CPS here: refused, no push sent
    assert _ciba(strict, first, first_secret, hint).status_code != 429
    assert _ciba(strict, other, other_secret, hint).status_code != 429
    _assert_refused(_ciba(strict, other, other_secret, hint), 60)
    assert "user" in _ciba(strict, first, first_secret, hint).get_json()["error_description"]


def test_login_pages_are_limited_per_address_with_a_french_page(strict, clock):
    http = strict.test_client()
    http.environ_base["REMOTE_ADDR"] = "192.0.2.40"
    for _ in range(3):
        assert http.get("/wallet/login/unknown-login").status_code != 429
    refused = http.get("/wallet/login/unknown-login", headers={"Accept": "text/html"})
    assert refused.status_code == 429
    assert refused.mimetype == "text/html"
    assert "Trop de demandes de connexion depuis votre adresse" in refused.get_data(as_text=True)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    elsewhere = strict.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.41"
    assert elsewhere.get("/wallet/login/unknown-login").status_code != 429
    clock.advance(61)
    assert http.get("/wallet/login/unknown-login").status_code != 429


def test_the_defaults_do_not_refuse_a_busy_client(defended):
    client_id, secret = new_client(defended)
    statuses = {_token(defended, client_id, secret).status_code for _ in range(50)}
    assert statuses == {200}


@pytest.mark.parametrize(
    ("text", "count", "period"),
    [("600/min", 600, 60), ("20/10s", 20, 10), ("3/h", 3, 3600), ("5/2min", 5, 120)],
)
def test_rates_read_as_count_per_period(text, count, period):
    rate = parse(text)
    assert rate is not None and (rate.count, rate.period) == (count, period)


@pytest.mark.parametrize("text", ["0", "", "0/min"])
def test_zero_or_empty_is_no_limit(text):
    assert parse(text) is None


@pytest.mark.parametrize("text", ["ten/min", "5/fortnight", "5/2d", "-1/s"])
def test_an_unreadable_rate_refuses_to_start(make_app, text):
    with pytest.raises(ValueError, match="rate_limit_token"):
        make_app(rate_limit_token=text)
