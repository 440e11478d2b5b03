"""``--map``: TOML + JMESPath mappings, on the two worked examples of the README (files in
``docs/mappings``) over real data, and the errors a mapping file can have."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from importer_helpers import records_at, split

from convoledger.importers import parse
from convoledger.importers.mapping import load_mapping, mapping_from_dict, parse_mapped

DOCS = Path(__file__).resolve().parents[2] / "docs" / "mappings"
TAU = "tool_calling/tau_bench_gpt4o_airline_trajectories.jsonl.gz"
CCC = "open_domain/chitchat_byu_ccc.jsonl.gz"


def test_worked_example_tau_bench_keeps_tool_calls_linked(data_dir: Path) -> None:
    mapping = load_mapping(DOCS / "tau_bench_trajectories.toml")
    records = records_at(data_dir / TAU, {1, 2})
    mapped, errors = split(parse_mapped(records, mapping, owner_id="me"))
    builtin, _ = split(parse("openai", records, owner_id="me"))
    assert errors == [] and len(mapped) == 2
    m, b = mapped[0], builtin[0]
    assert m.conversation.session_id == "tau-airline:0:0"
    assert m.conversation.current_goal["instruction"] == b.conversation.current_goal["instruction"]
    assert m.conversation.metadata["reward"] == records[0][1]["reward"]
    # the same messages, tool calls and links as the built-in importer
    assert [(x.role, x.content, x.tool_calls, x.tool_call_id, x.tool_name) for x in m.messages] == [
        (x.role, x.content, x.tool_calls, x.tool_call_id, x.tool_name) for x in b.messages
    ]


def test_worked_example_chitchat_keeps_times_and_senders(data_dir: Path) -> None:
    mapping = load_mapping(DOCS / "chitchat.toml")
    records = records_at(data_dir / CCC, {1})
    [m], errors = split(parse_mapped(records, mapping, owner_id="me"))
    [b], _ = split(parse("chitchat", records, owner_id="me"))
    assert errors == [] and m.conversation.kind.value == "chat_session"
    assert [(x.content, x.sender, x.created_at) for x in m.messages] == [
        (x.content, x.sender, x.created_at) for x in b.messages
    ]
    assert m.conversation.created_at == b.conversation.created_at
    assert {p.participant_id for p in m.conversation.participants} == {x.sender for x in b.messages}


def test_role_value_map(data_dir: Path) -> None:
    mapping = mapping_from_dict(
        {
            "name": "sg",
            "conversation": {"messages": "conversations", "id": "id"},
            "message": {"role": '"from"', "content": "value"},
            "roles": {"human": "user", "gpt": "assistant"},
        }
    )
    records = records_at(data_dir / "assistant_chat/fastchat_dummy_sharegpt.jsonl.gz", {1})
    [conv], _ = split(parse_mapped(records, mapping))
    assert [x.role for x in conv.messages] == ["user", "assistant", "user", "assistant"]
    bad = json.loads(json.dumps(records[0][1]))
    bad["conversations"][0]["from"] = "system"
    _, errors = split(parse_mapped([(7, bad)], mapping))
    assert errors[0].line == 7 and "'system' is not in the mapping's [roles]" in errors[0].reason


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = ", "not valid TOML"),
        ('[conversation]\nmessages = "a"\n[message]\nrole = "r"', "needs content"),
        ('[conversation]\nid = "a"\n[message]\nrole = "r"\ncontent = "c"', "needs messages"),
        ('[conversation]\nmessages = "a[" \n[message]\nrole = "r"\ncontent = "c"', "not valid JMESPath"),
        (
            '[conversation]\nmessages = "a"\ncolour = "x"\n[message]\nrole = "r"\ncontent = "c"',
            "unknown keys",
        ),
        ('[conversation]\nmessages = "a"\nkind = "x"\n[message]\nrole = "r"\ncontent = "c"', "kind must be"),
    ],
)
def test_mapping_file_errors_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_mapping(path)


def test_records_the_mapping_cannot_read_are_reported() -> None:
    mapping = mapping_from_dict(
        {"conversation": {"messages": "msgs"}, "message": {"role": "r", "content": "c", "time": "t"}}
    )
    _, errors = split(
        parse_mapped(
            [
                (1, {"msgs": "not a list"}),
                (2, {"msgs": [{"r": "user", "c": 5}]}),
                (3, {"msgs": [{"r": "user", "c": "x", "t": "yesterday"}]}),
                (4, {"msgs": [{"r": None, "c": "x"}]}),
            ],
            mapping,
        )
    )
    assert [e.line for e in errors] == [1, 2, 3, 4]
