"""``psc-idp serve``: the production server (gunicorn), with a start-up summary."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from gunicorn.app.base import BaseApplication

from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.http.guard import close_oversized
from psc_idp.observe.metrics import MULTIPROC_ENV, use_multiprocess, worker_exited
from psc_idp.protocol.ciba.ping import start_notifier
from psc_idp.protocol.models import Client
from psc_idp.realm.loader import demo_secrets
from psc_idp.tls.listener import start_tls_listener


class _Gunicorn(BaseApplication):
    def __init__(self, app: Flask, options: dict[str, Any]):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def summary() -> list[str]:
    settings = current_settings()
    lines = [
        "psc-idp — émulateur de Pro Santé Connect",
        f"  issuer      {settings.issuer}",
        f"  discovery   {settings.issuer}/.well-known/openid-configuration",
        f"              {settings.issuer}/.well-known/wallet-openid-configuration",
        f"  wallet      {settings.authorization_endpoint}",
    ]
    if settings.mtls_available:
        lines.append(f"  carte CPS   {settings.mtls_base} (certificat client)")
    if settings.dev_mode:
        lines.append(f"  accueil     {settings.base_url.rstrip('/')}/ (mode développement)")
        secrets = demo_secrets(settings)
        lines.append("  demo clients (mode développement) :")
        for client in db.session.query(Client).order_by(Client.client_id):
            secret = secrets.get(client.client_id)
            shown = f"secret {secret}" if secret else f"{client.token_endpoint_auth_method} (PKCE)"
            lines.append(f"    {client.client_id:<12} {shown}")
            lines.append(f"    {'':<12} redirect {', '.join(client.redirect_uris)}")
        lines.append("  identités de test : docs/test-identities.md (ex. 899700218896)")
    return lines


def shared_metrics_folder() -> None:
    """Workers write their metrics to files in a private folder, summed by ``/metrics``; the
    folder is new at each start (no dead worker's counts) and removed at exit. An operator's
    own ``PROMETHEUS_MULTIPROC_DIR`` is kept."""
    existing = os.environ.get(MULTIPROC_ENV)
    if existing:
        use_multiprocess(Path(existing))
        return
    folder = Path(tempfile.mkdtemp(prefix="psc-idp-metrics-"))  # 0700
    master = os.getpid()

    def remove() -> None:
        if os.getpid() == master:  # forked workers inherit the handler: only the master's acts
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)
    use_multiprocess(folder)


def _forwarded(settings) -> dict[str, str]:
    """X-Forwarded-Proto (https behind nginx) is believed from the same proxies as the
    client-certificate headers; gunicorn's own default (127.0.0.1) otherwise."""
    if not settings.trusted_proxies:
        return {}
    return {"forwarded_allow_ips": ",".join(settings.trusted_proxies)}


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    type=int,
    help="Port HTTP (défaut : PSC_PORT, sinon 8080). Sans PSC_BASE_URL, l'URL publique "
    "annoncée suit ce port.",
)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int | None, workers: int, threads: int) -> None:
    """Servir psc-idp avec gunicorn."""
    settings = current_settings()
    if port is not None:
        settings.listen_on(port)
    port = settings.port
    for line in summary():
        click.echo(line)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # Connections opened while starting must not be shared with the forked workers: a socket
    # used by two processes at once hangs PostgreSQL conversations (seen at shutdown).
    db.session.remove()
    db.engine.dispose()
    if workers > 1:
        shared_metrics_folder()
    if settings.tls_port:
        start_tls_listener(app, settings, host)
    _Gunicorn(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            # psc-idp writes its own line per request (psc_idp.observe, PSC_ACCESS_LOG).
            "accesslog": None,
            "timeout": 60,
            # Device long polls last up to 25 s: do not let them hold a shutdown that long.
            "graceful_timeout": 5,
            # No control socket: several instances (or `make run` next to tests) on one host
            # would otherwise contend for the same default path.
            "control_socket_disable": True,
            **_forwarded(settings),
            # Each worker sends the CIBA pings that are due (psc_idp.protocol.ciba.ping).
            "post_worker_init": lambda worker: start_notifier(app),
            "child_exit": lambda server, worker: worker_exited(worker.pid),
            # A 413 leaves the body unread: its connection closes, and the answer says so.
            "pre_request": close_oversized(settings.max_request_bytes),
        },
    ).run()
