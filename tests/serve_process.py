"""A real ``convoledger serve`` in a subprocess, for tests that must talk HTTP to the service
as a user would (seed examples, maintenance passes, the Python client, live streams, the UI).

``running_serve(database_url, accounts=("a", "b"), env={...}, args=[...])`` is a context manager:
it issues one API token per account with ``convoledger user create`` (fresh random account
names, so a shared PostgreSQL database needs no cleanup), starts ``python -m convoledger serve``
on a free port, waits until ``GET /healthz`` answers 200, yields a ``ServeProcess``, and stops
the server (SIGTERM, then SIGKILL after 10 s). The server's stdout/stderr go to a log file
whose tail is included in every failure message.

Maintenance (timeouts, cleanup policies, backups) is off in these servers unless ``env`` turns it
on (``{"CONVOLEDGER_MAINTENANCE": "true", ...}``, see ``tests/maintenance``): a pass acts on every
account of the database, and the PostgreSQL test database is shared by every test.

The fixtures ``serve_sqlite`` and ``serve_postgres`` (in ``tests/conftest.py``) give one such
server on a fresh SQLite file and on the test PostgreSQL database.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

#: Environment every server starts with (``env`` overrides it): maintenance off, see above.
SERVE_DEFAULTS = {"CONVOLEDGER_MAINTENANCE": "false"}

#: Seconds to wait for ``/healthz`` after the process starts.
START_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(
    *args: str, database_url: str, env: Mapping[str, str] | None = None, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m convoledger ARGS --database-url URL`` (the flag is appended only when the
    command takes it: pass ``database_url=""`` to leave it out) and return the finished process
    (``check`` is the caller's job)."""
    command = [sys.executable, "-m", "convoledger", *args]
    if database_url:
        command += ["--database-url", database_url]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def issue_token(database_url: str, account: str, env: Mapping[str, str] | None = None) -> str:
    """A new API token for ``account`` (created if missing) via ``convoledger user create``."""
    done = cli("user", "create", account, database_url=database_url, env=env)
    assert done.returncode == 0, f"user create failed ({done.returncode}): {done.stderr}"
    token = done.stdout.strip().splitlines()[-1].strip()
    assert token, f"user create printed no token: {done.stdout!r}"
    return token


@dataclass
class ServeProcess:
    """A running ``convoledger serve``: its ``base_url``, the ``database_url`` it serves, the
    account names and bearer headers (``headers[account]``), the process and its log file."""

    base_url: str
    database_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    accounts: dict[str, str] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def client(self, account: str | None = None, timeout: float = 30.0) -> httpx.Client:
        """A synchronous httpx client on ``base_url``, authenticated as ``account`` when given."""
        return httpx.Client(
            base_url=self.base_url, headers=self.headers[account] if account else {}, timeout=timeout
        )

    def async_client(self, account: str | None = None, timeout: float = 30.0) -> httpx.AsyncClient:
        """An async httpx client on ``base_url``, authenticated as ``account`` when given."""
        return httpx.AsyncClient(
            base_url=self.base_url, headers=self.headers[account] if account else {}, timeout=timeout
        )

    def log_tail(self, lines: int = 60) -> str:
        """The last ``lines`` lines the server wrote (stdout and stderr)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"<no log: {exc}>"
        return "\n".join(text.splitlines()[-lines:])

    def new_account(self, label: str = "extra") -> str:
        """Issue a token for a fresh account; return its name (headers under the same key)."""
        name = f"{label}-{uuid.uuid4().hex[:10]}"
        token = issue_token(self.database_url, name)
        self.accounts[name] = name
        self.headers[name] = {"Authorization": f"Bearer {token}"}
        return name


def _wait_healthy(proc: ServeProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if proc.process.poll() is not None:
            raise AssertionError(
                f"convoledger serve exited with {proc.process.returncode} before answering:\n"
                + proc.log_tail()
            )
        try:
            r = httpx.get(f"{proc.base_url}/healthz", timeout=2.0)
            if r.status_code == 200:
                return
            last_error = f"/healthz answered {r.status_code}: {r.text[:200]}"
        except httpx.HTTPError as exc:
            last_error = repr(exc)
        time.sleep(0.1)
    raise AssertionError(
        f"convoledger serve did not become healthy in {timeout} s ({last_error}):\n{proc.log_tail()}"
    )


def stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM ``process`` and wait up to ``grace`` seconds, then SIGKILL it."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)


@contextmanager
def running_serve(
    database_url: str,
    *,
    log_dir: Path,
    accounts: Sequence[str] = ("a", "b"),
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    port: int | None = None,
) -> Iterator[ServeProcess]:
    """Start ``convoledger serve`` on ``database_url`` (see the module docstring).

    ``accounts`` are labels: each gets a fresh account named ``<label>-<random>``, reachable as
    ``proc.accounts[label]`` and ``proc.headers[label]``. ``env`` is added to the process
    environment (e.g. ``{"CONVOLEDGER_CLEANUP_INTERVAL": "1"}``); ``args`` are extra ``serve``
    options; without ``--workers`` among them the server runs one worker process (the default
    is two: tests ask for it where they mean it, and keep the 2-core CI machine's load down).
    Raises ``AssertionError`` (with the server's log) when it does not start.
    """
    if "--workers" not in args:
        args = ("--workers", "1", *args)
    names = {label: f"{label}-{uuid.uuid4().hex[:10]}" for label in accounts}
    headers = {
        label: {"Authorization": f"Bearer {issue_token(database_url, name, env)}"}
        for label, name in names.items()
    }
    port = port or free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "convoledger",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--database-url",
                database_url,
                *args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **SERVE_DEFAULTS, **(env or {})},
        )
    proc = ServeProcess(
        base_url=f"http://127.0.0.1:{port}",
        database_url=database_url,
        process=process,
        log_path=log_path,
        accounts=names,
        headers=headers,
    )
    try:
        _wait_healthy(proc, START_TIMEOUT)
        yield proc
    finally:
        stop(process)
