"""Error scenarios: per client (optionally one professional) and endpoint, one effect each —
an OAuth error, an HTTP status, a delay, a dropped or renamed claim, another ``acr``, an
expired or wrongly signed token, an older UserInfo shape, a CIBA request denied or expired.
Stored in the database (``models``), checked (``rules``), kept (``store``), applied at the
endpoints (``http_effects``, ``issuance``) when ``PSC_SCENARIOS`` is on; docs/developer-tools.md."""
