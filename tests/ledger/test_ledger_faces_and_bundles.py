"""Ledger use cases: seed faces in and out, export/restore bundles, CSV, lifecycle sweeping."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from convoledger import (
    AgentCommunicationMessage,
    ChatMessage,
    ChatSession,
    Conflict,
    ConversationNotActive,
    ConversationParticipant,
    ConversationSession,
    NotFound,
)
from convoledger.backends import open_ledger
from convoledger.ledger import CSV_COLUMNS, Ledger
from convoledger.models.policy import LifecyclePolicy
from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.models.status import ConversationStatus, InvalidTransition
from convoledger.store.base import MessageQuery


def _mc_session(session_id: str) -> ConversationSession:
    now = datetime.now(UTC)
    return ConversationSession(
        session_id=session_id,
        participants=[
            ConversationParticipant("mc_001", "master_controller"),
            ConversationParticipant("agent_001", "agent", "data_analyst"),
        ],
        session_type="mc_to_agent",
        created_at=now,
        last_activity=now,
        metadata={"project": "sales"},
    )


def _task(key: str, content: str, *, sender: str = "mc_001") -> AgentCommunicationMessage:
    from_mc = sender == "mc_001"
    return AgentCommunicationMessage(
        message_id=str(uuid.uuid4()),
        session_key=key,
        sender_id=sender,
        sender_type="master_controller" if from_mc else "agent",
        sender_role=None if from_mc else "data_analyst",
        recipient_id="agent_001" if from_mc else "mc_001",
        recipient_type="agent" if from_mc else "master_controller",
        recipient_role="data_analyst" if from_mc else None,
        content=content,
        message_type="task_assignment" if from_mc else "result_report",
        timestamp=datetime.now(UTC),
        metadata={"task_id": "task_001"},
    )


async def test_seed_faces_round_trip_through_the_ledger(ledger: Ledger) -> None:
    session = _mc_session("session_002")
    conv = await ledger.create_conversation(session)
    assert conv.session_key == "session_002_mc_to_data_analyst"
    sent = [
        _task(conv.session_key, "Please analyze the sales data"),
        _task(conv.session_key, "Done: +15%", sender="agent_001"),
    ]
    stored = [await ledger.append(None, m) for m in sent]  # the face names its session_key
    assert [m.seq for m in stored] == [1, 2]
    assert all(m.token_count and m.token_count > 0 for m in stored)
    back = await ledger.messages("session_002_mc_to_data_analyst", as_=AgentCommunicationMessage)
    assert [b.to_dict() for b in back] == [s.to_dict() for s in sent]
    face = await ledger.get_conversation(conv.id, as_=ConversationSession)
    assert face.generate_session_key() == "session_002_mc_to_data_analyst"
    assert [p.participant_id for p in face.participants] == ["mc_001", "agent_001"]


async def test_one_base_session_id_holds_several_isolated_channels(ledger: Ledger) -> None:
    analyst = await ledger.create_conversation(_mc_session("session_002"))
    now = datetime.now(UTC)
    writer = await ledger.create_conversation(
        ConversationSession(
            session_id="session_002",
            participants=[
                ConversationParticipant("mc_001", "master_controller"),
                ConversationParticipant("agent_002", "agent", "writer"),
            ],
            session_type="mc_to_agent",
            created_at=now,
            last_activity=now,
        )
    )
    assert analyst.id != writer.id
    assert writer.session_key == "session_002_mc_to_writer"
    assert (await ledger.resolve("session_002_mc_to_writer")).id == writer.id
    assert (await ledger.get_conversation(writer.id, as_=ConversationSession)).session_id == "session_002"
    with pytest.raises(Conflict):
        await ledger.create_conversation(_mc_session("session_002"))


async def test_chat_faces_and_refusal_when_not_active(ledger: Ledger) -> None:
    conv = await ledger.create_conversation(ChatSession(session_id="chat-1", participants=["alice", "bob"]))
    msg = ChatMessage(
        id="m1", sender="alice", recipient="bob", content="hi", timestamp=1700000000.0, session_id="chat-1"
    )
    stored = await ledger.append(None, msg)
    assert stored.created_at == datetime.fromtimestamp(1700000000.0, UTC)
    assert (await ledger.append(None, msg)).seq == stored.seq  # idempotent retry
    back = await ledger.messages("chat-1", as_=ChatMessage)
    assert back[0].timestamp_epoch == 1700000000.0
    await ledger.deactivate(conv)
    with pytest.raises(ConversationNotActive):
        await ledger.append(
            conv,
            ChatMessage(
                id="m2",
                sender="bob",
                recipient="alice",
                content="?",
                timestamp=1700000001.0,
                session_id="chat-1",
            ),
        )
    with pytest.raises(InvalidTransition):
        await ledger.deactivate(conv)
    await ledger.activate(conv)
    assert (await ledger.append(conv, MessageRecord(role="user", content="back"))).seq == 2
    events = await ledger.lifecycle_events(conv)
    assert [(e.from_status.value, e.to_status.value) for e in events] == [
        ("active", "inactive"),
        ("inactive", "active"),
    ]
    assert all(e.actor == ledger.owner for e in events)


async def _rich_conversation(ledger: Ledger) -> ConversationRecord:
    conv = await ledger.create_conversation(
        ConversationRecord(
            owner_id="x",
            session_id=f"ext-{uuid.uuid4().hex[:6]}",
            name="Bundle test ✓",
            current_goal={"intent": "BookFlight", "slots": {"to": ["SEA"]}},
            topic="travel",
        )
    )
    await ledger.append_batch(
        conv,
        [
            MessageRecord(role="system", content="You are helpful.", pinned=True),
            MessageRecord(role="user", content="Book me a flight to Seattle 'now'; DROP TABLE messages; --"),
            MessageRecord(
                role="assistant",
                content="",
                tool_calls=[
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "search", "arguments": '{"to": "SEA"}'},
                    }
                ],
            ),
            MessageRecord(
                role="tool", content='[{"flight": "HAT069"}]', tool_call_id="call_1", tool_name="search"
            ),
            MessageRecord(
                role="assistant", content="HAT069 leaves at 06:00 — مرحبا 🌍", extra_data={"score": 0.9}
            ),
            MessageRecord(role="user", content="secret card 4111"),
            MessageRecord(role="user", content="popped later"),
        ],
    )
    await ledger.pop_message(conv)  # leaves a gap in seq: 1..6, last_seq 7
    msgs = await ledger.messages(conv)
    await ledger.redact_message(conv, msgs[-1].id)
    await ledger.edit_message(conv, msgs[1].id, content="Book me a flight to Seattle")
    await ledger.set_memory(conv, "preferred_airline", {"name": "HAT", "tier": 2})
    await ledger.set_memory(conv, "seat", "aisle")
    await ledger.deactivate(conv, reason="user left")
    await ledger.terminate(conv, reason="done")
    await ledger.archive(conv)
    return await ledger.resolve(conv.id)


async def test_export_restore_export_is_identical(ledger: Ledger) -> None:
    conv = await _rich_conversation(ledger)
    bundle = await ledger.export_bundle(conv)
    assert bundle["conversation"]["status"] == "archived"
    assert [m["seq"] for m in bundle["messages"]] == [1, 2, 3, 4, 5, 6]
    assert bundle["conversation"]["last_seq"] == 7
    assert bundle["messages"][5]["redacted"] is True and "4111" not in bundle["messages"][5]["content"]
    target = open_ledger("memory://", owner="restorer")
    async with target:
        restored = await target.restore_bundle(bundle)
        assert restored.id == conv.id
        assert await target.export_bundle(conv.id) == bundle
        with pytest.raises(Conflict):
            await target.restore_bundle(bundle)
    # Ids are scoped per owner: another owner restores the same bundle into its own namespace,
    # and the two copies are independent (no existence leak across tenants).
    other = ledger.for_owner(f"other-{uuid.uuid4().hex[:6]}")
    await other.store.ensure_account(other.owner)
    copy = await other.restore_bundle(bundle)
    assert copy.id == conv.id and copy.owner_id == other.owner
    await other.delete_conversation(copy.id)
    assert (await ledger.export_bundle(conv.id)) == bundle


async def test_restore_refuses_malformed_bundles_without_writing(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="not a convoledger bundle"):
        await ledger.restore_bundle({"format": "other"})
    conv = await ledger.create_conversation(ConversationRecord(owner_id="x"))
    await ledger.append(conv, MessageRecord(role="user", content="hi"))
    bundle = await ledger.export_bundle(conv)
    await ledger.delete_conversation(conv)
    bad = {**bundle, "messages": [{**bundle["messages"][0], "conversation_id": "someone-else"}]}
    with pytest.raises(ValueError, match="belongs to conversation"):
        await ledger.restore_bundle(bad)
    with pytest.raises(NotFound):
        await ledger.resolve(conv.id)


async def test_csv_export_has_one_row_per_message(ledger: Ledger) -> None:
    conv = await _rich_conversation(ledger)
    rows = list(csv.reader(io.StringIO(await ledger.export_csv(conv))))
    assert tuple(rows[0]) == CSV_COLUMNS
    seq_column = CSV_COLUMNS.index("seq")  # after the seed's seven columns
    assert [r[seq_column] for r in rows[1:]] == ["1", "2", "3", "4", "5", "6"]
    by_seq = {r[seq_column]: dict(zip(CSV_COLUMNS, r, strict=True)) for r in rows[1:]}
    assert by_seq["3"]["tool_calls"].startswith('[{"id":"call_1"')
    assert by_seq["4"]["tool_call_id"] == "call_1"
    assert by_seq["5"]["content"] == "HAT069 leaves at 06:00 — مرحبا 🌍"
    assert by_seq["6"]["redacted"] == "true"


async def test_import_conversation_is_idempotent(ledger: Ledger) -> None:
    record = ConversationRecord(owner_id="x", session_id="src:1")
    messages = [
        MessageRecord(id=f"m{i}", role="user" if i % 2 == 0 else "assistant", content=f"t{i}")
        for i in range(5)
    ]
    first = await ledger.import_conversation(record, messages)
    assert first.created and first.messages == 5
    second = await ledger.import_conversation(record, messages)
    assert not second.created and second.conversation.id == first.conversation.id
    stored = await ledger.messages("src:1")
    assert [m.seq for m in stored] == [1, 2, 3, 4, 5]
    assert (await ledger.resolve("src:1")).message_count == 5


async def test_sweep_times_out_archives_and_cleanup_deletes(ledger: Ledger) -> None:
    policy = LifecyclePolicy(default_timeout=3600, max_inactive_time=86400, max_session_age=604800)
    swept = Ledger(ledger.store, owner=ledger.owner, policy=policy)
    now = datetime.now(UTC)
    idle = await swept.create_conversation(ConversationRecord(owner_id="x"))
    await swept.append(idle, MessageRecord(role="user", content="old", created_at=now - timedelta(hours=2)))
    busy = await swept.create_conversation(ConversationRecord(owner_id="x"))
    await swept.append(
        busy, MessageRecord(role="user", content="recent", created_at=now - timedelta(minutes=5))
    )
    events = [e for e in await swept.sweep(now=now) if e.conversation_id in {idle.id, busy.id}]
    assert [(e.conversation_id, e.to_status) for e in events] == [
        (idle.id, ConversationStatus.INACTIVE_TIMEOUT)
    ]
    assert events[0].actor == "sweeper"
    assert (await swept.resolve(busy.id)).status is ConversationStatus.ACTIVE
    later = now + timedelta(days=2)
    archived = [e for e in await swept.sweep(now=later) if e.conversation_id == idle.id]
    assert [e.to_status for e in archived] == [ConversationStatus.ARCHIVED]
    await swept.cleanup(now=later)  # archived, but not idle for max_session_age yet: kept
    assert (await swept.resolve(idle.id)).status is ConversationStatus.ARCHIVED
    await swept.cleanup(now=now + timedelta(days=30))
    with pytest.raises(NotFound):
        await swept.resolve(idle.id)


async def test_recent_and_pages_read_windows_not_histories(ledger: Ledger) -> None:
    conv = await ledger.create_conversation(ConversationRecord(owner_id="x"))
    await ledger.append_batch(conv, [MessageRecord(role="user", content=f"m{i}") for i in range(30)])
    assert [m.seq for m in await ledger.recent(conv, 3)] == [28, 29, 30]
    assert [m.seq for m in await ledger.page(conv, after_seq=10, limit=5)] == [11, 12, 13, 14, 15]
    assert await ledger.count(conv, MessageQuery(search="m7")) == 1
    with pytest.raises(ValueError):
        await ledger.recent(conv, -1)
