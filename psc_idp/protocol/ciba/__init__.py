"""Client-Initiated Backchannel Authentication (OpenID CIBA Core 1.0), poll and ping modes, as
PSC offers it to heavy clients (hospital DPI software): the client sends a national id, the
professional approves on their e-CPS (channel MOBILE) or with their CPS card (channel CARD),
the client polls the token endpoint (or is pinged)."""
