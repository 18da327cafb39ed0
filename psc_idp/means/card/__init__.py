"""« Carte CPS »: login with the card's certificate in mutual TLS (``authenticator``), the one
card check (``certificate``), the card-signed CIBA decision (``decision``), the page of pending
card requests (``pages``) and ``psc-idp cps approve`` (``cli``). The certificates themselves are
verified by the shared ``psc_idp.pki``; where they come from is ``psc_idp.tls``."""
