"""Settings of the test PKI, with their defaults in one place.

They are read with ``getattr`` so the package works whether or not ``Settings`` declares them
yet; each default below is the one ``Settings`` should carry (environment ``PSC_PKI_…``)."""

from __future__ import annotations

from typing import Any

#: name → (default, why)
DEFAULTS: dict[str, tuple[Any, str]] = {
    "pki_card_validity_days": (1095, "Real CPS cards are valid three years."),
    "pki_org_validity_days": (1095, "ORG AUTH_CLI certificates: three years (ours)."),
    "pki_server_validity_days": (
        397,
        "TLS server certificate: browsers refuse longer server certificates; renewed on start "
        "when less than 30 days remain.",
    ),
    "pki_server_hostnames": (
        [],
        "Extra DNS names or IP addresses of the TLS server certificate (localhost, 127.0.0.1, "
        "::1 and the host of base_url are always there). Read when the certificate is made.",
    ),
    "pki_crl_lifetime": (
        3600,
        "Seconds between thisUpdate and nextUpdate of our CRLs (ours): relying parties that "
        "cache a CRL see a revocation within this delay; ours is regenerated on revocation.",
    ),
    "pki_crl_fetch_timeout": (5, "Seconds to wait for a foreign CRL distribution point."),
    "pki_crl_fail_open": (
        False,
        "Accept a certificate whose CRL cannot be fetched. Off: a card that cannot be checked "
        "is refused, as a relying party should.",
    ),
    "pki_trust_test_pki": (True, "Trust the generated test hierarchy."),
    "pki_extra_trust_anchors": (
        [],
        "PEM files of other roots to trust (e.g. the real IGC-Santé test roots), comma-separated.",
    ),
    "pki_p12_default_password": (
        "1234",
        "Password of exported PKCS#12 files unless one is given (ours; browsers and macOS "
        "Keychain refuse empty passwords).",
    ),
    "pki_p12_encryption": (
        "compat",
        "``compat``: 3DES + SHA-1 MAC, imported by every browser and OS keychain; ``modern``: "
        "AES-256 + PBKDF2/SHA-256 (recent Firefox, Chromium on Linux, OpenSSL 3).",
    ),
}


def pki_setting(name: str, settings: Any = None) -> Any:
    """The value of setting ``name`` on ``settings`` (default: the running app's)."""
    if settings is None:
        from psc_idp.config import current_settings

        settings = current_settings()
    value = getattr(settings, name, DEFAULTS[name][0])
    if isinstance(DEFAULTS[name][0], list) and isinstance(value, str):
        # Set by hand from an environment string before Settings declares the field.
        return [item.strip() for item in value.split(",") if item.strip()]
    return value
