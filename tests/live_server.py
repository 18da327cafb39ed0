"""A real ``psc-idp serve`` process (granian) on a free port, for end-to-end tests.

Every server gets its own temporary folder holding its keys, its SQLite database, the server's
control socket and its output; nothing is read from or written to the project's ``keys/`` or
``var/``. Settings inherited from the environment (``PSC_*``) are dropped so that a developer's
shell cannot change what a test sees; pass what a test needs through ``env``.

Typical use::

    with LiveServer() as server:
        requests.get(server.issuer + "/.well-known/openid-configuration")
        secret = server.demo_secret("demo-web")

Two instances sharing one database and one set of keys (behind a load balancer, say)::

    first = LiveServer(env={"PSC_DATABASE_URL": url}).start()
    second = LiveServer(env={"PSC_DATABASE_URL": url}, keys_dir=first.keys_dir).start()

``stop()`` asks the server's main process to stop (SIGTERM; it stops its workers), kills
the server's whole process group if that takes longer than ``stop_timeout``, and removes the
temporary folder; it is safe to call more than once and also runs when the interpreter exits.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

REALM_PATH = "/auth/realms/esante-wallet"
_BIND_FAILURES = ("Address already in use", "Connection in use")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _psc_idp_command() -> list[str]:
    """The ``psc-idp`` entry point of the interpreter running the tests."""
    script = Path(sys.executable).with_name("psc-idp")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from psc_idp.cli import main; main()"]


class LiveServerError(RuntimeError):
    """The server did not start (its output is part of the message)."""


class LiveServer:
    """``psc-idp serve`` in a subprocess, reachable at ``base_url``.

    :param env: extra environment for the server (``PSC_DATABASE_URL``, ``PSC_DEV_MODE``…);
        applied last, so it overrides the defaults set here.
    :param keys_dir: use these keys instead of fresh ones (to share them with another server).
    :param data_dir: where the default SQLite database lives (fresh folder if not given).
    :param dev_mode: start in development mode (test identity picker, demo realm).
    :param workers: server worker processes.
    :param threads: threads per worker (``psc-idp serve``'s default when None).
    :param host: address to listen on; ``base_url`` always names ``localhost``.
    :param port: fixed port; by default a free one is chosen.
    :param startup_timeout: seconds to wait for the discovery document.
    :param stop_timeout: seconds ``stop()`` waits after SIGTERM before killing the process
        group (then ``killed`` is true and a ``RuntimeWarning`` says so).
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        keys_dir: str | Path | None = None,
        data_dir: str | Path | None = None,
        dev_mode: bool = True,
        workers: int = 2,
        threads: int | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        startup_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.extra_env = dict(env or {})
        self.dev_mode = dev_mode
        self.workers = workers
        self.threads = threads
        self.host = host
        self.port = port or 0
        self._fixed_port = port is not None
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        #: True once ``stop()`` had to kill a server that ignored SIGTERM.
        self.killed = False
        self.root = Path(tempfile.mkdtemp(prefix="psc-live-"))
        self.keys_dir = Path(keys_dir) if keys_dir else self.root / "keys"
        self.data_dir = Path(data_dir) if data_dir else self.root / "var"
        self.log_path = self.root / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None
        self._final_output: str | None = None
        self._stopped = False
        atexit.register(self.stop)

    # --- addresses ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.base_url}{REALM_PATH}"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` on this server (``/wallet/auth``…)."""
        return f"{self.base_url}/{path.lstrip('/')}"

    # --- what the server generated -----------------------------------------------------------
    def demo_secret(self, client_id: str) -> str:
        """Secret generated on first start for a confidential demo client (``demo-web``)."""
        secrets = json.loads((self.keys_dir / "demo-client-secrets.json").read_text())
        return secrets[client_id]

    def output(self) -> str:
        """Everything the server printed so far (summary, server log, access log).

        Still available after ``stop()``, which keeps the last of it in memory."""
        if self._final_output is not None:
            return self._final_output
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # --- life cycle --------------------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PSC_")}
        runtime_dir = self.root / "run"
        runtime_dir.mkdir(mode=0o700, exist_ok=True)
        env.update(
            {
                "PSC_BASE_URL": self.base_url,
                "PSC_KEYS_DIR": str(self.keys_dir),
                "PSC_DATA_DIR": str(self.data_dir),
                "PSC_DEV_MODE": "1" if self.dev_mode else "0",
                # No HTTPS listener unless a test asks for one: its port is fixed (8443).
                "PSC_TLS_PORT": "0",
                # The request journal only where a test asks for it (``env``).
                "PSC_REQUEST_JOURNAL": "0",
                # Anything the server keeps at run time stays in its own folder, none in $HOME.
                "XDG_RUNTIME_DIR": str(runtime_dir),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self) -> LiveServer:
        """Start the server and wait until discovery answers; returns ``self``."""
        if self.process is not None or self._stopped:
            raise LiveServerError("a LiveServer starts once; make another one")
        attempts = 1 if self._fixed_port else 3
        for attempt in range(1, attempts + 1):
            if not self._fixed_port:
                self.port = free_port(self.host)
            try:
                self._spawn()
                self._wait_until_ready()
                return self
            except LiveServerError:
                lost_race = any(text in self.output() for text in _BIND_FAILURES)
                self._terminate()
                if not lost_race or attempt == attempts:
                    self.stop()
                    raise
        raise AssertionError("unreachable")

    def _spawn(self) -> None:
        self.log_path.unlink(missing_ok=True)
        self._log_file = open(self.log_path, "wb")  # noqa: SIM115 - closed in _terminate
        command = [
            *_psc_idp_command(),
            "serve",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            *(["--threads", str(self.threads)] if self.threads else []),
        ]
        self.process = subprocess.Popen(
            command,
            env=self.environment(),
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() reaches the workers
        )

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        last_problem = "no answer yet"
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                raise LiveServerError(self._explain(f"psc-idp serve exited with status {code}"))
            try:
                with urllib.request.urlopen(self.discovery_url, timeout=2) as response:
                    document = json.load(response)
                if document.get("issuer") == self.issuer:
                    return
                last_problem = f"discovery names issuer {document.get('issuer')!r}"
            except (OSError, ValueError) as error:
                last_problem = str(error)
            time.sleep(0.2)
        raise LiveServerError(
            self._explain(
                f"discovery at {self.discovery_url} did not answer within "
                f"{self.startup_timeout:g} s ({last_problem})"
            )
        )

    def _explain(self, reason: str) -> str:
        return f"{reason}\n--- server output ({self.log_path}) ---\n{self.output()[-8000:]}"

    def _terminate(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            if process.poll() is None:
                # The main process stops its own workers; signalling the whole group at once
                # races with that and can leave it waiting for workers already gone.
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    self._signal_group(process, signal.SIGKILL)
                    process.wait(timeout=10)
                    self.killed = True
                    warnings.warn(
                        f"psc-idp serve ({self.base_url}) did not stop within "
                        f"{self.stop_timeout:g} s of SIGTERM and was killed",
                        RuntimeWarning,
                        stacklevel=3,
                    )
            else:
                # The master died on its own: its workers may linger in its process group.
                self._signal_group(process, signal.SIGKILL)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    @staticmethod
    def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)

    def stop(self) -> None:
        """End the server and its workers, then remove its temporary folder. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        try:
            self._terminate()
        finally:
            self._final_output = self.output()[-200_000:]
            shutil.rmtree(self.root, ignore_errors=True)
            atexit.unregister(self.stop)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<LiveServer {self.base_url} pid={self.pid}>"

    @property
    def pid(self) -> int | None:
        """Process id of the server's main process while it runs."""
        return self.process.pid if self.process else None
