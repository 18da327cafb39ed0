"""``psc-idp serve``: the production server (granian, psc_idp/http/server.py), with a
start-up summary."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from psc_idp.bus import start_listener
from psc_idp.config import current_settings
from psc_idp.extensions import db
from psc_idp.http import server
from psc_idp.http.server import DEFAULT_THREADS, Listener
from psc_idp.means.ecps.phone.long_polls import bound_by_threads
from psc_idp.observe.metrics import MULTIPROC_ENV, forget_dead_workers, use_multiprocess
from psc_idp.protocol.ciba.ping import start_notifier
from psc_idp.protocol.logout.backchannel import start_deliveries
from psc_idp.protocol.models import Client
from psc_idp.realm.loader import demo_secrets
from psc_idp.tls.listener import start_tls_listener


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
        lines.append(f"  débogueur   {settings.base_url.rstrip('/')}/dev/debugger/")
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
    main = os.getpid()

    def remove() -> None:
        if os.getpid() == main:  # forked workers inherit the handler: only the main one acts
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)
    use_multiprocess(folder)


def on_worker_start(app: Flask) -> None:
    # Each worker sends the CIBA pings and the logout tokens that are due
    # (psc_idp.protocol.ciba.ping, psc_idp.protocol.logout.backchannel); a worker
    # started in place of a dead one takes the dead one's live gauges out of the sum; its
    # listener wakes its waiters when another instance commits a change (psc_idp/bus).
    forget_dead_workers()
    start_listener(app)
    start_notifier(app)
    start_deliveries(app)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    type=int,
    help="Port HTTP (défaut : PSC_PORT, sinon 8080). Sans PSC_BASE_URL, l'URL publique "
    "annoncée suit ce port.",
)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=DEFAULT_THREADS, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int | None, workers: int, threads: int) -> None:
    """Servir psc-idp (serveur HTTP granian)."""
    settings = current_settings()
    if port is not None:
        settings.listen_on(port)
    port = settings.port
    bound = bound_by_threads(settings.ecps_long_polls_per_process, threads)
    if bound < settings.ecps_long_polls_per_process:
        click.echo(f"attentes e-CPS : {bound} au plus par processus (la moitié de --threads)")
        settings.ecps_long_polls_per_process = bound
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
    # psc-idp writes its own line per request (psc_idp.observe, PSC_ACCESS_LOG).
    listener = Listener(host, port, workers, threads, access_log=False)
    server.serve(app, listener, on_worker_start=on_worker_start)
