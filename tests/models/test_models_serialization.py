"""serialization: schema versions and migrations, JSON checks, the reserved face metadata key."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import pytest

from convoledger import SCHEMA_VERSION, ConversationParticipant
from convoledger.models.serialization import (
    FACE_KEY,
    check_json_object,
    check_json_value,
    face_extras,
    migrate,
    migrate_participant,
    parse_json_text,
    split_face_metadata,
    with_face_extras,
)


def test_schema_version_is_the_records_one() -> None:
    assert SCHEMA_VERSION == "1.1"


def test_migrate_versions() -> None:
    assert migrate({"a": 1})["schema_version"] == "1.1"  # missing = 1.0
    legacy = migrate(
        {"version": "1.0", "participants": [{"participant_id": "u", "participant_type": "user"}]}
    )
    assert "version" not in legacy and legacy["participants"][0]["metadata"] == {}
    current = {"schema_version": "1.1", "participants": [{"participant_id": "u"}]}
    assert "metadata" not in migrate(current)["participants"][0]  # 1.1 dicts are not touched
    for bad in ("2.0", "0.9", 1.1):
        with pytest.raises(ValueError):
            migrate({"schema_version": bad})
    for not_a_dict in (None, [], "x", 3):
        with pytest.raises(ValueError, match="expected a dict"):
            migrate(not_a_dict)


def test_migrate_does_not_modify_input() -> None:
    data: dict[str, Any] = {"participants": [{"id": "a", "type": "agent", "role": "w"}, "plain-id"]}
    out = migrate(data)
    assert data == {"participants": [{"id": "a", "type": "agent", "role": "w"}, "plain-id"]}
    assert out["participants"] == [
        {"participant_id": "a", "participant_type": "agent", "participant_role": "w", "metadata": {}},
        "plain-id",
    ]


def test_migrate_participant_keeps_new_names() -> None:
    d = migrate_participant({"participant_id": "p", "participant_type": "user", "id": "legacy"})
    assert d["participant_id"] == "p" and d["id"] == "legacy"
    p = ConversationParticipant.from_dict(
        {"version": "1.0", "participant_id": "p", "participant_type": "user"}
    )
    assert p.metadata == {}


@pytest.mark.parametrize(
    "value",
    [None, True, 0, -5, 1.5, "", "x", [], [1, "a", None], {}, {"a": {"b": [1, {"c": False}]}}],
)
def test_json_values_accepted(value: Any) -> None:
    assert check_json_value(value) is value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ((1, 2), "tuple"),
        ({1, 2}, "set"),
        (datetime(2024, 1, 1), "datetime"),
        (b"x", "bytes"),
        (math.nan, "not a JSON number"),
        (math.inf, "not a JSON number"),
        ({1: "a"}, "not a string"),
        ({"a": [object()]}, "value['a'][0]: not a JSON value"),
    ],
)
def test_json_values_refused(value: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        check_json_value(value)


def test_json_object() -> None:
    assert check_json_object({"a": 1}) == {"a": 1}
    with pytest.raises(ValueError, match="must be a JSON object"):
        check_json_object([1])


def test_parse_json_text() -> None:
    assert parse_json_text('{"a": [1]}', "extra_data") == {"a": [1]}
    with pytest.raises(ValueError, match="extra_data is a string but not valid JSON"):
        parse_json_text("{", "extra_data")


def test_face_extras() -> None:
    meta = with_face_extras({"k": 1}, "chat_message", {"session_id": "s"})
    assert meta == {"k": 1, FACE_KEY: {"face": "chat_message", "session_id": "s"}}
    assert split_face_metadata(meta, "chat_message") == ({"k": 1}, {"session_id": "s"})
    assert split_face_metadata(meta, "agent_session") == ({"k": 1}, {})  # another face's extras are dropped
    assert with_face_extras({"k": 1}, "x", {}) == {"k": 1}  # no extras, no key
    assert face_extras({FACE_KEY: "garbage"}, "x") == {}
    with pytest.raises(ValueError, match="reserved"):
        with_face_extras({FACE_KEY: 1}, "x", {})
