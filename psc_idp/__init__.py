"""psc-idp: an OpenID Connect identity provider emulating Pro Santé Connect.

``create_app`` is the only way in; read it as the table of contents."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from psc_idp.config import PROJECT_ROOT, Settings
from psc_idp.extensions import db
from psc_idp.http.application import Application
from psc_idp.purge import register_purge


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    settings = Settings.from_env(overrides)
    app = Application(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    setup_config(app, settings)
    setup_observe(app, settings)
    setup_http(app)
    setup_keys(app, settings)
    setup_database(app, settings)
    setup_pki(app)
    setup_protocol(app, settings)
    setup_api_as(app, settings)
    setup_means(app, settings)
    setup_wallet(app, settings)
    setup_directory_api(app)
    setup_devtools(app, settings)
    setup_scenarios(app, settings)
    setup_debugger(app, settings)
    setup_admin(app)
    setup_cli(app)
    return app


def setup_config(app: Flask, settings: Settings) -> None:
    app.extensions["psc_settings"] = settings
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings.sqlalchemy_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.sqlalchemy_url),
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        MAX_FORM_MEMORY_SIZE=settings.max_request_bytes,
        JSON_SORT_KEYS=False,
    )
    # TLS is terminated in front of psc-idp (nginx) or served by its own listener; Authlib must
    # not refuse the plain-HTTP hop behind the proxy nor http://localhost in development.
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")


#: Connections kept open per process: a worker's request threads (``psc-idp serve --threads``,
#: 8) and its background threads (CIBA pings, wake-ups) each hold one at a time. With SQLAlchemy's
#: default of 5, the other requests opened a connection of their own and closed it after, each
#: time: on SQLite, its pragmas and a fresh read of the schema (1 to 2 ms a request under load).
POOL_SIZE = 12


def engine_options(url: str) -> dict[str, Any]:
    """No ping on every checkout: a PostgreSQL connection that rested in the pool is pinged
    when taken (``pool_ping``); a SQLite file cannot go away."""
    from sqlalchemy.engine import make_url

    options: dict[str, Any] = {"pool_pre_ping": False}
    if make_url(url).database not in (None, "", ":memory:"):
        options.update(pool_size=POOL_SIZE, max_overflow=POOL_SIZE)
    return options


def setup_observe(app: Flask, settings: Settings) -> None:
    from psc_idp import observe

    observe.init_app(app, settings)  # request ids, logs, /metrics, /health/live and /ready


def setup_http(app: Flask) -> None:
    from psc_idp.http import guard, headers

    # Bounded JSON (PSC's claim order kept) and the hostile-input guard before every view.
    guard.init_app(app)
    headers.init_app(app)  # CSP, no framing, no referrer, nosniff, HSTS over https


def setup_keys(app: Flask, settings: Settings) -> None:
    from pathlib import Path

    from psc_idp.keystore import AppSecret, EncryptionKeys, SigningKeys
    from psc_idp.keystore.permissions import refuse_readable, secret_files

    refuse_readable(secret_files(Path(settings.keys_dir)))  # before any is read or used
    app_secret = AppSecret(settings.keys_dir)
    app.secret_key = app_secret.derive("flask-session")
    grace = max(settings.access_token_lifetime, settings.id_token_lifetime) + 60
    # A request object is short-lived: the tokens' grace covers it too.
    encryption = EncryptionKeys(settings.keys_dir, publish_grace=grace)
    encryption.ensure()
    signing = SigningKeys(settings.keys_dir, publish_grace=grace, also_published=encryption)
    signing.ensure()
    app.extensions["psc_app_secret"] = app_secret
    app.extensions["psc_signing_keys"] = signing
    app.extensions["psc_encryption_keys"] = encryption


def setup_database(app: Flask, settings: Settings) -> None:
    from psc_idp import bus
    from psc_idp.lockout import purge_lockouts
    from psc_idp.migrations import upgrade_database
    from psc_idp.pool_ping import ping_after_rest
    from psc_idp.rate_limits import check_settings
    from psc_idp.realm.loader import load_startup_realm
    from psc_idp.sqlite_tuning import tune_sqlite
    from psc_idp.throttle import purge_throttle

    check_settings(settings)  # a rate that cannot be read refuses to start
    private_sqlite_file(settings.sqlalchemy_url)
    db.init_app(app)
    bus.init_app(app, settings)  # wake-ups between instances (no table: nothing to purge)
    register_purge(app, "throttle", purge_throttle)
    register_purge(app, "lockouts", purge_lockouts)
    with app.app_context():
        tune_sqlite(db.engine)
        ping_after_rest(db.engine)  # a connection the server closed meanwhile is replaced
        if settings.auto_migrate:
            upgrade_database()
        elif not _schema_is_current():
            # Migrations are a deployment step of their own (``psc-idp db upgrade``); until it
            # has run, the realm cannot be loaded and /health/ready says why.
            app.logger.warning("schéma de base en retard : lancer « psc-idp db upgrade »")
            return
        load_startup_realm(settings)


def _schema_is_current() -> bool:
    from psc_idp.migrations import schema_is_current

    with db.engine.connect() as connection:
        return schema_is_current(connection)


def private_sqlite_file(url: str) -> None:
    """SQLite creates its file with the umask (0644) and its -wal/-shm files with the file's
    own mode: created first as 0600, all three stay private."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    from psc_idp.keystore.permissions import create_private_file

    parsed = make_url(url)
    database = parsed.database or ""
    in_file = database not in ("", ":memory:") and not database.startswith("file:")
    if parsed.get_backend_name() == "sqlite" and in_file:  # a file: URI names its own options
        create_private_file(Path(database))


def setup_pki(app: Flask) -> None:
    from psc_idp.pki import init_app
    from psc_idp.pki.purge import purge_pki

    init_app(app)  # test hierarchy on first start, /pki routes (CRLs, CA certificates)
    register_purge(app, "pki", purge_pki)


def setup_protocol(app: Flask, settings: Settings) -> None:
    from psc_idp.protocol import views
    from psc_idp.protocol.ciba.purge import purge_ciba
    from psc_idp.protocol.logout.purge import purge_logout_deliveries
    from psc_idp.protocol.purge import purge_protocol
    from psc_idp.protocol.server import create_server

    app.extensions["psc_authorization_server"] = create_server(app)
    views.register(app, settings)
    register_purge(app, "protocol", purge_protocol)
    register_purge(app, "ciba", purge_ciba)
    register_purge(app, "logout", purge_logout_deliveries)


def setup_api_as(app: Flask, settings: Settings) -> None:
    """« API Pro Santé Connectées »: an authorization server per protected API (token exchange),
    its userinfo, and the demo API."""
    from psc_idp import api_as
    from psc_idp.api_as.purge import purge_api_as

    api_as.init_app(app, settings)
    register_purge(app, "api_as", purge_api_as)


def setup_means(app: Flask, settings: Settings) -> None:
    """Each means of authentication: its place on la mire (registry), its pages, its API, its
    purge; and the login layer's purge (transactions, browserless ones included, and sessions)."""
    from urllib.parse import urlsplit

    from psc_idp.audit import purge_audit
    from psc_idp.http.errors import ErrorPolicy, register_policy
    from psc_idp.login.purge import purge_login
    from psc_idp.means.card import pages as card_pages
    from psc_idp.means.card.authenticator import CardAuthenticator
    from psc_idp.means.dev.picker import TestIdentityPicker
    from psc_idp.means.ecps import account as ecps_account
    from psc_idp.means.ecps.authenticator import EcpsAuthenticator
    from psc_idp.means.ecps.phone import api, simulator
    from psc_idp.means.ecps.purge import purge_ecps
    from psc_idp.means.fi_tiers import account as fi_tiers_account
    from psc_idp.means.fi_tiers import logout as fi_tiers_logout
    from psc_idp.means.fi_tiers import views as fi_tiers_views
    from psc_idp.means.fi_tiers.authenticator import FiTiersAuthenticator
    from psc_idp.means.fi_tiers.purge import purge_fi_tiers
    from psc_idp.means.fido import enrolment
    from psc_idp.means.fido.authenticator import FidoAuthenticator
    from psc_idp.means.fido.purge import purge_fido
    from psc_idp.means.registry import register

    # In PSC's order: card, e-CPS, FIDO key; the test picker last.
    register(app, CardAuthenticator())
    register(app, EcpsAuthenticator())
    register(app, FidoAuthenticator())
    register(app, FiTiersAuthenticator())  # offered once the realm names a provider
    if settings.dev_mode:
        register(app, TestIdentityPicker())
    register_purge(app, "login", purge_login)
    register_purge(app, "audit", purge_audit)
    register_purge(app, "ecps", purge_ecps)
    register_purge(app, "fido", purge_fido)
    register_purge(app, "fi_tiers", purge_fi_tiers)
    fi_tiers_logout.init_app(app)  # the establishment's session ends with psc-idp's

    prefix = urlsplit(settings.wallet_base).path
    app.register_blueprint(ecps_account.bp, url_prefix=prefix)  # devices, card activation
    app.register_blueprint(enrolment.bp, url_prefix=prefix)  # FIDO keys
    app.register_blueprint(card_pages.bp, url_prefix=prefix)  # CARD-channel CIBA requests
    app.register_blueprint(fi_tiers_views.bp, url_prefix=prefix)  # the providers' callback
    app.register_blueprint(fi_tiers_account.bp, url_prefix=prefix)  # pairings
    api.init_app(app)  # the phones' side (JSON errors)
    app.register_blueprint(simulator.bp)  # /ecps: a phone in a browser tab
    register_policy(app, ErrorPolicy("/ecps", json=False, blueprints=("ecps_simulator",)))


def setup_wallet(app: Flask, settings: Settings) -> None:
    """The UI shell: la mire, the account home, error pages; the development landing."""
    from urllib.parse import urlsplit

    from psc_idp.http.errors import ErrorPolicy, register_policy
    from psc_idp.timeutil import local_display
    from psc_idp.wallet import account, dev_pages, limits, protocol_pages, views
    from psc_idp.wallet.errors import register_error_handlers

    app.jinja_env.filters["local_time"] = local_display  # pages speak Paris time

    prefix = urlsplit(settings.wallet_base).path
    app.register_blueprint(views.bp, url_prefix=prefix)
    app.register_blueprint(account.bp, url_prefix=prefix)
    # The wallet's and the means' pages: French pages (JSON only to a caller asking for it).
    pages = (
        "wallet",
        "account",
        "authorization",
        "ecps_account",
        "keys",
        "ciba_card",
        "fi_tiers",
        "fi_tiers_account",
    )
    register_policy(app, ErrorPolicy(prefix + "/", json=False, blueprints=pages))
    if settings.dev_mode:
        app.register_blueprint(dev_pages.bp)
        register_policy(app, ErrorPolicy("/", json=False, blueprints=("dev",)))
    register_error_handlers(app, settings)
    limits.init_app(app)
    protocol_pages.init_app(app)  # the pages of authorize, resume and logout


def setup_directory_api(app: Flask) -> None:
    from psc_idp.directory import fhir
    from psc_idp.directory.importers.purge import purge_imports

    fhir.init_app(app)  # /fhir/v1: the Annuaire Santé FHIR API, read only
    register_purge(app, "directory_imports", purge_imports)


def setup_devtools(app: Flask, settings: Settings) -> None:
    """Issue 18's tools for SP developers: the request journal (``PSC_REQUEST_JOURNAL``)."""
    from psc_idp.devtools import journal

    journal.init_app(app, settings)  # its hooks only when on; /dev/requests in development


def setup_scenarios(app: Flask, settings: Settings) -> None:
    """Error scenarios (development tools): applied only when ``PSC_SCENARIOS`` is on; off,
    no hook is registered and no request pays for them. Their table is configuration, bounded
    per client (nothing to purge)."""
    if not settings.scenarios_enabled:
        return
    from psc_idp.devtools.scenarios import http_effects, issuance

    http_effects.init_app(app)  # errors, statuses, delays, CIBA outcomes, X-PSC-Scenario
    issuance.init_app(app)  # claims, acr, expired or foreign-signed tokens, UserInfo shape


def setup_debugger(app: Flask, settings: Settings) -> None:
    """/dev/debugger (development mode): a relying party built in, showing every exchange."""
    from psc_idp.devtools import debugger

    debugger.init_app(app, settings)


def setup_admin(app: Flask) -> None:
    from psc_idp import admin

    admin.init_app(app)  # /admin: the console (its French pages, its purge)


def setup_cli(app: Flask) -> None:
    from psc_idp.cli import register_commands

    register_commands(app)
