"""The ``clients:`` section: every key known, every value of the right kind, in French.

The protocol's own ``validate`` runs last, as a safety net, on entries found sound here."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

from psc_idp.keystore.signing import SUPPORTED_ALGS
from psc_idp.protocol.client_auth import TOKEN_AUTH_METHODS
from psc_idp.protocol.clients import (
    ALG_FIELDS,
    CIBA_FIELDS,
    CIBA_GRANT,
    DELIVERY_MODES,
    ENCRYPTION_FIELDS,
    GRANT_TYPES,
    LIST_FIELDS,
    LOGOUT_FIELDS,
    LOGOUT_FLAG_FIELDS,
    LOGOUT_URI_FIELDS,
    MIN_JWT_SECRET_BYTES,
    REQUEST_OBJECT_FIELDS,
    SECRET_METHODS,
    SUBJECT_FIELDS,
    TLS_FIELDS,
    TOKEN_EXCHANGE_GRANT,
    InvalidClient,
    logout_uri_problem,
    validate,
)
from psc_idp.protocol.encryption import algorithms as encryption
from psc_idp.protocol.models import Client
from psc_idp.protocol.pairwise import LOOPBACK, SUBJECT_TYPES
from psc_idp.realm import checks
from psc_idp.realm.problems import Path, Problems

BOOLEAN_KEYS = (
    "allow_plain_pkce",
    "require_pkce",
    "enabled",
    "tls_client_certificate_bound_access_tokens",
    "require_signed_request_object",
    *LOGOUT_FLAG_FIELDS,
    "dpop_bound_access_tokens",
)
TEXT_KEYS = (
    "name",
    "secret",
    "secret_hash",
    "secret_sealed",
    "jwks_uri",
    "tls_client_auth_subject_dn",
    "backchannel_client_notification_endpoint",
    "sector_identifier_uri",
)
URI_LISTS = ("redirect_uris", "post_logout_redirect_uris")


def client_keys() -> tuple[str, ...]:
    """What ``upsert_client`` reads; ``web_origins`` once the model stores it."""
    keys = ["client_id", "token_endpoint_auth_method", "jwks", *LIST_FIELDS, *ALG_FIELDS]
    keys += ENCRYPTION_FIELDS
    keys += [*TLS_FIELDS, *CIBA_FIELDS, *SUBJECT_FIELDS, *REQUEST_OBJECT_FIELDS]
    keys += [*LOGOUT_FIELDS, *BOOLEAN_KEYS, *TEXT_KEYS]
    if hasattr(Client, "web_origins"):
        keys.append("web_origins")
    return tuple(dict.fromkeys(keys))


def check_clients(problems: Problems, items: Any) -> None:
    if not checks.is_list(problems, items, ("clients",)):
        return
    seen: dict[str, int] = {}
    for index, entry in enumerate(items):
        path: Path = ("clients", index)
        if not checks.is_mapping(problems, entry, path):
            continue
        before = len(problems.items)
        _check_entry(problems, entry, path)
        client_id = entry.get("client_id")
        if isinstance(client_id, str) and client_id in seen:
            problems.add(
                (*path, "client_id"), f"« {client_id} » déjà défini en clients[{seen[client_id]}]."
            )
        elif isinstance(client_id, str):
            seen[client_id] = index
        if len(problems.items) == before:
            _protocol_net(problems, entry, path)


def _check_entry(problems: Problems, entry: dict[str, Any], path: Path) -> None:
    checks.known_keys(problems, entry, path, client_keys())
    client_id = entry.get("client_id")
    if not isinstance(client_id, str) or not client_id.strip() or len(client_id) > 255:
        problems.add((*path, "client_id"), "obligatoire (une chaîne de 255 caractères au plus).")
    method = entry.get("token_endpoint_auth_method", "client_secret_basic")
    method_ok = checks.one_of(
        problems, method, (*path, "token_endpoint_auth_method"), TOKEN_AUTH_METHODS
    )
    lists = {name: entry.get(name, []) for name in LIST_FIELDS if name in entry}
    for name, value in lists.items():
        if checks.strings(problems, value, (*path, name)) is not None and name in URI_LISTS:
            _check_uris(problems, value, (*path, name))
    for name in LOGOUT_URI_FIELDS:
        if entry.get(name) is not None:
            _check_logout_uri(problems, entry[name], (*path, name))
    if "request_uris" in entry:
        _check_request_uris(problems, entry["request_uris"], (*path, "request_uris"))
    grant_types = entry.get("grant_types", ["authorization_code", "refresh_token"])
    if isinstance(grant_types, list):
        for i, grant in enumerate(grant_types):
            checks.one_of(problems, grant, (*path, "grant_types", i), sorted(GRANT_TYPES))
    for name in BOOLEAN_KEYS:
        if name in entry:
            checks.boolean(problems, entry[name], (*path, name))
    for name in TEXT_KEYS:
        if name in entry and entry[name] is not None:
            checks.text(problems, entry[name], (*path, name))
    for name in ALG_FIELDS:
        if entry.get(name) is not None:
            checks.one_of(problems, entry[name], (*path, name), SUPPORTED_ALGS)
    _check_encryption(problems, entry, path)
    if "subject_type" in entry:
        checks.one_of(problems, entry["subject_type"], (*path, "subject_type"), SUBJECT_TYPES)
    if "backchannel_token_delivery_mode" in entry:
        mode_path = (*path, "backchannel_token_delivery_mode")
        checks.one_of(problems, entry[mode_path[-1]], mode_path, sorted(DELIVERY_MODES))
    if method_ok and isinstance(grant_types, list):
        _check_consistency(problems, entry, path, method, grant_types)


def _check_encryption(problems: Problems, entry: dict[str, Any], path: Path) -> None:
    """JWE: a known alg and enc, an enc only with its alg, and a key of the client to encrypt
    its ID tokens, UserInfo and authorization responses to."""
    for alg_name, enc_name in encryption.FIELD_PAIRS:
        if entry.get(alg_name) is not None:
            options = encryption.KEY_MANAGEMENT_ALGS
            checks.one_of(problems, entry[alg_name], (*path, alg_name), options)
        if entry.get(enc_name) is not None:
            options = encryption.CONTENT_ENCRYPTION_ENCS
            checks.one_of(problems, entry[enc_name], (*path, enc_name), options)
            if entry.get(alg_name) is None:
                problems.add((*path, enc_name), f"{enc_name} demande {alg_name}.")
    for alg_name, _ in encryption.TO_CLIENT:
        if entry.get(alg_name) and not (entry.get("jwks") or entry.get("jwks_uri")):
            problems.add(
                (*path, alg_name), f"{alg_name} demande jwks ou jwks_uri (la clé du client)."
            )


def _check_uris(problems: Problems, uris: list[str], path: Path) -> None:
    for i, uri in enumerate(uris):
        parts = urlsplit(uri)
        if not parts.scheme or not parts.netloc or parts.fragment:
            problems.add((*path, i), f"« {uri} » n'est pas une URI absolue sans fragment.")


def _check_logout_uri(problems: Problems, uri: Any, path: Path) -> None:
    if not isinstance(uri, str):
        checks.text(problems, uri, path)
    elif logout_uri_problem(uri):
        problems.add(path, f"« {uri} » n'est pas une URL https sans fragment (http sur localhost).")


def _check_request_uris(problems: Problems, uris: Any, path: Path) -> None:
    if checks.strings(problems, uris, path) is None:
        return
    for i, uri in enumerate(uris):
        parts = urlsplit(uri)
        loopback = parts.scheme == "http" and parts.hostname in LOOPBACK
        if not parts.hostname or not (parts.scheme == "https" or loopback):
            problems.add((*path, i), f"« {uri} » n'est pas une URL https (http sur localhost).")


def _check_consistency(
    problems: Problems, entry: dict[str, Any], path: Path, method: str, grant_types: list[Any]
) -> None:
    """What one key requires of another (the protocol's rules, said in French)."""

    def need(condition: bool, key: str, message: str) -> None:
        if not condition:
            problems.add((*path, key), message)

    authorization_code = "authorization_code" in grant_types
    need(
        not authorization_code or bool(entry.get("redirect_uris")),
        "redirect_uris",
        "authorization_code demande au moins une URI de retour.",
    )
    need(
        method not in SECRET_METHODS or bool(entry.get("secret") or entry.get("secret_hash")),
        "secret",
        f"{method} demande un secret (ou secret_hash).",
    )
    if method == "client_secret_jwt":
        secret = entry.get("secret")
        need(
            bool(secret or entry.get("secret_sealed")),
            "secret",
            "client_secret_jwt demande un secret (ou secret_sealed exporté par ce déploiement).",
        )
        need(
            not isinstance(secret, str) or len(secret.encode()) >= MIN_JWT_SECRET_BYTES,
            "secret",
            f"un secret client_secret_jwt a au moins {MIN_JWT_SECRET_BYTES} octets (HS256).",
        )
    need(
        method != "private_key_jwt" or bool(entry.get("jwks") or entry.get("jwks_uri")),
        "jwks_uri",
        "private_key_jwt demande jwks ou jwks_uri.",
    )
    public = method == "none"
    need(
        not public or "client_credentials" not in grant_types,
        "grant_types",
        "un client public ne peut pas utiliser client_credentials.",
    )
    need(
        not public or CIBA_GRANT not in grant_types,
        "grant_types",
        "un client public ne peut pas utiliser CIBA.",
    )
    if entry.get("backchannel_token_delivery_mode") == "ping":
        endpoint = entry.get("backchannel_client_notification_endpoint")
        parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
        need(
            bool(parts and parts.scheme and parts.netloc),
            "backchannel_client_notification_endpoint",
            "le mode ping demande une URL de notification absolue.",
        )
    if method == "tls_client_auth":
        _check_tls_identity(problems, entry, path)
    if TOKEN_EXCHANGE_GRANT in grant_types:
        need(
            method == "tls_client_auth",
            "token_endpoint_auth_method",
            "l'échange de jetons demande tls_client_auth (certificat ORG AUTH_CLI).",
        )
        need(
            entry.get("tls_client_certificate_bound_access_tokens") is True,
            "tls_client_certificate_bound_access_tokens",
            "l'échange de jetons demande des jetons liés au certificat (true).",
        )
        need(
            bool(entry.get("audiences")),
            "audiences",
            "l'échange de jetons demande audiences : les API (apis[].audience) appelées.",
        )
    if entry.get("subject_type") == "pairwise" and not entry.get("sector_identifier_uri"):
        hosts = {urlsplit(uri).hostname for uri in entry.get("redirect_uris") or []}
        need(
            len(hosts) == 1,
            "sector_identifier_uri",
            "pairwise demande sector_identifier_uri si les URI de retour n'ont pas toutes le "
            "même hôte.",
        )
    need(
        not entry.get("sector_identifier_uri") or entry.get("subject_type") == "pairwise",
        "sector_identifier_uri",
        "sector_identifier_uri ne sert qu'avec subject_type: pairwise.",
    )


def _check_tls_identity(problems: Problems, entry: dict[str, Any], path: Path) -> None:
    dn = entry.get("tls_client_auth_subject_dn")
    if not (dn or entry.get("tls_client_auth_san_dns")):
        problems.add(
            (*path, "tls_client_auth_subject_dn"),
            "tls_client_auth demande tls_client_auth_subject_dn ou tls_client_auth_san_dns.",
        )
    elif isinstance(dn, str) and dn:
        try:
            x509.Name.from_rfc4514_string(dn)
        except ValueError:
            problems.add((*path, "tls_client_auth_subject_dn"), "n'est pas un nom RFC 4514.")


def _protocol_net(problems: Problems, entry: dict[str, Any], path: Path) -> None:
    try:
        validate(entry)
    except InvalidClient as error:
        problems.add(path, f"refusé par l'enregistrement des clients : {error}")
