"""ChatSession / ChatMessage (multichat persistence seed): floats, datetimes or ISO text in, the
seed's float epoch seconds out (aware UTC datetimes beside them)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from convoledger import (
    FACE_KEY,
    ChatMessage,
    ChatSession,
    ConversationKind,
    MessageRecord,
)

EPOCH = 1727142805.25  # 2024-09-24 01:53:25.25 UTC, a time of the seed's demo run
T = datetime(2024, 9, 24, 1, 53, 25, 250000, tzinfo=UTC)


def test_seed_usage_example() -> None:
    """The seed's "Add messages" example: positional fields, float timestamp."""
    session = ChatSession(str(uuid.uuid4()), ["Agent-1", "Agent-2", "Agent-3"], EPOCH, EPOCH, 0)
    message = ChatMessage(
        id=str(uuid.uuid4()),
        sender="Agent-1",
        recipient="Agent-2",
        content="Hello Agent-2! Ready for coordination?",
        timestamp=EPOCH,
        session_id=session.session_id,
    )
    assert message.timestamp == EPOCH and isinstance(message.timestamp, float)
    assert message.timestamp_utc == T and message.timestamp_epoch == EPOCH
    session.add_message(message)
    assert session.message_count == 1 and session.last_activity == EPOCH


def test_timestamp_accepts_datetime_naive_and_iso() -> None:
    assert ChatMessage("m", "a", "b", "x", T, "s").timestamp == EPOCH
    assert ChatMessage("m", "a", "b", "x", T.replace(tzinfo=None), "s").timestamp == EPOCH
    assert ChatMessage("m", "a", "b", "x", "2024-09-24T01:53:25.25Z", "s").timestamp == EPOCH
    assert ChatMessage("m", "a", "b", "x", 1727142805, "s").timestamp == EPOCH - 0.25  # int → float
    with pytest.raises(ValueError):
        ChatMessage("m", "a", "b", "x", float("inf"), "s")
    with pytest.raises(ValueError):
        ChatMessage("m", "a", "b", "x", True, "s")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["id", "sender", "recipient", "session_id"])
def test_chat_message_required_fields(name: str) -> None:
    fields = {
        "id": "m",
        "sender": "a",
        "recipient": "b",
        "content": "x",
        "timestamp": EPOCH,
        "session_id": "s",
    }
    with pytest.raises(ValueError, match=f"{name} cannot be empty"):
        ChatMessage(**{**fields, name: ""})  # type: ignore[arg-type]


def test_empty_content_is_allowed() -> None:
    assert ChatMessage("m", "a", "b", "", EPOCH, "s").content == ""


def test_seed_dict_is_exactly_asdict() -> None:
    m = ChatMessage("m1", "Agent-1", "Agent-2", "hi", EPOCH, "s1")
    assert m.to_seed_dict() == {
        "id": "m1", "sender": "Agent-1", "recipient": "Agent-2", "content": "hi",
        "timestamp": EPOCH, "session_id": "s1",
    }  # fmt: skip
    assert ChatMessage.from_dict(m.to_seed_dict()) == m  # a seed JSON file record loads
    d = m.to_dict()
    assert d["timestamp"] == EPOCH and d["schema_version"] == "1.1"  # the seed's float, exact
    assert ChatMessage.from_dict(d) == m
    # a dict written by earlier versions (ISO text) still loads
    assert ChatMessage.from_dict({**d, "timestamp": "2024-09-24T01:53:25.250000+00:00"}) == m


def test_broadcast_to_all() -> None:
    m = ChatMessage("m2", "Agent-4", "All", "I'll coordinate the refactoring process.", EPOCH, "s1")
    assert m.is_broadcast
    rec = m.to_record()
    assert rec.recipient is None  # broadcast, DESIGN.md
    assert rec.role == "user" and rec.sender == "Agent-4" and rec.created_at == T
    assert rec.metadata == {FACE_KEY: {"face": "chat_message", "session_id": "s1", "recipient": "All"}}
    assert ChatMessage.from_record(rec) == m
    star = ChatMessage("m3", "a", "*", "x", EPOCH, "s1")
    assert ChatMessage.from_record(star.to_record()).recipient == "*"


def test_direct_message_record_round_trip() -> None:
    m = ChatMessage("m1", "Agent-1", "Agent-2", "Hello", EPOCH, "s1")
    rec = m.to_record(conversation_id="conv-uuid")
    assert rec.recipient == "Agent-2" and rec.conversation_id == "conv-uuid"
    assert ChatMessage.from_record(rec) == m
    assert ChatMessage.from_record(rec, session_id="other").session_id == "other"


def test_chat_message_from_foreign_record() -> None:
    rec = MessageRecord(conversation_id="conv-1", role="assistant", content="Sure.")
    m = ChatMessage.from_record(rec)
    assert (m.sender, m.recipient, m.session_id) == ("assistant", "All", "conv-1")
    with pytest.raises(ValueError, match="session_id cannot be empty"):
        ChatMessage.from_record(MessageRecord(role="user", content="x", sender="u"))


def test_chat_session_rules() -> None:
    with pytest.raises(ValueError, match="session_id cannot be empty"):
        ChatSession("", ["a"])
    with pytest.raises(ValueError, match="duplicate participant 'a'"):
        ChatSession("s", ["a", "b", "a"])
    with pytest.raises(ValueError, match="participant ids cannot be empty"):
        ChatSession("s", ["a", ""])
    with pytest.raises(ValueError, match="message_count cannot be negative"):
        ChatSession("s", ["a"], message_count=-1)
    with pytest.raises(ValueError):
        ChatSession("s", "ab")  # type: ignore[arg-type]
    assert ChatSession("s", []).participants == []  # the seed allows an empty session


def test_add_message_checks_session_and_keeps_latest_time() -> None:
    s = ChatSession("s1", ["a", "b"], EPOCH, EPOCH + 100)
    s.add_message(ChatMessage("m", "a", "b", "x", EPOCH + 50, "s1"))  # older than last_activity
    assert s.message_count == 1 and s.last_activity_epoch == EPOCH + 100
    with pytest.raises(ValueError, match="belongs to session 'other'"):
        s.add_message(ChatMessage("m", "a", "b", "x", EPOCH, "other"))


def test_chat_session_record_and_dicts() -> None:
    s = ChatSession("agent-coordination", ["Agent-1", "Agent-2"], EPOCH, EPOCH + 2.5, 6)
    rec = s.to_record("acct", record_id="r1")
    assert rec.kind is ConversationKind.CHAT_SESSION and rec.session_id == "agent-coordination"
    assert [(p.participant_id, p.participant_type) for p in rec.participants] == [
        ("Agent-1", "user"),
        ("Agent-2", "user"),
    ]
    assert rec.message_count == 6 and rec.last_activity_at == T + timedelta(seconds=2.5)
    assert ChatSession.from_record(rec) == s
    assert s.to_seed_dict() == {
        "session_id": "agent-coordination", "participants": ["Agent-1", "Agent-2"],
        "created_at": EPOCH, "last_activity": EPOCH + 2.5, "message_count": 6,
    }  # fmt: skip
    assert ChatSession.from_dict(s.to_seed_dict()) == s
    assert ChatSession.from_dict(s.to_dict()) == s
    no_count = {k: v for k, v in s.to_seed_dict().items() if k != "message_count"}
    assert ChatSession.from_dict(no_count).message_count == 0
    with pytest.raises(ValueError, match="missing required key 'participants'"):
        ChatSession.from_dict({"session_id": "x", "created_at": EPOCH, "last_activity": EPOCH})
