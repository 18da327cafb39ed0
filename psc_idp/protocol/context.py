"""What a grant knows about the authorization when it asks for tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TokenContext:
    """Passed as Authlib's ``user`` to the token generator.

    ``national_id`` is None for a client acting on its own behalf (client credentials)."""

    national_id: str | None
    sid: str | None = None
    auth_time: int | None = None
    acr: str | None = None
    auth_mode: str | None = None
    #: ``amr`` of the login, space-separated (an establishment's, FI Tiers), if any.
    amr: str | None = None
    nonce: str | None = None
    #: The ``claims`` request parameter of the authorization (OIDC Core §5.5), if any.
    claims: str | None = None
    #: The token family continued by a refresh; None starts a new one.
    grant_id: str | None = None
    #: That family's scope, when the caller has just read it (the generator reads it if not).
    grant_scope: str | None = None
    #: The code the family comes from, so a replayed code can revoke it.
    code_hash: str | None = None

    @classmethod
    def of_login(cls, source: Any, sid: str | None = None, **extra: Any) -> TokenContext:
        """From anything that records a login (a code, a token family, a login transaction,
        an SSO session): who, when, how. ``sid`` defaults to the source's own ``sid``."""
        return cls(
            national_id=source.national_id,
            sid=sid if sid is not None else source.sid,
            auth_time=source.auth_time,
            acr=source.acr,
            auth_mode=source.auth_mode,
            amr=getattr(source, "amr", None),
            **extra,
        )
