"""Token signing keys, one file per key under ``keys/signing/``.

A key is active until rotated; a retired key stays published in the JWKS until every token it
signed has expired, then it is pruned. Several instances share the folder; each reloads it when
it changes (checked at most once a second), so a rotation is seen everywhere without a restart.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm, RSAPSSAlgorithm

from psc_idp.keystore.permissions import own_private_key, private_folder

SUPPORTED_ALGS = ("RS256", "PS256", "ES256")
#: ``RSA``: the label of the encryption keys (keystore/encryption.py), one RSA key for every
#: RSA key-management algorithm.
_ALGORITHMS = {
    "RS256": RSAAlgorithm,
    "PS256": RSAPSSAlgorithm,
    "ES256": ECAlgorithm,
    "RSA": RSAAlgorithm,
}


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    private_key: Any
    created_at: float
    retired_at: float | None
    use: str = "sig"

    def public_jwk(self) -> dict[str, Any]:
        algorithm = _ALGORITHMS[self.alg]
        jwk = json.loads(algorithm.to_jwk(self.private_key.public_key()))
        if self.use == "enc":
            # No ``alg``: the client chooses among the advertised key-management algorithms.
            # PyJWT's ``key_ops`` (``verify``) would contradict ``use: enc``.
            jwk.pop("key_ops", None)
            return {"kid": self.kid, "kty": jwk["kty"], "use": "enc", **jwk}
        return {"kid": self.kid, "kty": jwk["kty"], "alg": self.alg, "use": "sig", **jwk}


@dataclass(frozen=True)
class JwksDocument:
    body: bytes
    etag: str
    #: The key lists it was made from: a reload makes a new list, hence a new document.
    keys: tuple[list[SigningKey], ...]
    #: When the next retired key stops being published (epoch seconds).
    valid_until: float


def _generate(alg: str) -> Any:
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _thumbprint(private_key: Any, alg: str) -> str:
    """RFC 7638 thumbprint: a stable, collision-free ``kid``."""
    jwk = json.loads(_ALGORITHMS[alg].to_jwk(private_key.public_key()))
    members = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class SigningKeys:
    """All signing keys of the realm, loaded from disk and cached until the folder changes.

    ``also_published``: another key folder whose keys the JWKS lists too (the encryption
    keys)."""

    FOLDER = "signing"
    ALGS: tuple[str, ...] = SUPPORTED_ALGS
    USE = "sig"

    def __init__(
        self,
        keys_dir: str | Path,
        publish_grace: int,
        also_published: SigningKeys | None = None,
    ):
        self.folder = Path(keys_dir) / self.FOLDER
        self.publish_grace = publish_grace
        self.also_published = also_published
        self._lock = Lock()
        self._keys: list[SigningKey] = []
        self._stamp: float | None = None
        self._checked = 0.0
        self._document: JwksDocument | None = None

    # --- reading ---------------------------------------------------------------------------
    def active(self, alg: str) -> SigningKey:
        for key in self._current():
            if key.alg == alg and key.retired_at is None:
                return key
        raise LookupError(f"no active signing key for {alg}")

    def every_key(self) -> list[SigningKey]:
        """Every key of the folder, retired ones included (what an operator lists)."""
        return list(self._current())

    def by_kid(self, kid: str) -> SigningKey | None:
        return next((k for k in self._current() if k.kid == kid), None)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        return json.loads(self.jwks_document().body)

    def jwks_document(self) -> JwksDocument:
        """The published key set, serialised once per change of the folder (or when a retired
        key leaves it), with its ETag: the JWKS endpoint answers from it without work."""
        sources = (self._current(),)
        if self.also_published is not None:
            sources += (self.also_published._current(),)
        cached = self._document
        if (
            cached is not None
            and len(cached.keys) == len(sources)
            and all(a is b for a, b in zip(cached.keys, sources, strict=True))
            and time.time() < cached.valid_until
        ):
            return cached
        horizon = time.time() - self.publish_grace
        published = [
            k for keys in sources for k in keys if k.retired_at is None or k.retired_at > horizon
        ]
        body = json.dumps(
            {"keys": [k.public_jwk() for k in published]}, separators=(",", ":")
        ).encode()
        leaving = [k.retired_at + self.publish_grace for k in published if k.retired_at]
        document = JwksDocument(
            body=body,
            etag=hashlib.sha256(body).hexdigest()[:32],
            keys=sources,
            valid_until=min(leaving, default=float("inf")),
        )
        self._document = document
        return document

    def _current(self) -> list[SigningKey]:
        now = time.monotonic()
        if now - self._checked < 1.0 and self._stamp is not None:
            return self._keys
        with self._lock:
            self._checked = now
            stamp = self.folder.stat().st_mtime_ns if self.folder.exists() else None
            if stamp != self._stamp:
                self._keys = self._load()
                self._stamp = stamp
        return self._keys

    def _load(self) -> list[SigningKey]:
        keys = []
        for pem in sorted(self.folder.glob("*.pem")):
            alg, kid = pem.stem.split("-", 1)
            retired = pem.with_suffix(".retired")
            keys.append(
                SigningKey(
                    kid=kid,
                    alg=alg,
                    private_key=own_private_key(pem.read_bytes()),
                    created_at=pem.stat().st_mtime,
                    retired_at=float(retired.read_text()) if retired.exists() else None,
                    use=self.USE,
                )
            )
        # Newest first, so ``active`` picks the latest key of an algorithm.
        return sorted(keys, key=lambda k: k.created_at, reverse=True)

    # --- writing ---------------------------------------------------------------------------
    def ensure(self) -> None:
        """Create one key per supported algorithm if none is active (first start)."""
        for alg in self.ALGS:
            if not any(k.alg == alg and k.retired_at is None for k in self._load_fresh()):
                self._create(alg)

    def rotate(self, algs: tuple[str, ...] | None = None) -> list[SigningKey]:
        """Publish a new key per algorithm, retire the previous ones, prune expired ones."""
        algs = self.ALGS if algs is None else algs
        old = [k for k in self._load_fresh() if k.alg in algs and k.retired_at is None]
        for alg in algs:
            self._create(alg)
        for key in old:
            (self.folder / f"{key.alg}-{key.kid}.retired").write_text(str(time.time()))
        self._prune()
        self._touch()
        return [k for k in self._load_fresh() if k.alg in algs and k.retired_at is None]

    def _load_fresh(self) -> list[SigningKey]:
        return self._load() if self.folder.exists() else []

    def _create(self, alg: str) -> None:
        private_folder(self.folder)
        private_key = _generate(alg)
        kid = _thumbprint(private_key, alg)
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path = self.folder / f"{alg}-{kid}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        self._touch()

    def _prune(self) -> None:
        horizon = time.time() - self.publish_grace
        for key in self._load_fresh():
            if key.retired_at is not None and key.retired_at < horizon:
                (self.folder / f"{key.alg}-{key.kid}.pem").unlink(missing_ok=True)
                (self.folder / f"{key.alg}-{key.kid}.retired").unlink(missing_ok=True)

    def _touch(self) -> None:
        # Writing a .retired file does not always change the folder's mtime; force it.
        os.utime(self.folder)
        self._stamp = None
        self._checked = 0.0
