"""Live events over HTTP against a real ``convoledger serve`` (issue 18, Deliver 1 and 3):
ordering, resume with ``Last-Event-ID``, isolation, heartbeats, errors, and two ``serve``
processes on one PostgreSQL database woken by LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from convoledger.events.client_stream import stream_events
from convoledger.models.events import EventRecord
from serve_process import ServeProcess, running_serve

#: Generous bound on how long a live event may take to arrive (the machine is shared).
ARRIVAL = 20.0


def _client(proc: ServeProcess, account: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=proc.base_url, headers=proc.headers[account], timeout=httpx.Timeout(30.0, read=60.0)
    )


async def _collect(events: AsyncIterator[EventRecord], n: int, timeout: float = ARRIVAL) -> list[EventRecord]:
    out: list[EventRecord] = []
    async with contextlib.aclosing(events), asyncio.timeout(timeout):  # type: ignore[type-var]
        async for event in events:
            out.append(event)
            if len(out) >= n:
                break
    return out


async def _raw_blocks(
    proc: ServeProcess, account: str, path: str, *, until: int, headers: dict[str, str] | None = None
) -> list[dict[str, str]]:
    """The first ``until`` SSE blocks of ``path`` as dicts of their fields (comments as ``:``)."""
    blocks: list[dict[str, str]] = []
    async with _client(proc, account) as http, http.stream("GET", path, headers=headers or {}) as resp:
        assert resp.status_code == 200, await resp.aread()
        assert resp.headers["content-type"].startswith("text/event-stream")
        current: dict[str, str] = {}
        async with asyncio.timeout(ARRIVAL):
            async for line in resp.aiter_lines():
                if line == "":
                    if current:
                        blocks.append(current)
                        current = {}
                        if len(blocks) >= until:
                            return blocks
                    continue
                name, _, value = line.partition(":")
                current[name or ":"] = value.lstrip(" ")
    return blocks


async def _session(http: httpx.AsyncClient, session_id: str) -> dict[str, Any]:
    r = await http.post("/api/agent-sessions", json={"session_id": session_id, "name": session_id})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_account_stream_sends_every_change_in_commit_order(serve: ServeProcess) -> None:
    async with _client(serve, "a") as http:
        # after=0: the account's whole history, so nothing depends on when the stream connects
        stream = stream_events(http, after=0, account=serve.accounts["a"])
        collector = asyncio.ensure_future(_collect(stream, 8))
        session = await _session(http, "sse-order")
        sid = session["id"]
        r = await http.post(
            f"/api/agent-sessions/{sid}/messages/batch",
            json={"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]},
        )
        assert r.status_code == 201, r.text
        first, second = r.json()
        base = f"/api/agent-sessions/{sid}"
        for r in [
            await http.patch(f"{base}/messages/{first['id']}", json={"content": "Hi!"}),
            await http.post(f"{base}/messages/{second['id']}/redact"),
            await http.put(f"{base}/memory/goal", json={"value": "plan"}),
            await http.put(f"{base}/deactivate", json={}),
            await http.delete(base),
        ]:
            assert r.status_code in (200, 204), r.text
        events = await collector
    assert [e.kind for e in events] == [
        "conversation.created",
        "message.appended",
        "message.appended",
        "message.edited",
        "message.redacted",
        "memory.set",
        "lifecycle.transition",
        "conversation.deleted",
    ]
    assert [e.id for e in events] == list(range(1, 9))
    assert {e.conversation_id for e in events} == {sid}
    assert events[1].payload["message_id"] == first["id"] and events[1].payload["seq"] == 1
    assert events[6].payload["to_status"] == "inactive"


async def test_resume_with_last_event_id_gets_exactly_the_missed_events(serve: ServeProcess) -> None:
    async with _client(serve, "a") as http:
        session = await _session(http, "sse-resume")
        sid = session["id"]
        for i in range(5):
            await http.post(f"/api/agent-sessions/{sid}/messages", json={"role": "user", "content": f"m{i}"})
        # A client read events 1..3, then lost its connection; 4 more events commit meanwhile.
        seen = await _collect(stream_events(http, after=0), 3)
        assert [e.id for e in seen] == [1, 2, 3]
        for i in range(5, 9):
            await http.post(f"/api/agent-sessions/{sid}/messages", json={"role": "user", "content": f"m{i}"})
    blocks = await _raw_blocks(serve, "a", "/api/stream", until=7, headers={"Last-Event-ID": "3"})
    opening, rest = blocks[0], blocks[1:]
    assert opening["id"] == "3" and "retry" in opening and "data" not in opening
    assert [int(b["id"]) for b in rest] == [4, 5, 6, 7, 8, 9]  # every later event once, in order
    assert all(b["event"] == "message.appended" for b in rest)
    # The session stream numbers with the same (account) ids; ``after`` works like the header.
    session_blocks = await _raw_blocks(serve, "a", "/api/agent-sessions/sse-resume/stream?after=8", until=3)
    assert [b.get("id") for b in session_blocks] == ["8", "9", "10"]


async def test_streams_are_strictly_owner_scoped(serve: ServeProcess) -> None:
    async with _client(serve, "a") as http_a, _client(serve, "b") as http_b:
        b_events = asyncio.ensure_future(_collect(stream_events(http_b, after=0), 2))
        mine = await _session(http_a, "sse-private")
        await http_a.post(
            f"/api/agent-sessions/{mine['id']}/messages", json={"role": "user", "content": "secret"}
        )
        # b cannot open a's session stream: a 404 problem, like a missing session.
        r = await http_b.get(f"/api/agent-sessions/{mine['id']}/stream")
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")
        theirs = await _session(http_b, "sse-b")
        await http_b.post(
            f"/api/agent-sessions/{theirs['id']}/messages", json={"role": "user", "content": "b"}
        )
        events = await b_events
    assert [(e.id, e.kind, e.conversation_id) for e in events] == [
        (1, "conversation.created", theirs["id"]),
        (2, "message.appended", theirs["id"]),
    ]


async def test_stream_errors_are_problems_before_streaming(serve: ServeProcess) -> None:
    async with httpx.AsyncClient(base_url=serve.base_url, timeout=30) as anonymous:
        assert (await anonymous.get("/api/stream")).status_code == 401
    async with _client(serve, "a") as http:
        r = await http.get("/api/stream", headers={"Last-Event-ID": "not-a-number"})
        assert r.status_code == 422
        assert "Last-Event-ID" in r.text
        assert (await http.get("/api/stream?after=-1")).status_code == 422
        assert (await http.get("/api/agent-sessions/missing/stream")).status_code == 404


async def test_heartbeats_keep_a_quiet_stream_alive(tmp_path: Path) -> None:
    with running_serve(
        f"sqlite:///{tmp_path / 'ledger.db'}", log_dir=tmp_path, env={"CONVOLEDGER_STREAM_HEARTBEAT": "0.3"}
    ) as proc:
        started = time.monotonic()
        blocks = await _raw_blocks(proc, "a", "/api/stream", until=3)
        assert blocks[0]["id"] == "0"
        assert blocks[1] == {":": "keep-alive"} and blocks[2] == {":": "keep-alive"}
        assert time.monotonic() - started < 10


async def test_the_python_client_reconnects_and_resumes(serve: ServeProcess) -> None:
    """The async iterator survives a dropped connection: no event is lost or repeated."""
    dropped = 0

    class DropOnce(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.AsyncHTTPTransport()

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            nonlocal dropped
            if request.url.path == "/api/stream" and dropped == 1:
                dropped += 1
                raise httpx.ConnectError("simulated network failure", request=request)
            return await self.inner.handle_async_request(request)

    async with httpx.AsyncClient(
        base_url=serve.base_url, headers=serve.headers["a"], transport=DropOnce(), timeout=30
    ) as http:
        session = await _session(http, "sse-reconnect")
        got: list[int] = []
        first = stream_events(http, after=0, reconnect_delay=0.05)
        async with contextlib.aclosing(first), asyncio.timeout(ARRIVAL):  # type: ignore[type-var]
            async for event in first:
                got.append(event.id)
                if event.id == 1:
                    dropped = 1
                    # Break the live connection: the next request fails once, then succeeds.
                    await http.post(
                        f"/api/agent-sessions/{session['id']}/messages", json={"role": "user", "content": "x"}
                    )
                    break
        again = stream_events(http, after=got[-1], reconnect_delay=0.05, max_reconnects=3)
        async with contextlib.aclosing(again), asyncio.timeout(ARRIVAL):  # type: ignore[type-var]
            async for event in again:
                got.append(event.id)
                break
    assert got == [1, 2]
    assert dropped == 2


@pytest.mark.postgres
async def test_two_serve_processes_on_one_postgres_database(postgres_url: str, tmp_path: Path) -> None:
    """Writes through one process reach a stream on the other at once (NOTIFY, not polling:
    the poll interval is 60 s), with the account's ids gap-free in commit order under
    concurrent writers on both processes."""
    env = {"CONVOLEDGER_STREAM_POLL": "60"}
    with running_serve(postgres_url, log_dir=tmp_path / "one", env=env, accounts=("a",)) as one:
        with running_serve(postgres_url, log_dir=tmp_path / "two", env=env, accounts=()) as two:
            two.headers = one.headers
            two.accounts = one.accounts
            async with _client(one, "a") as w1, _client(two, "a") as w2, _client(two, "a") as reader:
                created = await _session(w1, "pg-two")
                sid = created["id"]
                live = stream_events(reader, after=0, account=one.accounts["a"])
                collector = asyncio.ensure_future(_collect(live, 1 + 40, timeout=60))

                async def write(http: httpx.AsyncClient, tag: str) -> None:
                    for i in range(20):
                        r = await http.post(
                            f"/api/agent-sessions/{sid}/messages",
                            json={"role": "user", "content": f"{tag}{i}"},
                        )
                        assert r.status_code == 201, r.text

                started = time.monotonic()
                await asyncio.gather(write(w1, "one-"), write(w2, "two-"))
                events = await collector
                elapsed = time.monotonic() - started
    assert [e.id for e in events] == list(range(1, 42))
    appended = [e for e in events if e.kind == "message.appended"]
    assert [e.payload["seq"] for e in appended] == list(range(1, 41))  # commit order = seq order
    assert elapsed < 50, f"events took {elapsed:.1f} s: woken by polling, not NOTIFY"


@pytest.mark.redis
async def test_two_serve_processes_on_one_sqlite_file_woken_by_redis(redis_url: str, tmp_path: Path) -> None:
    """Without PostgreSQL, Redis pub/sub carries the wake-ups between processes (poll: 60 s)."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    env = {"CONVOLEDGER_STREAM_POLL": "60", "CONVOLEDGER_REDIS_URL": redis_url}
    with running_serve(url, log_dir=tmp_path / "one", env=env, accounts=("a",)) as one:
        with running_serve(url, log_dir=tmp_path / "two", env=env, accounts=()) as two:
            two.headers, two.accounts = one.headers, one.accounts
            async with _client(one, "a") as writer, _client(two, "a") as reader:
                collector = asyncio.ensure_future(_collect(stream_events(reader, after=0), 3, timeout=40))
                await asyncio.sleep(0.5)  # let the stream connect and go idle
                started = time.monotonic()
                created = await _session(writer, "redis-two")
                for text in ("one", "two"):
                    r = await writer.post(
                        f"/api/agent-sessions/{created['id']}/messages",
                        json={"role": "user", "content": text},
                    )
                    assert r.status_code == 201, r.text
                events = await collector
                elapsed = time.monotonic() - started
    assert [(e.id, e.kind) for e in events] == [
        (1, "conversation.created"),
        (2, "message.appended"),
        (3, "message.appended"),
    ]
    assert elapsed < 30, f"events took {elapsed:.1f} s: woken by polling, not Redis"
