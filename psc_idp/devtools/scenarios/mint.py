"""``psc-idp token issue``: the token response a login by this professional would give the
client, without a browser (development mode only). The protocol's own issuance makes it
(``tokens.generate_token``, ``server.save_issued``): same claims, same stored rows, so
UserInfo, introspection and refresh work on it; audited as any issuance, with an SSO session
without cookie (as a CIBA login's) behind its ``sid``."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749.errors import OAuth2Error

from psc_idp.config import current_settings
from psc_idp.directory.national_id import InvalidNationalId, validate_national_id
from psc_idp.directory.reading import read_practitioner
from psc_idp.extensions import db
from psc_idp.login.sessions import open_session
from psc_idp.protocol.context import TokenContext
from psc_idp.protocol.lookups import enabled_client
from psc_idp.protocol.server import save_issued
from psc_idp.protocol.tokens import generate_token
from psc_idp.timeutil import epoch

#: The grant type the issuance is recorded under (audit, metrics).
GRANT_TYPE = "token_issue"
AUTH_MODES = ("CARD", "MOBILE", "FIDO")


class MintRefused(ValueError):
    """Why no token was issued, in French."""


def mint(
    national_id: str, client_id: str, auth_mode: str = "CARD", scope: str | None = None
) -> dict[str, Any]:
    settings = current_settings()
    if not settings.dev_mode:
        raise MintRefused(
            "« token issue » n'existe qu'en mode développement (PSC_DEV_MODE=1) : ailleurs, un"
            " jeton ne s'obtient que par une vraie connexion."
        )
    try:
        national_id = validate_national_id(national_id)
    except InvalidNationalId as error:
        raise MintRefused(str(error)) from None
    client = enabled_client(client_id)
    if client is None:
        raise MintRefused(f"client inconnu ou désactivé : {client_id}")
    if not client.check_grant_type("authorization_code"):
        raise MintRefused(f"{client_id} n'a pas le grant authorization_code : aucune connexion.")
    if auth_mode not in AUTH_MODES:
        raise MintRefused(f"--auth-mode {auth_mode} : attendu {', '.join(AUTH_MODES)}.")
    practitioner = read_practitioner(national_id)
    if practitioner is None or not practitioner.active:
        raise MintRefused(f"aucun professionnel actif : {national_id}")
    try:
        granted = client.get_allowed_scope(scope or "openid")
    except OAuth2Error as error:
        raise MintRefused(f"--scope : {error.description or error.error}") from None
    acr = settings.acr_by_auth_mode.get(auth_mode, "")
    auth_time = epoch()
    session, _ = open_session(national_id, auth_mode, acr, auth_time)
    ctx = TokenContext(
        national_id=national_id, sid=session.id, auth_time=auth_time, acr=acr, auth_mode=auth_mode
    )
    try:
        token = generate_token(
            GRANT_TYPE,
            client,
            ctx,
            granted,
            include_refresh_token=client.check_grant_type("refresh_token"),
        )
    except OAuth2Error as error:
        db.session.rollback()
        raise MintRefused(error.description or error.error) from None
    save_issued(GRANT_TYPE, client.client_id)
    return token
