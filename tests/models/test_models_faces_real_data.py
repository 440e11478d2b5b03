"""Faces converting into each other through the one stored record, on real third-party
conversations from ../shared/data/conversations (Schema-Guided Dialogue, ChatDev logs, BYU
chitchat; see that folder's README for origins and licences)."""

from __future__ import annotations

import gzip
import itertools
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from convoledger import (
    AgentCommunicationMessage,
    AgentSession,
    ChatMessage,
    ChatSession,
    Conversation,
    ConversationParticipant,
    ConversationSession,
    ConversationStatus,
    ConversationTurn,
    MessageRole,
    SessionMessage,
)

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "conversations"
T0 = datetime(2019, 9, 1, 12, 0, tzinfo=UTC)  # SGD has no times: turns are given T0 + i seconds


def read_jsonl(relpath: str, n: int, where: Any = None) -> list[dict[str, Any]]:
    path = DATA / relpath
    if not path.exists():
        pytest.fail(f"real data missing: {path} (shared/ must sit beside the repository)")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        records: Iterator[dict[str, Any]] = map(json.loads, f)
        if where is not None:
            records = filter(where, records)
        return list(itertools.islice(records, n))


# -- Schema-Guided Dialogue → Conversation + ConversationTurns -----------------------------------
def sgd_to_faces(dialogue: dict[str, Any]) -> tuple[Conversation, list[ConversationTurn]]:
    conv = Conversation(
        user_id="sgd-user",
        start_timestamp=T0,
        last_activity_timestamp=T0,
        topic=dialogue["services"][0],
        metadata={"dialogue_id": dialogue["dialogue_id"], "services": dialogue["services"]},
    )
    turns = []
    for i, turn in enumerate(dialogue["turns"]):
        frame = turn["frames"][0]
        state = frame.get("state") or {}
        intent = state.get("active_intent") if turn["speaker"] == "USER" else None
        slots = state.get("slot_values", {}) if turn["speaker"] == "USER" else {}
        calls = None
        if frame.get("service_call"):
            call = frame["service_call"]
            fn = {"name": call["method"], "arguments": json.dumps(call["parameters"])}
            calls = [{"id": f"call_{i}", "type": "function", "function": fn}]
        t = ConversationTurn(
            conversation_id=conv.conversation_id,
            speaker="user" if turn["speaker"] == "USER" else "assistant",
            text=turn["utterance"],
            timestamp=T0 + timedelta(seconds=i),
            sender="sgd-user" if turn["speaker"] == "USER" else "va",
            intent=intent if intent != "NONE" else None,
            slots=slots,
            tool_calls=calls,
        )
        turns.append(t)
        conv.touch(t.timestamp)
        if t.intent:
            conv.current_goal = {"intent": t.intent, "slots": t.slots}
    return conv, turns


def test_sgd_dialogues_round_trip_through_records_and_dicts() -> None:
    dialogues = read_jsonl("task_oriented/sgd_train_sample.jsonl.gz", 20)
    assert len(dialogues) == 20
    n_turns = n_calls = 0
    for dialogue in dialogues:
        conv, turns = sgd_to_faces(dialogue)
        assert len(turns) == len(dialogue["turns"])
        assert isinstance(conv.current_goal, dict) and conv.current_goal["intent"]
        assert conv.last_activity_timestamp == turns[-1].timestamp
        assert Conversation.from_record(conv.to_record()) == conv
        assert Conversation.from_dict(json.loads(json.dumps(conv.to_dict()))) == conv
        for t in turns:
            rec = t.to_record()
            assert rec.conversation_id == conv.conversation_id
            assert ConversationTurn.from_record(rec) == t
            assert ConversationTurn.from_dict(json.loads(json.dumps(t.to_dict()))) == t
            n_calls += bool(t.tool_calls)
        n_turns += len(turns)
        # lifecycle at the end of the dialogue
        conv.transition_to("inactive_user_terminated", reason="goodbye")
        conv.transition_to("archived")
    assert n_turns > 200 and n_calls > 0


def test_sgd_turn_becomes_session_message_with_intent_in_extra_data() -> None:
    (dialogue,) = read_jsonl("task_oriented/sgd_train_sample.jsonl.gz", 1)
    conv, turns = sgd_to_faces(dialogue)
    session = AgentSession.from_record(conv.to_record())
    assert (session.id, session.user_id, session.status) == (
        conv.conversation_id,
        "sgd-user",
        ConversationStatus.ACTIVE,
    )
    assert session.metadata == conv.metadata and session.created_at == conv.start_timestamp
    user_turn = next(t for t in turns if t.intent)
    msg = SessionMessage.from_record(user_turn.to_record())
    assert msg.session_id == session.id and msg.role is MessageRole.USER and msg.content == user_turn.text
    assert msg.extra_data_value == {"intent": user_turn.intent, "slots": user_turn.slots}
    assert json.loads(msg.extra_data) == msg.extra_data_value  # the seed's JSON text
    # and back: the session message's extra_data gives the turn its intent and slots again
    assert ConversationTurn.from_record(msg.to_record()) == user_turn.model_copy(update={"sender": None})
    # AgentSession → record → Conversation keeps the shared fields
    back = Conversation.from_record(session.to_record())
    assert (back.conversation_id, back.user_id, back.status, back.metadata) == (
        conv.conversation_id, conv.user_id, conv.status, conv.metadata,
    )  # fmt: skip


# -- ChatDev multi-agent log → ConversationSession + AgentCommunicationMessages ----------------
_BLOCK = re.compile(
    r"^\[(?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) INFO\] (?:\x1b)?(?:\[\d+m)?AI (?:User|Assistant) "
    r"\((?P<role>[^)]+)\):\n\n(?P<text>.*?)(?=^\[\d{4}-\d{2}-\d{2} |\Z)",
    re.M | re.S,
)


def chatdev_blocks(log: str) -> list[tuple[datetime, str, str]]:
    out = []
    for m in _BLOCK.finditer(log):
        text = m["text"].strip()
        if text:  # the log's odd date format is YYYY-DD-MM
            out.append((datetime.strptime(m["ts"], "%Y-%d-%m %H:%M:%S"), m["role"], text))
    return out


def slug(role: str) -> str:
    return role.lower().replace(" ", "_")


def test_chatdev_phase_as_agent_session_and_messages() -> None:
    (rec,) = read_jsonl(
        "multi_agent/chatdev_warehouse_logs.jsonl.gz", 1, lambda r: len(chatdev_blocks(r["log"])) >= 6
    )
    blocks = chatdev_blocks(rec["log"])
    roles = list(dict.fromkeys(role for _, role, _ in blocks))
    assert len(roles) >= 2
    agents = [ConversationParticipant(f"agent_{slug(r)}", "agent", slug(r)) for r in roles]
    session = ConversationSession(
        rec["project"],
        [ConversationParticipant("chat_chain", "master_controller"), *agents],
        "agent_to_agent",
        blocks[0][0],
        blocks[-1][0],
        {"source": rec["_source_path"]},
    )
    key = session.generate_session_key()
    assert key == f"{rec['project']}_{slug(roles[0])}_to_{slug(roles[1])}"
    assert ConversationSession.from_record(session.to_record()) == session
    by_role = {r: a for r, a in zip(roles, agents, strict=True)}
    messages = []
    for i, (ts, role, text) in enumerate(blocks):
        other = next(r for _, r, _ in blocks[i + 1 :] + blocks[i::-1] if r != role)
        sender, recipient = by_role[role], by_role[other]
        messages.append(
            AgentCommunicationMessage(
                "",
                key,
                sender.participant_id,
                "agent",
                sender.participant_role,
                recipient.participant_id,
                "agent",
                recipient.participant_role,
                text,
                "communication",
                ts,
            )  # fmt: skip
        )
    assert len({m.message_id for m in messages}) == len(messages)  # empty ids got fresh UUIDs
    assert all(m.timestamp.tzinfo is UTC for m in messages)
    for m in messages:
        assert m.to_conversation_message_dict()["role"] == f"agent_{m.sender_role}"
        record = m.to_record()
        assert AgentCommunicationMessage.from_record(record) == m
        assert AgentCommunicationMessage.from_dict(json.loads(json.dumps(m.to_dict()))) == m
        # the same stored message seen through the chat faces
        chat = ChatMessage.from_record(record, session_id=session.session_id)
        assert (chat.sender, chat.recipient, chat.content) == (m.sender_id, m.recipient_id, m.content)
        assert SessionMessage.from_record(record, session_id="s").role is MessageRole.ASSISTANT
        # a foreign record (no face extras) is resolved through the session's participants
        stripped = record.model_copy(update={"metadata": {}})
        assert AgentCommunicationMessage.from_record(stripped, key, session.participants) == m
    # the session seen as a ChatSession: participant ids, times carry over
    chat_session = ChatSession.from_record(session.to_record())
    assert chat_session.participants == [p.participant_id for p in session.participants]
    assert chat_session.last_activity_utc == session.last_activity  # epoch seconds, the seed's float
    assert chat_session.last_activity == session.last_activity.timestamp()


# -- BYU chitchat (real per-message timestamps) → ChatSession + ChatMessages --------------------
def test_chitchat_conversations_as_chat_sessions() -> None:
    convs = read_jsonl("open_domain/chitchat_byu_ccc.jsonl.gz", 5)
    for conv in convs:
        flat = [m for turn in conv["messages"] for m in turn]
        senders = list(dict.fromkeys(m["sender"] for m in flat))
        # the record's "start" is not comparable with its messages' times (it is often hours
        # after the last one), so the session starts at its first message
        session = ChatSession(conv["conversation_id"], senders, flat[0]["timestamp"], flat[0]["timestamp"])
        messages = []
        for i, m in enumerate(flat):
            other = next((s for s in senders if s != m["sender"]), "All")
            msg = ChatMessage(
                f"{conv['conversation_id']}-{i}",
                m["sender"],
                other,
                m["text"],
                m["timestamp"],
                session.session_id,
            )
            session.add_message(msg)
            messages.append(msg)
        assert session.message_count == len(flat)
        assert session.last_activity == max(msg.timestamp for msg in messages)
        # the seed's float epoch seconds; the ISO text of the data converts exactly
        assert all(isinstance(msg.timestamp, float) for msg in messages)
        assert all(msg.timestamp_utc.tzinfo is UTC for msg in messages)
        assert ChatSession.from_dict(json.loads(json.dumps(session.to_seed_dict()))) == session
        assert ChatSession.from_record(session.to_record()) == session
        for msg in messages:
            assert ChatMessage.from_record(msg.to_record()) == msg
            assert ChatMessage.from_dict(msg.to_seed_dict()) == msg  # float epoch round trip
            turn = ConversationTurn.from_record(msg.to_record(), conversation_id="c")
            expected = (MessageRole.USER, msg.content, msg.timestamp_utc)
            assert (turn.speaker, turn.text, turn.timestamp) == expected
        # a chat session has no session_type: it cannot be seen as a ConversationSession
        with pytest.raises(ValueError, match="no session_type"):
            ConversationSession.from_record(session.to_record())
        as_agent_session = AgentSession.from_record(session.to_record())
        assert as_agent_session.session_id == session.session_id
        assert as_agent_session.message_count == session.message_count
