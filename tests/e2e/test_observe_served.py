"""``psc-idp serve`` with two server workers: /metrics sums every worker's counts (a private
multi-process folder, removed at exit); one access line per request; health answers."""

from __future__ import annotations

import os
import signal
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e
REQUESTS = 30


def _responses(text: str, endpoint: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "psc_http_responses_total" and labels.get("endpoint") == endpoint:
                return sample.value
    return 0.0


def _worker_pids(master: int) -> set[int]:
    children = f"/proc/{master}/task/{master}/children"
    with open(children) as listing:
        return {int(pid) for pid in listing.read().split()}


def test_metrics_sum_the_workers_and_the_folder_goes_away(tmp_path):
    env = {"TMPDIR": str(tmp_path), "PSC_LOG_FORMAT": "json"}
    with LiveServer(env=env, workers=2) as server:
        folders = list(tmp_path.glob("psc-idp-metrics-*"))
        assert len(folders) == 1 and (folders[0].stat().st_mode & 0o777) == 0o700
        for _ in range(REQUESTS):  # a new connection each: both workers answer some
            with requests.Session() as fresh:
                assert fresh.get(server.url("/health/live"), timeout=10).status_code == 200
        assert requests.get(server.url("/health/ready"), timeout=10).status_code == 200
        scraped = requests.get(server.url("/metrics"), timeout=10)
        assert scraped.status_code == 200
        assert _responses(scraped.text, "health.live") == REQUESTS
        # A worker that dies is replaced; what it counted stays in the sum.
        os.kill(sorted(_worker_pids(server.pid))[0], signal.SIGKILL)
        deadline = time.monotonic() + 20
        while len(_worker_pids(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        again = _once_served(server.url("/metrics"), deadline)
        assert _responses(again.text, "health.live") == REQUESTS
        output_so_far = server.output()
    assert '"endpoint": "health.live"' in output_so_far
    assert '"logger": "psc_idp.access"' in output_so_far
    assert list(tmp_path.glob("psc-idp-metrics-*")) == []


def _once_served(url: str, deadline: float) -> requests.Response:
    """The first answer at ``url``: until the new worker listens, a connection the server had
    routed to the dead one is reset (bounded by ``deadline``)."""
    while True:
        try:
            return requests.get(url, timeout=10)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
