"""Login with the CPS card: the browser presents the card's certificate in mutual TLS."""

from psc_idp.authenticators.card.authenticator import CardAuthenticator

__all__ = ["CardAuthenticator"]
