"""What a development tool may change in what the protocol issues (the error scenarios of
``psc_idp.devtools.scenarios``): claims dropped or renamed, another ``acr``, an expired or
wrongly signed token, an older UserInfo shape.

The protocol only asks; the tool registers its answer in ``app.extensions[HOOK]`` from its
setup step, and only when it is on (``PSC_SCENARIOS``): otherwise the question is one
dictionary lookup and nothing changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import current_app

HOOK = "psc_issuance_changes"


@dataclass(frozen=True)
class Changes:
    """What one issuance (``token``: ID and access tokens; ``userinfo``) must change."""

    drop: tuple[str, ...] = ()
    rename: tuple[tuple[str, str], ...] = ()
    acr: str | None = None
    expired: bool = False
    foreign_key: bool = False
    userinfo_profile: str | None = None

    def apply(self, claims: dict[str, Any]) -> dict[str, Any]:
        """The claims with the drops, renames and ``acr`` applied, order kept."""
        claims = dict(claims)  # the caller's are left as they were
        if self.acr is not None and "acr" in claims:
            claims["acr"] = self.acr
        for name in self.drop:
            claims.pop(name, None)
        for old, new in self.rename:
            if old in claims:
                claims = {(new if key == old else key): value for key, value in claims.items()}
        return claims


#: (where: "token" or "userinfo", client_id, national_id) → the changes, or None.
ChangesHook = Callable[[str, str, str | None], Changes | None]


def changes_for(where: str, client_id: str, national_id: str | None) -> Changes | None:
    hook: ChangesHook | None = current_app.extensions.get(HOOK)
    return hook(where, client_id, national_id) if hook is not None else None


def expire(claims: dict[str, Any]) -> dict[str, Any]:
    """``exp`` (and ``iat``) in the past: a token a relying party must refuse."""
    lifetime = int(claims["exp"]) - int(claims["iat"])
    issued = int(claims["iat"]) - lifetime - 60
    return {**claims, "iat": issued, "exp": issued + lifetime}


def sign_with_foreign_key(claims: dict[str, Any], alg: str, kid: str) -> str:
    """Signed by a key generated here and never published: the ``kid`` names a key of the
    JWKS, whose signature check must then fail."""
    if alg.startswith("ES"):
        curve = {"ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}.get(alg, ec.SECP256R1())
        key: Any = ec.generate_private_key(curve)
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})
