"""The wire channel of one deployment.

Redis pub/sub channels belong to the whole Redis server, whatever the database number: two
deployments sharing one Redis on one channel would wake each other's waiters (harmless for
the state, which each reads from its own database, but every message of one costs the other a
round of database reads). So the channel is the deployment's own: ``PSC_BUS_CHANNEL``, or by
default a name derived from what every instance of one deployment shares and no other
deployment does — its database (backend, host, port, name; never the user or the password,
which may differ between instances) and its Redis database number. PostgreSQL's NOTIFY
channels are per database already; the same name is used there, an unquoted identifier (lower
case, at most 63 bytes) so that ``LISTEN`` and ``pg_notify`` agree."""

from __future__ import annotations

import hashlib
import os
import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.engine import make_url

from psc_idp.config import Settings

PREFIX = "psc_idp_bus"
#: A PostgreSQL identifier that ``LISTEN`` does not fold (its length limit included).
VALID = re.compile(r"[a-z_][a-z0-9_]{0,62}")
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}


def database_identity(database_url: str) -> str:
    """What names the database whoever connects to it: backend, host, port and name."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        name = url.database or ""
        if name and name != ":memory:" and not name.startswith("file:"):
            name = os.path.realpath(name)  # one file, whichever working directory
        return f"sqlite:{name}"
    host = url.host or str(url.query.get("host", ""))
    port = url.port or DEFAULT_PORTS.get(backend, "")
    return f"{backend}://{host.lower()}:{port}/{url.database or ''}"


def redis_database(redis_url: str) -> str:
    """The Redis database number of ``redis://host:port/N`` (or ``?db=N``), 0 by default."""
    if not redis_url:
        return ""
    parts = urlsplit(redis_url)
    number = parse_qs(parts.query).get("db", [""])[0] or parts.path.strip("/") or "0"
    return number


def wire_channel(settings: Settings) -> str:
    """``PSC_BUS_CHANNEL``, else ``psc_idp_bus_`` and a digest of the deployment's database and
    Redis database number: the same on every instance of the deployment."""
    if settings.bus_channel:
        if not VALID.fullmatch(settings.bus_channel):
            raise ValueError(
                f"PSC_BUS_CHANNEL : {settings.bus_channel!r} (lettres minuscules, chiffres et _,"
                " 63 caractères au plus, sans chiffre en tête)"
            )
        return settings.bus_channel
    identity = f"{database_identity(settings.sqlalchemy_url)}\0{redis_database(settings.redis_url)}"
    return f"{PREFIX}_{hashlib.sha256(identity.encode()).hexdigest()[:16]}"
