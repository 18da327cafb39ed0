"""A real browser: Debian's chromium driven by Playwright, against a real server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chromium import launched_chromium
from tests.cluster import Cluster, live_deployment, report_spread
from tests.live_server import LiveServer


@pytest.fixture(scope="module")
def live_server(
    request: pytest.FixtureRequest, database_url: str
) -> Iterator[LiveServer | Cluster]:
    """A server of the module's own (two behind nginx with ``PSC_TEST_INSTANCES=2``)."""
    env = {"PSC_DATABASE_URL": database_url} if database_url.startswith("postgresql") else {}
    with live_deployment(env) as server:
        yield server
        if isinstance(server, Cluster):
            spread = report_spread(request.module.__name__, server.spread())
            if sum(spread.requests):  # none when the module's tests were skipped
                spread.check()


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def page(chromium) -> Iterator[object]:
    context = chromium.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    """Save a screenshot of the page when PSC_SCREENSHOTS_DIR is set (docs/screenshots)."""
    folder = os.environ.get("PSC_SCREENSHOTS_DIR")

    def take(name: str) -> None:
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    return take
