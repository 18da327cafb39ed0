"""Error descriptions in Keycloak's words (psc-reference §2): what SP libraries show in their logs
and what integrators search for. Where our own code raises, it uses these words directly; this
module rewords the errors Authlib raises in its own words."""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidGrantError,
    OAuth2Error,
    UnsupportedGrantTypeError,
)

INVALID_CLIENT = "Invalid client or Invalid client credentials"
CODE_NOT_VALID = "Code not valid"
INVALID_REFRESH_TOKEN = "Invalid refresh token"
REFRESH_REUSE = "Maximum allowed refresh token reuse exceeded"
UNSUPPORTED_GRANT = "Unsupported grant_type"
MISSING_GRANT_TYPE = "Missing form parameter: grant_type"

#: Authlib's descriptions of a grant failure and Keycloak's for the same case.
_GRANT_WORDS = {
    "Invalid 'code' in request.": CODE_NOT_VALID,
    "Invalid 'redirect_uri' in request.": "Incorrect redirect_uri",
}
#: Authlib's descriptions of a failed client authentication (its list of methods among them).
_AUTHLIB_CLIENT_WORDS = (
    "The client cannot authenticate with methods",
    "The client does not exist on this server.",
    "Missing 'client_id' parameter.",
)


class UnsupportedGrantType(UnsupportedGrantTypeError):
    """Keycloak does not quote the grant type back."""

    def __init__(self) -> None:
        super().__init__("")
        self.description = UNSUPPORTED_GRANT


def reword(error: OAuth2Error) -> None:
    """Replace Authlib's description of ``error`` by Keycloak's, in place."""
    if isinstance(error, InvalidClientError):
        if not error.description or error.description.startswith(_AUTHLIB_CLIENT_WORDS):
            error.description = INVALID_CLIENT
    elif isinstance(error, InvalidGrantError) and error.description in _GRANT_WORDS:
        error.description = _GRANT_WORDS[error.description]
