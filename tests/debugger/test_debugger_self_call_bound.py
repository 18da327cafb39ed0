"""A server with a single thread cannot answer its own call: the debugger's request holds the
only thread while its call waits for one. The call's timeout bounds the wait, and the page says
what happened instead of hanging (docs/developer-tools.md, « Débogueur »)."""

from __future__ import annotations

import time

import pytest

from psc_idp.devtools.debugger.exchanges import TIMEOUT
from tests.debugger.browsing import DebuggerBrowser, text_of
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e


def test_a_single_thread_server_answers_within_the_timeout():
    with LiveServer(workers=1, threads=1) as server:
        browser = DebuggerBrowser(server)
        began = time.monotonic()
        page = browser.start("ciba", login_hint="899700100565")
        took = time.monotonic() - began
        text = text_of(page)
        assert page.status_code == 200
        assert f"Pas de réponse en {TIMEOUT:g} s" in text
        assert TIMEOUT <= took < TIMEOUT + 10


def test_two_threads_are_enough():
    with LiveServer(workers=1, threads=2) as server:
        page = DebuggerBrowser(server).start("ciba", login_hint="899700100565")
        text = text_of(page)
        assert "Pas de réponse" not in text
        assert "auth_req_id" in text
