"""The production HTTP server (``psc-idp serve``): granian, a Rust HTTP/1.1 server for WSGI.

Measured against gunicorn's gthread workers on the same app (docs/performance.md), granian
spends a tenth of the CPU per request on the connection itself and keeps its tails short. Its
workers are forked from the process that built the app, as gunicorn's were: migrations and the
realm are loaded once, before any worker exists.

Each worker, once forked: starts its CIBA ping loop, and serves the app behind
:func:`psc_idp.http.prepared.wrap` (published documents answered before Flask, responses
handed to granian in one piece)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)

#: Each request's line when the access log is on: Apache's common format and the duration.
ACCESS_LOG_FORMAT = (
    '%(addr)s - - [%(time)s] "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).1fms'
)


#: Threads per worker of ``psc-idp serve`` unless ``--threads`` says otherwise.
DEFAULT_THREADS = 8


@dataclass(frozen=True)
class Listener:
    host: str
    port: int
    workers: int
    #: Threads per worker running the app: a device long poll holds one for up to 25 s.
    threads: int
    access_log: bool
    #: Seconds a stopping worker has to finish its requests (long polls are cut short).
    graceful_timeout: int = 5


def serve(app: Flask, listener: Listener, on_worker_start: Callable[[Flask], Any]) -> None:
    """Serve ``app`` until SIGTERM or SIGINT."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    from psc_idp.http.prepared import wrap

    def load_in_worker(_target: str) -> Callable[..., Any]:
        on_worker_start(app)
        return wrap(app)

    server = Granian(
        "psc_idp",  # not imported: the loader below hands the already built app to each worker
        address=listener.host,
        port=listener.port,
        interface=Interfaces.WSGI,
        workers=listener.workers,
        blocking_threads=listener.threads,
        # HTTP/1.1 as gunicorn served it (nginx speaks HTTP/1.1 to its upstreams).
        http="1",
        http1_settings=HTTP1Settings(keep_alive=True),
        websockets=False,
        log_access=listener.access_log,
        log_access_format=ACCESS_LOG_FORMAT,
        workers_kill_timeout=listener.graceful_timeout,
        # A worker that dies (out of memory, a crash in a C library) comes back, as with gunicorn.
        respawn_failed_workers=True,
        respawn_interval=1.0,
    )
    server.serve(target_loader=load_in_worker)
