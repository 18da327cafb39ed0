"""The ``identity_providers:`` section of the realm file: each establishment's provider.

::

    identity_providers:
      - alias: FI_750712184
        name: CHU de démonstration
        issuer: https://sso.chu.example
        client_id: psc
        client_secret: "..."
        scopes: [openid, profile]
        user_id_claim: sub
        allowed_issuers: [https://sso.chu.example]
        tenant_claim: tid
        allowed_tenants: [chu]
        accepted_amr:
          - {amr: [pwd, mfa, otp], acr: eidas2}
        auth_mode: FI_TIERS
        pairing: {means: [MOBILE], lifetime: 31536000}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select

from psc_idp.extensions import db
from psc_idp.means.fi_tiers.models import FiIdentityProvider
from psc_idp.realm import checks
from psc_idp.realm.problems import Problems

KEYS = (
    "alias",
    "name",
    "issuer",
    "discovery_url",
    "client_id",
    "client_secret",
    "client_secret_sealed",
    "token_endpoint_auth_method",
    "scopes",
    "user_id_claim",
    "allowed_issuers",
    "tenant_claim",
    "allowed_tenants",
    "accepted_amr",
    "auth_mode",
    "pairing",
)
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")
#: How a local account is paired the first time: an e-CPS approval, a CPS card login.
PAIRING_MEANS = ("MOBILE", "CARD")
ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
#: ``authMode`` is stored beside CARD, MOBILE and FIDO (20 characters).
AUTH_MODE = re.compile(r"[A-Za-z0-9_]{1,20}")
DEFAULT_AUTH_MODE = "FI_TIERS"
DEFAULT_LIFETIME = 365 * 24 * 3600


@dataclass(frozen=True)
class AcceptedAmr:
    amr: frozenset[str]
    acr: str


@dataclass(frozen=True)
class Provider:
    alias: str
    name: str
    issuer: str
    discovery_url: str
    client_id: str
    client_secret: str
    token_endpoint_auth_method: str
    scopes: tuple[str, ...]
    user_id_claim: str
    allowed_issuers: tuple[str, ...]
    tenant_claim: str
    allowed_tenants: tuple[str, ...]
    accepted_amr: tuple[AcceptedAmr, ...]
    auth_mode: str
    pairing_means: tuple[str, ...]
    pairing_lifetime: int
    extra: dict[str, Any] = field(default_factory=dict)

    def acr_for(self, amr: list[str]) -> str | None:
        """The ``acr`` of the first accepted set the upstream ``amr`` contains in full."""
        given = set(amr)
        return next((a.acr for a in self.accepted_amr if a.amr <= given), None)


def provider_from(config: dict[str, Any]) -> Provider:
    issuer = config["issuer"].rstrip("/")
    pairing = config.get("pairing") or {}
    return Provider(
        alias=config["alias"],
        name=config.get("name") or config["alias"],
        issuer=issuer,
        discovery_url=config.get("discovery_url") or f"{issuer}/.well-known/openid-configuration",
        client_id=config["client_id"],
        client_secret=_client_secret(config),
        token_endpoint_auth_method=config.get("token_endpoint_auth_method")
        or "client_secret_basic",
        scopes=tuple(config.get("scopes") or ("openid",)),
        user_id_claim=config.get("user_id_claim") or "sub",
        allowed_issuers=tuple(config.get("allowed_issuers") or (issuer,)),
        tenant_claim=config.get("tenant_claim") or "",
        allowed_tenants=tuple(config.get("allowed_tenants") or ()),
        accepted_amr=tuple(
            AcceptedAmr(frozenset(item["amr"]), item["acr"]) for item in config["accepted_amr"]
        ),
        auth_mode=config.get("auth_mode") or DEFAULT_AUTH_MODE,
        pairing_means=tuple(pairing.get("means") or ("MOBILE",)),
        pairing_lifetime=int(pairing.get("lifetime") or DEFAULT_LIFETIME),
    )


# --- the client secret: sealed at rest and in the export, never written in clear -------------
def _seal_purpose(alias: str) -> str:
    # Bound to the provider: a sealed secret copied onto another alias does not open.
    return f"fi-tiers-client-secret\0{alias}"


def seal_client_secret(alias: str, secret: str) -> str:
    return current_app.extensions["psc_app_secret"].seal(secret, _seal_purpose(alias))


def _opened_secret(config: dict[str, Any]) -> str:
    """The secret in clear; ``ValueError`` if the sealed one does not open here."""
    sealed = config.get("client_secret_sealed")
    if sealed:
        return current_app.extensions["psc_app_secret"].unseal(
            sealed, _seal_purpose(config["alias"])
        )
    return config.get("client_secret") or ""  # a row stored before secrets were sealed


def _client_secret(config: dict[str, Any]) -> str:
    # Under another app secret (keys/ replaced) a stored secret no longer opens: the provider
    # then refuses the token request, a French page, until the realm gives the secret again.
    try:
        return _opened_secret(config)
    except ValueError:
        return ""


def _stored(entry: dict[str, Any]) -> dict[str, Any]:
    """The realm entry as kept: ``client_secret`` replaced by its sealed form."""
    stored = {k: v for k, v in entry.items() if k != "client_secret"}
    if entry.get("client_secret"):
        stored["client_secret_sealed"] = seal_client_secret(entry["alias"], entry["client_secret"])
    return stored


def _same(config: dict[str, Any], entry: dict[str, Any]) -> bool:
    """Whether ``entry`` says what ``config`` keeps (a sealing differs at each call)."""

    def plain(c: dict[str, Any]) -> dict[str, Any]:
        rest = {k: v for k, v in c.items() if k not in ("client_secret", "client_secret_sealed")}
        return {**rest, "client_secret": _client_secret(c)}

    return plain(config) == plain(entry)


def all_providers() -> list[Provider]:
    rows = db.session.scalars(select(FiIdentityProvider).order_by(FiIdentityProvider.alias))
    return [provider_from(row.config) for row in rows]


def find_provider(alias: str) -> Provider | None:
    if not isinstance(alias, str) or not ALIAS.fullmatch(alias):
        return None
    row = db.session.get(FiIdentityProvider, alias)
    return provider_from(row.config) if row else None


def upsert_providers(items: list[dict[str, Any]]) -> int:
    """Create or replace each provider; returns how many changed. The caller commits."""
    changed = 0
    for entry in items:
        row = db.session.get(FiIdentityProvider, entry["alias"])
        if row is None:
            db.session.add(FiIdentityProvider(alias=entry["alias"], config=_stored(entry)))
            changed += 1
        elif not _same(row.config, entry):
            row.config = _stored(entry)
            changed += 1
    return changed


def export_providers() -> list[dict[str, Any]]:
    """As stored: the client secret sealed (``client_secret_sealed`` opens only with this
    deployment's app secret, as a client's ``secret_sealed``), never in clear."""
    rows = db.session.scalars(select(FiIdentityProvider).order_by(FiIdentityProvider.alias))
    return [
        _stored(row.config) if row.config.get("client_secret") else dict(row.config) for row in rows
    ]


# --- checks at import -------------------------------------------------------------------------
def check_identity_providers(problems: Problems, items: Any) -> None:
    if not checks.is_list(problems, items, ("identity_providers",)):
        return
    seen: dict[str, int] = {}
    for index, entry in enumerate(items):
        path = ("identity_providers", index)
        if not checks.is_mapping(problems, entry, path):
            continue
        checks.known_keys(problems, entry, path, KEYS)
        checks.unique_name(
            problems,
            entry.get("alias"),
            (*path, "alias"),
            ALIAS,
            seen,
            "lettres, chiffres, « _ », « - » ou « . » (64 au plus).",
        )
        for key in ("issuer", "discovery_url"):
            value = entry.get(key)
            if value is None and key == "discovery_url":
                continue
            if not isinstance(value, str) or not re.match(r"https?://[^/\s]+", value):
                problems.add((*path, key), "une adresse https:// (http:// en local seulement).")
        if not isinstance(entry.get("client_id"), str) or not entry.get("client_id"):
            problems.add(
                (*path, "client_id"), "obligatoire : l'identifiant de psc-idp chez le fournisseur."
            )
        for key in ("name", "client_secret", "user_id_claim", "tenant_claim"):
            if entry.get(key) is not None:
                checks.text(problems, entry[key], (*path, key))
        _check_sealed_secret(problems, entry, path)
        _check_client_auth(problems, entry, path)
        checks.optional_strings(
            problems, entry, path, ("scopes", "allowed_issuers", "allowed_tenants")
        )
        if isinstance(entry.get("scopes"), list) and "openid" not in entry["scopes"]:
            problems.add((*path, "scopes"), "doit contenir « openid » (il faut un ID token).")
        if entry.get("allowed_tenants") and not entry.get("tenant_claim"):
            problems.add((*path, "tenant_claim"), "obligatoire avec allowed_tenants (ex. « tid »).")
        _check_amr(problems, entry.get("accepted_amr"), (*path, "accepted_amr"))
        mode = entry.get("auth_mode")
        if mode is not None and (not isinstance(mode, str) or not AUTH_MODE.fullmatch(mode)):
            problems.add((*path, "auth_mode"), "lettres, chiffres ou « _ », 20 au plus.")
        _check_pairing(problems, entry.get("pairing"), (*path, "pairing"))


def _check_client_auth(problems: Problems, entry: dict[str, Any], path: tuple[Any, ...]) -> None:
    method = entry.get("token_endpoint_auth_method", "client_secret_basic")
    where = (*path, "token_endpoint_auth_method")
    if not checks.one_of(problems, method, where, AUTH_METHODS):
        return
    has_secret = bool(entry.get("client_secret") or entry.get("client_secret_sealed"))
    if method == "private_key_jwt" and has_secret:
        problems.add(
            (*path, "client_secret"),
            "inutile avec private_key_jwt (psc-idp signe avec sa clé) : retirez-le.",
        )
    elif method != "private_key_jwt" and not has_secret:
        problems.add((*path, "client_secret"), f"obligatoire avec {method} (ou private_key_jwt).")


def _check_sealed_secret(problems: Problems, entry: dict[str, Any], path: tuple[Any, ...]) -> None:
    sealed = entry.get("client_secret_sealed")
    if sealed is None:
        return
    where = (*path, "client_secret_sealed")
    if entry.get("client_secret") is not None:
        problems.add(where, "client_secret ou client_secret_sealed, pas les deux.")
    elif not isinstance(sealed, str) or not isinstance(entry.get("alias"), str):
        problems.add(where, "la valeur exportée par psc-idp realm export.")
    elif has_app_context():
        try:
            _opened_secret(entry)
        except ValueError:
            problems.add(
                where, "ne s'ouvre pas avec le secret de ce déploiement (keys/app-secret)."
            )


def _check_amr(problems: Problems, items: Any, path: tuple[Any, ...]) -> None:
    if not isinstance(items, list) or not items:
        problems.add(path, "au moins un ensemble accepté : [{amr: [pwd, mfa], acr: eidas2}].")
        return
    for index, item in enumerate(items):
        where = (*path, index)
        if not checks.is_mapping(problems, item, where):
            continue
        checks.known_keys(problems, item, where, ("amr", "acr"))
        amr = checks.strings(problems, item.get("amr"), (*where, "amr"))
        if amr is not None and not amr:
            problems.add((*where, "amr"), "au moins une méthode (pwd, mfa, hwk…).")
        acr = item.get("acr")
        if not isinstance(acr, str) or not 0 < len(acr) <= 20:
            problems.add(
                (*where, "acr"),
                "obligatoire : le niveau obtenu (ex. eidas2), 20 caractères au plus.",
            )


def _check_pairing(problems: Problems, pairing: Any, path: tuple[Any, ...]) -> None:
    if pairing is None or not checks.is_mapping(problems, pairing, path):
        return
    checks.known_keys(problems, pairing, path, ("means", "lifetime"))
    means = pairing.get("means")
    if means == []:
        problems.add((*path, "means"), "au moins un moyen : MOBILE (e-CPS) ou CARD (carte CPS).")
    elif means is not None and checks.strings(problems, means, (*path, "means")) is not None:
        for index, item in enumerate(means):
            checks.one_of(problems, item, (*path, "means", index), PAIRING_MEANS)
    lifetime = pairing.get("lifetime")
    if lifetime is not None and (
        isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime < 60
    ):
        problems.add((*path, "lifetime"), "un nombre entier de secondes (60 au moins).")
