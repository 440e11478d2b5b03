"""Issue 16 item 3: ``serve`` closes connections that stall (nothing sent, half a request head,
half a body) within its timeouts, and refuses an oversize body with 413 problem+json, from its
Content-Length or while it streams in. The servers run with 1 s timeouts and a 64 KiB body
limit (``conftest.SERVE_ARGS``)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
from hardening_helpers import assert_problem, new_session

from serve_process import ServeProcess

#: Seconds a stalled connection may stay open: the 1 s timeout plus scheduling slack.
CLOSE_WITHIN = 6.0


def _connect(proc: ServeProcess) -> socket.socket:
    parts = urlsplit(proc.base_url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=CLOSE_WITHIN + 4)
    return sock


def _read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    start = time.monotonic()
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data, time.monotonic() - start


def _head(proc: ServeProcess, path: str, length: int) -> bytes:
    auth = proc.headers["a"]["Authorization"]
    return (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nAuthorization: {auth}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def test_half_a_body_is_answered_408_and_closed(hard: ServeProcess, client: httpx.Client) -> None:
    session = new_session(client)
    body = json.dumps({"role": "user", "content": "x" * 200}).encode()
    with _connect(hard) as sock:
        sock.sendall(_head(hard, f"/api/agent-sessions/{session['id']}/messages", len(body)))
        sock.sendall(body[: len(body) // 2])
        data, took = _read_until_closed(sock)
    assert took < CLOSE_WITHIN, took
    assert data.startswith(b"HTTP/1.1 408"), data[:200]
    assert b"application/problem+json" in data and b"request-timeout" in data
    assert client.get(f"/api/agent-sessions/{session['id']}/messages").json()["total"] == 0


def test_a_connection_that_sends_nothing_is_closed(hard: ServeProcess) -> None:
    with _connect(hard) as sock:
        data, took = _read_until_closed(sock)
    assert data == b"" and took < CLOSE_WITHIN, (data, took)


def test_half_a_request_head_is_closed(hard: ServeProcess) -> None:
    with _connect(hard) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        start = time.monotonic()
        # a slowloris client: one more header line every 0.3 s never completes the head
        for i in range(40):
            try:
                sock.sendall(f"X-Slow-{i}: 1\r\n".encode())
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.3)
            if time.monotonic() - start > CLOSE_WITHIN:
                break
        data, took = _read_until_closed(sock)
    assert time.monotonic() - start < CLOSE_WITHIN + 1, took
    assert b"200 OK" not in data


def test_an_idle_keep_alive_connection_is_closed(hard: ServeProcess) -> None:
    with _connect(hard) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        data, took = _read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 200"), data[:100]
    assert took < CLOSE_WITHIN


def test_an_oversize_body_is_413_problem(client: httpx.Client) -> None:
    session = new_session(client)
    url = f"/api/agent-sessions/{session['id']}/messages"
    big = {"role": "user", "content": "x" * 70_000}
    body = assert_problem(client.post(url, json=big), 413, "content-too-large")
    assert "65536" in body["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while streaming
        data = json.dumps(big).encode()
        for i in range(0, len(data), 8192):
            yield data[i : i + 8192]

    assert_problem(
        client.post(url, content=chunks(), headers={"Content-Type": "application/json"}),
        413,
        "content-too-large",
    )
    assert client.get(url).json()["total"] == 0
    ok = client.post(url, json={"role": "user", "content": "x" * 60_000})
    assert ok.status_code == 201, ok.text
