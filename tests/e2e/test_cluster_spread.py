"""Cluster mode only (``PSC_TEST_INSTANCES=2``): nginx really spreads the requests of one
relying party across both instances, and both announce nginx's origin as the issuer.

The session's own check (tests/e2e/conftest.py) looks at every request of the suite; this one
needs no other test and says which of its own requests each instance served."""

from __future__ import annotations

import pytest
import requests

from bench.login import login
from tests.cluster import Cluster

pytestmark = pytest.mark.e2e

ROUNDS = 12  # refreshes and UserInfo reads, after one login


@pytest.fixture
def cluster(live_server) -> Cluster:
    if not isinstance(live_server, Cluster):
        pytest.skip("one instance in this run (PSC_TEST_INSTANCES=2 makes a cluster)")
    return live_server


def test_every_instance_announces_nginx_as_the_issuer(cluster):
    for server in cluster.instances:
        direct = requests.get(server.discovery_url, timeout=10).json()
        assert direct["issuer"] == cluster.issuer
        assert direct["token_endpoint"].startswith(cluster.base_url + "/")


def test_one_relying_party_is_served_by_both_instances(cluster):
    before = cluster.spread()
    http = requests.Session()
    secret = cluster.demo_secret("demo-web")
    tokens = login(cluster.base_url, cluster.issuer, "demo-web", secret, http=http)
    endpoints = f"{cluster.issuer}/protocol/openid-connect"
    for _ in range(ROUNDS):
        refreshed = http.post(
            f"{endpoints}/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=("demo-web", secret),
            timeout=30,
        )
        assert refreshed.status_code == 200, refreshed.text
        tokens = refreshed.json()
        info = http.get(
            f"{endpoints}/userinfo",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
            timeout=30,
        )
        assert info.status_code == 200, info.text
    after = cluster.spread()
    mine = [b - a for a, b in zip(before.protocol, after.protocol, strict=True)]
    # The session's other tests may run requests of their own meanwhile: at least ours.
    assert sum(mine) >= 2 * ROUNDS + 1, (before, after)
    assert min(mine) >= sum(mine) // 4, f"protocol requests per instance: {mine}"
