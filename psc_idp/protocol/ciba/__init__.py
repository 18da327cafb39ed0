"""Client-Initiated Backchannel Authentication (OpenID CIBA Core 1.0), poll and ping modes, as
PSC offers it to heavy clients (hospital DPI software): the client sends a national id, the
professional approves with the means that serves the requested ``channel`` (``login.headless``:
the e-CPS, the CPS card), the client polls the token endpoint (or is pinged)."""
