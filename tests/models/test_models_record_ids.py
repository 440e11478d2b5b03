"""Identifier defaults of the stored records (``models/records.py``).

Conversations get random UUID4 ids; messages and provider calls get time-ordered UUIDv7 ids
(RFC 9562 §5.7) so that per-conversation id indexes grow at their end (see ``new_message_id``).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from convoledger.models import AgentCommunicationMessage, ConversationTurn, SessionMessage
from convoledger.models.records import ConversationRecord, MessageRecord, ProviderCallRecord, new_message_id


def _unix_ms(text: str) -> int:
    """The 48-bit Unix-millisecond timestamp at the front of a UUIDv7."""
    return uuid.UUID(text).int >> 80


def test_conversation_ids_are_uuid4() -> None:
    ids = {ConversationRecord(owner_id="o").id for _ in range(50)}
    assert len(ids) == 50
    assert all(uuid.UUID(i).version == 4 for i in ids)


def test_message_ids_are_uuid7_carrying_the_creation_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    ids = [MessageRecord(role="user", content="hi").id for _ in range(200)]
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == 200
    for i in ids:
        parsed = uuid.UUID(i)
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
        assert before <= _unix_ms(i) <= after


def test_message_ids_grow_with_time() -> None:
    first = new_message_id()
    time.sleep(0.002)  # the timestamp field has millisecond resolution
    second = new_message_id()
    assert _unix_ms(first) < _unix_ms(second)
    # Text order follows time order (hex digits of a fixed-width field), so index inserts land
    # at the end of a per-conversation id index.
    assert first < second


def test_seed_message_faces_default_to_time_ordered_ids() -> None:
    call = ProviderCallRecord(conversation_id="c", provider="openai")
    turn = ConversationTurn(conversation_id="c", speaker="user", text="hello")
    session_message = SessionMessage(session_id="s", role="user", content="hello")
    agent_message = AgentCommunicationMessage(
        message_id="",
        session_key="s_agent_a_to_agent_b",
        sender_id="a",
        sender_type="agent",
        sender_role="writer",
        recipient_id="b",
        recipient_type="agent",
        recipient_role="analyst",
        content="hello",
        message_type="communication",
        timestamp=datetime(2024, 1, 1, tzinfo=UTC),
        metadata={},
    )
    for value in (call.id, turn.turn_id, session_message.id, agent_message.message_id):
        assert uuid.UUID(value).version == 7
