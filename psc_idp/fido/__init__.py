"""FIDO2 security keys (WebAuthn), activated with the e-CPS: credentials, attestation policy,
and the registration and authentication ceremonies (python-fido2 does the checks)."""
