"""psc-idp alone: whole logins and e-CPS approvals per second.

These need several requests with state between them (cookies, CSRF tokens, signed decisions),
so Python workers drive them instead of wrk; each worker keeps its own keep-alive connection.
The load generator's own CPU therefore weighs more here than in the wrk scenarios. Both loops
are bounded by a deadline and by a count."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path

import requests

from bench.login import login
from bench.realm import CLIENT_ID
from bench.servers import CIBA_EXPIRY, PscTarget, parallel
from psc_idp.means.ecps.phone.virtual_device import VirtualDevice
from tests.live_server import _psc_idp_command

PIN = "1357"


@dataclass
class FlowOutcome:
    done: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return self.done + self.errors

    @property
    def requests_per_second(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    @property
    def p50_ms(self) -> float:
        return self.percentile(0.50)

    @property
    def p99_ms(self) -> float:
        return self.percentile(0.99)


def _drive(
    work: Callable[[requests.Session, int], bool], workers: int, seconds: float, limit: int
) -> FlowOutcome:
    """Run ``work`` from ``workers`` threads until ``seconds`` passed or ``limit`` calls began."""
    outcome, lock = FlowOutcome(), threading.Lock()
    counter = iter(range(limit))
    deadline = time.monotonic() + seconds

    def worker() -> None:
        http = requests.Session()
        while time.monotonic() < deadline:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            began = time.monotonic()
            try:
                ok = work(http, index)
            except (requests.RequestException, KeyError, AttributeError, ValueError):
                ok = False
            with lock:
                if ok:
                    outcome.done += 1
                    outcome.latencies.append(time.monotonic() - began)
                else:
                    outcome.errors += 1

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(worker) for _ in range(workers)]:
            future.result()
    outcome.seconds = time.monotonic() - start
    return outcome


# --- whole logins ---------------------------------------------------------------------------
def logins(target: PscTarget, seconds: float, workers: int) -> FlowOutcome:
    """authorize → test identity picker (card) → token → UserInfo, per professional in turn."""
    professionals = target.realm.device_ids or target.realm.pending_ids
    userinfo_url = target.endpoint("userinfo_endpoint")

    def one(http: requests.Session, index: int) -> bool:
        national_id = professionals[index % len(professionals)]
        http.cookies.clear()  # each login is a new browser
        tokens = login(
            target.server.base_url, target.issuer, CLIENT_ID, target.secret, national_id, http
        )
        answer = http.get(
            userinfo_url, headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=30
        )
        return answer.status_code == 200

    return _drive(one, workers, seconds, limit=1_000_000)


# --- e-CPS approvals ------------------------------------------------------------------------
@dataclass
class Approval:
    url: str
    call_token: str
    decision: str


def activate_devices(target: PscTarget, count: int) -> list[VirtualDevice]:
    """``psc-idp ecps activate`` for ``count`` professionals, in the server's environment."""
    server = target.server

    def one(index: int) -> VirtualDevice:
        national_id = target.realm.device_ids[index]
        done = subprocess.run(
            [*_psc_idp_command(), "ecps", "activate", national_id, "--pin", PIN, "--json"],
            env=server.environment(),
            cwd=server.root,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return VirtualDevice.load(Path(json.loads(done.stdout)["key_file"]))

    return parallel(count, one, workers=2)


def prepare_approvals(
    target: PscTarget, devices: list[VirtualDevice], count: int
) -> list[Approval]:
    """``count`` CIBA requests (MOBILE) to the devices, then one signed decision for each push."""
    ciba = target.endpoint("backchannel_authentication_endpoint")

    def ask(index: int) -> None:
        form = {
            "scope": "openid scope_all",
            "login_hint": devices[index % len(devices)].national_id,
            "binding_message": f"{index % 100:02d}",
            "requested_expiry": str(CIBA_EXPIRY),
            "channel": "MOBILE",
        }
        response = requests.post(
            ciba, data=form, headers={"Authorization": target.basic}, timeout=30
        )
        response.raise_for_status()

    parallel(count, ask)
    api = f"{target.server.base_url}/ecps/api/v1"
    by_device: list[list[Approval]] = []
    for device in devices:
        token = device.call_token("GET", f"{api}/requests")
        listed = requests.get(
            f"{api}/requests", headers={"Authorization": f"ECPS-Device {token}"}, timeout=30
        )
        listed.raise_for_status()
        mine = []
        for push in listed.json()["requests"]:
            url = f"{api}/requests/{push['id']}/decision"
            mine.append(
                Approval(
                    url,
                    device.call_token("POST", url, lifetime=110),
                    device.decision(push["id"], "approve", push["binding_message"], PIN),
                )
            )
        by_device.append(mine)
    # Interleaved, one device after the other: a phone decides one request at a time, and
    # the PIN attempts in flight on one device are bounded (ecps_max_pin_failures), so the
    # workers must not all post to the same phone at once.
    return [item for turn in zip_longest(*by_device) for item in turn if item is not None]


def approvals(
    target: PscTarget, prepared: list[Approval], seconds: float, workers: int
) -> FlowOutcome:
    """Post the prepared decisions; each is one approval (signature, PIN, CIBA request decided)."""

    def one(http: requests.Session, index: int) -> bool:
        item = prepared[index]
        answer = http.post(
            item.url,
            json={"decision": item.decision},
            headers={"Authorization": f"ECPS-Device {item.call_token}"},
            timeout=30,
        )
        return answer.status_code == 200

    return _drive(one, workers, seconds, limit=len(prepared))
