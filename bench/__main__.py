"""``make bench``: requests per second and latency of the hot endpoints of a real server.

Starts ``psc-idp serve`` (gunicorn, SQLite unless PSC_BENCH_DATABASE_URL is set), logs in once to
get real tokens, then drives each endpoint with wrk over keep-alive connections."""

from __future__ import annotations

import argparse
import base64
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.login import login  # noqa: E402
from bench.wrk import run  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    env = {
        "PSC_ACCESS_LOG": "0",
        # Long-lived tokens so that none expires during a run.
        "PSC_ACCESS_TOKEN_LIFETIME": "3600",
    }
    if os.environ.get("PSC_BENCH_DATABASE_URL"):
        env["PSC_DATABASE_URL"] = os.environ["PSC_BENCH_DATABASE_URL"]
    with LiveServer(env=env, workers=args.workers) as server:
        secret = server.demo_secret("demo-web")
        tokens = login(server.base_url, server.issuer, "demo-web", secret)
        basic = base64.b64encode(f"demo-web:{secret}".encode()).decode()
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        oidc = f"{server.issuer}/protocol/openid-connect"
        runs = [
            ("JWKS (GET certs)", f"{oidc}/certs", {}),
            ("Discovery", f"{server.issuer}/.well-known/openid-configuration", {}),
            (
                "UserInfo (GET, scope_all)",
                f"{oidc}/userinfo",
                {"headers": {"Authorization": f"Bearer {tokens['access_token']}"}},
            ),
            (
                "Introspection (POST)",
                f"{oidc}/token/introspect",
                {
                    "method": "POST",
                    "body": f"token={tokens['access_token']}",
                    "headers": {"Authorization": f"Basic {basic}", **form},
                },
            ),
            (
                "Token (client_credentials)",
                f"{oidc}/token",
                {
                    "method": "POST",
                    "body": "grant_type=client_credentials",
                    "headers": {"Authorization": f"Basic {basic}", **form},
                },
            ),
        ]
        print(f"psc-idp {server.base_url} — {args.workers} workers, wrk -t2 -c{args.connections}")
        print(f"{args.seconds} s per endpoint, database {env.get('PSC_DATABASE_URL', 'SQLite')}\n")
        print("| Endpoint | req/s | p50 ms | p99 ms | errors |")
        print("|---|---:|---:|---:|---:|")
        for name, url, options in runs:
            result = run(name, url, seconds=args.seconds, connections=args.connections, **options)
            print(result.row(), flush=True)


if __name__ == "__main__":
    main()
