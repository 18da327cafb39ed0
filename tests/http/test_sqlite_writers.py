"""SQLite writers take turns on a per-process lock (psc_idp.sqlite_tuning)."""

from __future__ import annotations

import threading

from sqlalchemy import create_engine, text

from psc_idp.sqlite_tuning import WriterQueue, tune_sqlite


def test_queue_is_held_by_one_connection_at_a_time(tmp_path):
    queue = WriterQueue(tmp_path / "db.writers", timeout=0.05)
    queue.acquire(1)
    queue.acquire(1)  # the same transaction writing again: already its turn
    assert queue._holder == 1
    queue.acquire(2)  # waits its timeout, then goes on without the turn (SQLite decides)
    assert queue._holder == 1
    queue.release(2)  # not the holder: nothing happens
    assert queue._holder == 1
    queue.release(1)
    queue.acquire(2)
    assert queue._holder == 2


def _engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    queue = tune_sqlite(engine)
    assert queue is not None
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    engine.info_queue = queue  # type: ignore[attr-defined]
    return engine


def _holder(engine):
    return engine.info_queue._holder


def test_turn_ends_with_commit_rollback_or_checkin(tmp_path):
    engine = _engine(tmp_path)
    with engine.connect() as connection:
        connection.execute(text("SELECT n FROM t")).all()
        assert _holder(engine) is None  # reading takes no turn
        connection.execute(text("INSERT INTO t VALUES (1)"))
        assert _holder(engine) is not None
        connection.commit()
        assert _holder(engine) is None
        connection.execute(text("INSERT INTO t VALUES (2)"))
        connection.rollback()
        assert _holder(engine) is None
        connection.execute(text("INSERT INTO t VALUES (3)"))
    assert _holder(engine) is None  # returned to the pool mid-transaction: rolled back
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM t")).scalars().all() == [1]


def test_a_second_writer_waits_for_the_first_to_commit(tmp_path):
    engine = _engine(tmp_path)
    order: list[str] = []
    first_wrote = threading.Event()

    def second() -> None:
        first_wrote.wait(5)
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (2)"))
            order.append("second wrote")

    thread = threading.Thread(target=second)
    thread.start()
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
        first_wrote.set()
        thread.join(0.3)  # the second writer is waiting for its turn meanwhile
        assert thread.is_alive()
        order.append("first commits")
    thread.join(5)
    assert order == ["first commits", "second wrote"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 2
