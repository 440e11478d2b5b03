"""``convoledger serve --workers 2`` (the default on a 2-core machine, issue 15): both worker
processes serve one ledger, and the options given on the command line reach every worker (they
travel as ``CONVOLEDGER_*`` variables to uvicorn's app factory), limits included."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from serve_process import running_serve


def _head_closed_within(port: int, seconds: float) -> bool:
    """Open a connection, send half a request head, and report whether the server closed it
    within ``seconds``."""
    with socket.create_connection(("127.0.0.1", port), timeout=seconds + 5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        try:
            closed = sock.recv(1024) == b""
        except ConnectionResetError:
            closed = True
        return closed and time.monotonic() - started <= seconds


def test_two_workers_share_the_ledger_and_the_options(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    args = ("--workers", "2", "--max-body-bytes", "4096", "--header-timeout", "1")
    with running_serve(url, log_dir=tmp_path, args=args) as served:
        with served.client("a") as api:
            assert api.post("/api/agent-sessions", json={"session_id": "two-workers"}).status_code == 201

            def post(i: int) -> int:
                with served.client("a") as own:  # a new connection each: both workers answer
                    body = {"role": "user", "content": f"message {i}"}
                    return own.post("/api/agent-sessions/two-workers/messages", json=body).status_code

            with ThreadPoolExecutor(8) as pool:
                assert set(pool.map(post, range(40))) == {201}
            page = api.get("/api/agent-sessions/two-workers/messages", params={"size": 100}).json()
            assert page["total"] == 40
            assert sorted(m["seq"] for m in page["items"]) == list(range(1, 41))
            big = {"role": "user", "content": "x" * 8000}
            too_big = api.post("/api/agent-sessions/two-workers/messages", json=big)
            assert too_big.status_code == 413
            assert too_big.headers["content-type"].startswith("application/problem+json")
        port = int(served.base_url.rsplit(":", 1)[1])
        assert all(_head_closed_within(port, 4.0) for _ in range(4))
