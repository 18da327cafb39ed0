"""Strict check of a realm description, before anything is applied.

Every problem is collected, with its place, and reported at once: a misspelt key
(``post_logout_redirect_uri``) is an error with a suggestion, never silently ignored."""

from __future__ import annotations

from typing import Any

from psc_idp.api_as.apis import check_apis
from psc_idp.directory.national_id import InvalidNationalId, validate_national_id
from psc_idp.directory.userinfo import PROFILES
from psc_idp.means.ecps.scenarios import ACTIONS
from psc_idp.means.fi_tiers.providers import check_identity_providers
from psc_idp.realm import checks
from psc_idp.realm.client_checks import check_clients
from psc_idp.realm.practitioner_checks import check_practitioners
from psc_idp.realm.problems import Problems
from psc_idp.realm.scenario_checks import check_scenarios

SECTIONS = (
    "clients",
    "practitioners",
    "ecps_scenarios",
    "apis",
    "identity_providers",
    "scenarios",
)
TOP_KEYS = ("realm", "options", *SECTIONS)
#: Settings a realm file may set, applied at the next start of every instance.
REALM_OPTIONS = ("userinfo_profile", "acr_by_auth_mode", "palier_by_auth_mode", "default_scopes")
AUTH_MODES = ("CARD", "MOBILE", "FIDO")
SCENARIO_KEYS = ("national_id", "action", "delay")


def check_realm(data: Any, problems: Problems) -> Problems:
    """Add the problems of ``data`` (a parsed realm file) to ``problems`` and return it."""
    if not checks.is_mapping(problems, data, ()):
        return problems
    checks.no_control_characters(problems, data, ())
    checks.known_keys(problems, data, (), TOP_KEYS)
    if data.get("realm") is not None:
        checks.text(problems, data["realm"], ("realm",))
    if data.get("options") is not None:
        _check_options(problems, data["options"])
    if data.get("clients") is not None:
        check_clients(problems, data["clients"])
    if data.get("practitioners") is not None:
        check_practitioners(problems, data["practitioners"])
    if data.get("ecps_scenarios") is not None:
        _check_scenarios(problems, data["ecps_scenarios"])
    if data.get("apis") is not None:
        check_apis(problems, data["apis"])
        _check_audiences(problems, data.get("clients"), data["apis"])
    if data.get("identity_providers") is not None:
        check_identity_providers(problems, data["identity_providers"])
    if data.get("scenarios") is not None:
        check_scenarios(problems, data["scenarios"], data.get("clients"))
    return problems


def _check_audiences(problems: Problems, clients: Any, apis: Any) -> None:
    """A file that declares its APIs: each client's ``audiences`` names one of them (else the
    exchange would only fail at run time, ``unauthorized_client``)."""
    if not isinstance(clients, list) or not isinstance(apis, list):
        return
    declared = {api.get("audience") for api in apis if isinstance(api, dict)}
    for index, client in enumerate(clients):
        audiences = client.get("audiences") if isinstance(client, dict) else None
        if not isinstance(audiences, list):
            continue
        for audience in audiences:
            if isinstance(audience, str) and audience not in declared:
                problems.add(
                    ("clients", index, "audiences"),
                    f"« {audience} » n'est pas une API de ce fichier (apis[].audience).",
                )


def _check_options(problems: Problems, options: Any) -> None:
    if not checks.is_mapping(problems, options, ("options",)):
        return
    checks.known_keys(problems, options, ("options",), REALM_OPTIONS)
    if "userinfo_profile" in options:
        path = ("options", "userinfo_profile")
        checks.one_of(problems, options["userinfo_profile"], path, PROFILES)
    for name in ("acr_by_auth_mode", "palier_by_auth_mode"):
        if name in options and checks.is_mapping(problems, options[name], ("options", name)):
            checks.known_keys(problems, options[name], ("options", name), AUTH_MODES)
            for mode, value in options[name].items():
                checks.text(problems, value, ("options", name, str(mode)))
    if "default_scopes" in options:
        checks.strings(problems, options["default_scopes"], ("options", "default_scopes"))


def _check_scenarios(problems: Problems, items: Any) -> None:
    if not checks.is_list(problems, items, ("ecps_scenarios",)):
        return
    for index, item in enumerate(items):
        path = ("ecps_scenarios", index)
        if not checks.is_mapping(problems, item, path):
            continue
        checks.known_keys(problems, item, path, SCENARIO_KEYS)
        try:
            validate_national_id(str(item.get("national_id", "")))
        except InvalidNationalId as error:
            problems.add((*path, "national_id"), str(error))
        checks.one_of(problems, item.get("action"), (*path, "action"), ACTIONS)
        delay = item.get("delay", 0)
        if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= 3600:
            problems.add((*path, "delay"), "doit être un nombre de secondes de 0 à 3600.")
