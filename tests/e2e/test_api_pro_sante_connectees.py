"""« API Pro Santé Connectées » against a real server, through psc-idp's own TLS listener: the
example LPS of docs/examples (CIBA → exchange → demo API, its certificate on each TLS
connection), and Authlib's ``OAuth2Session`` doing the exchange, with the refusals a TLS
connection can show (another certificate, none)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest
import requests
import yaml
from authlib.integrations.requests_client import OAuth2Session
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from tests.live_server import LiveServer, free_port
from tests.relying_party import run_cli

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
JWT = "urn:ietf:params:oauth:token-type:jwt"
MIDWIFE = "899700100318"  # two situations d'exercice in the demo realm
SECOND_PLACE = "F0B0590012"
PIN = "2468"
LPS = "lps-exemple"


@dataclass
class Software:
    cert: str
    key: str
    thumbprint: str


def issue_org(server: LiveServer, folder: Path, structure_id: str) -> tuple[Software, str]:
    org = run_cli(
        server,
        "pki",
        "issue-org",
        "--structure-id",
        structure_id,
        "--name",
        f"STRUCTURE {structure_id}",
        "--out",
        str(folder),
    )
    files = org["files"]
    cert = next(v for k, v in files.items() if "crt" in k or k == "certificate")
    key = next(v for k, v in files.items() if "key" in k)
    return Software(cert, key, org["sha256_thumbprint"]), org["subject"]


@dataclass
class Chain:
    """A server with the LPS registered: its certificate and another structure's."""

    server: LiveServer
    mine: Software
    other: Software
    #: The public origin (psc-idp itself, or nginx) and the mutual-TLS one.
    public_url: str
    tls_origin: str
    ca: str

    @property
    def api_issuer(self) -> str:
        return f"{self.public_url}/api-as/realms/demo-api"


def prepare_chain(
    server: LiveServer, folder: Path, public_url: str, tls_origin: str, ca: str
) -> Chain:
    """The LPS's and a stranger's ORG AUTH_CLI certificates, the LPS registered by a realm
    import (CIBA and token exchange, for demo-api), the professional's e-CPS activated."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        mine = pool.submit(issue_org, server, folder / "mine", "1B0064166")
        other = pool.submit(issue_org, server, folder / "other", "1B0000000")
        activated = pool.submit(run_cli, server, "ecps", "activate", MIDWIFE, "--pin", PIN)
        (software, subject), (stranger, _) = mine.result(), other.result()
        activated.result()
    realm = folder / "lps.yaml"
    realm.write_text(
        yaml.safe_dump(
            {
                "clients": [
                    {
                        "client_id": LPS,
                        "name": "LPS exemple",
                        "token_endpoint_auth_method": "tls_client_auth",
                        "tls_client_auth_subject_dn": subject,
                        "tls_client_certificate_bound_access_tokens": True,
                        "grant_types": ["urn:openid:params:grant-type:ciba", EXCHANGE],
                        "audiences": ["demo-api"],
                    }
                ]
            }
        )
    )
    run_cli(server, "realm", "import", str(realm))
    return Chain(server, software, stranger, public_url, tls_origin, ca)


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> Iterator[Chain]:
    with LiveServer(env={"PSC_TLS_PORT": str(free_port())}) as server:
        origin = f"https://localhost:{server.environment()['PSC_TLS_PORT']}"
        ca = str(server.keys_dir / "pki" / "ca-bundle.pem")
        folder = tmp_path_factory.mktemp("lps")
        yield prepare_chain(server, folder, server.base_url, origin, ca)


def approve_on_the_phone(chain: Chain) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("psc-idp")), "ecps", "approve", MIDWIFE]
        + ["--pin", PIN, "--wait", "30", "--json"],
        env=chain.server.environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_example_lps_calls_the_demo_api(chain):
    run_the_example(chain)


def run_the_example(chain: Chain) -> None:
    approver = approve_on_the_phone(chain)
    try:
        lps = subprocess.run(
            [
                sys.executable,
                str(EXAMPLES / "api_pro_sante_connectee.py"),
                "--issuer",
                chain.server.issuer,
                "--api-issuer",
                chain.api_issuer,
                "--api-url",
                f"{chain.tls_origin}/demo-api/me",
                "--client-id",
                LPS,
                "--cert",
                chain.mine.cert,
                "--key",
                chain.mine.key,
                "--ca",
                chain.ca,
                "--national-id",
                MIDWIFE,
                "--situation",
                SECOND_PLACE,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        approver.communicate(timeout=40)
    assert lps.returncode == 0, f"{lps.stderr}\n--- server ---\n{chain.server.output()[-3000:]}"
    answer = json.loads(lps.stdout)
    assert answer["professionnel"]["SubjectNameID"] == MIDWIFE
    assert answer["situation_exercice"]["identifiantTechniqueDeLaStructure"] == SECOND_PLACE
    assert answer["logiciel"]["lps_nom"] == "LPS exemple" and answer["client_id"] == LPS


def _ciba_client():
    """docs/examples/ciba_client.py, the PSC side of the chain."""
    spec = importlib.util.spec_from_file_location("ciba_client", EXAMPLES / "ciba_client.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def psc_access_token(chain: Chain) -> str:
    ciba = _ciba_client()
    options = ciba.arguments(
        ["--issuer", chain.server.issuer, "--client-id", LPS, "--cert", chain.mine.cert]
        + ["--key", chain.mine.key, "--ca", chain.ca, "--national-id", MIDWIFE]
    )
    approver = approve_on_the_phone(chain)
    try:
        dpi = ciba.Dpi(options)
        tokens = dpi.poll(dpi.ask("17"))
    finally:
        approver.communicate(timeout=40)
    return tokens["access_token"]


def actor_token(chain: Chain, **claims) -> str:
    key = load_pem_private_key(Path(chain.mine.key).read_bytes(), None)
    issued = int(time.time())
    body = {"iss": LPS, "aud": chain.api_issuer, "iat": issued, "exp": issued + 60}
    body.update(jti=str(uuid.uuid4()), lps_nom="LPS Authlib", **claims)
    return jwt.encode(body, key, algorithm="PS256")


def test_authlib_exchanges_and_the_api_checks_the_certificate(chain):
    exchange_with_authlib(chain)


def exchange_with_authlib(chain: Chain) -> None:
    subject = psc_access_token(chain)
    metadata = requests.get(
        f"{chain.api_issuer}/.well-known/openid-configuration", verify=chain.ca, timeout=10
    ).json()
    assert metadata["token_endpoint"].startswith(chain.tls_origin)
    # Authlib's default leeway (60 s) would hold a 60-second token expired on arrival.
    session = OAuth2Session(LPS, token_endpoint_auth_method="none", leeway=5)
    session.cert = (chain.mine.cert, chain.mine.key)
    session.verify = chain.ca
    session.trust_env = False
    actor = actor_token(chain, situation_exercice=SECOND_PLACE)
    token = session.fetch_token(
        metadata["token_endpoint"],
        grant_type=EXCHANGE,
        subject_token=subject,
        subject_token_type=ACCESS_TOKEN,
        actor_token=actor,
        actor_token_type=JWT,
        scope="demo",
    )
    assert token["issued_token_type"] == ACCESS_TOKEN and token["expires_in"] == 60
    jwks = jwt.PyJWKSet.from_dict(requests.get(metadata["jwks_uri"], verify=chain.ca).json())
    kid = jwt.get_unverified_header(token["access_token"])["kid"]
    claims = jwt.decode(
        token["access_token"],
        next(key for key in jwks.keys if key.key_id == kid).key,
        algorithms=["RS256"],
        audience="demo-api",
        issuer=metadata["issuer"],
    )
    assert claims["cnf"]["x5t#S256"] == chain.mine.thumbprint

    me = session.get(f"{chain.tls_origin}/demo-api/me")  # Authlib sends the Bearer token
    assert me.status_code == 200, me.text
    assert me.json()["situation_exercice"]["identifiantTechniqueDeLaStructure"] == SECOND_PLACE
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    for cert in ((chain.other.cert, chain.other.key), None):
        refused = requests.get(
            f"{chain.tls_origin}/demo-api/me",
            headers=bearer,
            cert=cert,
            verify=chain.ca,
            timeout=10,
        )
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"

    # The same exchange with the other structure's certificate, or none: the client is refused.
    for cert in ((chain.other.cert, chain.other.key), None):
        refused = requests.post(
            metadata["token_endpoint"],
            data={
                "grant_type": EXCHANGE,
                "client_id": LPS,
                "subject_token": subject,
                "subject_token_type": ACCESS_TOKEN,
            },
            cert=cert,
            verify=chain.ca,
            timeout=10,
        )
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"

    def plain_exchange(**form: str) -> tuple[int, dict]:
        response = requests.post(
            metadata["token_endpoint"],
            data={
                "grant_type": EXCHANGE,
                "client_id": LPS,
                "subject_token": subject,
                "subject_token_type": ACCESS_TOKEN,
                "actor_token_type": JWT,
                **form,
            },
            cert=(chain.mine.cert, chain.mine.key),
            verify=chain.ca,
            timeout=10,
        )
        return response.status_code, response.json()

    assert plain_exchange(actor_token=actor) == (
        400,
        {"error": "invalid_request", "error_description": "Actor token already used"},
    )
    foreign = actor_token(chain, situation_exercice="R94021")  # another professional's
    status, body = plain_exchange(actor_token=foreign)
    assert status == 400 and "situation_exercice" in body["error_description"]
    # One actor token sent by eight connections at once (two workers, their threads): one
    # exchange succeeds, the others hear it was used.
    shared = actor_token(chain)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: plain_exchange(actor_token=shared), range(8)))
    assert sorted(status for status, _ in answers) == [200] + [400] * 7
    assert {body.get("error_description") for status, body in answers if status == 400} == {
        "Actor token already used"
    }
    # Revoked at PSC (its mTLS revocation endpoint): the exchange stops at once.
    psc = requests.get(
        f"{chain.server.issuer}/.well-known/openid-configuration", verify=chain.ca, timeout=10
    ).json()
    revoked = requests.post(
        psc["mtls_endpoint_aliases"]["revocation_endpoint"],
        data={"token": subject, "client_id": LPS},
        cert=(chain.mine.cert, chain.mine.key),
        verify=chain.ca,
        timeout=10,
    )
    assert revoked.status_code == 200
    status, body = plain_exchange(actor_token=actor_token(chain))
    assert status == 400 and "not active" in body["error_description"]


NODE_DIR = Path(__file__).resolve().parent / "node"


def test_openid_client_exchanges_and_calls_the_api(chain):
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "openid-client").is_dir():
        pytest.skip(f"node and openid-client (npm ci in {NODE_DIR}) are needed")
    exchange_with_openid_client(chain, node)


def exchange_with_openid_client(chain: Chain, node: str) -> None:
    subject = psc_access_token(chain)
    done = subprocess.run(
        [node, "token-exchange.mjs", "--issuer", chain.api_issuer, "--client-id", LPS]
        + ["--cert", chain.mine.cert, "--key", chain.mine.key, "--ca", chain.ca]
        + ["--subject-token", subject]
        + ["--actor-token", actor_token(chain, situation_exercice=SECOND_PLACE)]
        + ["--resource", f"{chain.tls_origin}/demo-api/me"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"{done.stderr}\n--- server ---\n{chain.server.output()[-3000:]}"
    report = json.loads(done.stdout)
    assert report["token_endpoint"].startswith(chain.tls_origin)
    assert report["exchange"] == {
        "issued_token_type": ACCESS_TOKEN,
        "token_type": "bearer",
        "expires_in": 60,
        "scope": "demo",
    }
    assert report["api"]["status"] == 200
    situation = report["api"]["body"]["situation_exercice"]
    assert situation["identifiantTechniqueDeLaStructure"] == SECOND_PLACE
    assert report["without_certificate"]["status"] == 401
    assert report["without_certificate"]["body"]["error"] == "invalid_token"
