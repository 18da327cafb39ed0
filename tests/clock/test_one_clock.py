"""One clock: aware UTC in code, naive UTC in the database, whatever the host's timezone."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from psc_idp.extensions import db
from psc_idp.means.ecps import pushes
from psc_idp.replay import SeenOnce
from psc_idp.timeutil import UTCDateTime, local_display, now, to_epoch
from tests.means.ecps.helpers import activate_by_contact

NURSE = "899700100490"


@pytest.fixture
def paris_host() -> Iterator[None]:
    """The process runs as a server in France would: local time is Europe/Paris."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Paris"
    time.tzset()
    assert time.localtime().tm_gmtoff in (3600, 7200)
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_now_is_aware_utc_and_epoch_does_not_depend_on_the_host(paris_host):
    moment = now()
    assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)
    assert abs(to_epoch(moment) - time.time()) < 2


def test_columns_refuse_naive_datetimes_and_read_back_aware():
    column = UTCDateTime()
    paris = datetime(2026, 12, 1, 9, 0, tzinfo=UTC).astimezone()
    stored = column.process_bind_param(paris, None)
    assert stored == datetime(2026, 12, 1, 9, 0)  # naive UTC in the database
    assert column.process_result_value(stored, None) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(datetime(2026, 12, 1, 9, 0), None)


def test_a_stored_moment_reads_back_the_same_instant(app, paris_host):
    with app.app_context():
        expires = now() + timedelta(minutes=5)
        db.session.add(SeenOnce(key="clock-test", expires_at=expires))
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(SeenOnce, "clock-test").expires_at == expires
        db.session.delete(db.session.get(SeenOnce, "clock-test"))
        db.session.commit()


def test_an_ecps_decision_is_accepted_on_a_paris_host(app, paris_host):
    phone = activate_by_contact(app, NURSE, pin="2468")
    with app.app_context():
        push = pushes.create_push(NURSE, "login", "test-web", "Service de test", "17")
        db.session.commit()
        push_id = push.id
    request = next(r for r in phone.pending() if r["id"] == push_id)
    answer = phone.decide(request, "approve", pin="2468")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "approved"


def test_pages_show_times_in_paris():
    winter = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 8, 30, tzinfo=UTC)
    assert local_display(winter) == "01/12/2026 09:30"
    assert local_display(summer) == "01/07/2026 10:30"
