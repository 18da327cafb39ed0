"""Activation flooding: a live activation is reused instead of sending codes again, and new
activations are throttled per national id and per client address (429, Retry-After)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from psc_idp import throttle
from psc_idp.extensions import db
from psc_idp.means.ecps.models import EcpsActivation, OutboxMessage
from psc_idp.timeutil import now
from tests.means.ecps.helpers import completion, outbox_codes

API = "/ecps/api/v1"
DOCTOR = "899700427885"  # Dr Kit DOC0042788
LOCUM = "899700100987"
UNKNOWN = "899700999990"


@pytest.fixture(scope="module")
def limited(make_app):
    """An app with the default throttles (the suite's own app turns them off)."""
    return make_app(ecps_activations_per_national_id=3, ecps_activations_per_ip=20)


@pytest.fixture(autouse=True)
def no_live_activation_left(limited):
    """The suite shares one database: later tests expect to start activations afresh."""
    yield
    with limited.app_context():
        db.session.execute(
            update(EcpsActivation)
            .where(EcpsActivation.expires_at > now())
            .values(expires_at=now() - timedelta(seconds=1))
        )
        db.session.commit()


def _client(app, address: str):
    http = app.test_client()
    http.environ_base["REMOTE_ADDR"] = address
    return http


def _sent(app, national_id: str) -> int:
    with app.app_context():
        query = select(func.count()).where(OutboxMessage.national_id == national_id)
        return db.session.scalar(query)


def test_a_live_activation_is_reused_without_sending_again(limited):
    http = _client(limited, "192.0.2.1")
    first = http.post(f"{API}/activations", json={"national_id": DOCTOR})
    assert first.status_code == 201 and first.get_json()["codes_already_sent"] is False
    sent = _sent(limited, DOCTOR)
    for _ in range(10):
        again = http.post(f"{API}/activations", json={"national_id": DOCTOR})
        assert again.status_code == 200
        body = again.get_json()
        assert body["activation_id"] == first.get_json()["activation_id"]
        assert body["codes_already_sent"] is True
        assert "déjà été envoyés" in body["message"]
    assert _sent(limited, DOCTOR) == sent
    # The codes sent the first time still activate.
    done = http.post(
        f"{API}/activations/{body['activation_id']}/complete",
        json=completion(body["activation_id"], *outbox_codes(limited, DOCTOR)),
    )
    assert done.status_code == 201, done.get_json()


def test_an_unknown_national_id_answers_the_same_way(limited):
    http = _client(limited, "192.0.2.2")
    first = http.post(f"{API}/activations", json={"national_id": UNKNOWN})
    again = http.post(f"{API}/activations", json={"national_id": UNKNOWN})
    assert (first.status_code, again.status_code) == (201, 200)
    assert set(again.get_json()) == set(first.get_json())
    assert again.get_json()["codes_already_sent"] is True


def test_new_codes_are_throttled_per_national_id(limited):
    http = _client(limited, "192.0.2.3")
    for _ in range(3):
        started = http.post(f"{API}/activations", json={"national_id": LOCUM})
        assert started.status_code == 201
        activation_id = started.get_json()["activation_id"]
        for _ in range(5):  # used up: the next start makes a new activation
            wrong = http.post(
                f"{API}/activations/{activation_id}/complete",
                json=completion(activation_id, "000000", "000000"),
            )
            assert wrong.get_json()["error"] == "invalid_code"
    sent = _sent(limited, LOCUM)
    refused = http.post(f"{API}/activations", json={"national_id": LOCUM})
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "too_many_requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert _sent(limited, LOCUM) == sent


def test_starts_are_throttled_per_address(limited):
    http = _client(limited, "192.0.2.4")
    for _ in range(20):
        assert http.post(f"{API}/activations", json={"national_id": UNKNOWN}).status_code < 300
    refused = http.post(f"{API}/activations", json={"national_id": DOCTOR})
    assert refused.status_code == 429
    assert "adresse" in refused.get_json()["error_description"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 600
    elsewhere = _client(limited, "192.0.2.5")
    assert elsewhere.post(f"{API}/activations", json={"national_id": UNKNOWN}).status_code == 200


def test_old_throttle_windows_are_purged(limited):
    with limited.app_context():
        old = now() - timedelta(seconds=throttle.MAX_WINDOW + 60)
        db.session.add(throttle.ThrottleWindow(key="old", window_start=old, count=7))
        db.session.commit()
        assert throttle.hit("a key never seen", limit=5, window=60).allowed
        assert db.session.get(throttle.ThrottleWindow, ("old", old)) is None


def test_a_forged_forwarded_for_does_not_dodge_the_address_throttle(limited):
    http = _client(limited, "192.0.2.6")
    answers = [
        http.post(
            f"{API}/activations",
            json={"national_id": UNKNOWN},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        ).status_code
        for n in range(21)
    ]
    assert answers[-1] == 429 and max(answers[:-1]) < 300


def test_behind_a_trusted_proxy_the_forwarded_address_counts(make_app):
    app = make_app(ecps_activations_per_ip=2, trusted_proxies=["192.0.2.7"])
    http = _client(app, "192.0.2.7")

    def start(address: str) -> int:
        return http.post(
            f"{API}/activations",
            json={"national_id": UNKNOWN},
            headers={"X-Forwarded-For": f"203.0.113.50, {address}"},
        ).status_code

    assert [start("198.51.100.1") for _ in range(3)][-1] == 429
    assert start("198.51.100.2") < 300
