"""Settings, read from the environment once at start-up.

Each setting carries its default and the reason for it. Defaults mirror the real Pro Santé Connect
(see docs/configuration.md); where PSC is unknown, the value is marked *ours*.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Keycloak's federated-user prefix, identical in every PSC sandbox sample.
PSC_SUB_PREFIX = "f:550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd:"


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _map(value: str) -> dict[str, str]:
    """Parse ``KEY=value,KEY2=value2``."""
    pairs = (item.split("=", 1) for item in value.split(",") if "=" in item)
    return {k.strip(): v.strip() for k, v in pairs}


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@dataclass
class Settings:
    #: Public base URL; the issuer is ``{base_url}/auth/realms/{realm}``. Unset, it is
    #: ``http://localhost:{port}``, so that what is announced follows the port served.
    base_url: str = "http://localhost:8080"
    #: Port of the HTTP listener (``psc-idp serve``, ``make run PORT=…``).
    port: int = 8080
    #: Keycloak realm name used by PSC.
    realm: str = "esante-wallet"
    #: Front end serving the authorization endpoint (PSC uses a separate "wallet" host).
    #: Empty means ``{base_url}/wallet``.
    wallet_url: str = ""
    #: SQLAlchemy URL. Empty means a SQLite file under ``data_dir``.
    database_url: str = ""
    #: Where the default SQLite database lives.
    data_dir: str = str(PROJECT_ROOT / "var")
    #: Generated key material (signing keys, app secret); shared by every instance.
    keys_dir: str = str(PROJECT_ROOT / "keys")
    #: Development helpers (test identity picker, demo realm). Off unless asked for.
    dev_mode: bool = False
    #: Realm file (JSON or YAML) imported at start; the demo realm is used in dev mode if empty.
    realm_file: str = ""
    #: Prefix of ``sub``; ``sub`` = prefix + national id, as PSC (Keycloak federated users).
    sub_prefix: str = PSC_SUB_PREFIX
    #: Lifetimes in seconds, as PSC: tokens 120 s, refresh 30 min, SSO 4 h / 30 min idle.
    access_token_lifetime: int = 120
    id_token_lifetime: int = 120
    refresh_token_lifetime: int = 1800
    #: DPoP (RFC 9449): seconds a proof stays acceptable after its ``iat``, and the clock skew
    #: allowed either side (a proof from a client whose clock is slightly ahead).
    dpop_proof_lifetime: int = 60
    dpop_clock_skew: int = 5
    #: Require a server nonce in every DPoP proof (``use_dpop_nonce``); off, as Keycloak. A
    #: nonce is valid for one to two windows of ``dpop_nonce_window`` seconds, on every instance.
    dpop_nonce: bool = False
    dpop_nonce_window: int = 60
    sso_max_lifetime: int = 4 * 3600
    sso_idle_lifetime: int = 30 * 60
    #: Authorization codes: RFC 6749 recommends at most 10 minutes; Keycloak uses 60 s.
    code_lifetime: int = 60
    #: Pushed authorization requests (RFC 9126): lifetime of a ``request_uri`` (Keycloak: 60 s).
    par_lifetime: int = 60
    #: Request objects (RFC 9101): how far ahead their ``exp`` may be, and how old their ``iat``
    #: or ``nbf`` (Keycloak's FAPI profile: 60 min). *Ours.*
    request_object_lifespan: int = 3600
    #: Fetching a registered ``request_uri``: seconds before giving up (*ours*).
    request_uri_timeout: float = 5.0
    #: A client's ``jwks_uri``: seconds before giving up fetching it, and how long its document
    #: is kept for encrypting to the client (Keycloak caches client keys too). *Ours.*
    client_jwks_timeout: float = 5.0
    client_jwks_cache_lifetime: int = 300
    #: CIBA: lifetime of a backchannel request and the polling interval (PSC: 120 s and 5 s).
    ciba_request_lifetime: int = 120
    ciba_interval: int = 5
    #: How long a login page (la mire) may stay open before the request must start again.
    login_lifetime: int = 600
    #: ``acr`` per means of authentication. PSC: card eidas3, e-CPS eidas1 (inferred); FIDO ours.
    acr_by_auth_mode: dict[str, str] = field(
        default_factory=lambda: {"CARD": "eidas3", "MOBILE": "eidas1", "FIDO": "eidas2"}
    )
    #: ``Palier_Authentification`` per means (inferred from a card sample; values are ours).
    palier_by_auth_mode: dict[str, str] = field(
        default_factory=lambda: {
            "CARD": "APPPRIP3^1.2.250.1.213.1.5.1.1.1",
            "MOBILE": "APPPRIP3^1.2.250.1.213.1.5.1.1.1",
            "FIDO": "APPPRIP3^1.2.250.1.213.1.5.1.1.1",
        }
    )
    #: UserInfo shape: ``current`` (default), ``2023`` or ``2021`` for older PSC payloads.
    userinfo_profile: str = "current"
    #: Scopes granted to every token whatever the client asked (Keycloak's default client
    #: scopes). PSC answers ``openid scope_all identity`` to ``openid scope_all``: ``identity``
    #: is shown; ``basic``, ``acr`` and ``web-origins`` are granted but, as in Keycloak, not
    #: listed in ``scope``. ``profile`` and ``email`` are optional (asked for), as PSC's tokens
    #: show neither. Names come from docs/scopes-and-claims.md.
    default_scopes: list[str] = field(
        default_factory=lambda: ["identity", "basic", "acr", "web-origins"]
    )
    #: Offline tokens (``offline_access``): idle lifetime, renewed at each use (Keycloak: 30
    #: days), and maximum lifetime from the login, 0 for none (Keycloak's default: not limited).
    offline_session_idle_lifetime: int = 30 * 24 * 3600
    offline_session_max_lifetime: int = 0
    #: Signing algorithm of tokens unless a client registered another one.
    default_signing_alg: str = "RS256"
    #: Largest form or query accepted on protocol endpoints (bytes); larger is refused.
    max_request_bytes: int = 64 * 1024
    #: FHIR directory API: entries per page of a search without ``_count``, and the most a
    #: ``_count`` may ask for (larger values are lowered to it, as FHIR servers do).
    fhir_default_count: int = 50
    fhir_max_count: int = 500
    #: e-CPS: how long a push request waits for the professional (PSC: 120 s).
    ecps_request_lifetime: int = 120
    #: e-CPS: how long activation codes sent by e-mail and SMS stay valid.
    ecps_activation_lifetime: int = 600
    #: e-CPS: wrong PINs before a device locks (the real app: 3).
    ecps_max_pin_failures: int = 3
    #: e-CPS: pushes a professional may have waiting at once; past it la mire says so and CIBA
    #: answers ``access_denied`` (approval fatigue: nobody can flood a phone).
    ecps_max_pending_pushes: int = 3
    #: e-CPS: activations sending new codes per national id and per hour (a live activation
    #: is reused before that), and activation starts per client address per 10 minutes.
    ecps_activations_per_national_id: int = 3
    ecps_activations_per_ip: int = 20
    #: e-CPS: device long polls (``GET /requests?wait=``) held at once per device, and in all per
    #: server process; keep the latter well below the threads (``psc-idp serve``: 8 per worker)
    #: so that long polls never starve the protocol endpoints. Past either: a fast 429.
    ecps_long_polls_per_device: int = 2
    ecps_long_polls_per_process: int = 4
    #: Redis (``redis://host:6379/0``) to carry wake-ups between instances (psc_idp/bus);
    #: empty: PostgreSQL LISTEN/NOTIFY on PostgreSQL, none on SQLite. *Ours*.
    redis_url: str = ""
    #: The wake-ups' channel (Redis pub/sub, PostgreSQL NOTIFY), the same on every instance
    #: of a deployment; empty: derived from the database and the Redis database number, so that
    #: deployments sharing a Redis server do not wake each other (psc_idp/bus/channel.py). *Ours*.
    bus_channel: str = ""
    #: Seconds between two database reads of a waiting party (a phone's long poll, the CIBA
    #: ping round) when no wake-up comes: the safety net of a lost message. *Ours*.
    wake_poll_interval: float = 0.5
    #: Back-channel logout (psc_idp/protocol/logout/backchannel.py): seconds a client's
    #: ``backchannel_logout_uri`` may take to answer, and attempts per logout token (waiting
    #: 1, 2, 4… s between them) before it is given up. *Ours* (Keycloak tries once).
    logout_delivery_timeout: float = 5.0
    logout_delivery_attempts: int = 8
    #: e-CPS: sender of activation codes: ``outbox`` (database, read at /dev/outbox) or a
    #: ``module:callable`` called as ``send(channel, recipient, subject, body, national_id)``.
    ecps_sender: str = "outbox"
    #: ``psc-idp purge``: seconds the outbox keeps a message (its codes expire in minutes), and
    #: the audit trail an event (the account page shows the latest; one year by default).
    outbox_retention: int = 24 * 3600
    audit_retention: int = 365 * 24 * 3600
    #: Rate limits (docs/operations.md, « Limites et verrouillages »), each ``count/period``
    #: (``600/min``, ``20/10s``, ``3/h``; ``0`` or empty: no limit). Per client on the protocol
    #: endpoints, counted after the client authenticated (nobody spends another's quota):
    #: generous, a DPI serving a whole hospital shares one client…
    rate_limit_token: str = "3000/10s"
    rate_limit_introspection: str = "3000/10s"
    rate_limit_par: str = "600/10s"
    rate_limit_ciba: str = "600/10s"
    #: …per national id: backchannel requests for one professional (the pending pushes are
    #: capped apart, ``ecps_max_pending_pushes``) and logins started on la mire…
    rate_limit_ciba_per_national_id: str = "10/min"
    rate_limit_login_per_national_id: str = "20/10min"
    #: …per client address on the login pages (la mire, the means' steps): a hospital's staff
    #: may share one address behind its proxy.
    rate_limit_login_per_ip: str = "600/min"
    #: Brute-force protection (Keycloak's, same defaults where they suit): a temporary lockout
    #: every ``failure_factor`` failures (Keycloak 30; ours 5: PINs and secrets, not passwords),
    #: waiting ``wait_increment`` more each time up to ``max_wait``; two failures closer than
    #: ``quick_login_check_ms`` lock for ``quick_login_wait``; the count starts again after
    #: ``max_delta`` without failure; past ``permanent_after`` temporary lockouts (0: never)
    #: the lockout is permanent until ``psc-idp unlock``.
    lockout_enabled: bool = True
    lockout_failure_factor: int = 5
    lockout_wait_increment: int = 60
    lockout_max_wait: int = 900
    lockout_quick_login_check_ms: int = 1000
    lockout_quick_login_wait: int = 60
    lockout_max_delta: int = 12 * 3600
    lockout_permanent_after: int = 3
    #: Admin console (docs/admin-console.md), *ours*: a session ends after
    #: ``admin_session_idle_lifetime`` seconds without use and ``admin_session_max_lifetime``
    #: at most; login attempts per client address (failures also lock the login: ``lockout``).
    admin_session_idle_lifetime: int = 15 * 60
    admin_session_max_lifetime: int = 8 * 3600
    rate_limit_admin_login: str = "30/10min"
    #: Where ``psc-idp ecps activate`` keeps the private keys of command-line devices.
    ecps_devices_dir: str = ""
    #: Test PKI (psc_idp/pki/settings.py explains each): validity of issued certificates…
    pki_card_validity_days: int = 1095
    pki_org_validity_days: int = 1095
    pki_server_validity_days: int = 397
    #: …extra names of the TLS server certificate (localhost and base_url's host always)…
    pki_server_hostnames: list[str] = field(default_factory=list)
    #: …CRLs: lifetime, fetching other authorities' CRLs, and whether to fail open…
    pki_crl_lifetime: int = 3600
    pki_crl_fetch_timeout: int = 5
    pki_crl_fail_open: bool = False
    #: …trust anchors: the generated test PKI, plus PEM roots (e.g. real IGC-Santé test roots)…
    pki_trust_test_pki: bool = True
    pki_extra_trust_anchors: list[str] = field(default_factory=list)
    #: …and exported PKCS#12 files (``compat`` imports everywhere; ``modern`` is AES-256).
    pki_p12_default_password: str = "1234"
    pki_p12_encryption: str = "compat"
    #: FIDO2 keys: WebAuthn RP ID and origin (default: the wallet's host and origin)…
    fido_rp_id: str = ""
    fido_origin: str = ""
    #: …attestation formats accepted, trust anchors (PEM files; empty: any valid statement,
    #: self-attestation included) and AAGUID allow-list (the « liste des clés compatibles »)…
    fido_attestation_formats: list[str] = field(
        default_factory=lambda: ["packed", "fido-u2f", "none"]
    )
    fido_trust_anchors: list[str] = field(default_factory=list)
    fido_aaguid_allowlist: list[str] = field(default_factory=list)
    #: …lifetime of a WebAuthn challenge, and how recent the e-CPS approval of an enrolment
    #: must be.
    fido_challenge_lifetime: int = 300
    fido_enrolment_approval_window: int = 300
    #: Reverse proxies (addresses or networks) whose client-certificate headers are believed
    #: (nginx ``X-SSL-Client-Cert``, RFC 9440 ``Client-Cert``). None by default: secure first.
    trusted_proxies: list[str] = field(default_factory=list)
    #: Port of psc-idp's own HTTPS listener (``psc-idp serve``); 0 turns it off.
    tls_port: int = 8443
    #: Public origin where browsers present client certificates (card login, mTLS aliases).
    #: Empty: ``base_url`` itself when it is https (nginx in front), else https on tls_port.
    tls_base_url: str = ""

    #: One log line per request (request id, client, endpoint, status, duration), on standard
    #: error with the other logs.
    access_log: bool = True
    #: Log format: ``json`` (one object per line) or ``text``; empty: text in development mode,
    #: json otherwise.
    log_format: str = ""
    #: Apply the Alembic migrations at start (every command, ``psc-idp serve`` included); 0 for
    #: deployments that run ``psc-idp db upgrade`` as a step of their own.
    auto_migrate: bool = True
    #: ``/health/ready``: seconds the database check may take before the instance is DOWN.
    health_timeout: int = 2
    #: ``/metrics``: a Bearer token and/or client networks (CIDR) allowed to scrape. Neither
    #: set: open to loopback in development mode, closed otherwise.
    metrics_token: str = ""
    metrics_allow: list[str] = field(default_factory=list)
    #: Set the ``Secure`` flag on cookies (on automatically when base_url is https, and on
    #: every https request).
    secure_cookies: bool | None = None
    #: Error scenarios (``psc-idp scenarios``, realm ``scenarios:``) applied at the endpoints.
    #: Unset: on in development mode, off otherwise; off, they cost no lookup on any request.
    scenarios: bool | None = None
    #: ``Strict-Transport-Security`` max-age on https responses when base_url is https (one
    #: year, as Keycloak); 0 sends none (e.g. when nginx already adds it).
    hsts_max_age: int = 31536000

    #: The request journal (docs/developer-tools.md): every protocol request recorded per
    #: client, with the checks it failed. Unset: on in development mode, off otherwise; off,
    #: nothing is looked up nor written on any request.
    request_journal: bool | None = None
    #: Entries kept per client (the oldest dropped on insert), and the age in seconds beyond
    #: which ``psc-idp purge`` deletes them (7 days).
    request_journal_cap: int = 200
    request_journal_max_age: int = 7 * 24 * 3600

    #: Whether ``base_url`` was derived from ``port`` (no ``PSC_BASE_URL``): set by from_env.
    base_url_derived = False  # not a setting (no annotation): not read from PSC_*

    def listen_on(self, port: int) -> None:
        """Serve on ``port``: a derived base URL follows it (an explicit one is kept)."""
        self.port = port
        if self.base_url_derived:
            self.base_url = f"http://localhost:{port}"

    @property
    def mtls_available(self) -> bool:
        """Whether some origin asks browsers and clients for a certificate: an explicit TLS
        base, an https base_url (TLS terminated in front), or psc-idp's own listener."""
        return bool(self.tls_base_url) or self.base_url.startswith("https://") or self.tls_port > 0

    @property
    def mtls_base(self) -> str:
        if self.tls_base_url:
            return self.tls_base_url.rstrip("/")
        if self.base_url.startswith("https://"):
            return self.base_url.rstrip("/")
        host = urlsplit(self.base_url).hostname or "localhost"
        return f"https://{host}:{self.tls_port}"

    @property
    def issuer(self) -> str:
        return f"{self.base_url.rstrip('/')}/auth/realms/{self.realm}"

    @property
    def wallet_base(self) -> str:
        return (self.wallet_url or f"{self.base_url.rstrip('/')}/wallet").rstrip("/")

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.wallet_base}/auth"

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        # Owner only: the database holds every professional's records and the token hashes.
        Path(self.data_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
        return f"sqlite:///{Path(self.data_dir) / 'psc-idp.sqlite3'}"

    @property
    def journal_on(self) -> bool:
        if self.request_journal is not None:
            return self.request_journal
        return self.dev_mode

    @property
    def scenarios_enabled(self) -> bool:
        return self.dev_mode if self.scenarios is None else self.scenarios

    @property
    def cookie_secure(self) -> bool:
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.base_url.startswith("https://")

    @classmethod
    def from_env(cls, overrides: dict[str, Any] | None = None) -> Settings:
        """Build settings from ``PSC_*`` environment variables, then ``overrides``."""
        settings = cls()
        for f in fields(cls):
            name = f"PSC_{f.name.upper()}"
            raw = _from_env_or_file(name) if f.name in FROM_FILE else os.environ.get(name)
            if raw is None:
                continue
            setattr(settings, f.name, _convert(getattr(settings, f.name), f.type, raw))
        for key, value in (overrides or {}).items():
            if not hasattr(settings, key):
                raise KeyError(f"unknown setting {key!r}")
            setattr(settings, key, value)
        explicit = os.environ.get("PSC_BASE_URL") or (overrides or {}).get("base_url")
        if not explicit:
            settings.base_url_derived = True
            settings.listen_on(settings.port)
        return settings


#: Settings that hold a secret, also read from the file named by ``PSC_X_FILE`` (only these:
#: ``PSC_REALM_FILE`` is the realm file's path, not the realm's name in a file).
FROM_FILE = frozenset({"database_url", "metrics_token", "redis_url"})


class UnreadableSettingFile(Exception):
    """A ``PSC_X_FILE`` that names no readable file."""


def _from_env_or_file(name: str) -> str | None:
    """``PSC_X``, else the content of the file named by ``PSC_X_FILE`` (a secret mounted by
    systemd credentials, Docker or Kubernetes stays out of the environment)."""
    raw = os.environ.get(name)
    if raw is not None:
        return raw
    path = os.environ.get(f"{name}_FILE")
    if path is None:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise UnreadableSettingFile(f"{name}_FILE : {path} illisible ({error.strerror})") from None


def _convert(current: Any, declared: Any, raw: str) -> Any:
    if isinstance(current, bool) or "bool" in str(declared):
        return _bool(raw)
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, float):
        return float(raw)
    if isinstance(current, dict):
        return {**current, **_map(raw)}
    if isinstance(current, list):
        return _list(raw)
    return raw


def current_settings() -> Settings:
    """The settings of the running application."""
    from flask import current_app

    return current_app.extensions["psc_settings"]
