"""RFC 8693's own error (``invalid_target``), and the refusals of a subject or actor token
(RFC 8693 §2.2.2: ``invalid_request``), each with its description."""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error


class InvalidTargetError(OAuth2Error):
    """The audience, resource or API asked for is not one this server issues tokens for."""

    error = "invalid_target"


def refused_token(description: str) -> InvalidRequestError:
    # RFC 6749 §5.2 allows no ``"`` nor ``\\`` in a description (a library's words may have them).
    return InvalidRequestError(description.replace('"', "'").replace("\\", "/"))
