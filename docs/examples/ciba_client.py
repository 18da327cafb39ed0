"""A DPI asking Pro Santé Connect (or psc-idp) to log a professional in with CIBA, poll mode.

The software knows who sits at the workstation (their national id); it asks PSC to authenticate
them on their e-CPS (``--channel MOBILE``) or with their CPS card (``--channel CARD``), shows the
binding code the professional must find on the other screen, and polls the token endpoint until
the professional has decided. Only ``requests`` is needed.

    # client_secret_basic, e-CPS
    python ciba_client.py --issuer http://localhost:8080/auth/realms/esante-wallet \\
        --client-id dpi-hopital --client-secret=SECRET --national-id 899700100318

    # tls_client_auth with an ORG AUTH_CLI certificate, CPS card
    python ciba_client.py --issuer http://localhost:8080/auth/realms/esante-wallet \\
        --client-id dpi-mtls --cert org.crt.pem --key org.key.pem --ca keys/pki/ca-bundle.pem \\
        --national-id 899700218896 --channel CARD

Progress goes to stderr; the ID token's claims are printed on stdout as JSON. The exit status
is 0 with tokens, 1 when the professional refused, the request expired or anything failed.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import sys
import time
from typing import Any

import requests

CIBA_GRANT = "urn:openid:params:grant-type:ciba"
ACR_BY_CHANNEL = {"MOBILE": "eidas1", "CARD": "eidas3"}
TIMEOUT = 15


class CibaFailed(Exception):
    """The request ended without tokens (refused, expired, rejected)."""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Dpi:
    def __init__(self, options: argparse.Namespace):
        self.options = options
        self.http = requests.Session()
        discovery_url = f"{options.issuer.rstrip('/')}/.well-known/openid-configuration"
        # The test PKI's bundle also verifies an https issuer it serves (nginx in front).
        verify = options.ca or True
        self.metadata = self.http.get(discovery_url, timeout=TIMEOUT, verify=verify).json()
        if CIBA_GRANT not in self.metadata.get("grant_types_supported", []):
            raise CibaFailed("ce fournisseur ne propose pas CIBA")
        if options.cert:
            # tls_client_auth: the ORG AUTH_CLI certificate is presented on the TLS connection,
            # to the mTLS aliases of the endpoints (RFC 8705 §5); client_id goes in the form.
            self.endpoints = {**self.metadata, **self.metadata.get("mtls_endpoint_aliases", {})}
        else:
            self.http.auth = (options.client_id, options.client_secret)
            self.endpoints = self.metadata

    def post(self, endpoint: str, form: dict[str, str]) -> requests.Response:
        tls: dict[str, Any] = {}
        if self.options.cert:
            form = {**form, "client_id": self.options.client_id}
            # Per call: a session-wide `verify` would lose to REQUESTS_CA_BUNDLE.
            tls = {"cert": (self.options.cert, self.options.key), "verify": self.options.ca or True}
        return self.http.post(self.endpoints[endpoint], data=form, timeout=TIMEOUT, **tls)

    def ask(self, binding_message: str) -> dict[str, Any]:
        """The backchannel authentication request; the professional's device is notified."""
        channel = self.options.channel
        response = self.post(
            "backchannel_authentication_endpoint",
            {
                "scope": self.options.scope,
                "login_hint": self.options.national_id,
                "binding_message": binding_message,
                "acr_values": self.options.acr or ACR_BY_CHANNEL[channel],
                "channel": channel,  # PSC's own parameter: MOBILE (default) or CARD
            },
        )
        body = response.json()
        if response.status_code != 200:
            raise CibaFailed(f"demande refusée : {describe(body)}")
        return body

    def poll(self, started: dict[str, Any]) -> dict[str, Any]:
        """Poll every ``interval`` seconds (5 at PSC), 5 s more after each ``slow_down``, until
        tokens, a refusal or the end of ``expires_in``."""
        interval = int(started.get("interval", 5))
        deadline = time.monotonic() + int(started["expires_in"])
        while time.monotonic() < deadline:
            time.sleep(interval)
            response = self.post(
                "token_endpoint",
                {"grant_type": CIBA_GRANT, "auth_req_id": started["auth_req_id"]},
            )
            body = response.json()
            if response.status_code == 200:
                return body
            error = body.get("error")
            if error == "authorization_pending":
                say("  … en attente de la validation du professionnel")
                continue
            if error == "slow_down":
                interval += 5
                say(f"  … le serveur demande de ralentir : interrogation toutes les {interval} s")
                continue
            if error == "access_denied":
                raise CibaFailed("le professionnel a refusé la demande (access_denied)")
            if error == "expired_token":
                raise CibaFailed("demande expirée sans réponse du professionnel (expired_token)")
            raise CibaFailed(f"point de jeton : {describe(body)}")
        raise CibaFailed("demande expirée sans réponse du professionnel")


def describe(body: dict[str, Any]) -> str:
    return f"{body.get('error')} ({body.get('error_description', '')})"


def id_token_claims(id_token: str) -> dict[str, Any]:
    """The ID token's payload. It came straight from the token endpoint over TLS, which OpenID
    Connect Core §3.1.3.7 accepts instead of checking the signature; a DPI that keeps or
    forwards the token checks it against ``jwks_uri`` (PyJWT, authlib…)."""
    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issuer", required=True, help="…/auth/realms/esante-wallet")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", help="client_secret_basic")
    parser.add_argument("--cert", help="tls_client_auth: ORG AUTH_CLI certificate (PEM)")
    parser.add_argument("--key", help="tls_client_auth: its private key (PEM)")
    parser.add_argument("--ca", help="CA bundle of the test PKI (mTLS endpoints, https issuer)")
    parser.add_argument("--national-id", required=True, help="the professional at the keyboard")
    parser.add_argument("--channel", choices=sorted(ACR_BY_CHANNEL), default="MOBILE")
    parser.add_argument("--acr", help="acr_values (default: eidas1 for MOBILE, eidas3 for CARD)")
    parser.add_argument("--scope", default="openid scope_all")
    parser.add_argument("--binding-message", help="default: two random digits, as PSC")
    options = parser.parse_args(argv)
    if not (options.client_secret or (options.cert and options.key)):
        parser.error("give --client-secret, or --cert and --key")
    return options


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    binding_message = options.binding_message or f"{secrets.randbelow(100):02d}"
    try:
        dpi = Dpi(options)
        started = dpi.ask(binding_message)
        where = "sur votre e-CPS" if options.channel == "MOBILE" else "avec votre carte CPS"
        say(f"Validez la connexion {where}. Code à vérifier : {binding_message}")
        say(
            f"  (demande valable {started['expires_in']} s, interrogation toutes les "
            f"{started.get('interval', 5)} s)"
        )
        tokens = dpi.poll(started)
    except (CibaFailed, requests.RequestException, ValueError) as error:
        say(f"Échec : {error}")
        return 1
    claims = id_token_claims(tokens["id_token"])
    say(
        f"Connecté : {claims.get('given_name', '')} {claims.get('family_name', '')} "
        f"({claims.get('SubjectNameID')}), {claims.get('authMode')}, acr {claims.get('acr')}"
    )
    print(json.dumps(claims, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
