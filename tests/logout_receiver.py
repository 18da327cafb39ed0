"""A relying party's logout endpoints on 127.0.0.1, for the logout tests: it records the logout
tokens POSTed to its back-channel URI and the front-channel requests (GET) with their query,
and can answer the first POSTs with a failure."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    path: str
    content_type: str
    form: dict[str, list[str]] = field(default_factory=dict)


class LogoutReceiver:
    def __init__(self, failures: int = 0, failure_status: int = 503) -> None:
        self.posts: list[Received] = []
        self.gets: list[Received] = []
        self.failures = failures
        self.failure_status = failure_status
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                with receiver.lock:
                    failing = receiver.failures > 0
                    receiver.failures -= 1 if failing else 0
                    if not failing:
                        receiver.posts.append(
                            Received(self.path, self.headers["Content-Type"], parse_qs(body))
                        )
                if failing and receiver.failure_status in (301, 302, 303, 307, 308):
                    self.send_response(receiver.failure_status)
                    self.send_header("Location", receiver.url("/elsewhere"))
                else:
                    self.send_response(receiver.failure_status if failing else 200)
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                with receiver.lock:
                    receiver.gets.append(Received(parts.path, "", parse_qs(parts.query)))
                body = b"<!doctype html><title>RP</title><p>Session du service terminee</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def tokens(self) -> list[str]:
        with self.lock:
            return [post.form["logout_token"][0] for post in self.posts]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
