"""Against a real server (granian): a 413 closes the connection and says so, and a request
still gets an answer in its own language."""

from __future__ import annotations

import socket

import pytest

from tests.live_server import REALM_PATH, LiveServer


@pytest.fixture(scope="module")
def server():
    with LiveServer() as live:
        yield live


def _raw(server: LiveServer, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):  # the server closes: recv returns b""
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "path,kind",
    [
        (f"{REALM_PATH}/protocol/openid-connect/token", b"application/json"),
        ("/wallet/auth", b"text/html"),
    ],
)
def test_413_says_connection_close_and_closes(server, path, kind):
    body = b"grant_type=" + b"x" * (200 * 1024)
    request = (
        f"POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    answer = _raw(server, request)
    head, _, _ = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    headers = head.lower()
    assert b"connection: close" in headers
    assert b"keep-alive" not in headers
    assert kind in headers
