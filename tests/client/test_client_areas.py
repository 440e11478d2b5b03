"""The client's newer areas against a real ``convoledger serve`` (SQLite and PostgreSQL):
branches, the atomic pop (two processes' concurrent pops), provider usage recording and its
seed-004 views, daily usage, stats and metrics, and the live event stream (``stream`` and
``follow``, blocking and asyncio)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from client_helpers import token_of

from convoledger.client import AsyncClient, Client, ConflictError, InvalidRequestError, NotFoundError
from serve_process import ServeProcess, cli

#: A real OpenAI Chat Completions body (shape of ``../shared/data/provider_responses/openai_chat``):
#: 1220 prompt tokens of which 1152 cached, 100 completion tokens.
CHAT_BODY = {
    "id": "chatcmpl-client-1",
    "object": "chat.completion",
    "model": "gpt-4o-2024-08-06",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi!"}, "finish_reason": "stop"}],
    "usage": {
        "prompt_tokens": 1220,
        "completion_tokens": 100,
        "total_tokens": 1320,
        "prompt_tokens_details": {"cached_tokens": 1152},
        "completion_tokens_details": {"reasoning_tokens": 0},
    },
}
#: OpenAI's gpt-4o prices, USD per token (openai.com/api/pricing): input $2.50, cached input
#: $1.25, output $10.00 per million tokens.
GPT4O_COST = (1220 - 1152) * 2.5e-6 + 1152 * 1.25e-6 + 100 * 10e-6


def test_fork_branches_and_pop_in_a_branch(api: Client) -> None:
    parent = api.create_session(session_id="fork-parent", name="Parent")
    for text in ("one", "two", "three"):
        api.append_message(parent.id, role="user", content=text)
    branch = api.fork_session(parent.id, at_seq=2, session_id="fork-branch", name="Branch")
    assert (branch.parent_id, branch.forked_at_seq, branch.name) == (parent.id, 2, "Branch")
    own = api.append_message("fork-branch", role="assistant", content="branch reply")
    assert [(m.seq, m.content) for m in api.iter_messages(branch.id)] == [
        (1, "one"),
        (2, "two"),
        (3, "branch reply"),
    ]
    listed = api.branches("fork-parent")
    assert listed.total == 1 and [b.id for b in listed.items] == [branch.id]
    with pytest.raises(InvalidRequestError):
        api.fork_session(parent.id, at_seq=9)
    with pytest.raises(ConflictError):
        api.fork_session(parent.id, session_id="fork-branch")

    popped = api.pop_message(branch.id)
    assert popped is not None and popped.id == own.id
    assert api.pop_message(branch.id) is None  # a branch pops only its own messages
    assert api.pop_message(parent.id).content == "three"  # type: ignore[union-attr]
    with pytest.raises(ConflictError) as shared:  # the parent's newest is now the branch's history
        api.pop_message(parent.id)
    assert shared.value.status == 409
    assert [m.content for m in api.iter_messages(parent.id)] == ["one", "two"]
    assert [m.content for m in api.iter_messages(branch.id)] == ["one", "two"]


def test_pop_is_one_transaction_two_clients_pop_different_messages(served: ServeProcess) -> None:
    """Two clients (as two agent processes would) pop a 2-message session at the same moment:
    each gets a different message and the session is empty; repeated to give the race chances."""
    token = token_of(served, "a")
    with Client(served.base_url, token) as one, Client(served.base_url, token) as two:
        session = one.create_session(session_id="pop-race").id
        assert one.pop_message(session) is None  # empty: 204
        for _round in range(8):
            first, second = one.append_messages(
                session, [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
            )
            barrier = threading.Barrier(2)

            def pop(client: Client, barrier: threading.Barrier = barrier) -> str | None:
                barrier.wait()
                popped = client.pop_message(session)
                return None if popped is None else popped.id

            with ThreadPoolExecutor(2) as pool:
                got = list(pool.map(pop, [one, two]))
            assert sorted(g for g in got if g) == sorted([first.id, second.id])
            assert one.list_messages(session).total == 0
        with pytest.raises(NotFoundError):
            one.pop_message("no-such-session")


async def test_async_pop_concurrent_on_one_client(served: ServeProcess) -> None:
    async with AsyncClient(served.base_url, token_of(served, "a")) as api:
        session = (await api.create_session(session_id="pop-async")).id
        stored = await api.append_messages(session, [{"role": "user", "content": str(i)} for i in range(4)])
        popped = await asyncio.gather(*(api.pop_message(session) for _ in range(5)))
        ids = [p.id for p in popped if p is not None]
        assert sorted(ids) == sorted(m.id for m in stored) and popped.count(None) == 1


def test_usage_recording_and_seed_004_views(api: Client) -> None:
    session = api.create_session(session_id="usage-1").id
    api.append_message(session, role="user", content="Hello")
    reply = api.append_message(session, role="assistant", content="Hi!")
    recorded = api.record_provider_call(
        session,
        provider="openai",
        response=CHAT_BODY,
        message_id=reply.id,
        headers={"x-request-id": "req_123"},
    )
    assert recorded["message_id"] == reply.id and recorded["api"] == "chat"
    assert recorded["identifiers"]["request_id"] == "req_123"
    assert abs(recorded["cost"] - GPT4O_COST) < 1e-12

    totals = api.usage(session)["totals"]
    assert (
        totals["calls"],
        totals["input_tokens"],
        totals["cache_read_tokens"],
        totals["output_tokens"],
    ) == (
        1,
        1220,
        1152,
        100,
    )
    calls = api.provider_calls(session)
    assert calls["total"] == 1 and calls["items"][0]["id"] == recorded["id"]
    assert "raw_response" not in calls["items"][0]
    assert api.provider_calls(session, include_raw=True)["items"][0]["raw_response"]["id"] == CHAT_BODY["id"]
    metadata = api.provider_metadata(session)["provider_metadata"]
    assert list(metadata) == [recorded["id"]]
    assert api.extracted_identifiers(session)["extracted_identifiers"]["request_id"] == "req_123"
    history = api.token_usage_history(session)["token_usage_history"]
    assert [(h["message_id"], h["input_tokens"], h["output_tokens"]) for h in history] == [
        (reply.id, 1220, 100)
    ]
    tracking = api.cost_tracking(session)["cost_tracking"]
    assert abs(tracking["total_cost"] - GPT4O_COST) < 1e-12 and tracking["currency"] == "USD"
    window = api.context(session, provider="openai", api="chat", budget_tokens=1000)
    assert window["strategy"] == "token_window" and [m["content"] for m in window["messages"]] == [
        "Hello",
        "Hi!",
    ]

    daily = api.daily_usage(days=2)
    today = datetime.now(UTC).date().isoformat()
    assert [d["date"] for d in daily["days"]][-1] == today
    assert daily["days"][-1]["calls"] >= 1 and daily["currency"] == "USD"
    with pytest.raises(InvalidRequestError):
        api.daily_usage(days=0)
    with pytest.raises(InvalidRequestError):
        api.record_provider_call(session, provider="no-such-provider", response=CHAT_BODY)
    assert api.usage(session)["totals"]["calls"] == 1  # the refused call stored nothing
    assert "openai" in {p["provider"] for p in api.providers()["providers"]}


def test_stats_metrics_and_health(api: Client) -> None:
    before = api.stats()
    session = api.create_session(session_id="stats-1").id
    api.append_message(session, role="user", content="counted")
    after = api.stats()
    assert after.total_sessions == before.total_sessions + 1
    assert after.total_messages == before.total_messages + 1
    assert api.healthz()["status"] == "ok"
    assert "# TYPE" in api.metrics()


def test_stream_and_follow(api: Client, served: ServeProcess) -> None:
    session = api.create_session(session_id="stream-1").id
    api.append_message(session, role="user", content="before")
    events = api.stream(session, after=0, reconnect_delay=0.05)
    try:
        kinds = [next(events).kind for _ in range(2)]
    finally:
        events.close()  # type: ignore[attr-defined]
    assert kinds == ["conversation.created", "message.appended"]

    with pytest.raises(NotFoundError):
        next(api.stream("no-such-session"))

    followed: list[str] = []
    done = threading.Event()

    def follow() -> None:
        with Client(served.base_url, token_of(served, "a")) as reader:
            messages = reader.follow(session)
            try:
                for message in messages:
                    followed.append(message.content)
                    if len(followed) == 3:
                        break
            finally:
                messages.close()  # type: ignore[attr-defined]
                done.set()

    thread = threading.Thread(target=follow)
    thread.start()
    api.append_message(session, role="assistant", content="live 1")
    api.append_message(session, role="user", content="live 2")
    assert done.wait(30), followed
    thread.join(5)
    assert followed == ["before", "live 1", "live 2"]


async def test_async_stream(served: ServeProcess) -> None:
    async with AsyncClient(served.base_url, token_of(served, "a")) as api:
        session = (await api.create_session(session_id="stream-async")).id
        await api.append_message(session, role="user", content="x")
        stream = api.stream(session, after=0)
        async with contextlib.aclosing(stream):  # type: ignore[type-var]
            seen = [await anext(stream) for _ in range(2)]
        assert [e.kind for e in seen] == ["conversation.created", "message.appended"]
        assert seen[1].payload["seq"] == 1


async def test_async_paging_helpers_and_branches(served: ServeProcess) -> None:
    """The asyncio client drives the same paging plans: keyset pages while appending, the
    latest N, the session list, a multi-participant session's messages; and forks."""
    async with AsyncClient(served.base_url, token_of(served, "a")) as api:
        session = (await api.create_session(session_id="async-pages", name="Async pages")).id
        await api.append_messages(session, [{"role": "user", "content": f"m{i}"} for i in range(7)])
        seen = []
        async for message in api.iter_messages(session, page_size=3):
            seen.append(message.seq)
            if message.seq == 4:  # appended while iterating: still seen, once
                await api.append_message(session, role="assistant", content="late")
        assert seen == list(range(1, 9))
        assert [m.content for m in await api.recent_messages(session, 2)] == ["m6", "late"]
        assert [m.seq async for m in api.iter_messages(session, after_seq=6, role="user")] == [7]
        names = [s.name async for s in api.iter_sessions(page_size=1, search="async-pages")]
        assert names == ["Async pages"]

        branch = await api.fork_session(session, at_seq=3)
        assert (await api.branches(session)).items[0].id == branch.id
        assert [m.seq async for m in api.iter_messages(branch.id)] == [1, 2, 3]

        group = await api.create_conversation_session(
            session_id="async-group",
            session_type="mc_to_agent",
            participants=[
                {"participant_id": "mc", "participant_type": "master_controller"},
                {
                    "participant_id": "analyst",
                    "participant_type": "agent",
                    "participant_role": "data_analyst",
                },
            ],
        )
        for text in ("task one", "task two"):
            await api.post_agent_message(
                group.session_key,
                sender_id="mc",
                recipient_id="analyst",
                content=text,
                message_type="task_assignment",
            )
        got = [m.content async for m in api.iter_agent_messages(group.session_key, page_size=1)]
        assert got == ["task one", "task two"]
        keys = [g.session_key async for g in api.iter_conversation_sessions(participant_id="analyst")]
        assert group.session_key in keys


def test_seed_002_list_filters(api: Client) -> None:
    """The seed's range filters (``created_at`` / ``updated_at`` as ``<from>,<to>`` or a pair)
    and role member names travel as the API expects."""
    session = api.create_session(session_id="filters-1", name="Filter me", kind="agent_session").id
    api.append_messages(session, [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}])
    now = datetime.now(UTC)
    past, future = now.replace(year=now.year - 1), now.replace(year=now.year + 1)
    found = api.list_sessions(search="filters-1", created_at=(past, None), updated_at=f"{past.isoformat()},")
    assert [s.id for s in found.items] == [session]
    assert api.list_sessions(search="filters-1", created_at=(future, None)).total == 0
    assert api.list_sessions(search="filters-1", status="active", kind="agent_session").total == 1
    assert [m.content for m in api.list_messages(session, role="USER").items] == ["u"]
    assert api.list_messages(session, created_at=(None, past)).total == 0
    assert [m.content for m in api.iter_messages(session, created_at=(past, future))] == ["u", "a"]
    with pytest.raises(InvalidRequestError):
        api.list_sessions(created_at="not-a-date,")
    with pytest.raises(ValueError):
        api.list_sessions(size=0)  # refused before sending


def test_maintenance_routes_backup_restore_alerts_performance(served: ServeProcess, api: Client) -> None:
    """Issue 13's routes through the client: a backup taken by ``convoledger backup run`` is
    listed for its account only, restores the deleted session exactly, and the deletion, alert
    and performance views answer in their documented shapes."""
    session = api.create_session(session_id="backed-up", name="Backed up")
    for text in ("one", "two"):
        api.append_message(session.id, role="user", content=text)
    before = [(m.seq, m.id, m.content) for m in api.iter_messages(session.id)]
    done = cli(
        "backup", "run", "--backup-dir", str(served.backup_dir),  # type: ignore[attr-defined]
        database_url=served.database_url,
    )
    assert done.returncode == 0, done.stderr
    mine = [b for b in api.list_backups() if b["session_id"] == "backed-up"]
    assert len(mine) == 1 and mine[0]["conversation_id"] == session.id
    with Client(served.base_url, token_of(served, "b")) as other:
        assert all(b["session_id"] != "backed-up" for b in other.list_backups())
        with pytest.raises(NotFoundError):
            other.restore_backup(mine[0]["backup_id"])
    with pytest.raises(ConflictError):
        api.restore_backup(mine[0]["backup_id"])  # the session still exists
    api.delete_session(session.id)
    restored = api.restore_backup(mine[0]["backup_id"])
    assert restored["conversation_id"] == session.id
    assert [(m.seq, m.id, m.content) for m in api.iter_messages(session.id)] == before
    assert isinstance(api.list_deletions(), list) and isinstance(api.list_alerts(), list)
    summary = api.performance()
    assert "operations" in summary and "POST /api/agent-sessions" in summary["operations"]
    one = api.performance(operation="POST /api/agent-sessions")
    assert one["count"] >= 1 and one["p95_duration"] >= 0
