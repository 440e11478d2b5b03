"""AgentSession, SessionMessage, MessageRole and SessionState (agent-session-management seed)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from convoledger import (
    AgentSession,
    ConversationKind,
    ConversationStatus,
    InvalidTransition,
    MessageRecord,
    MessageRole,
    SessionMessage,
    SessionState,
)
from convoledger.models.status import ALLOWED_TRANSITIONS

T0 = datetime(2024, 12, 13, 14, 30, tzinfo=UTC)

# the seed's "Example Session Creation" payload
SEED_SESSION = {
    "session_id": "session_user123_20241213_143000",
    "session_name": "Task Planning Discussion",
    "description": "Discussion about weekly task planning",
    "agent_name": "TodoAssistant",
    "agent_instructions": "You are a helpful todo assistant.",
    "is_active": True,
}


# -- MessageRole / SessionState ------------------------------------------------------------------
def test_message_roles() -> None:
    assert [r.value for r in MessageRole] == ["user", "assistant", "system", "tool"]
    assert MessageRole("tool") is MessageRole.TOOL and MessageRole.USER.value == "user"


def test_session_state_seed_table() -> None:
    assert SessionState.TRANSITIONS == {
        "active": ["inactive", "terminated"],
        "inactive": ["active", "terminated"],
        "terminated": [],
    }
    sm = SessionState()  # the seed calls it on an instance
    assert sm.can_transition("active", "inactive") and sm.can_transition("inactive", "active")
    assert sm.can_transition("inactive", "terminated")
    assert not sm.can_transition("terminated", "active") and not sm.can_transition("active", "active")
    assert not sm.can_transition("paused", "active") and not sm.can_transition("active", "paused")


def test_session_state_follows_the_ledger_table() -> None:
    """No second table: changing what the ledger allows changes SessionState too."""
    for s in SessionState.STATES:
        for t in SessionState.STATES:
            ledger_ok = SessionState.to_status(t) in ALLOWED_TRANSITIONS[SessionState.to_status(s)]
            assert SessionState.can_transition(s, t) == ledger_ok


def test_session_state_mapping() -> None:
    assert SessionState.to_status("terminated") is ConversationStatus.INACTIVE_USER_TERMINATED
    with pytest.raises(ValueError, match="unknown session state"):
        SessionState.to_status("paused")
    assert [SessionState.from_status(s) for s in ConversationStatus] == [
        "active", "inactive", "terminated", "terminated", "terminated", "terminated",
    ]  # fmt: skip


# -- AgentSession ------------------------------------------------------------------------------
def test_seed_creation_payload() -> None:
    s = AgentSession(**SEED_SESSION, user_id=uuid.UUID(int=7))
    assert s.name == s.session_name == "Task Planning Discussion"
    assert s.status is ConversationStatus.ACTIVE and s.is_active and s.state == "active"
    assert s.user_id == "00000000-0000-0000-0000-000000000007"
    assert uuid.UUID(s.id).version == 4 and s.message_count == 0 and s.metadata == {}


def test_is_active_input_and_conflicts() -> None:
    assert AgentSession(session_id="s", is_active=False).status is ConversationStatus.INACTIVE
    assert AgentSession(session_id="s", is_active=True, status="active").is_active
    with pytest.raises(ValueError, match="contradicts"):
        AgentSession(session_id="s", is_active=True, status="inactive")
    with pytest.raises(ValueError, match="is_active must be true or false"):
        AgentSession(session_id="s", is_active="yes")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("session_id", ""),
        ("session_id", "x" * 256),
        ("name", "x" * 256),
        ("description", "x" * 1001),
        ("agent_name", "x" * 256),
        ("message_count", -1),
        ("id", "not-a-uuid"),
        ("status", "paused"),
        ("metadata", {"k": {1, 2}}),
    ],
)
def test_agent_session_limits(field: str, value: Any) -> None:
    kwargs: dict[str, Any] = {"session_id": "s", field: value}
    with pytest.raises(ValueError):
        AgentSession(**kwargs)


def test_activate_deactivate_and_lifecycle() -> None:
    s = AgentSession(session_id="s")
    assert s.activate() is None  # already active
    ev = s.deactivate("user left")
    assert ev is not None and (ev.from_status, ev.to_status, ev.reason) == ("active", "inactive", "user left")
    assert s.updated_at == ev.at and not s.is_active and s.deactivate() is None
    s.is_active = True
    assert s.status is ConversationStatus.ACTIVE
    with pytest.raises(InvalidTransition):
        s.transition_to("archived")
    s.transition_to("inactive_system_terminated", reason="task done")
    with pytest.raises(InvalidTransition):
        s.is_active = True  # a terminated session cannot be reactivated
    with pytest.raises(InvalidTransition):
        s.status = ConversationStatus.ACTIVE
    s.transition_to("archived")
    assert s.state == "terminated"


def test_session_name_setter() -> None:
    s = AgentSession(session_id="s")
    s.session_name = "Renamed"
    assert s.name == "Renamed"
    with pytest.raises(ValueError):
        s.session_name = "x" * 300


def test_agent_session_record_round_trip() -> None:
    s = AgentSession(
        **SEED_SESSION,
        user_id="u-1",
        metadata={"plan": "weekly"},
        created_at=T0,
        updated_at=T0,
        last_activity_at=T0,
    )
    rec = s.to_record("acct-9")
    assert rec.id == s.id and rec.owner_id == "acct-9" and rec.kind is ConversationKind.AGENT_SESSION
    assert (rec.session_id, rec.name, rec.agent_name) == (
        "session_user123_20241213_143000", "Task Planning Discussion", "TodoAssistant",
    )  # fmt: skip
    assert rec.status is ConversationStatus.ACTIVE and rec.is_active
    assert [p.participant_id for p in rec.participants] == ["u-1"]
    assert rec.metadata == {"plan": "weekly"}
    assert AgentSession.from_record(rec) == s


def test_agent_session_dict_is_a_superset_of_the_seed_export() -> None:
    s = AgentSession(**SEED_SESSION, created_at=T0, updated_at=T0, last_activity_at=T0)
    d = s.to_dict()
    seed_export_keys = {
        "id", "session_id", "session_name", "description", "is_active", "agent_name",
        "agent_instructions", "created_at", "updated_at",
    }  # fmt: skip
    assert seed_export_keys <= set(d) and d["schema_version"] == "1.1"
    assert d["created_at"] == "2024-12-13T14:30:00+00:00" and d["is_active"] is True
    assert AgentSession.from_dict(d) == s
    # the seed's own export object (no status, no schema_version) loads too
    seed_export = {k: d[k] for k in seed_export_keys} | {"is_active": False}
    back = AgentSession.from_dict(seed_export)
    assert back.status is ConversationStatus.INACTIVE and back.name == "Task Planning Discussion"


# -- SessionMessage ----------------------------------------------------------------------------
def test_extra_data_is_the_seeds_json_text() -> None:
    """Seed §2: extra_data is Text holding JSON; §7 reads it with json.loads(message.extra_data)."""
    m = SessionMessage(
        session_id="sess", role="tool", content="42", tool_call_id="call_1", extra_data='{"rows": [1, 2]}'
    )
    assert m.extra_data == '{"rows": [1, 2]}' and json.loads(m.extra_data) == {"rows": [1, 2]}
    assert m.extra_data_value == {"rows": [1, 2]}
    # a caller passing a dict (convoledger's earlier API) still works; it reads back as JSON text
    as_dict = SessionMessage(session_id="sess", role="user", content="x", extra_data={"a": 1})
    assert as_dict.extra_data == '{"a": 1}' and as_dict.extra_data_value == {"a": 1}
    text = SessionMessage(session_id="sess", role="user", content="x", extra_data='"text"')
    assert text.extra_data == '"text"' and text.extra_data_value == "text"
    compact = SessionMessage(session_id="sess", role="user", content="x", extra_data='{"k":"v"}')
    assert compact.extra_data == '{"k": "v"}'  # kept in json.dumps' canonical form
    for empty in (None, "", "null"):
        none = SessionMessage(session_id="sess", role="user", content="x", extra_data=empty)
        assert none.extra_data is None and none.extra_data_value is None
    with pytest.raises(ValueError, match="extra_data is a string but not valid JSON"):
        SessionMessage(session_id="sess", role="user", content="x", extra_data="{not json")
    with pytest.raises(ValueError, match="not a JSON value"):
        SessionMessage(session_id="sess", role="user", content="x", extra_data={"when": datetime.now(UTC)})
    m.extra_data = [1, 2]  # assignment is validated too
    assert m.extra_data == "[1, 2]"


def test_session_message_rules() -> None:
    with pytest.raises(ValueError):
        SessionMessage(session_id="sess", role="narrator", content="x")
    with pytest.raises(ValueError, match="content cannot be empty for a message with role 'user'"):
        SessionMessage(session_id="sess", role="user", content="")
    with pytest.raises(ValueError, match="content cannot be empty for a message with role 'assistant'"):
        SessionMessage(session_id="sess", role="assistant", content="")
    call = [{"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]
    assert SessionMessage(session_id="sess", role="assistant", tool_calls=call).content == ""
    with pytest.raises(ValueError):
        SessionMessage(session_id="sess", role="tool", content="x", tool_name="t" * 256)
    with pytest.raises(ValueError):
        SessionMessage(session_id="", role="user", content="x")


def test_session_message_record_round_trip() -> None:
    s = AgentSession(session_id="ext-1")
    m = SessionMessage(
        session_id=s.id,
        role="tool",
        content='{"status": "ok"}',
        tool_call_id="call_9",
        tool_name="get_todo",
        extra_data=json.dumps("a plain string value"),
        created_at=T0,
    )
    rec = m.to_record()
    assert isinstance(rec, MessageRecord)
    assert (rec.conversation_id, rec.role, rec.tool_call_id, rec.tool_name) == (
        s.id,
        "tool",
        "call_9",
        "get_todo",
    )
    assert rec.extra_data == "a plain string value"  # a JSON value in the record, not JSON text
    back = SessionMessage.from_record(rec)
    assert back == m and back.extra_data == '"a plain string value"'
    assert back.extra_data_value == "a plain string value"


def test_session_message_dict_round_trip_and_seed_export() -> None:
    m = SessionMessage(
        session_id="sess",
        role="assistant",
        content="Done",
        extra_data='{"todo_id": 5}',
        created_at=T0,
        updated_at=T0,
    )
    d = m.to_dict()
    assert d["extra_data"] == {"todo_id": 5} and d["role"] == "assistant"
    assert SessionMessage.from_dict(d) == m
    seed_export = {
        k: d[k]
        for k in (
            "id",
            "role",
            "content",
            "tool_call_id",
            "tool_name",
            "extra_data",
            "created_at",
            "updated_at",
        )
    }
    back = SessionMessage.from_dict(seed_export, session_id="sess")
    assert back == m
    s = SessionMessage(session_id="sess", role="user", content="hi", extra_data='"x"')
    assert SessionMessage.from_dict(s.to_dict()) == s  # a JSON-string value survives the dict trip


def test_session_message_from_agent_record() -> None:
    rec = MessageRecord(conversation_id="c", role="master_controller", content="start", sender="mc")
    assert SessionMessage.from_record(rec).role is MessageRole.ASSISTANT
    with pytest.raises(ValueError, match="not a chat role"):
        SessionMessage.from_record(MessageRecord(conversation_id="c", role="narrator", content="x"))
