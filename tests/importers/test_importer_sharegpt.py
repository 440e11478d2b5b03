"""ShareGPT importer on the FastChat dummy conversations and on malformed input."""

from __future__ import annotations

from pathlib import Path

from importer_helpers import split

from convoledger.importers import open_records, parse_sharegpt

SHAREGPT = "assistant_chat/fastchat_dummy_sharegpt.jsonl.gz"


def test_fastchat_file(data_dir: Path) -> None:
    convs, errors = split(parse_sharegpt(open_records(data_dir / SHAREGPT)))
    # README: 500 conversations / 2,000 turns
    assert errors == [] and len(convs) == 500
    assert sum(len(c.messages) for c in convs) == 2000
    first = convs[0]
    assert first.conversation.session_id.startswith("sharegpt:identity_0:")
    assert [m.role for m in first.messages] == ["user", "assistant", "user", "assistant"]
    assert first.messages[0].content == "Who are you?"
    assert first.messages[1].content.startswith("I am Vicuna, a language model trained by researchers from")
    assert first.messages[1].metadata["from"] == "gpt" and first.messages[1].sender == "assistant"
    assert len({c.conversation.session_id for c in convs}) == 500


def test_system_and_tool_speakers() -> None:
    rec = {
        "id": "t1",
        "system": "You are terse.",
        "conversations": [
            {"from": "human", "value": "2+2?"},
            {"from": "function_call", "value": '{"name": "add"}'},
            {"from": "observation", "value": "4"},
            {"from": "gpt", "value": "4"},
        ],
    }
    [conv], _ = split(parse_sharegpt([(1, rec)]))
    assert [m.role for m in conv.messages] == ["system", "user", "assistant", "tool", "assistant"]
    assert conv.messages[0].content == "You are terse."


def test_malformed_records() -> None:
    good = {"id": "g", "conversations": [{"from": "human", "value": "hi"}]}
    records = [
        (1, {"id": "a", "conversations": [{"from": "alien", "value": "x"}]}),
        (2, good),
        (3, {"id": "b", "conversations": [{"from": "human", "value": 5}]}),
        (4, {"id": "c", "conversations": []}),
        (5, {"id": "d"}),
    ]
    convs, errors = split(parse_sharegpt(records))
    assert [c.source_line for c in convs] == [2]
    assert [e.line for e in errors] == [1, 3, 4, 5]
    assert "alien" in errors[0].reason
    assert "conversations[0].value" in errors[1].reason
    assert "empty" in errors[2].reason
