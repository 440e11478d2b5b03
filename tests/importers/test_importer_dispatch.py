"""parse() dispatch, detect_format(), and deterministic ids (importing twice adds nothing)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from importer_helpers import records_at, split

from convoledger.importers import FORMATS, conversation_uuid, detect_format, message_uuid, parse

FILES = {
    "sgd": "task_oriented/sgd_train_sample.jsonl.gz",
    "chitchat": "open_domain/chitchat_byu_ccc.jsonl.gz",
    "oasst": "assistant_chat/oasst_en_100_tree.jsonl.gz",
    "sharegpt": "assistant_chat/fastchat_dummy_sharegpt.jsonl.gz",
    "openai": "tool_calling/tau_bench_gpt4o_airline_trajectories.jsonl.gz",
    "chatdev": "multi_agent/chatdev_warehouse_logs.jsonl.gz",
    "dialogstudio": "task_oriented/dialogstudio_tod_examples.jsonl.gz",
    "bfcl": "tool_calling/bfcl_v4_multi_turn.jsonl.gz",
    "tooltalk": "tool_calling/tooltalk.jsonl.gz",
    "swe-agent": "tool_calling/swe_agent_trajectories.jsonl.gz",
    "tau-bench-few-shot": "tool_calling/tau_bench_few_shot_MockRetailDomainEnv.jsonl.gz",
}
#: Formats whose files need the whole file (flat trees) or hold no conversations.
WHOLE_FILES = {
    "oasst-flat": "assistant_chat/oasst_backend_realistic_seed_data.json.gz",
    "sgd-schema": "task_oriented/sgd_schema_train.json.gz",
    "bfcl-functions": "tool_calling/bfcl_v4_multi_turn_func_doc.json.gz",
}
#: Formats of public shapes with no file in the shared folder (tested on their own records).
NO_SHARED_FILE = {"hh-rlhf", "topical-chat", "toolbench", "bundle"}


def test_unknown_format_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown import format 'csv'") as info:
        parse("csv", [])
    for name in ("openai", "sharegpt", "sgd", "chitchat", "oasst", "chatdev"):
        assert name in str(info.value)
    assert set(FORMATS) == set(FILES) | set(WHOLE_FILES) | NO_SHARED_FILE


@pytest.mark.parametrize("fmt", sorted(FILES) + sorted(WHOLE_FILES))
def test_detect_format_on_real_records(data_dir: Path, fmt: str) -> None:
    [(_, record)] = records_at(data_dir / {**FILES, **WHOLE_FILES}[fmt], {1})
    assert detect_format(record) == fmt


def test_detect_format_rejects_unknown_shapes() -> None:
    assert detect_format({"hello": 1}) is None
    assert detect_format([1, 2]) is None
    assert detect_format({"messages": []}) is None


@pytest.mark.parametrize("fmt", sorted(FILES))
def test_ids_are_deterministic(data_dir: Path, fmt: str) -> None:
    records = records_at(data_dir / FILES[fmt], {2, 3, 4})
    first, _ = split(parse(fmt, records, owner_id="acme", imported_at=datetime(2024, 1, 1, tzinfo=UTC)))
    again, _ = split(parse(fmt, records, owner_id="acme", imported_at=datetime(2025, 6, 1, tzinfo=UTC)))
    other, _ = split(parse(fmt, records, owner_id="globex"))
    assert first
    ids = [(c.conversation.id, c.conversation.session_id, [m.id for m in c.messages]) for c in first]
    assert ids == [(c.conversation.id, c.conversation.session_id, [m.id for m in c.messages]) for c in again]
    for conv in first:
        c = conv.conversation
        assert c.session_id.startswith(f"{fmt}:") or (
            fmt == "openai" and c.session_id.startswith("tau-bench:")
        )
        assert c.id == conversation_uuid("acme", c.session_id)
        assert [m.id for m in conv.messages] == [message_uuid(c.id, i) for i in range(len(conv.messages))]
        assert all(m.conversation_id == c.id for m in conv.messages)
        assert uuid.UUID(c.id).version == 5
    # another account importing the same file gets its own ids (conversation ids are global)
    assert {c.conversation.session_id for c in other} == {c.conversation.session_id for c in first}
    assert not {c.conversation.id for c in other} & {c.conversation.id for c in first}


def test_empty_owner_is_refused_before_reading() -> None:
    def never() -> object:
        raise AssertionError("records must not be read")
        yield  # pragma: no cover

    with pytest.raises(ValueError, match="owner_id"):
        parse("sgd", never(), owner_id=" ")  # type: ignore[arg-type]
