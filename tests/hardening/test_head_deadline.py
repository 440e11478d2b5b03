"""The request-head deadline of ``api.server`` on both of uvicorn's HTTP parsers (httptools,
which ``serve`` runs, and h11, its fallback): a connection that sends half a request head is
closed once the deadline passes, and a complete request on the same kind of connection is
answered (keep-alive connections included). Runs uvicorn in a thread on a tiny ASGI app."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from convoledger.api import server


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["httptools", "h11"])
def port(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setenv("CONVOLEDGER_HEADER_TIMEOUT", "1")
    server.configured_header_timeout.cache_clear()
    protocol: Any = (
        server.HeadTimeoutHttpToolsProtocol if request.param == "httptools" else server.HeadTimeoutH11Protocol
    )
    chosen = _free_port()
    config = uvicorn.Config(
        _app, host="127.0.0.1", port=chosen, http=protocol, log_level="warning", lifespan="off"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(running.serve()), daemon=True)
    thread.start()
    for _ in range(100):
        if running.started:
            break
        time.sleep(0.05)
    try:
        yield chosen
    finally:
        running.should_exit = True
        thread.join(10)
        server.configured_header_timeout.cache_clear()


def _response(sock: socket.socket) -> bytes:
    """One whole response of ``_app`` (its head and the 2-byte body ``ok``)."""
    data = b""
    while not data.endswith(b"\r\n\r\nok"):
        chunk = sock.recv(1024)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    return data


def _closed_after(sock: socket.socket) -> float:
    started = time.monotonic()
    try:
        assert sock.recv(1024) == b""
    except ConnectionResetError:
        pass
    return time.monotonic() - started


def test_half_a_head_is_closed_after_the_deadline(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        assert 0.5 <= _closed_after(sock) <= 4


def test_a_complete_request_is_answered_then_the_idle_head_times_out(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _response(sock).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # keep-alive: a second request works
        assert _response(sock).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET / HTTP/1.1\r\n")  # then half a head
        assert _closed_after(sock) <= 4
