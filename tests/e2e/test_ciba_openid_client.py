"""CIBA against a real server with a DPI built on openid-client (Node, v6): ``ciba.mjs`` asks
for the professional's login and polls; the test plays the professional, in parallel, once the
DPI has been told ``authorization_pending`` — on the e-CPS (``psc-idp ecps approve``) or with
the CPS card (``psc-idp cps approve``). Needs ``node`` and ``npm ci`` in tests/e2e/node.

PSC's interval is 5 s and openid-client waits it before every poll: a scenario takes about 10 s
(a pending poll, the approval, a poll that gets the tokens); the two run side by side. A third
DPI signs its request (``--request-key``), after the first, for the same professional."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from tests.live_server import LiveServer, free_port
from tests.relying_party import run_cli

pytestmark = pytest.mark.e2e

NODE_DIR = Path(__file__).resolve().parent / "node"
CIBA_GRANT = "urn:openid:params:grant-type:ciba"
NURSE = "899700100490"  # e-CPS (MOBILE)
DOCTOR = "899700218896"  # CPS card (CARD)
PIN = "1357"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (openid-client DPI)")
    if not (NODE_DIR / "node_modules" / "openid-client").is_dir():
        pytest.skip(f"openid-client is not installed: run `npm ci` in {NODE_DIR}")
    return node


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    """One server for both scenarios, with its HTTPS listener for the mTLS aliases: one
    instance addressed directly in every run, cluster mode included (the mTLS under test ends
    at psc-idp's own listener, which nginx in front would replace)."""
    with LiveServer(env={"PSC_TLS_PORT": str(free_port())}) as live:
        yield live


class Dpi:
    """``node ciba.mjs …`` running; its stderr progress lines are read as they come."""

    def __init__(self, node: str, *args: str):
        self.events: list[dict[str, Any]] = []
        self.stderr: list[str] = []
        self.pending = threading.Event()
        self.saw_pending = False
        self.process = subprocess.Popen(
            [node, "ciba.mjs", *args],
            cwd=NODE_DIR,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._stdout: list[str] = []
        self._readers = [
            threading.Thread(target=self._read_progress, daemon=True),
            threading.Thread(target=lambda: self._stdout.append(self.process.stdout.read())),
        ]
        for reader in self._readers:
            reader.start()

    def _read_progress(self) -> None:
        for line in self.process.stderr:
            self.stderr.append(line)
            try:
                event = json.loads(line)
            except ValueError:
                continue
            self.events.append(event)
            if event.get("error") == "authorization_pending":
                self.saw_pending = True
                self.pending.set()
        self.pending.set()  # the DPI ended: nobody waits for ever

    def report(self, server: LiveServer, timeout: float = 40) -> dict[str, Any]:
        try:
            self.process.wait(timeout=timeout)
        finally:
            self.stop()
        output = "".join(self._stdout)
        try:
            report = json.loads(output)
        except ValueError:
            report = {"ok": False, "failure": {"message": "no JSON report on stdout"}}
        if self.process.returncode != 0 or not report.get("ok"):
            pytest.fail(
                f"openid-client DPI failed: {report.get('failure')}\n"
                f"--- DPI stderr ---\n{''.join(self.stderr)[-4000:]}\n"
                f"--- server output (end) ---\n{server.output()[-6000:]}",
                pytrace=False,
            )
        return report

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=10)


def run_with_approval(
    server: LiveServer, approve: Callable[[], dict], *args: str
) -> tuple[dict[str, Any], dict]:
    """Start the DPI; after its first ``authorization_pending``, approve; return its report and
    what the approving command printed."""
    dpi = Dpi(_node(), "--issuer", server.issuer, *args)
    try:
        assert dpi.pending.wait(timeout=20), "the DPI never polled"
        if not dpi.saw_pending:  # it ended first: its report says why
            return dpi.report(server), {}
        approved = approve()
        return dpi.report(server), approved
    finally:
        dpi.stop()


@pytest.fixture(scope="module")
def scenarios(server: LiveServer, tmp_path_factory) -> Iterator[dict[str, Future]]:
    """Both DPIs at once (they concern different professionals and channels): registration
    and credentials first, then the two runs; each test reads its own outcome."""
    _node()
    folder = tmp_path_factory.mktemp("ciba")
    with ThreadPoolExecutor(max_workers=4) as pool:
        prepared = {
            "basic": pool.submit(
                run_cli,
                server,
                "clients",
                "add",
                "dpi-hopital",
                "--name",
                "DPI Hôpital de test",
                "--grant-type",
                CIBA_GRANT,
                "--grant-type",
                "refresh_token",
            ),
            "ecps": pool.submit(run_cli, server, "ecps", "activate", NURSE, "--pin", PIN),
            "org": pool.submit(
                run_cli,
                server,
                "pki",
                "issue-org",
                "--structure-id",
                "1B0064166",
                "--name",
                "HOPITAL TEST",
                "--out",
                str(folder / "org"),
            ),
            "card": pool.submit(run_cli, server, "cps", "issue", DOCTOR, "--out", str(folder)),
        }
        basic, org = prepared["basic"].result(), prepared["org"].result()
        card = prepared["card"].result()["files"]
        prepared["ecps"].result()
        run_cli(
            server,
            "clients",
            "add",
            "dpi-mtls",
            "--name",
            "DPI mTLS",
            "--auth-method",
            "tls_client_auth",
            "--tls-subject-dn",
            org["subject"],
            "--bound-tokens",
            "--grant-type",
            CIBA_GRANT,
        )
        mobile = pool.submit(
            run_with_approval,
            server,
            lambda: run_cli(server, "ecps", "approve", NURSE, "--pin", PIN, "--wait", "30"),
            "--client-id",
            "dpi-hopital",
            # One argument: a generated secret may start with "-", which parsers take for an option.
            f"--secret={basic['client_secret']}",
            "--login-hint",
            NURSE,
            "--channel",
            "MOBILE",
            "--binding-message",
            "42",
        )
        card_flow = pool.submit(
            run_with_approval,
            server,
            lambda: run_cli(
                server,
                "cps",
                "approve",
                "--cert",
                card["certificate"],
                "--key",
                card["private_key"],
                "--wait",
                "30",
            ),
            "--client-id",
            "dpi-mtls",
            "--cert",
            org["files"]["certificate"],
            "--key",
            org["files"]["private_key"],
            "--ca",
            str(server.keys_dir / "pki" / "ca-bundle.pem"),
            "--login-hint",
            DOCTOR,
            "--channel",
            "CARD",
        )
        yield {"basic": basic, "org": org, "mobile": mobile, "card": card_flow}


def assert_pending_then_tokens(report: dict[str, Any]) -> None:
    answers = [poll["error"] or "tokens" for poll in report["polls"]]
    assert answers[0] == "authorization_pending"
    assert answers[-1] == "tokens"
    assert set(answers[:-1]) == {"authorization_pending"}  # openid-client kept the interval
    assert report["request"]["interval"] == 5 and report["request"]["expires_in"] == 120
    gaps = [b["ms"] - a["ms"] for a, b in zip(report["polls"], report["polls"][1:], strict=False)]
    assert all(gap >= 4500 for gap in gaps), gaps


def test_secret_basic_mobile_approved_on_the_command_line_ecps(server: LiveServer, scenarios):
    assert scenarios["basic"]["backchannel_token_delivery_mode"] == "poll"
    report, approved = scenarios["mobile"].result()
    assert approved == {
        "request": approved["request"],
        "status": "approved",
        "client_name": "DPI Hôpital de test",
    }
    assert report["endpoints"]["token"] == f"{server.issuer}/protocol/openid-connect/token"
    assert_pending_then_tokens(report)
    claims = report["id_token"]
    assert (claims["SubjectNameID"], claims["authMode"], claims["acr"]) == (
        NURSE,
        "MOBILE",
        "eidas1",
    )
    assert claims["aud"] == "dpi-hopital" and claims["sid"] == claims["session_state"]
    tokens = report["tokens"]
    assert tokens["has_refresh_token"] and tokens["has_session_state"]
    assert tokens["scope"] == "openid scope_all identity"


def test_tls_client_auth_card_approved_with_the_cps_card(server: LiveServer, scenarios):
    report, approved = scenarios["card"].result()
    assert (approved["client_id"], approved["status"]) == ("dpi-mtls", "approved")
    tls_origin = f"https://localhost:{server.environment()['PSC_TLS_PORT']}"
    assert report["endpoints"]["backchannel_authentication"].startswith(tls_origin)
    assert all(poll["url"].startswith(tls_origin) for poll in report["polls"])
    assert_pending_then_tokens(report)
    claims = report["id_token"]
    assert (claims["SubjectNameID"], claims["authMode"], claims["acr"]) == (
        DOCTOR,
        "CARD",
        "eidas3",
    )
    assert report["access_token_cnf"] == {"x5t#S256": scenarios["org"]["sha256_thumbprint"]}
    assert report["tokens"]["has_refresh_token"] is False  # not registered for refresh_token


# --- a signed authentication request (CIBA Core §7.1.1) ----------------------------------------
SIGNED_CLIENT = "dpi-signe"


@pytest.fixture(scope="module")
def signed_flow(server: LiveServer, scenarios, tmp_path_factory) -> tuple[dict[str, Any], dict]:
    """A DPI with an EC key registered (realm file, ``jwks``) whose openid-client request is one
    ``request`` JWS; after the MOBILE scenario, whose professional it asks for too."""
    scenarios["mobile"].result()
    key = ec.generate_private_key(ec.SECP256R1())
    private = {**json.loads(ECAlgorithm.to_jwk(key)), "kid": "dpi-signe-1"}
    public = {name: value for name, value in private.items() if name != "d"}
    secret = secrets.token_urlsafe(32)
    realm = tmp_path_factory.mktemp("signed") / "realm.json"
    client = {
        "client_id": SIGNED_CLIENT,
        "name": "DPI signé",
        "secret": secret,
        "jwks": {"keys": [public]},
        "grant_types": [CIBA_GRANT],
    }
    realm.write_text(json.dumps({"clients": [client]}))
    run_cli(server, "realm", "import", str(realm))
    return run_with_approval(
        server,
        lambda: run_cli(server, "ecps", "approve", NURSE, "--pin", PIN, "--wait", "30"),
        "--client-id",
        SIGNED_CLIENT,
        f"--secret={secret}",
        "--login-hint",
        NURSE,
        "--binding-message",
        "57",
        f"--request-key={json.dumps(private)}",
    )


def test_a_signed_request_from_openid_client(signed_flow):
    report, approved = signed_flow
    assert (approved["client_name"], approved["status"]) == ("DPI signé", "approved")
    assert (
        "ES256"
        in report["discovery"]["backchannel_authentication_request_signing_alg_values_supported"]
    )
    # Only the JWS left the DPI (openid-client adds client_id, the authentication's).
    assert report["sent_parameters"] == ["request"]
    assert_pending_then_tokens(report)
    claims = report["id_token"]
    assert (claims["SubjectNameID"], claims["aud"]) == (NURSE, SIGNED_CLIENT)
