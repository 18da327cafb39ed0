"""docs/examples/ciba_client.py, the Python DPI of docs/ciba.md, run as a subprocess against a
real server while ``psc-idp ecps approve --wait`` answers on the professional's e-CPS."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.live_server import LiveServer
from tests.relying_party import run_cli

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "ciba_client.py"
MIDWIFE = "899700100318"
PIN = "2468"


def test_example_dpi_gets_the_professionals_id_token(live_server: LiveServer):
    with ThreadPoolExecutor(max_workers=2) as pool:
        registered = pool.submit(
            run_cli,
            live_server,
            "clients",
            "add",
            "dpi-exemple",
            "--name",
            "DPI exemple",
            "--grant-type",
            "urn:openid:params:grant-type:ciba",
        )
        activated = pool.submit(run_cli, live_server, "ecps", "activate", MIDWIFE, "--pin", PIN)
        secret = registered.result()["client_secret"]
        activated.result()
    dpi = subprocess.Popen(
        [
            sys.executable,
            str(EXAMPLE),
            "--issuer",
            live_server.issuer,
            "--client-id",
            "dpi-exemple",
            f"--client-secret={secret}",  # a secret may start with "-": keep it one argument
            "--national-id",
            MIDWIFE,
            "--binding-message",
            "73",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        approver = subprocess.run(
            [str(Path(sys.executable).with_name("psc-idp")), "ecps", "approve", MIDWIFE]
            + ["--pin", PIN, "--wait", "30", "--json"],
            env=live_server.environment(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        out, err = dpi.communicate(timeout=30)
    finally:
        if dpi.poll() is None:
            dpi.kill()
            dpi.communicate()
    assert dpi.returncode == 0, (
        f"{err}\n--- approver ---\n{approver.stderr}"
        f"\n--- server ---\n{live_server.output()[-4000:]}"
    )
    approved = json.loads(approver.stdout)
    assert approved["status"] == "approved" and approved["client_name"] == "DPI exemple"
    assert "Code à vérifier : 73" in err
    claims = json.loads(out)
    assert (claims["SubjectNameID"], claims["authMode"], claims["acr"]) == (
        MIDWIFE,
        "MOBILE",
        "eidas1",
    )
    assert claims["aud"] == "dpi-exemple" and claims["iss"] == live_server.issuer
