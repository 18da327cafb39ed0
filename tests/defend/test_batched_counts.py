"""Large limits are counted in batches (``throttle.batch_for``): a process adds its hits to the
database every fiftieth of the limit, so a busy client costs one statement per batch; small
limits are still counted at each hit, exactly."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select

from psc_idp import throttle
from psc_idp.extensions import db
from psc_idp.throttle import ThrottleWindow


def _stored(app) -> int:
    """What the database holds of the test's counter (its key is hashed: the only row)."""
    return db.session.scalar(select(func.coalesce(func.sum(ThrottleWindow.count), 0)))


def test_batch_sizes():
    assert throttle.batch_for(10) == 1 and throttle.batch_for(99) == 1
    assert throttle.batch_for(3000) == 60
    assert throttle.batch_for(0) == 1


def test_a_large_limit_is_written_once_per_batch_and_still_refuses(app):
    with app.app_context():
        db.session.execute(ThrottleWindow.__table__.delete())
        db.session.commit()
        key, limit = f"batched {secrets.token_hex(4)}", 500  # batches of 10
        batch = throttle.batch_for(limit)
        verdicts = [throttle.hit(key, limit, 60, batch=batch) for _ in range(batch - 1)]
        assert all(v.allowed for v in verdicts) and verdicts[-1].count == batch - 1
        assert _stored(app) == 0  # counted here, not written yet
        assert throttle.hit(key, limit, 60, batch=batch).count == batch
        assert _stored(app) == batch  # the batch, in one statement
        # Another process's hits (written by it) are seen at this process's next batch.
        throttle._TALLIES.clear()
        for _ in range(limit):
            verdict = throttle.hit(key, limit, 60, batch=batch)
        assert not verdict.allowed and verdict.count > limit
        assert _stored(app) >= limit  # the refusal rests on the database's count


def test_a_small_limit_is_counted_exactly_at_each_hit(app):
    with app.app_context():
        db.session.execute(ThrottleWindow.__table__.delete())
        db.session.commit()
        key, limit = f"exact {secrets.token_hex(4)}", 3
        verdicts = [throttle.hit(key, limit, 60, batch=throttle.batch_for(limit)) for _ in "abcd"]
        assert [v.allowed for v in verdicts] == [True, True, True, False]
        assert _stored(app) == 4
