"""A browser (``requests.Session``) using /dev/debugger on a live server: the form, the flows
started from it, la mire's test identity picker when a login is asked."""

from __future__ import annotations

import html
import re
from typing import Any

import requests

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
RUN_PATH = re.compile(r"/dev/debugger/runs/([A-Za-z0-9_\-]+)$")
DOCTOR = "899700218896"
#: The demo realm's e-CPS scenario: approved on its own after 2 s.
AUTO_APPROVED = "899700100565"


class DebuggerBrowser:
    def __init__(self, server: Any) -> None:
        self.server = server
        self.http = requests.Session()

    def form(self) -> str:
        page = self.http.get(self.server.url("/dev/debugger/"), timeout=20)
        assert page.status_code == 200, page.text
        return page.text

    def csrf(self, text: str | None = None) -> str:
        return CSRF.search(text or self.form()).group(1)

    def start(self, flow: str, follow: bool = True, **fields: Any) -> requests.Response:
        data: dict[str, Any] = {
            "csrf_token": self.csrf(),
            "flow": flow,
            "client_id": "demo-debugger",
            "scope": ["openid", "scope_all"],
            **fields,
        }
        return self.http.post(
            self.server.url("/dev/debugger/start"), data=data, allow_redirects=follow, timeout=30
        )

    def log_in(self, response: requests.Response, national_id: str = DOCTOR) -> requests.Response:
        """From la mire (where ``response`` ended), the test identity picker, to the run page."""
        assert "/wallet/login/" in response.url, response.url
        picker = response.url.split("?")[0].rstrip("/") + "/dev"
        page = self.http.get(picker, timeout=20)
        done = self.http.post(
            picker,
            data={
                "csrf_token": self.csrf(page.text),
                "national_id": national_id,
                "auth_mode": "MOBILE",
            },
            timeout=30,
        )
        assert RUN_PATH.search(done.url), done.url
        return done

    def code_flow(self, flow: str = "code", **fields: Any) -> requests.Response:
        return self.log_in(self.start(flow, login_hint=DOCTOR, **fields))

    def act(self, run_page: requests.Response, action: str) -> requests.Response:
        return self.http.post(
            f"{run_page.url}/{action}", data={"csrf_token": self.csrf(run_page.text)}, timeout=30
        )


def text_of(response: requests.Response) -> str:
    """The page's text with its entities decoded (JSON bodies are escaped in the HTML)."""
    return html.unescape(response.text)


def token_in(page_text: str, name: str) -> str:
    return re.search(rf'"{name}": "([A-Za-z0-9_\-.]+)"', page_text).group(1)
