"""The realm psc-idp serves during the benchmark (``PSC_REALM_FILE``).

One confidential client with every grant the scenarios use, and fictitious practitioners in a
range of their own (``89980…``), each with two exercices and three activities so that UserInfo
with ``scope_all`` carries a realistic document. Those that CIBA requests name have the realm
scenario ``ignore``: their requests stay pending, as when nobody answers the phone."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psc_idp.directory.national_id import rpps_luhn_key

CLIENT_ID = "bench-client"
REDIRECT_URI = "http://localhost:3000/callback"
CIBA_GRANT = "urn:openid:params:grant-type:ciba"


def national_id(index: int) -> str:
    """The ``index``-th bench professional: ``8`` + RPPS ``99800…`` with its Luhn key."""
    first10 = f"99800{index:05d}"
    return f"8{first10}{rpps_luhn_key(first10)}"


def _activity(index: int, number: int, mode: str) -> dict[str, Any]:
    return {
        "mode": mode,
        "sector": "SA07" if mode == "L" else "SA01",
        "genre": "GENR01",
        "structure_id": f"R98{index:04d}{number}",
        "raison_sociale": f"CABINET BENCH{index:05d} SITE {number}",
        "address": {
            "numero_voie": str(number),
            "code_type_voie": "R",
            "libelle_voie": "DES ESSAIS",
            "bureau_cedex": "75009 PARIS",
            "code_postal": "75009",
            "code_commune": "75109",
            "code_pays": "99000",
            "code_departement": "75",
        },
        "autorite_enregistrement": "CNOM/CNOM/CNOM",
    }


def practitioner(index: int) -> dict[str, Any]:
    name = f"BENCH{index:05d}"
    exercice = {
        "category": "C",
        "civilite_exercice": "DR",
        "nom_exercice": name,
        "prenom_exercice": "CAMILLE",
    }
    return {
        "national_id": national_id(index),
        "civility": "MME",
        "family_name": name,
        "given_names": ["CAMILLE", "ANNE"],
        "birth_date": "1980-01-01",
        "sex": "F",
        "email": f"camille.{name.lower()}@example.org",
        "phone": "06 00 00 00 09",
        "exercices": [
            {
                **exercice,
                "profession": "10",
                "savoir_faire_type": "S",
                "savoir_faire": "SM26",
                "activities": [_activity(index, n, "L") for n in (1, 2)],
            },
            {**exercice, "profession": "10", "activities": [_activity(index, 3, "S")]},
        ],
    }


@dataclass
class BenchRealm:
    secret: str
    professionals: int
    #: Professionals 0 .. pending-1 have the scenario ``ignore`` (CIBA requests stay pending);
    #: the others are free for e-CPS devices.
    pending: int

    @classmethod
    def generate(cls, professionals: int = 200, pending: int = 150) -> BenchRealm:
        return cls(secrets.token_urlsafe(32), professionals, min(pending, professionals))

    @property
    def pending_ids(self) -> list[str]:
        return [national_id(i) for i in range(self.pending)]

    @property
    def device_ids(self) -> list[str]:
        return [national_id(i) for i in range(self.pending, self.professionals)]

    def document(self) -> dict[str, Any]:
        return {
            "clients": [
                {
                    "client_id": CLIENT_ID,
                    "name": "Banc de mesure",
                    "secret": self.secret,
                    "token_endpoint_auth_method": "client_secret_basic",
                    "redirect_uris": [REDIRECT_URI],
                    "grant_types": [
                        "authorization_code",
                        "refresh_token",
                        "client_credentials",
                        CIBA_GRANT,
                    ],
                }
            ],
            "practitioners": [practitioner(i) for i in range(self.professionals)],
            "ecps_scenarios": [{"national_id": n, "action": "ignore"} for n in self.pending_ids],
        }

    def write(self, folder: Path) -> Path:
        path = folder / "bench-realm.json"
        path.write_text(json.dumps(self.document()))
        return path
