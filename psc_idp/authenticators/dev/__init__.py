"""Development-only means: pick a test identity and the means to simulate."""

from psc_idp.authenticators.dev.picker import TestIdentityPicker

__all__ = ["TestIdentityPicker"]
