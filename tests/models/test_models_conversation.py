"""Conversation (virtual-assistant seed "Data Model: Conversation") and ConversationTurn."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from convoledger import (
    Conversation,
    ConversationKind,
    ConversationRecord,
    ConversationStatus,
    ConversationTurn,
    InvalidTransition,
    LifecycleEvent,
    MessageRecord,
    MessageRole,
    ParticipantRecord,
)

T0 = datetime(2025, 6, 6, 10, 0, tzinfo=UTC)
CID = "a1b2c3d4-e5f6-7890-1234-567890abcdef"  # the seed's example id


def seed_example() -> Conversation:
    """The seed's example values, field by field."""
    return Conversation(
        conversation_id=CID,
        user_id="user-alpha-123",
        device_id="whatsapp-channel-12345",
        start_timestamp="2025-06-06T10:00:00Z",
        last_activity_timestamp="2025-06-06T10:05:30Z",
        topic="flight_booking",
        current_goal={"name": "book_flight", "status": "slot_filling", "departure_city_filled": True},
        metadata={"source_channel": "WhatsApp", "initial_utterance_length": 25},
    )


def test_seed_example_and_defaults() -> None:
    c = seed_example()
    assert c.status is ConversationStatus.ACTIVE  # seed default
    assert c.start_timestamp == T0 and c.last_activity_timestamp == T0 + timedelta(minutes=5, seconds=30)
    assert c.current_goal == {"name": "book_flight", "status": "slot_filling", "departure_city_filled": True}
    fresh = Conversation(user_id="u1")
    assert uuid.UUID(fresh.conversation_id).version == 4
    assert (
        fresh.device_id is None
        and fresh.topic is None
        and fresh.current_goal is None
        and fresh.metadata == {}
    )
    assert fresh.start_timestamp.tzinfo is not None


def test_ids() -> None:
    u = uuid.uuid4()
    assert Conversation(conversation_id=u, user_id="u").conversation_id == str(u)
    assert Conversation(conversation_id=CID.upper(), user_id="u").conversation_id == CID  # canonical text
    with pytest.raises(ValueError, match="not a UUID"):
        Conversation(conversation_id="conv-1", user_id="u")
    with pytest.raises(ValueError):
        Conversation(user_id="")
    assert Conversation(user_id=u).user_id == str(u)  # the seed's user_id is a UUID foreign key


@pytest.mark.parametrize("goal", [None, "book a flight", 3, ["a", {"b": 1}], {"k": [1.5, None, True]}])
def test_current_goal_is_any_json_value(goal: object) -> None:
    assert Conversation(user_id="u", current_goal=goal).current_goal == goal


def test_current_goal_rejects_non_json() -> None:
    with pytest.raises(ValueError):
        Conversation(user_id="u", current_goal={"when": datetime(2024, 1, 1)})
    with pytest.raises(ValueError):
        Conversation(user_id="u", current_goal=float("nan"))


def test_transition_returns_event_and_updates() -> None:
    c = seed_example()
    at = T0 + timedelta(hours=1)
    ev = c.transition_to("inactive_timeout", reason="idle for 3600 s", actor="sweeper", at=at)
    assert isinstance(ev, LifecycleEvent)
    assert (ev.conversation_id, ev.from_status, ev.to_status, ev.reason, ev.actor, ev.at) == (
        CID, ConversationStatus.ACTIVE, ConversationStatus.INACTIVE_TIMEOUT, "idle for 3600 s", "sweeper", at,
    )  # fmt: skip
    assert c.status is ConversationStatus.INACTIVE_TIMEOUT and c.last_activity_timestamp == at
    assert not c.is_active
    c.transition_to(ConversationStatus.ARCHIVED)
    assert c.status is ConversationStatus.ARCHIVED


def test_active_to_archived_is_refused_and_changes_nothing() -> None:
    c = seed_example()
    before = c.model_copy()
    with pytest.raises(InvalidTransition, match="'active' to 'archived'"):
        c.transition_to("archived")
    assert isinstance(InvalidTransition("x"), ValueError)
    assert c == before


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        (["inactive", "active", "inactive", "archived"], True),
        (["inactive_user_terminated", "archived"], True),
        (["inactive", "inactive_system_terminated", "archived"], True),
        (["inactive_timeout", "active"], False),
        (["archived"], False),
        (["inactive", "inactive"], False),
        (["archived_forever"], False),
    ],
)
def test_lifecycle_paths(path: list[str], ok: bool) -> None:
    c = Conversation(user_id="u")

    def walk() -> None:
        for status in path:
            c.transition_to(status)

    if ok:
        walk()
        assert c.status.value == path[-1]
    else:
        with pytest.raises(ValueError):
            walk()


def test_direct_status_assignment_is_lifecycle_checked() -> None:
    c = Conversation(user_id="u")
    with pytest.raises(InvalidTransition):
        c.status = ConversationStatus.ARCHIVED
    c.status = ConversationStatus.INACTIVE
    assert c.status is ConversationStatus.INACTIVE
    c.status = ConversationStatus.INACTIVE  # no change, nothing to check


def test_touch() -> None:
    c = Conversation(user_id="u", start_timestamp=T0, last_activity_timestamp=T0)
    c.touch(datetime(2025, 6, 6, 11, 0))
    assert c.last_activity_timestamp == T0 + timedelta(hours=1)


def test_conversation_record_round_trip() -> None:
    c = seed_example()
    rec = c.to_record("acct")
    assert isinstance(rec, ConversationRecord)
    assert rec.id == CID and rec.owner_id == "acct" and rec.kind is ConversationKind.CONVERSATION
    assert (rec.user_id, rec.device_id, rec.topic) == (
        "user-alpha-123",
        "whatsapp-channel-12345",
        "flight_booking",
    )
    assert rec.current_goal == c.current_goal and rec.metadata == c.metadata
    assert rec.created_at == c.start_timestamp and rec.last_activity_at == c.last_activity_timestamp
    assert rec.participants == [ParticipantRecord(participant_id="user-alpha-123", participant_type="user")]
    assert Conversation.from_record(rec) == c


def test_from_record_user_fallbacks() -> None:
    rec = ConversationRecord(
        owner_id="acct", participants=[ParticipantRecord(participant_id="p1", participant_type="user")]
    )
    assert Conversation.from_record(rec).user_id == "p1"
    assert Conversation.from_record(ConversationRecord(owner_id="acct")).user_id == "acct"
    with pytest.raises(ValueError, match="not a UUID"):
        Conversation.from_record(ConversationRecord(id="not-a-uuid", owner_id="acct"))


def test_conversation_dict_round_trip() -> None:
    c = seed_example()
    d = c.to_dict()
    assert d["status"] == "active" and d["start_timestamp"] == "2025-06-06T10:00:00+00:00"
    assert d["schema_version"] == "1.1"
    assert Conversation.from_dict(d) == c
    d.pop("schema_version")
    d["start_timestamp"] = "2025-06-06T10:00:00"  # naive = UTC
    assert Conversation.from_dict(d).start_timestamp == T0


# -- ConversationTurn ---------------------------------------------------------------------------
def test_turn_fields_and_aliases() -> None:
    t = ConversationTurn(
        conversation_id=CID,
        speaker="user",
        text="I would like for it to be in San Jose.",
        timestamp=T0,
        sender="user-alpha-123",
        intent="FindRestaurants",
        slots={"city": ["San Jose"]},
    )
    assert t.role is MessageRole.USER and t.content == t.text
    assert uuid.UUID(t.turn_id)


def test_turn_rules() -> None:
    with pytest.raises(ValueError):
        ConversationTurn(conversation_id=CID, speaker="robot", text="hi")
    with pytest.raises(ValueError, match="content cannot be empty for a message with role 'user'"):
        ConversationTurn(conversation_id=CID, speaker="user", text="")
    call = [{"id": "call_1", "type": "function", "function": {"name": "FindRestaurants", "arguments": "{}"}}]
    assert (
        ConversationTurn(conversation_id=CID, speaker="assistant", text="", tool_calls=call).tool_calls
        == call
    )
    assert ConversationTurn(conversation_id=CID, speaker="tool", text="", tool_call_id="call_1").text == ""
    with pytest.raises(ValueError):
        ConversationTurn(conversation_id="", speaker="user", text="hi")
    t = ConversationTurn(conversation_id=CID, speaker="user", text="hi")
    with pytest.raises(ValueError):
        t.text = ""  # assignments are validated too


def test_turn_record_round_trip() -> None:
    t = ConversationTurn(
        conversation_id=CID,
        speaker="user",
        text="Find me a place to eat",
        timestamp=T0,
        sender="user-alpha-123",
        intent="FindRestaurants",
        slots={"city": ["San Jose"]},
        metadata={"frame": 0},
    )
    rec = t.to_record()
    assert isinstance(rec, MessageRecord)
    assert (rec.id, rec.conversation_id, rec.role, rec.content, rec.sender, rec.created_at) == (
        t.turn_id, CID, "user", "Find me a place to eat", "user-alpha-123", T0,
    )  # fmt: skip
    assert rec.extra_data == {"intent": "FindRestaurants", "slots": {"city": ["San Jose"]}}
    assert rec.metadata == {"frame": 0}
    assert ConversationTurn.from_record(rec) == t
    plain = ConversationTurn(conversation_id=CID, speaker="assistant", text="Sure", timestamp=T0)
    assert plain.to_record().extra_data is None
    assert ConversationTurn.from_record(plain.to_record()) == plain
    assert ConversationTurn.from_dict(t.to_dict()) == t


def test_turn_from_foreign_records() -> None:
    agent_msg = MessageRecord(
        conversation_id=CID, role="master_controller", content="go", extra_data={"intent": 5}
    )
    t = ConversationTurn.from_record(agent_msg)
    assert t.speaker is MessageRole.ASSISTANT and t.intent is None and t.slots == {}
    with pytest.raises(ValueError, match="not a chat role"):
        ConversationTurn.from_record(MessageRecord(conversation_id=CID, role="narrator", content="x"))
    with pytest.raises(ValueError):
        ConversationTurn.from_record(MessageRecord(role="user", content="x"))  # no conversation id
    assert (
        ConversationTurn.from_record(
            MessageRecord(role="user", content="x"), conversation_id=CID
        ).conversation_id
        == CID
    )
