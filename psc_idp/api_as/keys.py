"""Each protected API's authorization server signs with keys of its own, never the realm's:
``keys/api-as/<audience>/signing/``, the same files, rotation and JWKS as the realm's keys
(``keystore/signing.py``). Created on first use."""

from __future__ import annotations

from pathlib import Path
from threading import Lock

from flask import current_app

from psc_idp.keystore import SigningKeys

#: The algorithm of the exchanged tokens (PSC's own default).
TOKEN_ALG = "RS256"


class ApiSigningKeys:
    """One ``SigningKeys`` per audience, made (and its keys generated) the first time it is
    asked for; the audience is known to be declared by then."""

    def __init__(self, keys_dir: str | Path, publish_grace: int):
        self.folder = Path(keys_dir) / "api-as"
        self.publish_grace = publish_grace
        self._lock = Lock()
        self._by_audience: dict[str, SigningKeys] = {}

    def of(self, audience: str) -> SigningKeys:
        known = self._by_audience.get(audience)
        if known is not None:
            return known
        with self._lock:
            if audience not in self._by_audience:
                keys = SigningKeys(self.folder / audience, publish_grace=self.publish_grace)
                keys.ensure()
                self._by_audience[audience] = keys
        return self._by_audience[audience]


def api_signing_keys(audience: str) -> SigningKeys:
    return current_app.extensions["psc_api_signing_keys"].of(audience)
