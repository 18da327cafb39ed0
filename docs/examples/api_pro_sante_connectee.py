"""An LPS calling an « API Pro Santé Connectée » the CI-SIS way, against psc-idp (or PSC and a
real API): CIBA → token exchange → API call, each with its ORG AUTH_CLI certificate.

1. CIBA at Pro Santé Connect (``ciba_client.py``, beside this file): the professional approves
   on their e-CPS or with their card; the software receives a PSC access token bound to its
   certificate.
2. Token exchange (RFC 8693) at the API's authorization server, in mutual TLS with the same
   certificate: the PSC token as ``subject_token``, an actor token (a JWT the software signs
   with its certificate's key) naming the software and the situation d'exercice.
3. The API call with the exchanged token (60 s), over mutual TLS with the same certificate.

::

    python api_pro_sante_connectee.py \\
        --issuer http://localhost:8080/auth/realms/esante-wallet \\
        --api-issuer http://localhost:8080/api-as/realms/demo-api \\
        --api-url https://localhost:8443/demo-api/me \\
        --client-id lps-exemple --cert org.crt.pem --key org.key.pem \\
        --ca keys/pki/ca-bundle.pem --national-id 899700100318 [--situation R120377]

Progress goes to stderr; the API's answer is printed on stdout as JSON. Needs ``requests`` and
``PyJWT`` (with ``cryptography``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ciba_client import CibaFailed, Dpi, describe, say  # noqa: E402

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
JWT = "urn:ietf:params:oauth:token-type:jwt"
TIMEOUT = 15


def actor_token(options: argparse.Namespace, audience: str) -> str:
    """The software and the situation d'exercice, signed with the certificate's key: the
    server checks it with the certificate presented in TLS, and accepts it once."""
    key = load_pem_private_key(Path(options.key).read_bytes(), None)
    issued = int(time.time())
    claims: dict[str, Any] = {
        "iss": options.client_id,
        "aud": audience,
        "iat": issued,
        "exp": issued + 60,
        "jti": str(uuid.uuid4()),
        "lps_nom": options.lps_nom,
        "lps_id": options.lps_id,
        "lps_version": options.lps_version,
    }
    if options.situation:
        claims["situation_exercice"] = options.situation
    algorithm = "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "PS256"
    return jwt.encode(claims, key, algorithm=algorithm)


def exchange(options: argparse.Namespace, http: requests.Session, psc_token: str) -> str:
    metadata = http.get(
        f"{options.api_issuer.rstrip('/')}/.well-known/openid-configuration",
        verify=options.ca or True,
        timeout=TIMEOUT,
    ).json()
    if TOKEN_EXCHANGE not in metadata.get("grant_types_supported", []):
        raise CibaFailed("ce serveur d'autorisation ne propose pas l'échange de jetons")
    response = http.post(
        metadata["token_endpoint"],
        data={
            "grant_type": TOKEN_EXCHANGE,
            "client_id": options.client_id,
            "subject_token": psc_token,
            "subject_token_type": ACCESS_TOKEN,
            "subject_issuer": "psc",
            "actor_token": actor_token(options, metadata["issuer"]),
            "actor_token_type": JWT,
            "scope": options.scope_api,
        },
        cert=(options.cert, options.key),
        verify=options.ca or True,
        timeout=TIMEOUT,
    )
    body = response.json()
    if response.status_code != 200:
        raise CibaFailed(f"échange refusé : {describe(body)}")
    say(f"Jeton de l'API reçu ({body['expires_in']} s, scope {body['scope']})")
    return body["access_token"]


def call_api(options: argparse.Namespace, http: requests.Session, token: str) -> dict[str, Any]:
    response = http.get(
        options.api_url,
        headers={"Authorization": f"Bearer {token}"},
        cert=(options.cert, options.key),
        verify=options.ca or True,
        timeout=TIMEOUT,
    )
    if response.status_code != 200:
        raise CibaFailed(f"appel refusé par l'API : {response.status_code} {response.text}")
    return response.json()


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issuer", required=True, help="PSC: …/auth/realms/esante-wallet")
    parser.add_argument("--api-issuer", required=True, help="…/api-as/realms/<audience>")
    parser.add_argument("--api-url", required=True, help="the API, e.g. …/demo-api/me")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--cert", required=True, help="ORG AUTH_CLI certificate (PEM)")
    parser.add_argument("--key", required=True, help="its private key (PEM)")
    parser.add_argument("--ca", help="CA bundle of the mTLS origins (test PKI)")
    parser.add_argument("--national-id", required=True, help="the professional at the keyboard")
    parser.add_argument("--situation", help="identifiantTechniqueDeLaStructure of the activity")
    parser.add_argument("--channel", choices=["MOBILE", "CARD"], default="MOBILE")
    parser.add_argument("--scope-api", default="demo", help="the API's business scope")
    parser.add_argument("--lps-nom", default="LPS exemple")
    parser.add_argument("--lps-id", default="LPS-EXEMPLE")
    parser.add_argument("--lps-version", default="1.0")
    parser.add_argument("--binding-message", default="42")
    options = parser.parse_args(argv)
    # What ciba_client.Dpi reads, for CIBA with tls_client_auth.
    options.client_secret, options.acr, options.scope = None, None, "openid scope_all"
    return options


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    http = requests.Session()
    try:
        dpi = Dpi(options)
        started = dpi.ask(options.binding_message)
        say(f"Validez la connexion. Code à vérifier : {options.binding_message}")
        psc = dpi.poll(started)
        say("Jeton PSC reçu")
        token = exchange(options, http, psc["access_token"])
        answer = call_api(options, http, token)
    except (CibaFailed, requests.RequestException, ValueError) as error:
        say(f"Échec : {error}")
        return 1
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
