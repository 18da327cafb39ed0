"""Login with the e-CPS application: a push to the professional's phones, approved with a PIN."""

from psc_idp.authenticators.ecps.authenticator import EcpsAuthenticator

__all__ = ["EcpsAuthenticator"]
