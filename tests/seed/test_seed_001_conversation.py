"""Seed 001 (virtual-assistant "Data Model: Conversation"): the schema with the seed's examples,
the status enum, the relationships, the lifecycle and its constraints — through the model and
through the ``Ledger`` on every backend.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from convoledger import (
    Conversation,
    ConversationStatus,
    ConversationTurn,
    InvalidTransition,
    Ledger,
    MessageRole,
)
from convoledger.models.policy import LifecyclePolicy
from convoledger.store.base import ConversationQuery

SEED_STATUSES = [
    "active",
    "inactive_timeout",
    "inactive_user_terminated",
    "inactive_system_terminated",
    "archived",
]


def _seed_example(**changes: object) -> Conversation:
    """Every field with the seed's own example value (section 4)."""
    fields: dict[str, object] = {
        "conversation_id": "a1b2c3d4-e5f6-7890-1234-567890abcdef",
        "user_id": "user-alpha-123",
        "device_id": "whatsapp-channel-12345",
        "start_timestamp": "2025-06-06T10:00:00Z",
        "last_activity_timestamp": "2025-06-06T10:05:30Z",
        "topic": "flight_booking",
        "current_goal": {"name": "book_flight", "status": "slot_filling", "departure_city_filled": True},
        "metadata": {"source_channel": "WhatsApp", "initial_utterance_length": 25},
    }
    return Conversation(**{**fields, **changes})  # type: ignore[arg-type]


def test_schema_with_the_seed_examples() -> None:
    conversation = _seed_example()
    assert conversation.status is ConversationStatus.ACTIVE  # Default: active
    assert conversation.to_dict() == {
        "conversation_id": "a1b2c3d4-e5f6-7890-1234-567890abcdef",
        "user_id": "user-alpha-123",
        "device_id": "whatsapp-channel-12345",
        "start_timestamp": "2025-06-06T10:00:00+00:00",
        "last_activity_timestamp": "2025-06-06T10:05:30+00:00",
        "status": "active",
        "topic": "flight_booking",
        "current_goal": {"name": "book_flight", "status": "slot_filling", "departure_city_filled": True},
        "metadata": {"source_channel": "WhatsApp", "initial_utterance_length": 25},
        "schema_version": "1.1",
    }
    assert Conversation.from_dict(conversation.to_dict()) == conversation
    # conversation_id: a UUID generated at the start of a new session; uuid.UUID accepted
    fresh = Conversation(user_id="user-alpha-123")
    assert uuid.UUID(fresh.conversation_id).version == 4
    assert Conversation(conversation_id=uuid.UUID(int=7), user_id="u").conversation_id == str(
        uuid.UUID(int=7)
    )
    with pytest.raises(ValueError, match="not a UUID"):
        Conversation(conversation_id="conv-1", user_id="u")
    with pytest.raises(ValueError):
        Conversation(user_id="")
    # device_id is nullable: a conversation the VA starts (proactive notification) has none
    assert Conversation(user_id="user-alpha-123", device_id=None).device_id is None
    assert _seed_example(device_id="alexa-device-abc").device_id == "alexa-device-abc"
    # current_goal may be JSON or text ("JSONB or Text")
    assert _seed_example(current_goal="book a flight to Lisbon").current_goal == "book a flight to Lisbon"


def test_status_enum_is_the_seed_enum() -> None:
    assert [Conversation(user_id="u", status=s).status.value for s in SEED_STATUSES] == SEED_STATUSES
    assert set(SEED_STATUSES) <= {s.value for s in ConversationStatus}
    with pytest.raises(ValueError):
        Conversation(user_id="u", status="paused")


def test_status_transitions_are_coherent() -> None:
    """Assumptions / Constraints: "an active conversation doesn't directly jump to archived
    without an inactive_ state"."""
    conversation = _seed_example()
    with pytest.raises(InvalidTransition):
        conversation.transition_to("archived")
    assert conversation.status is ConversationStatus.ACTIVE
    with pytest.raises(InvalidTransition):
        conversation.status = ConversationStatus.ARCHIVED  # a direct assignment is checked too
    event = conversation.transition_to("inactive_user_terminated", reason="goodbye")
    assert (event.from_status, event.to_status, event.reason) == (
        "active",
        "inactive_user_terminated",
        "goodbye",
    )
    assert conversation.last_activity_timestamp == event.at
    assert conversation.transition_to("archived").to_status is ConversationStatus.ARCHIVED
    system = _seed_example()
    system.transition_to("inactive_system_terminated", reason="task completed")
    system.transition_to("archived")
    assert system.status is ConversationStatus.ARCHIVED


async def test_conversation_and_turns_through_the_ledger(ledger: Ledger) -> None:
    """Creation by the InputProcessor, turns logged, ``last_activity_timestamp``, ``topic`` and
    ``current_goal`` updated as the pre-frontal cortex processes each turn."""
    conversation = _seed_example(conversation_id=str(uuid.uuid4()))
    stored = await ledger.create_conversation(conversation)
    assert await ledger.get_conversation(stored.id, as_=Conversation) == conversation

    at = datetime(2025, 6, 6, 10, 6, 0, tzinfo=UTC)
    turns = [
        ConversationTurn(
            conversation_id=conversation.conversation_id,
            speaker=MessageRole.USER,
            text="I need a flight to Lisbon on Friday",
            timestamp=at,
            sender="user-alpha-123",
            intent="BookFlight",
            slots={"destination": "Lisbon", "date": "Friday"},
        ),
        ConversationTurn(
            conversation_id=conversation.conversation_id,
            speaker=MessageRole.ASSISTANT,
            text="From which city are you departing?",
            timestamp=at + timedelta(seconds=2),
        ),
    ]
    for turn in turns:
        await ledger.append(conversation.conversation_id, turn)
    assert await ledger.messages(conversation.conversation_id, as_=ConversationTurn) == turns
    after = await ledger.get_conversation(conversation.conversation_id, as_=Conversation)
    assert after.last_activity_timestamp == at + timedelta(seconds=2)
    assert after.start_timestamp == conversation.start_timestamp

    updated = await ledger.update_conversation(
        conversation.conversation_id,
        topic="weather inquiry",
        current_goal={"name": "get_weather", "status": "answered"},
    )
    assert (updated.topic, updated.current_goal) == (
        "weather inquiry",
        {"name": "get_weather", "status": "answered"},
    )
    with pytest.raises(ValueError):  # conversation_id is immutable once created
        await ledger.update_conversation(conversation.conversation_id, id=str(uuid.uuid4()))

    record, event = await ledger.transition(
        conversation.conversation_id, "inactive_user_terminated", reason="goodbye"
    )
    assert record.status is ConversationStatus.INACTIVE_USER_TERMINATED
    with pytest.raises(InvalidTransition):
        await ledger.transition(conversation.conversation_id, "active")
    await ledger.archive(conversation.conversation_id)
    events = await ledger.lifecycle_events(conversation.conversation_id)
    assert [(e.from_status.value, e.to_status.value) for e in events] == [
        ("active", "inactive_user_terminated"),
        ("inactive_user_terminated", "archived"),
    ]


async def test_one_user_many_conversations_from_many_devices(ledger: Ledger) -> None:
    """Relationships: many Conversations to one User, many to one Device."""
    user = f"user-{uuid.uuid4().hex[:8]}"
    devices = ["whatsapp-channel-12345", "alexa-device-abc", None]
    ids = []
    for device in devices:
        stored = await ledger.create_conversation(Conversation(user_id=user, device_id=device))
        ids.append(stored.id)
    await ledger.create_conversation(Conversation(user_id="someone-else", device_id="alexa-device-abc"))
    mine = await ledger.list_conversations(ConversationQuery(participant_id=user))
    assert sorted(c.id for c in mine.items) == sorted(ids) and mine.total == 3
    faces = [Conversation.from_record(c) for c in mine.items]
    assert {f.user_id for f in faces} == {user}
    assert sorted(str(f.device_id) for f in faces) == sorted(str(d) for d in devices)


async def test_inactivity_timeout_then_archival(ledger: Ledger) -> None:
    """ "The system has a defined inactivity timeout after which a conversation transitions to
    inactive_timeout"; inactive conversations are archival candidates (the sweeper)."""
    policy = LifecyclePolicy(default_timeout=3600, max_inactive_time=86400)
    swept = Ledger(ledger.store, owner=ledger.owner, policy=policy)
    now = datetime.now(UTC)
    idle = Conversation(user_id="user-alpha-123", start_timestamp=now - timedelta(hours=3))
    await swept.create_conversation(idle)
    await swept.append(
        idle.conversation_id,
        ConversationTurn(
            conversation_id=idle.conversation_id,
            speaker=MessageRole.USER,
            text="hello?",
            timestamp=now - timedelta(hours=2),
        ),
    )
    busy = Conversation(user_id="user-alpha-123")
    await swept.create_conversation(busy)
    ours = {idle.conversation_id, busy.conversation_id}
    events = [e for e in await swept.sweep(now=now) if e.conversation_id in ours]
    assert [(e.conversation_id, e.to_status) for e in events] == [
        (idle.conversation_id, ConversationStatus.INACTIVE_TIMEOUT)
    ]
    timed_out = await swept.get_conversation(idle.conversation_id, as_=Conversation)
    assert timed_out.status is ConversationStatus.INACTIVE_TIMEOUT
    assert (
        await swept.get_conversation(busy.conversation_id, as_=Conversation)
    ).status is ConversationStatus.ACTIVE
    later = [e for e in await swept.sweep(now=now + timedelta(days=2)) if e.conversation_id in ours]
    moves = {
        cid: [(e.from_status.value, e.to_status.value) for e in later if e.conversation_id == cid]
        for cid in ours
    }
    assert moves == {
        idle.conversation_id: [("inactive_timeout", "archived")],
        # two days idle: timed out, then archived — through inactive_timeout, never active → archived
        busy.conversation_id: [("active", "inactive_timeout"), ("inactive_timeout", "archived")],
    }
