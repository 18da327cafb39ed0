"""Serve the Django relying party: ``python -m tests.e2e.django_rp.serve PORT``.

Creates its tables (SQLite, ``RP_DB``), then serves with wsgiref, one thread per request, and
prints ``listening on <url>``."""

from __future__ import annotations

import os
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIServer, make_server


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def main() -> None:
    port = int(sys.argv[1])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.e2e.django_rp.settings")
    import django
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    django.setup()
    call_command("migrate", verbosity=0)
    server = make_server("127.0.0.1", port, get_wsgi_application(), server_class=ThreadingServer)
    print(f"listening on http://localhost:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
