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
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
#: Pairing by a card login is not offered yet: only the e-CPS approval.
PAIRING_MEANS = ("MOBILE",)
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
        client_secret=config.get("client_secret") or "",
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
            db.session.add(FiIdentityProvider(alias=entry["alias"], config=dict(entry)))
            changed += 1
        elif row.config != entry:
            row.config = dict(entry)
            changed += 1
    return changed


def export_providers() -> list[dict[str, Any]]:
    rows = db.session.scalars(select(FiIdentityProvider).order_by(FiIdentityProvider.alias))
    return [dict(row.config) for row in rows]


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
        alias = entry.get("alias")
        if not isinstance(alias, str) or not ALIAS.fullmatch(alias):
            problems.add(
                (*path, "alias"),
                "obligatoire : lettres, chiffres, « _ », « - » ou « . » (64 au plus).",
            )
        elif alias in seen:
            problems.add(
                (*path, "alias"), f"« {alias} » déjà défini en identity_providers[{seen[alias]}]."
            )
        else:
            seen[alias] = index
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
        method = entry.get("token_endpoint_auth_method")
        if method is not None:
            checks.one_of(problems, method, (*path, "token_endpoint_auth_method"), AUTH_METHODS)
        for key in ("scopes", "allowed_issuers", "allowed_tenants"):
            if entry.get(key) is not None:
                checks.strings(problems, entry[key], (*path, key))
        if isinstance(entry.get("scopes"), list) and "openid" not in entry["scopes"]:
            problems.add((*path, "scopes"), "doit contenir « openid » (il faut un ID token).")
        if entry.get("allowed_tenants") and not entry.get("tenant_claim"):
            problems.add((*path, "tenant_claim"), "obligatoire avec allowed_tenants (ex. « tid »).")
        _check_amr(problems, entry.get("accepted_amr"), (*path, "accepted_amr"))
        mode = entry.get("auth_mode")
        if mode is not None and (not isinstance(mode, str) or not AUTH_MODE.fullmatch(mode)):
            problems.add((*path, "auth_mode"), "lettres, chiffres ou « _ », 20 au plus.")
        _check_pairing(problems, entry.get("pairing"), (*path, "pairing"))


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
    if means is not None and checks.strings(problems, means, (*path, "means")) is not None:
        for index, item in enumerate(means):
            checks.one_of(problems, item, (*path, "means", index), PAIRING_MEANS)
    lifetime = pairing.get("lifetime")
    if lifetime is not None and (
        isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime < 60
    ):
        problems.add((*path, "lifetime"), "un nombre entier de secondes (60 au moins).")
