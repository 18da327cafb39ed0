"""psc-idp's own HTTPS listener (``psc-idp serve``, port 8443 by default), for development:
it asks every browser for a client certificate from the trusted CAs, and hands it to the app in
the WSGI environ (``SSL_CLIENT_CERT``). In production, terminate TLS in nginx instead
(docs/deploy.md): nginx forwards any certificate, so psc-idp itself explains every refusal,
while this listener's TLS layer already refuses an untrusted or expired certificate."""

from __future__ import annotations

import ssl
from multiprocessing import Process

from flask import Flask
from werkzeug.serving import make_server

from psc_idp.config import Settings
from psc_idp.pki import get_hierarchy


def tls_context(settings: Settings) -> ssl.SSLContext:
    hierarchy = get_hierarchy(settings)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(hierarchy.server_fullchain_path, hierarchy.server_key_path)
    # Optional: a page without a card still loads; the card route then says what is missing.
    context.verify_mode = ssl.CERT_OPTIONAL
    context.load_verify_locations(cafile=str(hierarchy.bundle_path))
    for anchor in settings.pki_extra_trust_anchors:
        context.load_verify_locations(cafile=anchor)
    return context


def _serve(app: Flask, host: str, port: int, context: ssl.SSLContext) -> None:
    make_server(host, port, app, threaded=True, ssl_context=context).serve_forever()


def start_tls_listener(app: Flask, settings: Settings, host: str) -> Process:
    """Serve ``app`` over HTTPS on ``settings.tls_port`` in a child process."""
    with app.app_context():
        context = tls_context(settings)
    process = Process(
        target=_serve, args=(app, host, settings.tls_port, context), name="psc-idp-tls", daemon=True
    )
    process.start()
    return process
