"""Reading, importing and exporting the realm file (JSON or YAML).

::

    options: {userinfo_profile: current}
    clients: [{client_id, secret, redirect_uris, …}]
    practitioners: [{national_id, family_name, exercices: […]}]
    ecps_scenarios: [{national_id, action: approve|deny|ignore, delay: 2}]
    apis: [{audience, name, scopes, lifetime, allowed_clients, allowed_structures}]
    identity_providers: [{alias, issuer, client_id, accepted_amr, …}]   (FI Tiers)
    scenarios: [{client_id, national_id?, endpoint, error|status|delay|…}]  (error scenarios)

Import is idempotent: the same file twice changes nothing the second time."""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from psc_idp.api_as.apis import all_apis, api_to_dict, upsert_apis
from psc_idp.config import Settings
from psc_idp.devtools.scenarios.realm_io import export_scenarios as export_dev_scenarios
from psc_idp.devtools.scenarios.realm_io import upsert_scenarios as upsert_dev_scenarios
from psc_idp.directory.realm_io import export_practitioners, upsert_practitioners
from psc_idp.extensions import db
from psc_idp.means.ecps.scenarios import export_scenarios, upsert_scenarios
from psc_idp.means.fi_tiers.providers import export_providers, upsert_providers
from psc_idp.protocol.clients import all_clients, client_to_dict, upsert_client
from psc_idp.realm.models import RealmOption
from psc_idp.realm.problems import SAFE_LOADER, Problems, RealmInvalid, line_marks
from psc_idp.realm.validation import SECTIONS, check_realm

__all__ = ["RealmError", "RealmInvalid", "import_realm", "read_realm_file"]

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
DEMO_FILES = (
    HERE / "demo-clients.yaml",
    HERE / "demo-practitioners.yaml",
    HERE / "demo-ecps.yaml",
    HERE / "demo-apis.yaml",
)


class RealmError(ValueError):
    pass


@dataclass
class ImportReport:
    clients_changed: list[str] = field(default_factory=list)
    practitioners_changed: int = 0
    scenarios_changed: int = 0
    options_changed: list[str] = field(default_factory=list)
    apis_changed: int = 0
    identity_providers_changed: int = 0
    dev_scenarios_changed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "clients_changed": self.clients_changed,
            "practitioners_changed": self.practitioners_changed,
            "scenarios_changed": self.scenarios_changed,
            "options_changed": self.options_changed,
            "apis_changed": self.apis_changed,
            "identity_providers_changed": self.identity_providers_changed,
            "dev_scenarios_changed": self.dev_scenarios_changed,
        }


def read_realm_file(path: str | Path) -> dict[str, Any]:
    """Parse and check a realm file; ``RealmInvalid`` lists every problem with its line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise RealmError(f"{path} : le fichier n'est pas en UTF-8 ({error.reason}).") from None
    try:
        data = json.loads(text) if str(path).endswith(".json") else yaml.load(text, SAFE_LOADER)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise RealmError(f"{path} : ni JSON ni YAML valide ({error})") from error
    marks, duplicates = line_marks(text)
    problems = Problems(source=str(path), marks=marks)
    for duplicate in duplicates:
        problems.add(duplicate, "clé en double : seule la dernière valeur serait lue.")
    problems = check_realm(data, problems)
    if problems.items:
        raise RealmInvalid(problems)
    return data


def import_realm(data: dict[str, Any]) -> ImportReport:
    """Check, then apply a realm description; nothing is applied if anything is wrong. The
    caller commits."""
    problems = check_realm(data, Problems())
    if problems.items:
        raise RealmInvalid(problems)
    report = ImportReport()
    for name, value in (data.get("options") or {}).items():
        option = db.session.get(RealmOption, name)
        if option is None or option.value != value:
            db.session.merge(RealmOption(name=name, value=value))
            report.options_changed.append(name)
    for entry in data.get("clients") or []:
        client, changed = upsert_client(entry)
        if changed:
            report.clients_changed.append(client.client_id)
    report.practitioners_changed = upsert_practitioners(data.get("practitioners") or [])
    report.scenarios_changed = upsert_scenarios(data.get("ecps_scenarios") or [])
    report.apis_changed = upsert_apis(data.get("apis") or [])
    report.identity_providers_changed = upsert_providers(data.get("identity_providers") or [])
    report.dev_scenarios_changed = upsert_dev_scenarios(data.get("scenarios") or [])
    return report


def export_realm(settings: Settings) -> dict[str, Any]:
    options = {o.name: o.value for o in db.session.query(RealmOption).order_by(RealmOption.name)}
    return {
        "realm": settings.realm,
        "options": options,
        "clients": [client_to_dict(c, with_hash=True) for c in all_clients()],
        "practitioners": export_practitioners(),
        "ecps_scenarios": export_scenarios(),
        "apis": [api_to_dict(api) for api in all_apis()],
        "identity_providers": export_providers(),
        "scenarios": export_dev_scenarios(),
    }


def apply_realm_options(settings: Settings) -> None:
    for option in db.session.query(RealmOption):
        current = getattr(settings, option.name)
        value = {**current, **option.value} if isinstance(current, dict) else option.value
        setattr(settings, option.name, value)


# --- start-up ------------------------------------------------------------------------------
def load_startup_realm(settings: Settings) -> None:
    """``PSC_REALM_FILE`` if set, else the demo realm in development mode."""
    if settings.realm_file:
        import_realm(read_realm_file(settings.realm_file))
    elif settings.dev_mode:
        import_realm(demo_realm(settings))
    db.session.commit()
    apply_realm_options(settings)


def demo_realm(settings: Settings) -> dict[str, Any]:
    data: dict[str, Any] = {section: [] for section in SECTIONS}
    for path in DEMO_FILES:
        part = read_realm_file(path)
        for section in SECTIONS:
            data[section] += part.get(section) or []
    known = demo_secrets(settings)
    for client in data["clients"]:
        if client.get("secret") == "generate":
            client["secret"] = known[client["client_id"]]
        _follow_base_url(client, settings.base_url.rstrip("/"))
    return data


#: How the demo realm names psc-idp's own pages (the debugger's callback): the default base URL,
#: replaced by the actual one (another port, PSC_BASE_URL).
DEMO_SELF = "http://localhost:8080/dev/"


def _follow_base_url(client: dict[str, Any], base_url: str) -> None:
    for name in ("redirect_uris", "post_logout_redirect_uris"):
        uris = client.get(name) or []
        client[name] = [
            base_url + uri[len(DEMO_SELF) - len("/dev/") :] if uri.startswith(DEMO_SELF) else uri
            for uri in uris
        ]


def demo_secrets(settings: Settings) -> dict[str, str]:
    """Secrets of the demo clients: generated once, kept under keys/ (never committed)."""
    path = Path(settings.keys_dir) / "demo-client-secrets.json"
    known: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    wanted = [
        c["client_id"]
        for c in read_realm_file(DEMO_FILES[0]).get("clients") or []
        if c.get("secret") == "generate"
    ]
    missing = [client_id for client_id in wanted if client_id not in known]
    if missing:
        known.update({client_id: secrets.token_urlsafe(32) for client_id in missing})
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(known, handle, indent=2)
        tmp.replace(path)
    return known
