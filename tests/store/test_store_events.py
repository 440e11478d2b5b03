"""Contract: the event outbox (issue 18) on every backend.

Every change writes its events in the same transaction, numbered per account 1, 2, 3, … in
commit order; ``list_events`` reads them by keyset, owner-scoped and bounded; a refused change
writes none; deleting a conversation keeps its events.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from contract_helpers import conv, msg

from convoledger.errors import ConversationNotActive, NotFound
from convoledger.models.events import MAX_EVENT_PAGE, EventRecord
from convoledger.models.records import ProviderCallRecord
from convoledger.models.status import ConversationStatus
from convoledger.store.base import Store
from convoledger.store.outbox import EventQuery, event_context


async def _all(store: Store, owner: str, **kw: Any) -> list[EventRecord]:
    return await store.list_events(owner, EventQuery(limit=MAX_EVENT_PAGE, **kw))


def _kinds(events: list[EventRecord]) -> list[str]:
    return [e.kind for e in events]


async def test_every_change_writes_its_event_in_order(store: Store, owner: str) -> None:
    c = await store.create_conversation(owner, conv(session_id="ev-1", name="events"))
    first, second = await store.append_messages(owner, c.id, [msg("one"), msg("two", role="assistant")])
    await store.edit_message(owner, c.id, first.id, {"content": "one!", "pinned": True})
    await store.redact_message(owner, c.id, second.id)
    await store.update_conversation(owner, c.id, {"name": "renamed"})
    await store.set_memory(owner, c.id, "goal", {"secret": "value"})
    await store.delete_memory(owner, c.id, "goal")
    call = await store.record_provider_call(
        owner,
        c.id,
        ProviderCallRecord(
            conversation_id=c.id,
            message_id=second.id,
            provider="openai",
            model="gpt-4o",
            input_tokens=12,
            output_tokens=5,
            total_tokens=17,
            cost=0.00008,
        ),
    )
    await store.delete_message(owner, c.id, first.id)
    [third] = await store.append_messages(owner, c.id, [msg("three")])
    popped = await store.pop_message(owner, c.id)
    await store.append_messages(owner, c.id, [msg("four"), msg("five")])
    assert await store.clear_messages(owner, c.id) == 3
    await store.transition(owner, c.id, ConversationStatus.INACTIVE, reason="idle", actor="tester")
    await store.delete_conversation(owner, c.id)

    events = await _all(store, owner)
    assert _kinds(events) == [
        "conversation.created",
        "message.appended",
        "message.appended",
        "message.edited",
        "message.redacted",
        "conversation.updated",
        "memory.set",
        "memory.deleted",
        "provider_call.recorded",
        "message.deleted",
        "message.appended",
        "message.deleted",
        "message.appended",
        "message.appended",
        "messages.cleared",
        "lifecycle.transition",
        "conversation.deleted",
    ]
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    assert all(e.owner_id == owner and e.conversation_id == c.id for e in events)
    by_kind = {e.kind: e for e in events}
    assert by_kind["conversation.created"].payload["session_id"] == "ev-1"
    assert events[1].payload == {
        "message_id": first.id,
        "seq": 1,
        "role": "user",
        "sender": None,
        "recipient": None,
        "message_type": None,
        "tool_call_id": None,
        "tool_name": None,
    }
    assert events[2].payload["seq"] == 2 and events[2].payload["role"] == "assistant"
    assert events[3].payload == {"message_id": first.id, "seq": 1, "fields": ["content", "pinned"]}
    assert events[4].payload == {"message_id": second.id, "seq": 2}
    assert events[5].payload == {"fields": ["name"]}
    assert events[6].payload == {"key": "goal"}  # keys only: values never enter the outbox
    assert by_kind["provider_call.recorded"].payload["call_id"] == call.id
    assert by_kind["provider_call.recorded"].payload["total_tokens"] == 17
    assert by_kind["provider_call.recorded"].payload["cost"] == pytest.approx(0.00008)
    assert events[9].payload == {"message_id": first.id, "seq": 1, "popped": False}
    assert popped is not None
    assert events[11].payload == {"message_id": third.id, "seq": 3, "popped": True}
    assert events[14].payload == {"count": 3}
    life = by_kind["lifecycle.transition"].payload
    assert (life["from_status"], life["to_status"], life["reason"], life["actor"]) == (
        "active",
        "inactive",
        "idle",
        "tester",
    )
    assert await store.last_event_id(owner) == len(events)
    # No message text anywhere in the outbox (a redaction must not leave it behind).
    dumped = repr([e.payload for e in events])
    assert "one!" not in dumped and "two" not in dumped and "secret" not in dumped


async def test_keyset_pages_and_conversation_filter(store: Store, owner: str) -> None:
    a = await store.create_conversation(owner, conv())
    b = await store.create_conversation(owner, conv())
    for i in range(5):
        await store.append_messages(owner, a.id, [msg(f"a{i}")])
        await store.append_messages(owner, b.id, [msg(f"b{i}")])
    everything = await _all(store, owner)
    assert len(everything) == 12
    seen: list[int] = []
    after = 0
    while True:
        page = await store.list_events(owner, EventQuery(after_id=after, limit=5))
        if not page:
            break
        assert len(page) <= 5
        seen += [e.id for e in page]
        after = page[-1].id
    assert seen == [e.id for e in everything]
    only_b = await _all(store, owner, conversation_id=b.id)
    assert [e.id for e in only_b] == [e.id for e in everything if e.conversation_id == b.id]
    assert len(only_b) == 6
    tail = await store.list_events(owner, EventQuery(after_id=only_b[2].id, conversation_id=b.id, limit=2))
    assert [e.id for e in tail] == [only_b[3].id, only_b[4].id]
    assert await store.list_events(owner, EventQuery(after_id=everything[-1].id)) == []


async def test_events_are_owner_scoped_and_numbered_per_account(
    store: Store, owner: str, other_owner: str
) -> None:
    mine = await store.create_conversation(owner, conv())
    await store.append_messages(owner, mine.id, [msg("mine")])
    theirs = await store.create_conversation(other_owner, conv())
    assert [e.id for e in await _all(store, other_owner)] == [1]
    assert [e.id for e in await _all(store, owner)] == [1, 2]
    assert await _all(store, other_owner, conversation_id=mine.id) == []
    assert await _all(store, owner, conversation_id=theirs.id) == []
    assert await store.last_event_id(f"nobody-{owner}") == 0
    assert await _all(store, f"nobody-{owner}") == []


async def test_refused_changes_write_no_event(store: Store, owner: str) -> None:
    c = await store.create_conversation(owner, conv())
    await store.transition(owner, c.id, ConversationStatus.INACTIVE)
    before = await store.last_event_id(owner)
    with pytest.raises(ConversationNotActive):
        await store.append_messages(owner, c.id, [msg("refused")])
    with pytest.raises(NotFound):
        await store.delete_message(owner, c.id, "missing")
    with pytest.raises(NotFound):
        await store.delete_memory(owner, c.id, "missing")
    with pytest.raises((ValueError, NotFound)):
        await store.edit_message(owner, c.id, "x", {"role": "system"})
    assert await store.pop_message(owner, c.id) is None
    assert await store.last_event_id(owner) == before


async def test_import_writes_one_created_event_and_ids_continue(store: Store, owner: str) -> None:
    await store.create_conversation(owner, conv())
    imported = await store.import_conversation(
        owner, conv(session_id="imported"), [msg("x", seq=1), msg("y", seq=2)]
    )
    events = await _all(store, owner)
    assert _kinds(events) == ["conversation.created", "conversation.created"]
    assert events[1].conversation_id == imported.id
    assert events[1].payload["imported"] is True and events[0].payload["imported"] is False
    assert [e.id for e in events] == [1, 2]


async def test_append_event_and_event_context(store: Store, owner: str) -> None:
    c = await store.create_conversation(owner, conv())
    alert = await store.append_event(
        owner, "alert.raised", {"rule": "cost", "usd": 1.5}, conversation_id=c.id
    )
    assert (alert.id, alert.kind, alert.conversation_id) == (2, "alert.raised", c.id)
    with event_context(actor="retention", policy="max_session_age"):
        await store.delete_conversation(owner, c.id)
    events = await _all(store, owner)
    assert events[1] == alert
    assert events[2].kind == "conversation.deleted"
    assert events[2].payload == {"context": {"actor": "retention", "policy": "max_session_age"}}
    account_level = await store.append_event(owner, "alert.raised", {"rule": "budget"})
    assert account_level.conversation_id is None and account_level.id == 4
    for bad_kind in ("Alert", "alert", "alert.", "", "alert raised"):
        with pytest.raises(ValueError, match="event kind"):
            await store.append_event(owner, bad_kind, {})
    with pytest.raises(ValueError, match="JSON object"):
        await store.append_event(owner, "alert.raised", ["not", "an", "object"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit"):
        await store.list_events(owner, EventQuery(limit=MAX_EVENT_PAGE + 1))
    with pytest.raises(ValueError, match="after_id"):
        await store.list_events(owner, EventQuery(after_id=-1))
    assert await store.last_event_id(owner) == 4


async def test_concurrent_writers_get_gap_free_ids_in_commit_order(store: Store, owner: str) -> None:
    convs = [await store.create_conversation(owner, conv()) for _ in range(4)]

    async def writer(c_id: str) -> None:
        for i in range(6):
            await store.append_messages(owner, c_id, [msg(f"m{i}"), msg(f"n{i}")])

    await asyncio.gather(*(writer(c.id) for c in convs))
    events = await _all(store, owner)
    assert [e.id for e in events] == list(range(1, 4 + 4 * 12 + 1))
    for c in convs:  # per conversation, event order is seq order (commit order)
        seqs = [
            e.payload["seq"] for e in events if e.conversation_id == c.id and e.kind == "message.appended"
        ]
        assert seqs == list(range(1, 13))


async def test_listener_hears_commits(store: Store, owner: str) -> None:
    heard: list[str] = []
    remove = store.on_events(heard.append)
    c = await store.create_conversation(owner, conv())
    await store.append_messages(owner, c.id, [msg("hi")])
    remove()
    await store.append_messages(owner, c.id, [msg("unheard")])
    assert heard.count(owner) >= 2
    assert set(heard) == {owner}
