"""« Clé de sécurité FIDO »: FIDO2 keys (WebAuthn), activated with the e-CPS: credentials and
ceremonies (``models``, ``ceremonies``, ``policy``, around python-fido2), login
(``authenticator``) and enrolment in the account space (``enrolment``)."""
