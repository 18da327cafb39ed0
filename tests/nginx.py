"""Debian's nginx in front of ``psc-idp serve`` instances, for the deployment tests and the
end-to-end suite's cluster mode: the site is docs/nginx/psc-idp.conf.template filled in as
docs/deploy.md tells an operator to, the upstream the guide's own block.

nginx runs unprivileged-friendly: its own prefix in a temporary folder (configuration, pid,
logs, temporary files), a free port, ``daemon off`` in a subprocess that is always stopped."""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.live_server import REALM_PATH, LiveServer

PROJECT = Path(__file__).resolve().parents[1]
TEMPLATE = PROJECT / "docs" / "nginx" / "psc-idp.conf.template"
GUIDE = PROJECT / "docs" / "deploy.md"
NGINX = "/usr/sbin/nginx"
#: The status in nginx's combined log format: ``addr - user [time] "request" status …``.
COMBINED_STATUS = re.compile(r'^\S+ \S+ \S+ \[[^\]]*\] "[^"]*" (\d{3}) ', re.M)


def render(template: str, values: dict[str, str]) -> str:
    """Fill the ``{{NAME}}`` placeholders of the template; every one must be given."""
    rendered = re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], template)
    assert "{{" not in rendered
    return rendered


class NginxError(RuntimeError):
    pass


class Nginx:
    """Debian's nginx with ``site`` (the rendered template) as its only site, everything it
    writes under a temporary prefix. ``stop()`` is idempotent and also runs at exit."""

    def __init__(self, site: str, port: int, startup_timeout: float = 10.0) -> None:
        self.port = port
        self.startup_timeout = startup_timeout
        self.prefix = Path(tempfile.mkdtemp(prefix="psc-nginx-"))
        # Running as root, nginx's workers become "nobody": they must reach the temp folders.
        self.prefix.chmod(0o755)
        self.error_log = self.prefix / "error.log"
        self.access_log = self.prefix / "access.log"
        self.site = self.prefix / "psc-idp.conf"
        self.site.write_text(site)
        temp = "\n".join(
            f"    {kind}_temp_path {self.prefix / 'tmp' / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(
            f"daemon off;\n"
            f"worker_processes 1;\n"
            f"pid {self.prefix / 'nginx.pid'};\n"
            f"error_log {self.error_log} info;\n"
            f"events {{ worker_connections 128; }}\n"
            f"http {{\n"
            f"    access_log {self.access_log};\n"
            f"{temp}\n"
            f"    include {self.site};\n"
            f"}}\n"
        )
        (self.prefix / "tmp").mkdir(mode=0o755)
        self.process: subprocess.Popen[bytes] | None = None
        atexit.register(self.stop)

    def start(self) -> Nginx:
        """Start nginx and wait until it listens; on failure it is stopped and the error says
        why (its error log)."""
        try:
            self._spawn_and_wait()
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn_and_wait(self) -> None:
        command = [NGINX, "-p", str(self.prefix), "-c", str(self.conf), "-e", str(self.error_log)]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise NginxError(f"nginx exited with {self.process.returncode}\n{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise NginxError(f"nginx did not listen on {self.port}\n{self.log()}")

    def log(self) -> str:
        try:
            return self.error_log.read_text(errors="replace")[-8000:]
        except FileNotFoundError:
            return ""

    def statuses(self) -> Counter[int]:
        """Requests nginx has logged so far, by the status it answered (the combined log
        format: ``… "GET /path HTTP/1.1" 200 …``)."""
        try:
            text = self.access_log.read_text(errors="replace")
        except FileNotFoundError:
            return Counter()
        return Counter(int(status) for status in COMBINED_STATUS.findall(text))

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # fast shutdown: the master ends its workers
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._kill_group(process)
                    process.wait(timeout=10)
            else:
                self._kill_group(process)  # a master that died may leave its worker behind
        shutil.rmtree(self.prefix, ignore_errors=True)
        atexit.unregister(self.stop)

    @staticmethod
    def _kill_group(process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


class ProxiedServer(LiveServer):
    """A ``LiveServer`` whose public URL (``PSC_BASE_URL``) is nginx's: it is still reached
    directly on ``backend`` to know it is up."""

    def __init__(self, public_url: str, **options) -> None:
        super().__init__(**options)
        self.public_url = public_url

    @property
    def issuer(self) -> str:
        return f"{self.public_url}{REALM_PATH}"

    @property
    def discovery_url(self) -> str:
        return f"{self.backend}{REALM_PATH}/.well-known/openid-configuration"

    @property
    def backend(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def site_values(server: LiveServer, port: int) -> dict[str, str]:
    pki = server.keys_dir / "pki"  # created at the server's first start
    return {
        "SERVER_NAME": "localhost",
        "LISTEN_PORT": f"127.0.0.1:{port}",
        "UPSTREAM": f"127.0.0.1:{server.port}",
        "CERT": str(pki / "server.fullchain.pem"),
        "KEY": str(pki / "server.key.pem"),
        "CA_BUNDLE": str(pki / "ca-bundle.pem"),
    }


def guide_block(marker: str) -> str:
    """The ```nginx block that follows ``<!-- nginx: marker -->`` in docs/deploy.md."""
    after = GUIDE.read_text().split(f"<!-- nginx: {marker} -->\n", 1)
    assert len(after) == 2, f"docs/deploy.md lost its marker for {marker}"
    block = re.match(r"```nginx\n(.*?)```", after[1], re.S)
    assert block is not None, f"no nginx block after the marker for {marker}"
    return block.group(1)


def upstream(*servers: LiveServer) -> str:
    """The ``server`` lines of docs/deploy.md's upstream, on the instances' ports: the value of
    the template's ``server {{UPSTREAM}};``."""
    lines = [
        line.strip().removeprefix("server ").removesuffix(";")
        for line in guide_block("upstream").splitlines()
        if line.strip().startswith("server ")
    ]
    assert len(lines) == len(servers), (lines, servers)
    lines = [
        re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{server.port}", line)
        for line, server in zip(lines, servers, strict=True)
    ]
    return ";\n    server ".join(lines)


def plain_http(site: str) -> str:
    """The rendered template without TLS, for a proxy on localhost: the same upstream, headers
    and timeouts, ``listen`` without ``ssl`` and none of the certificate lines (nginx then
    forwards no client certificate, as for a browser that presents none)."""
    kept = []
    for line in site.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith(("ssl_", "error_page 495")):
            continue
        kept.append(re.sub(r"^(\s*listen \S+) ssl;", r"\1;", line))
    return "".join(kept)
