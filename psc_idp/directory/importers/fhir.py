"""Annuaire Santé FHIR resources (``/fhir/v1``): Practitioner, PractitionerRole, Organization.

Input is a searchset Bundle (JSON), several Bundles or bare resources one per line (NDJSON),
read as a stream (:mod:`fhir_stream`). Roles point to their practitioner and organization by
reference, in any order, so the file is read twice: first every Organization and
PractitionerRole goes to an index on disk (a temporary SQLite file), which also proves the
whole file parses before anything is written; then each Practitioner, in file order, is built
with its roles and their organizations looked up there. Memory stays constant whatever the
size of the file. Positions are the practitioner's rank in the file.
"""

from __future__ import annotations

import json
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psc_idp.directory.importers import checks
from psc_idp.directory.importers.fhir_stream import FhirJsonError, resources
from psc_idp.directory.importers.records import (
    ACTIVITY_COLUMNS,
    ACTIVITY_LENGTHS,
    EXERCICE_LENGTHS,
    Person,
    Rejected,
    RejectedItem,
    check_civil,
    check_lengths,
)
from psc_idp.directory.importers.source import ImportFileError
from psc_idp.directory.models import EXERCICE_FIELDS, GIVEN_NAMES_SEPARATOR

if TYPE_CHECKING:
    from psc_idp.directory.importers.source import Source

#: Called with (rows read, bytes read, total bytes), as ``run.Progress``.
Progress = Callable[[int, int, int], None]

NATIONAL_ID_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
STRUCTURE_ID_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
RPPS_SYSTEM = "https://rpps.esante.gouv.fr"
EXERCISE_NAME_EXTENSION = "PractitionerRole-Name"

#: Nomenclature (as named in coding systems) → field of an exercice or an activity.
_ROLE_CODES = {
    "TRE_G15": ("exercice", "profession"),
    "TRE_R85": ("exercice", "profession"),
    "TRE_R09": ("exercice", "category"),
    "TRE_R23": ("activity", "mode"),
    "TRE_R21": ("activity", "role"),
    "TRE_R22": ("activity", "genre"),
    "TRE_G05": ("activity", "pharmacist_section"),
    "TRE_R38": ("exercice", "savoir_faire"),
    "TRE_R04": ("exercice", "savoir_faire_type"),
}
_ORGANIZATION_IDS = {
    "FINEG": "finess_site",
    "FINEJ": "finess_juridique",
    "SIRET": "siret",
    "SIREN": "siren",
    "INTRN": "structure_id",
}


_MALFORMED = "ressource FHIR mal formée (valeur d'un type inattendu)"


class FhirFileError(ImportFileError):
    """The file is not readable FHIR JSON (raised before anything is written)."""


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # tab, LF and CR are whitespace


def _has_control(value: Any) -> bool:
    if isinstance(value, str):
        return _CONTROL.search(value) is not None
    if isinstance(value, dict):
        return any(_has_control(k) or _has_control(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_control(item) for item in value)
    return False


def _reference(value: Any) -> str:
    """The id in a ``{"reference": "Type/id"}`` (``""`` for anything else)."""
    reference = value.get("reference") if isinstance(value, dict) else None
    return str(reference).rpartition("/")[2] if reference else ""


def _nomenclature(system: Any) -> str:
    text = str(system or "").upper().replace("-", "_")
    return next((name for name in _ROLE_CODES if name in text), "")


def _codings(concepts: Any) -> Iterator[tuple[str, str]]:
    for concept in concepts if isinstance(concepts, list) else [concepts]:
        for coding in (concept or {}).get("coding") or [] if isinstance(concept, dict) else []:
            if isinstance(coding, dict) and coding.get("code"):
                yield _nomenclature(coding.get("system")), str(coding["code"]).strip()


def _first(values: Any) -> str:
    if isinstance(values, list):
        return str(values[0]).strip() if values else ""
    return str(values or "").strip()


def _telecom(resource: dict[str, Any], system: str) -> str:
    for contact in resource.get("telecom") or []:
        if isinstance(contact, dict) and contact.get("system") == system:
            return str(contact.get("value") or "").strip()
    return ""


def _national_id(practitioner: dict[str, Any]) -> str:
    identifiers = [i for i in practitioner.get("identifier") or [] if isinstance(i, dict)]
    for identifier in identifiers:
        if identifier.get("system") == NATIONAL_ID_SYSTEM and identifier.get("value"):
            return checks.national_id(str(identifier["value"]))
    for identifier in identifiers:
        if identifier.get("system") == RPPS_SYSTEM and identifier.get("value"):
            return checks.national_id("8" + str(identifier["value"]))
    raise Rejected("identifiant national absent (urn:oid:1.2.250.1.71.4.2.1)")


def _civil(practitioner: dict[str, Any]) -> dict[str, Any]:
    name = next(iter(practitioner.get("name") or [{}]), {}) or {}
    given = [str(g).strip() for g in name.get("given") or [] if str(g).strip()]
    prefix = _first(name.get("prefix")).upper()
    gender = {"male": "M", "female": "F"}.get(str(practitioner.get("gender") or ""), "")
    civil = {
        "civility": prefix if prefix in ("M", "MME") else "",
        "family_name": str(name.get("family") or "").strip(),
        "given_names": GIVEN_NAMES_SEPARATOR.join(given),
        "birth_date": checks.birth_date(str(practitioner.get("birthDate") or "")),
        "sex": gender,
        "birth_place": None,
        "birth_commune_code": None,
        "birth_country_code": None,
        "email": _telecom(practitioner, "email"),
        "phone": _telecom(practitioner, "phone"),
    }
    check_civil(civil)
    return civil


def _organization_fields(organization: dict[str, Any]) -> dict[str, str]:
    fields = {"structure_id": str(organization.get("id") or "")}
    for identifier in organization.get("identifier") or []:
        if not isinstance(identifier, dict) or not identifier.get("value"):
            continue
        value = str(identifier["value"]).strip()
        if identifier.get("system") == STRUCTURE_ID_SYSTEM:
            fields["ancien_identifiant"] = value
        for _, code in _codings(identifier.get("type")):
            if code in _ORGANIZATION_IDS:
                fields[_ORGANIZATION_IDS[code]] = value
    for concept in organization.get("type") or []:
        for coding in (concept or {}).get("coding") or []:
            if "TRE_R02" in str(coding.get("system", "")).upper().replace("-", "_"):
                fields["sector"] = str(coding.get("code") or "")
    address = next(iter(organization.get("address") or [{}]), {}) or {}
    postal, city = str(address.get("postalCode") or ""), str(address.get("city") or "")
    fields |= {
        "raison_sociale": str(organization.get("name") or "").strip(),
        "enseigne": _first(organization.get("alias")),
        "libelle_voie": _first(address.get("line")),
        "code_postal": postal,
        "bureau_cedex": " ".join(part for part in (postal, city.upper()) if part),
        "telephone": _telecom(organization, "phone"),
        "email": _telecom(organization, "email"),
    }
    return fields


def _exercise_name(role: dict[str, Any]) -> dict[str, str]:
    for extension in role.get("extension") or []:
        if isinstance(extension, dict) and EXERCISE_NAME_EXTENSION in str(extension.get("url")):
            name = extension.get("valueHumanName") or {}
            return {
                "nom_exercice": str(name.get("family") or "").strip(),
                "prenom_exercice": _first(name.get("given")),
                "civilite_exercice": _first(name.get("suffix") or name.get("prefix")).upper(),
            }
    return {}


def _exercice_and_activity(
    role: dict[str, Any], organizations: Callable[[str], dict[str, Any] | None]
) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    found: dict[str, dict[str, str]] = {"exercice": _exercise_name(role), "activity": {}}
    for nomenclature, code in (*_codings(role.get("code")), *_codings(role.get("specialty"))):
        if nomenclature:
            kind, name = _ROLE_CODES[nomenclature]
            found[kind][name] = code
    if found["exercice"].get("savoir_faire") and not found["exercice"].get("savoir_faire_type"):
        found["exercice"]["savoir_faire_type"] = "S"
    exercice = tuple(found["exercice"].get(name, "") for name in EXERCICE_FIELDS)
    checks.exercice_codes(exercice)
    check_lengths(exercice, EXERCICE_LENGTHS, EXERCICE_FIELDS)
    organization = organizations(_reference(role.get("organization")))
    if organization is None and not found["activity"]:
        return exercice, None
    fields = (_organization_fields(organization) if organization else {}) | found["activity"]
    activity = tuple(fields.get(name, "") for name in ACTIVITY_COLUMNS)
    checks.activity_codes(activity)
    check_lengths(activity, ACTIVITY_LENGTHS, ACTIVITY_COLUMNS)
    return exercice, activity


_INDEX_BATCH = 5000
_INDEXED = frozenset({"Organization", "PractitionerRole"})  # the first pass
_PRACTITIONER = frozenset({"Practitioner"})  # the second


class _Index:
    """Organizations by id and roles by practitioner, on disk: the first pass over a file."""

    def __init__(self, source: Source, progress: Progress | None = None) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="psc-idp-fhir-")
        self.db = sqlite3.connect(Path(self.folder.name) / "index.sqlite3")
        self.db.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
            "CREATE TABLE organization (id TEXT PRIMARY KEY, body TEXT NOT NULL);"
            "CREATE TABLE role (seq INTEGER PRIMARY KEY, practitioner TEXT NOT NULL,"
            " body TEXT NOT NULL);"
        )
        self.organization = lru_cache(maxsize=4096)(self._organization)
        organizations: list[tuple[str, str]] = []
        roles: list[tuple[str, str]] = []
        with source.open() as handle:
            stream, reader = resources(handle, _INDEXED)
            for number, resource in enumerate(_checked(stream), start=1):
                kind = resource["resourceType"]
                if kind == "Organization":
                    organizations.append((str(resource.get("id")), _dump(resource)))
                elif kind == "PractitionerRole":
                    roles.append((_reference(resource.get("practitioner")), _dump(resource)))
                if len(organizations) + len(roles) >= _INDEX_BATCH:
                    self._store(organizations, roles)
                source.bytes_read = reader.count // 2  # the first of two passes
                if progress is not None and number % 1024 == 0:
                    progress(0, source.bytes_read, source.size)
        self._store(organizations, roles)
        self.db.execute("CREATE INDEX role_practitioner ON role (practitioner)")
        self.db.commit()

    def _store(self, organizations: list[tuple[str, str]], roles: list[tuple[str, str]]) -> None:
        # The last Organization of an id wins, as when the file was read whole.
        self.db.executemany("INSERT OR REPLACE INTO organization VALUES (?, ?)", organizations)
        self.db.executemany("INSERT INTO role (practitioner, body) VALUES (?, ?)", roles)
        organizations.clear()
        roles.clear()

    def roles(self, practitioner: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT body FROM role WHERE practitioner = ? ORDER BY seq", (practitioner,)
        )
        return [json.loads(body) for (body,) in rows]

    def _organization(self, identifier: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT body FROM organization WHERE id = ?", (identifier,)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def close(self) -> None:
        self.db.close()
        self.folder.cleanup()


def _dump(resource: dict[str, Any]) -> str:
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":"))


def _checked(stream: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    try:
        yield from stream
    except FhirJsonError as exc:
        raise FhirFileError(str(exc)) from None


def groups(source: Source, progress: Progress | None = None) -> Iterator[Person | RejectedItem]:
    """Index the file (it must parse whole: :class:`FhirFileError` otherwise, before any
    write), then return the persons it describes, one practitioner at a time. ``progress``
    hears of the first pass as (0 rows, bytes, total bytes)."""
    index = _Index(source, progress)
    return _practitioners(source, index)


def _practitioners(source: Source, index: _Index) -> Iterator[Person | RejectedItem]:
    try:
        with source.open() as handle:
            stream, reader = resources(handle, _PRACTITIONER)
            position = 0
            for resource in _checked(stream):
                source.bytes_read = (source.size + reader.count) // 2
                if resource["resourceType"] != "Practitioner":
                    continue
                position += 1
                roles = index.roles(str(resource.get("id")))
                yield from _person(position, resource, roles, index.organization)
    finally:
        index.close()


def _person(
    position: int,
    practitioner: dict[str, Any],
    roles: list[dict[str, Any]],
    organizations: Callable[[str], dict[str, Any] | None],
) -> Iterator[Person | RejectedItem]:
    try:
        if _has_control(practitioner):
            raise Rejected("caractère de contrôle interdit dans la ressource")
        person = Person(_national_id(practitioner), position, _civil(practitioner))
    except Rejected as exc:
        yield RejectedItem(position, str(practitioner.get("id") or "")[:64], str(exc))
        return
    except (AttributeError, TypeError):  # a value of the wrong JSON type somewhere
        yield RejectedItem(position, str(practitioner.get("id") or "")[:64], _MALFORMED)
        return
    for role in roles:
        try:
            if _has_control(role):
                raise Rejected("caractère de contrôle interdit dans la ressource")
            if role.get("active") is False:
                continue
            person.add(*_exercice_and_activity(role, organizations))
        except Rejected as exc:
            yield RejectedItem(position, person.national_id, f"PractitionerRole : {exc}")
        except (AttributeError, TypeError):
            yield RejectedItem(position, person.national_id, f"PractitionerRole : {_MALFORMED}")
    if not person.exercices:
        yield RejectedItem(position, person.national_id, "aucune situation d'exercice active")
        return
    yield person
