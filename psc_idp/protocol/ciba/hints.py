"""Who a CIBA request is for, from an ``id_token_hint`` (an ID token this server issued)."""

from __future__ import annotations

from psc_idp.config import current_settings
from psc_idp.protocol.tokens import decode_id_token_hint


def national_id_from_id_token(value: str) -> str:
    subject = str(decode_id_token_hint(value).get("sub", ""))
    prefix = current_settings().sub_prefix
    if not subject.startswith(prefix):
        raise ValueError("id_token_hint subject is not a professional")
    return subject[len(prefix) :]
