"""Tokens as a service provider sees them: header, claims, and the signature checked against
the JWKS the issuer publishes (fetched over HTTP, as a service provider does)."""

from __future__ import annotations

import json
from typing import Any

import jwt
import requests

from psc_idp.devtools.debugger.exchanges import TIMEOUT
from psc_idp.devtools.debugger.explain import explain_claims

TOKEN_FIELDS = ("id_token", "access_token", "refresh_token", "logout_token")
TOKEN_NAMES = {
    "id_token": "Jeton d'identité (id_token)",
    "access_token": "Jeton d'accès (access_token)",
    "refresh_token": "Jeton de rafraîchissement (refresh_token)",
    "userinfo": "UserInfo signée",
    "pasted": "Jeton collé",
}


def fetch_jwks(url: str) -> tuple[dict[str, Any] | None, str]:
    """The published key set, or None and why not."""
    try:
        response = requests.get(url, timeout=TIMEOUT)
        response.raise_for_status()
        keys = response.json()
    except (requests.RequestException, ValueError) as error:
        return None, f"JWKS illisible ({type(error).__name__})"
    if not isinstance(keys, dict) or not isinstance(keys.get("keys"), list):
        return None, "JWKS sans « keys »"
    return keys, ""


def inspect(name: str, token: str, jwks: dict[str, Any] | None, jwks_problem: str = "") -> dict:
    """What the page shows of one token; never raises on a malformed one."""
    view: dict[str, Any] = {"name": name, "label": TOKEN_NAMES.get(name, name)}
    parts = token.split(".")
    if len(parts) == 5:
        view["problem"] = "Jeton chiffré (JWE) : seul le service, avec sa clé privée, l'ouvre."
        return view
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        view["problem"] = f"Pas un JWT lisible : {error}"
        return view
    view["header"] = json.dumps(header, indent=2, ensure_ascii=False)
    view["claims"] = json.dumps(claims, indent=2, ensure_ascii=False)
    view["explained"] = explain_claims(claims)
    view["signature"] = check_signature(token, header, jwks, jwks_problem)
    return view


def check_signature(
    token: str, header: dict[str, Any], jwks: dict[str, Any] | None, jwks_problem: str = ""
) -> dict[str, Any]:
    """valid / invalid, with the ``kid`` and why: only the signature, not the dates (a token
    shown a minute later has expired, which says nothing of its signature)."""
    kid = header.get("kid")
    alg = header.get("alg", "")
    result: dict[str, Any] = {"kid": kid, "alg": alg, "valid": False}
    if jwks is None:
        result["reason"] = jwks_problem or "JWKS indisponible"
        return result
    if alg.startswith("HS"):
        # psc-idp's refresh tokens, like Keycloak's: keyed by the server's own secret, opaque
        # to the service, which cannot check them and need not.
        result["valid"] = None
        result["reason"] = (
            f"{alg} : clé secrète du serveur, que seul psc-idp vérifie ; jeton opaque pour le "
            "service"
        )
        return result
    if alg in ("none", ""):
        result["reason"] = f"algorithme « {alg or 'absent'} » : jeton non signé"
        return result
    candidates = [k for k in jwks["keys"] if kid is None or k.get("kid") == kid]
    candidates = [k for k in candidates if k.get("use", "sig") == "sig"]
    if not candidates:
        result["reason"] = f"aucune clé « {kid} » dans le JWKS de l'émetteur"
        return result
    for jwk in candidates:
        try:
            key = jwt.PyJWK(jwk, algorithm=alg).key
            jwt.decode(
                token,
                key,
                algorithms=[alg],
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except jwt.InvalidSignatureError:
            result["reason"] = "signature invalide : jeton modifié, ou signé par une autre clé"
            continue
        except jwt.PyJWTError as error:
            result["reason"] = f"vérification impossible : {error}"
            continue
        result.update(valid=True, kid=jwk.get("kid"), reason="")
        return result
    return result


def unverified_claims(token: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}
