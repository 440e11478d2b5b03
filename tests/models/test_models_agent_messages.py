"""AgentCommunicationMessage: the seed's rules, the ten message types, record conversion."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from convoledger import (
    FACE_KEY,
    MESSAGE_TYPES,
    AgentCommunicationMessage,
    ConversationParticipant,
    MessageRecord,
    MessageType,
)

T0 = datetime(2024, 3, 2, 9, 15, tzinfo=UTC)


def make(**overrides: Any) -> AgentCommunicationMessage:
    fields: dict[str, Any] = {
        "message_id": "m-1",
        "session_key": "session_002_mc_to_data_analyst",
        "sender_id": "mc_001",
        "sender_type": "master_controller",
        "sender_role": None,
        "recipient_id": "agent_001",
        "recipient_type": "agent",
        "recipient_role": "data_analyst",
        "content": "Please analyze the sales data",
        "message_type": "task_assignment",
        "timestamp": T0,
        "metadata": {"task_id": "task_001"},
    }
    fields.update(overrides)
    return AgentCommunicationMessage(**fields)


def test_ten_message_types() -> None:
    assert MESSAGE_TYPES == {
        "task_assignment", "result_report", "collaboration_request", "feedback", "communication",
        "status_update", "error_report", "task_completion", "progress_update", "clarification_request",
    }  # fmt: skip
    for t in MessageType:
        assert make(message_type=t).message_type == t.value
        assert type(make(message_type=t).message_type) is str


def test_unknown_message_type() -> None:
    with pytest.raises(ValueError, match="message_type must be one of"):
        make(message_type="gossip")


def test_empty_message_id_gets_a_uuid() -> None:
    # The seed draws a UUID4; convoledger a time-ordered UUIDv7 (records.new_message_id).
    m = make(message_id="")
    assert uuid.UUID(m.message_id).version == 7
    assert make(message_id="").message_id != m.message_id


@pytest.mark.parametrize(
    "name", ["session_key", "sender_id", "recipient_id", "content", "sender_type", "recipient_type"]
)
def test_empty_required_fields(name: str) -> None:
    with pytest.raises(ValueError, match=f"{name} cannot be empty"):
        make(**{name: ""})


def test_positional_construction_like_the_seed() -> None:
    m = AgentCommunicationMessage(
        "m-2", "k", "a1", "agent", "writer", "a2", "agent", "editor", "draft ready", "result_report", T0, {}
    )
    assert (m.sender_role, m.recipient_role, m.message_type) == ("writer", "editor", "result_report")


def test_naive_timestamp_is_utc() -> None:
    assert make(timestamp=datetime(2024, 3, 2, 9, 15)).timestamp == T0


def test_to_record_fields() -> None:
    m = make()
    rec = m.to_record(conversation_id="conv-1")
    assert isinstance(rec, MessageRecord)
    assert (rec.id, rec.conversation_id, rec.role, rec.sender, rec.recipient) == (
        "m-1", "conv-1", "master_controller", "mc_001", "agent_001",
    )  # fmt: skip
    assert rec.message_type == "task_assignment" and rec.content == m.content and rec.created_at == T0
    assert rec.metadata["task_id"] == "task_001"
    assert rec.metadata[FACE_KEY] == {
        "face": "agent_communication_message",
        "sender_type": "master_controller",
        "sender_role": None,
        "recipient_type": "agent",
        "recipient_role": "data_analyst",
        "session_key": "session_002_mc_to_data_analyst",
    }


def test_record_round_trip_is_exact_even_with_colliding_caller_keys() -> None:
    m = make(metadata={"sender_role": "caller's own value", "recipient_type": 3})
    back = AgentCommunicationMessage.from_record(m.to_record())
    assert back == m
    assert back.metadata == {"sender_role": "caller's own value", "recipient_type": 3}


def test_from_record_session_key_argument_wins() -> None:
    back = AgentCommunicationMessage.from_record(make().to_record(), session_key="other_key")
    assert back.session_key == "other_key"


def test_from_foreign_record_uses_participants() -> None:
    """A record written without the face's extras (another face, or an importer)."""
    rec = MessageRecord(
        id="x1", role="agent", content="Found it", sender="agent_001", recipient="mc_001", created_at=T0
    )
    participants = [
        ConversationParticipant("mc_001", "master_controller"),
        ConversationParticipant("agent_001", "agent", "analyst"),
    ]
    m = AgentCommunicationMessage.from_record(rec, "s_mc_to_analyst", participants)
    assert (m.sender_type, m.sender_role, m.recipient_type, m.recipient_role) == (
        "agent", "analyst", "master_controller", None,
    )  # fmt: skip
    assert m.message_type == "communication" and m.timestamp == T0
    # stored participant records work as well
    m2 = AgentCommunicationMessage.from_record(rec, "k", [p.to_record() for p in participants])
    assert m2 == AgentCommunicationMessage.from_record(rec, "k", participants)


@pytest.mark.parametrize(
    ("rec", "kwargs", "message"),
    [
        (MessageRecord(role="user", content="hi", sender="u", recipient="a"), {}, "no session_key"),
        (MessageRecord(role="user", content="hi", recipient="a"), {"session_key": "k"}, "has no sender"),
        (MessageRecord(role="user", content="hi", sender="u"), {"session_key": "k"}, "no recipient"),
        (
            MessageRecord(role="user", content="hi", sender="u", recipient="a"),
            {"session_key": "k"},
            "recipient_type",
        ),
        (
            MessageRecord(role="user", content="", sender="u", recipient="a"),
            {"session_key": "k", "participants": [ConversationParticipant("a", "user")]},
            "content cannot be empty",
        ),  # noqa: E501
    ],
)
def test_from_record_errors(rec: MessageRecord, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AgentCommunicationMessage.from_record(rec, **kwargs)


def test_dict_round_trip_and_seed_dict_without_optional_keys() -> None:
    m = make()
    assert AgentCommunicationMessage.from_dict(m.to_dict()) == m
    seed = m.to_dict()
    for k in ("sender_role", "recipient_role", "metadata", "schema_version"):
        seed.pop(k)
    seed["timestamp"] = "2024-03-02T09:15:00"  # the seed writes naive isoformat
    back = AgentCommunicationMessage.from_dict(seed)
    assert back.timestamp == T0 and back.sender_role is None and back.metadata == {}
    with pytest.raises(ValueError, match="missing required key 'content'"):
        AgentCommunicationMessage.from_dict({k: v for k, v in m.to_dict().items() if k != "content"})
