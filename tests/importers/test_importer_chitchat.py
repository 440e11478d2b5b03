"""Chit-chat importer: real per-message timestamps, two speakers, malformed input."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from importer_helpers import records_at, split

from convoledger.importers import open_records, parse_chitchat

CHITCHAT = "open_domain/chitchat_byu_ccc.jsonl.gz"
SPEAKER_A = "720840be-e522-47ba-9e9f-143f66372673"
SPEAKER_B = "549cc1d1-270e-4a53-b561-133a8d0086b4"


@pytest.fixture(scope="module")
def first_record(data_dir: Path) -> tuple[int, dict]:
    [pair] = records_at(data_dir / CHITCHAT, {1})
    return pair


def test_first_conversation_keeps_every_message_and_its_time(first_record: tuple[int, dict]) -> None:
    line, rec = first_record
    [conv], errors = split(parse_chitchat([first_record]))
    assert errors == []
    c = conv.conversation
    assert c.kind == "chat_session"
    assert c.session_id == "chitchat:a07edb12-6b91-4138-b11e-02421888d699"
    assert c.topic == "What's one thing your best friend doesn't know about you?"
    assert [p.participant_id for p in c.participants] == [SPEAKER_A, SPEAKER_B]
    assert {p.participant_type for p in c.participants} == {"user"}
    # 35 speaker turns, 63 messages in all
    assert len(rec["messages"]) == 35 == c.metadata["speaker_turns"]
    assert len(conv.messages) == 63 == sum(len(turn) for turn in rec["messages"])
    m0, m1, m2 = conv.messages[:3]
    assert (m0.content, m0.sender, m0.recipient) == ("Hello", SPEAKER_A, SPEAKER_B)
    assert m0.created_at == datetime(2018, 5, 2, 19, 38, 15, tzinfo=UTC)
    assert m1.content == "How are you doing today?" and m1.created_at == datetime(
        2018, 5, 2, 19, 38, 20, tzinfo=UTC
    )
    assert (m2.content, m2.sender, m2.recipient) == ("whats up MD", SPEAKER_B, SPEAKER_A)
    assert (m0.metadata["turn"], m1.metadata["turn"], m2.metadata["turn"]) == (0, 0, 1)
    assert m1.metadata["index_in_turn"] == 1
    # every timestamp is the source's own
    flat = [msg for turn in rec["messages"] for msg in turn]
    assert [m.created_at.strftime("%Y-%m-%dT%H:%M:%SZ") for m in conv.messages] == [
        m["timestamp"] for m in flat
    ]
    assert conv.messages[-1].content == "Hope you have a good day!"
    assert c.last_activity_at == datetime(2018, 5, 2, 20, 31, 4, tzinfo=UTC)
    assert c.metadata["ratings"] == {"witty": 10, "upbeat": 10, "interesting": 10}


def test_whole_file_imports(data_dir: Path) -> None:
    convs, errors = 0, 0
    messages = 0
    for result in parse_chitchat(open_records(data_dir / CHITCHAT)):
        if hasattr(result, "messages"):
            convs += 1
            messages += len(result.messages)
        else:
            errors += 1
    # README: 7,168 conversations / 258,145 messages
    assert (convs, messages, errors) == (7168, 258_145, 0)


def test_malformed_records(first_record: tuple[int, dict], tmp_path: Path) -> None:
    _, rec = first_record
    bad_time = copy.deepcopy(rec)
    bad_time["conversation_id"] = "bad-time"
    bad_time["messages"][3][0]["timestamp"] = "yesterday"
    no_sender = copy.deepcopy(rec)
    no_sender["conversation_id"] = "no-sender"
    del no_sender["messages"][0][1]["sender"]
    flat_messages = copy.deepcopy(rec)
    flat_messages["conversation_id"] = "flat"
    flat_messages["messages"] = [m for turn in rec["messages"] for m in turn]
    lines = [json.dumps(bad_time), json.dumps(rec), json.dumps(no_sender), "[1, 2", json.dumps(flat_messages)]
    path = tmp_path / "chitchat.jsonl"
    path.write_text("\n".join(lines) + "\n")
    convs, errors = split(parse_chitchat(open_records(path)))
    assert [c.source_line for c in convs] == [2]
    assert [e.line for e in errors] == [1, 3, 4, 5]
    assert "messages[3][0].timestamp" in errors[0].reason
    assert "messages[0][1].sender" in errors[1].reason
    assert "JSON array" in errors[3].reason
