"""``--stored N``: a database that looks in service, with N practitioners, grants, access and
refresh tokens besides the bench's own, so that UserInfo and introspection can be compared at
1 000 and at 1 000 000 stored rows.

The rows are copies of rows the server itself wrote (a first login), made inside the database
with one ``INSERT … SELECT`` per batch over a recursive counter; only the keys change. Column
lists are read from the live schema, so the filler follows the models without naming them."""

from __future__ import annotations

from sqlalchemy import Connection, create_engine, inspect, text

BATCH = 100_000

#: table → (key column, replaced columns as SQL over the counter ``i``; None: left out).
COPIES: dict[str, tuple[str, dict[str, str | None]]] = {
    "dir_practitioner": (
        "national_id",
        # Ids 89000…: outside the bench's 89980… range; ``id`` comes from its sequence.
        {"id": None, "national_id": "'8' || CAST(90000000000 + i AS TEXT)"},
    ),
    "oauth_grant": ("id", {"id": "'bench-grant-' || CAST(i AS TEXT)"}),
    "oauth_access_token": (
        "jti",
        {"jti": "'bench-at-' || CAST(i AS TEXT)", "grant_id": "'bench-grant-' || CAST(i AS TEXT)"},
    ),
    "oauth_refresh_token": (
        "token_hash",
        {
            "token_hash": "'bench-rt-' || CAST(i AS TEXT)",
            "grant_id": "'bench-grant-' || CAST(i AS TEXT)",
        },
    ),
}


def _copy(connection: Connection, table: str, count: int) -> None:
    key, replaced = COPIES[table]
    columns = [c["name"] for c in inspect(connection).get_columns(table)]
    kept = [c for c in columns if replaced.get(c, c) is not None]
    values = [replaced.get(c) or f't."{c}"' for c in kept]
    names = ", ".join(f'"{c}"' for c in kept)
    for start in range(1, count + 1, BATCH):
        end = min(count, start + BATCH - 1)
        connection.execute(
            text(
                f'INSERT INTO "{table}" ({names}) '
                f"WITH RECURSIVE n(i) AS (SELECT {start} UNION ALL SELECT i + 1 FROM n "
                f"WHERE i < {end}) "
                f'SELECT {", ".join(values)} FROM n, "{table}" t '
                f'WHERE t."{key}" = (SELECT "{key}" FROM "{table}" ORDER BY "{key}" LIMIT 1)'
            )
        )
        connection.commit()


def fill(database_url: str, count: int) -> dict[str, int]:
    """Add ``count`` rows to each table of :data:`COPIES`; returns the row counts after."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            for table in COPIES:
                _copy(connection, table, count)
            if connection.dialect.name == "postgresql":
                # What autovacuum would have done long ago on a database in service.
                connection.execute(text("ANALYZE"))
                connection.commit()
            return {
                table: connection.execute(text(f'SELECT COUNT(*) FROM "{table}"')).scalar_one()
                for table in COPIES
            }
    finally:
        engine.dispose()
