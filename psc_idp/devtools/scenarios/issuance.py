"""The scenarios that change what is issued, answered to the protocol's question
(``protocol/changes.py``): at ``token`` the ID and access tokens (claims dropped or renamed,
another ``acr``, expired, signed by a key outside the JWKS), at ``userinfo`` its JSON (claims
dropped or renamed, an older shape)."""

from __future__ import annotations

from flask import Flask

from psc_idp.devtools.scenarios import store
from psc_idp.devtools.scenarios.http_effects import note
from psc_idp.protocol.changes import HOOK, Changes

CHANGING = (
    "drop_claim",
    "rename_claim",
    "acr",
    "expired_token",
    "wrong_signature",
    "userinfo_profile",
)


def init_app(app: Flask) -> None:
    app.extensions[HOOK] = changes_for


def changes_for(where: str, client_id: str, national_id: str | None) -> Changes | None:
    rows = [r for r in store.applicable(client_id, where, national_id) if r.effect in CHANGING]
    if not rows:
        return None
    # At the token endpoint the audit row commits with the tokens; UserInfo writes nothing,
    # its application is logged and marked in the answer's header.
    note(rows, where, national_id, audited=where == "token")
    values = {row.effect: row.value for row in rows}
    return Changes(
        drop=tuple(sorted(r.value for r in rows if r.effect == "drop_claim")),
        rename=tuple(sorted(_pair(r.value) for r in rows if r.effect == "rename_claim")),
        acr=values.get("acr"),
        expired="expired_token" in values,
        foreign_key="wrong_signature" in values,
        userinfo_profile=values.get("userinfo_profile"),
    )


def _pair(value: str) -> tuple[str, str]:
    old, _, new = value.partition("=")
    return old, new
