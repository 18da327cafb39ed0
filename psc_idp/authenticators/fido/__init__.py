"""Login with a FIDO2 security key (WebAuthn), enrolled beforehand with the e-CPS."""

from psc_idp.authenticators.fido.authenticator import FidoAuthenticator

__all__ = ["FidoAuthenticator"]
