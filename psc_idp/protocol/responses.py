"""How authorization responses and errors travel back to the client (query, fragment, form_post),
always with ``iss`` (RFC 9207) as PSC advertises; in a JWT mode (JARM, ``protocol.jarm``) the
parameters and ``iss`` travel inside one signed (perhaps encrypted) ``response`` parameter
instead."""

from __future__ import annotations

from collections.abc import Mapping

from authlib.common.urls import add_params_to_uri
from flask import Response

from psc_idp.config import current_settings
from psc_idp.protocol import jarm, pages
from psc_idp.protocol.encryption.client_key import EncryptionKeyUnavailable
from psc_idp.protocol.models import Client


def authorization_redirect(
    redirect_uri: str,
    params: list[tuple[str, str]],
    request_data: Mapping[str, str],
    client: Client | None,
) -> tuple[int, str, list[tuple[str, str]]]:
    """The response to ``client`` at its registered ``redirect_uri`` (``client`` is known
    whenever a redirect URI is: without it a JWT mode falls back to its transport, unsigned).
    Raises ``EncryptionKeyUnavailable`` when the client's response must be encrypted and
    cannot be (``unencryptable_page`` is then the answer)."""
    params = [*params, ("iss", current_settings().issuer)]
    mode = request_data.get("response_mode") or "query"
    if jarm.is_jwt_mode(mode):
        if client is not None:
            params = [("response", jarm.response_jwt(client, params))]
        mode = jarm.transport(mode)
    if mode == "form_post":
        page = pages.FormPost(action=redirect_uri, fields=dict(params))
        body = pages.render(page).get_data(as_text=True)
        # The page holds the code: never from a cache (as in the Form Post Response Mode example).
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
        return 200, body, headers
    uri = add_params_to_uri(redirect_uri, params, fragment=(mode == "fragment"))
    return 302, "", [("Location", uri)]


def unencryptable_page(error: EncryptionKeyUnavailable) -> Response:
    """Instead of an authorization response that would go out in clear: the French page (the
    client's registration is at fault, as ``invalid_client`` at the token endpoint)."""
    details = f"invalid_client: Authorization response encryption: {error}"
    return pages.render(pages.UnencryptableResponse(details=details))
