"""Development-only pages: the landing page (``/``) and the outbox of e-mails and SMS
(``/dev/outbox``). The blueprint is registered in development mode only, so in production
``/`` stays a 404 and nothing here reveals the realm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue

from psc_idp.config import Settings, current_settings
from psc_idp.directory.lookup import find_practitioner, search_practitioners, summary
from psc_idp.extensions import db
from psc_idp.means.ecps import outbox
from psc_idp.means.ecps.models import EcpsScenario
from psc_idp.protocol.clients import SECRET_METHODS, all_clients
from psc_idp.protocol.discovery import endpoint
from psc_idp.protocol.models import Client
from psc_idp.realm.loader import DEMO_FILES, read_realm_file

bp = Blueprint("dev", __name__)

#: Identities worth trying first (docs/test-identities.md explains each).
FEATURED_IDS = ("899700218896", "899700366240", "899700427885", "899700100151", "899700100565")
DEMO_SECRETS_FILE = "demo-client-secrets.json"


@bp.get("/")
def landing() -> ResponseReturnValue:
    settings = current_settings()
    generated = _demo_generated_ids()
    return render_template(
        "wallet/dev_landing.html",
        issuer=settings.issuer,
        discovery_urls=[
            f"{settings.issuer}/.well-known/openid-configuration",
            f"{settings.issuer}/.well-known/wallet-openid-configuration",
        ],
        jwks_url=endpoint(settings, "certs"),
        authorization_endpoint=settings.authorization_endpoint,
        clients=[_client_row(c, settings, generated) for c in all_clients()],
        identities=_featured_identities(),
        links=[
            ("Débogueur : lancer un flux, voir chaque échange", url_for("debugger.index")),
            ("Simulateur e-CPS (téléphone dans un onglet)", url_for("ecps_simulator.simulator")),
            ("Boîte d'envoi (codes d'activation)", url_for("dev.outbox_page")),
            ("Journal des requêtes (ce que chaque client a envoyé et reçu)", "/dev/requests"),
            ("Espace personnel (appareils e-CPS, clés FIDO)", url_for("account.home")),
            ("Console d'administration (psc-idp admin add pour un compte)", url_for("admin.home")),
            ("Accueil du wallet", url_for("wallet.home")),
        ],
        docs=[
            ("docs/integration-guide.md", "brancher un service"),
            ("docs/test-identities.md", "identités de test et leurs usages"),
            ("docs/configuration.md", "variables PSC_*, ligne de commande, fichier de realm"),
            ("docs/ecps.md", "e-CPS : activation, simulateur, scénarios"),
            ("docs/ciba.md", "connexion sans navigateur (CIBA)"),
            ("docs/developer-tools.md", "débogueur, journal des requêtes, scénarios d'erreur"),
            ("docs/admin-console.md", "console d'administration"),
        ],
        dev_mode=True,
    )


@bp.get("/dev/outbox")
def outbox_page() -> ResponseReturnValue:
    national_id = request.args.get("national_id", "")[:64] or None
    return render_template(
        "wallet/outbox.html",
        messages=outbox.latest(national_id, limit=100),
        national_id=national_id or "",
        dev_mode=True,
    )


def _demo_generated_ids() -> set[str]:
    """Demo clients whose secret is generated on first start (``secret: generate``)."""
    clients = read_realm_file(DEMO_FILES[0]).get("clients") or []
    return {c["client_id"] for c in clients if c.get("secret") == "generate"}


def _client_row(client: Client, settings: Settings, generated: set[str]) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name or "",
        "method": client.token_endpoint_auth_method,
        "redirect_uris": list(client.redirect_uris or []),
        "credential": _where_is_the_credential(client, settings, generated),
    }


def _where_is_the_credential(client: Client, settings: Settings, generated: set[str]) -> str:
    """Where the secret is, never the secret itself: the page may be seen on a shared screen."""
    method = client.token_endpoint_auth_method
    if method == "none":
        return "aucun secret : client public, PKCE obligatoire"
    if method == "private_key_jwt":
        return "clé privée du service (jwks / jwks_uri enregistrés)"
    if method == "tls_client_auth":
        return "certificat client du service (TLS mutuel)"
    if method == "client_secret_jwt":
        return (
            "secret du service, qui signe ses assertions (HS256) ; affiché une seule fois à sa "
            f"création, « psc-idp clients update {client.client_id} --rotate-secret » en donne un "
            "nouveau"
        )
    if method in SECRET_METHODS and client.client_id in generated:
        path = Path(settings.keys_dir) / DEMO_SECRETS_FILE
        return f"affiché au démarrage par « make run », conservé dans {path}"
    return (
        "affiché une seule fois à sa création ; « psc-idp clients update "
        f"{client.client_id} --rotate-secret » en donne un nouveau"
    )


SCENARIO_TEXT = {
    "approve": "son e-CPS approuve seule après {delay} s",
    "deny": "son e-CPS refuse seule après {delay} s",
    "ignore": "son e-CPS laisse expirer les demandes",
}


def _featured_identities() -> list[dict[str, Any]]:
    found = [find_practitioner(national_id) for national_id in FEATURED_IDS]
    featured = [summary(p) for p in found if p is not None]
    if not featured:  # another realm than the demo one: its first identities
        featured = [summary(p) for p in search_practitioners("", limit=5)]
    for identity in featured:
        scenario = db.session.get(EcpsScenario, identity["national_id"])
        identity["scenario"] = (
            SCENARIO_TEXT.get(scenario.action, "").format(delay=f"{scenario.delay_seconds:g}")
            if scenario
            else ""
        )
    return featured
