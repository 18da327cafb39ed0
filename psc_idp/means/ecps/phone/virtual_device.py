"""A device whose private key lives in a local file: what ``psc-idp ecps`` and the tests use
to act as a phone. It signs exactly what a real device signs (docs/ecps.md)."""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from psc_idp.means.ecps.activation import CARD_PROOF_TYP, PROOF_TYP
from psc_idp.means.ecps.phone.device_auth import CALL_TYP
from psc_idp.means.ecps.pushes import DECISION_TYP


@dataclass
class VirtualDevice:
    private_key: Any
    device_id: str = ""
    national_id: str = ""

    @classmethod
    def generate(cls) -> VirtualDevice:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @property
    def public_jwk(self) -> dict[str, Any]:
        return json.loads(ECAlgorithm.to_jwk(self.private_key.public_key()))

    def _sign(self, claims: dict[str, Any], typ: str) -> str:
        body = {"iat": int(time.time()), "jti": str(uuid.uuid4()), **claims}
        headers = {"typ": typ, "kid": self.device_id} if self.device_id else {"typ": typ}
        return jwt.encode(body, self.private_key, algorithm="ES256", headers=headers)

    def activation_proof(self, activation_id: str) -> str:
        return self._sign({"activation_id": activation_id}, PROOF_TYP)

    def card_activation_proof(self, activation_code: str) -> str:
        return self._sign({"activation_code": activation_code}, CARD_PROOF_TYP)

    def call_token(self, method: str, url: str, lifetime: int = 60) -> str:
        now = int(time.time())
        claims = {"iss": self.device_id, "htm": method, "htu": url, "exp": now + lifetime}
        return self._sign(claims, CALL_TYP)

    def decision(self, push_id: str, decision: str, binding_message: str, pin: str = "") -> str:
        claims = {"request_id": push_id, "decision": decision, "binding_message": binding_message}
        if pin:
            claims["pin"] = pin
        return self._sign(claims, DECISION_TYP)

    # --- key file ------------------------------------------------------------------------
    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / f"{self.national_id.replace('/', '_')}--{self.device_id}.json"
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        data = {"device_id": self.device_id, "national_id": self.national_id, "private_key": pem}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)
        return path

    @classmethod
    def load(cls, path: Path) -> VirtualDevice:
        data = json.loads(path.read_text())
        key = serialization.load_pem_private_key(data["private_key"].encode(), None)
        return cls(key, data["device_id"], data["national_id"])

    @classmethod
    def all_in(cls, folder: Path, national_id: str) -> list[VirtualDevice]:
        prefix = f"{national_id.replace('/', '_')}--"
        return [cls.load(p) for p in sorted(folder.glob(f"{prefix}*.json"))]
