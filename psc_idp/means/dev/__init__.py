"""Development-only means: pick a test identity and the means to simulate (``picker``)."""
