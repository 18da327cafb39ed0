"""The one deliberate write outside the request boundary's commit: a status claimed atomically.

``UPDATE … SET status = to WHERE id = … AND status = from``: of any number of concurrent
callers (two phones, two polls, two instances), exactly one sees ``True``. The caller commits
(or not) and refreshes what it holds; the ORM object is not synchronised here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from psc_idp.extensions import db


def claim(model: Any, row_id: Any, from_status: str, to_status: str, **values: Any) -> bool:
    """``from_status`` → ``to_status`` (and ``values``) for the row ``row_id``; True if this call
    made the change."""
    changed = db.session.execute(
        update(model)
        .where(model.id == row_id, model.status == from_status)
        .values(status=to_status, **values),
        execution_options={"synchronize_session": False},
    ).rowcount
    return changed == 1
