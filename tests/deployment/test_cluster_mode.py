"""The cluster mode of the end-to-end suite (tests/cluster.py) without starting anything: the
nginx site it renders, the upstream it takes from the guide, how it reads the access logs and
when it says the requests were not spread."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from tests.cluster import Spread, instances_wanted, served
from tests.nginx import TEMPLATE, guide_block, plain_http, render, upstream

VALUES = {
    "SERVER_NAME": "localhost",
    "LISTEN_PORT": "127.0.0.1:41000",
    "UPSTREAM": "127.0.0.1:41001",
    "CERT": "/k/server.fullchain.pem",
    "KEY": "/k/server.key.pem",
    "CA_BUNDLE": "/k/ca-bundle.pem",
}


def directives(site: str) -> list[str]:
    return [line.strip() for line in site.splitlines() if line.strip() and line.strip()[0] != "#"]


def test_the_plain_site_is_the_template_without_tls():
    tls = directives(render(TEMPLATE.read_text(), VALUES))
    plain = directives(plain_http(render(TEMPLATE.read_text(), VALUES)))
    assert "listen 127.0.0.1:41000 ssl;" in tls
    assert "listen 127.0.0.1:41000;" in plain
    assert not [line for line in plain if "ssl_" in line.split()[0] or " ssl;" in line]
    assert not [line for line in plain if line.startswith("error_page 495")]
    # Everything else stays: upstream, forwarded headers, the long polls' location, timeouts.
    removed = [line for line in tls if line not in plain]
    assert all(line.startswith(("ssl_", "listen", "error_page 495")) for line in removed)
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in plain
    assert "location /ecps/api/ {" in plain and "proxy_read_timeout 90s;" in plain


def test_the_upstream_is_the_guides_on_the_instances_ports():
    guide = [line.strip() for line in guide_block("upstream").splitlines()]
    options = re.search(r"server 127\.0\.0\.1:8080 (.*);", "\n".join(guide)).group(1)
    lines = upstream(SimpleNamespace(port=41001), SimpleNamespace(port=41002))
    assert lines == (f"127.0.0.1:41001 {options};\n    server 127.0.0.1:41002 {options}")
    with pytest.raises(AssertionError):
        upstream(SimpleNamespace(port=41001))  # the guide shows two instances


def test_access_lines_are_counted_by_endpoint_and_status():
    output = (
        "2025-01-01 10:00:00,000 INFO [abc] psc_idp.access: POST protocol.token 200 4 ms "
        "127.0.0.1 client=demo-web\n"
        "2025-01-01 10:00:00,100 INFO [abd] psc_idp.access: GET wallet.login 500 9 ms 127.0.0.1\n"
        "2025-01-01 10:00:00,200 INFO [-] psc_idp.app: psc_idp.access: not a request\n"
        "2025-01-01 10:00:00,300 INFO [abe] psc_idp.access: POST protocol.token 200 3 ms ::1\n"
    )
    assert served(output) == {("protocol.token", 200): 2, ("wallet.login", 500): 1}


def test_an_even_spread_passes():
    Spread(requests=[50, 47], protocol=[20, 21], proxied=97, server_errors=[0, 0]).check()


@pytest.mark.parametrize(
    "spread",
    [
        Spread(requests=[97, 0], protocol=[41, 0]),  # one instance left out
        Spread(requests=[80, 17], protocol=[30, 11]),  # 17.5 % of the requests
        Spread(requests=[50, 47], protocol=[40, 1]),  # protocol requests all on one side
        Spread(requests=[0, 0], protocol=[0, 0]),  # nothing reached them
        Spread(requests=[50, 47], protocol=[20, 21], server_errors=[1, 0]),
        Spread(requests=[50, 47], protocol=[20, 21], proxied_errors=1),  # nginx's own 502
    ],
)
def test_an_uneven_spread_or_a_server_error_fails(spread):
    with pytest.raises(AssertionError):
        spread.check()


def test_few_protocol_requests_are_reported_not_judged():
    # A module that made 3 protocol requests: their parity in the flow decides where they go.
    Spread(requests=[10, 10], protocol=[0, 3]).check()


@pytest.mark.parametrize(
    ("instances", "database", "expected"),
    [
        ("", "", 1),
        ("1", "", 1),
        ("2", "postgresql+psycopg://postgres@127.0.0.1:5432/x", 2),
    ],
)
def test_instances_wanted(monkeypatch, instances, database, expected):
    monkeypatch.setenv("PSC_TEST_INSTANCES", instances)
    monkeypatch.setenv("PSC_TEST_DATABASE_URL", database)
    assert instances_wanted() == expected


@pytest.mark.parametrize(
    ("instances", "database", "reason"),
    [
        ("2", "", "needs PostgreSQL"),  # SQLite: one file per server, nothing shared
        ("3", "postgresql+psycopg://postgres@127.0.0.1:5432/x", "1 or 2"),
        ("two", "postgresql+psycopg://postgres@127.0.0.1:5432/x", "1 or 2"),
    ],
)
def test_instances_wanted_refuses(monkeypatch, instances, database, reason):
    monkeypatch.setenv("PSC_TEST_INSTANCES", instances)
    monkeypatch.setenv("PSC_TEST_DATABASE_URL", database)
    with pytest.raises(pytest.UsageError, match=reason):
        instances_wanted()
