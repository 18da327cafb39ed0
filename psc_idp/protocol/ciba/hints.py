"""Who a CIBA request is for, from an ``id_token_hint`` (an ID token this server issued)."""

from __future__ import annotations

from psc_idp.config import current_settings
from psc_idp.protocol.lookups import enabled_client
from psc_idp.protocol.pairwise import PAIRWISE, subject_for
from psc_idp.protocol.tokens import decode_id_token_hint


def national_id_from_id_token(value: str) -> str:
    claims = decode_id_token_hint(value)
    subject = str(claims.get("sub", ""))
    prefix = current_settings().sub_prefix
    if subject.startswith(prefix):
        return subject[len(prefix) :]
    return _pairwise_national_id(claims, subject)


def _pairwise_national_id(claims: dict, subject: str) -> str:
    """A pairwise ``sub`` cannot be reversed: the hint's ``SubjectNameID`` names the
    professional, and must give that very ``sub`` for the client it was issued to."""
    national_id = claims.get("SubjectNameID")
    client = enabled_client(str(claims.get("azp", "")))
    if (
        not isinstance(national_id, str)
        or client is None
        or client.subject_type != PAIRWISE
        or subject_for(client, national_id, "") != subject
    ):
        raise ValueError("id_token_hint subject is not a professional")
    return national_id
