"""Seed 002 (agent session management) through the library: the seed's service calls, with its
names, signatures, examples and formulas, over ``convoledger.session_services`` on an in-memory
and a SQLite ledger."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from convoledger import Conflict, ConversationNotActive, InvalidTransition, Ledger, NotFound, open_ledger
from convoledger.models.records import MessageRecord
from convoledger.session_services import (
    AgentSessionCreate,
    ContextWindowManager,
    MessageRole,
    SessionMessage,
    SessionServices,
    SessionState,
    calculate_health_score,
    generate_recommendations,
)

TODO_SYSTEM_INSTRUCTIONS = "You are TodoAssistant. Help the user manage their todo list."
# section 3, "Example Session Creation" — verbatim
session_data = {
    "session_id": "session_user123_20241213_143000",
    "session_name": "Task Planning Discussion",
    "description": "Discussion about weekly task planning",
    "agent_name": "TodoAssistant",
    "agent_instructions": TODO_SYSTEM_INSTRUCTIONS,
    "is_active": True,
}


@dataclass
class User:
    """The seed's ``current_user``: anything with an ``id``."""

    id: uuid.UUID


@pytest.fixture(params=["memory", "sqlite"])
async def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Ledger]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'ledger.db'}"
    async with open_ledger(url, owner="todo-app") as opened:
        yield opened


@pytest.fixture
def services(ledger: Ledger) -> SessionServices:
    return SessionServices(ledger)


@pytest.fixture
def current_user() -> User:
    return User(id=uuid.uuid4())


# -- sections 1-5: models, creation, activation, deletion, state machine ----------------------
async def test_create_session_as_the_seed_calls_it(services: SessionServices, current_user: User) -> None:
    service = services.agent_session_service
    session = await service.create_session(current_user, session_data)
    assert session.session_name == "Task Planning Discussion" and session.is_active is True
    assert session.user_id == str(current_user.id) and uuid.UUID(session.id)
    again = await service.create_session(
        current_user, AgentSessionCreate(**{**session_data, "session_id": "s2"})
    )
    assert again.agent_instructions == TODO_SYSTEM_INSTRUCTIONS
    with pytest.raises(Conflict):
        await service.create_session(current_user, session_data)
    with pytest.raises(ValueError):
        AgentSessionCreate(**{**session_data, "unknown": 1})


async def test_activate_deactivate_and_ownership(services: SessionServices, current_user: User) -> None:
    service = services.agent_session_service
    session = await service.create_session(current_user, {**session_data, "is_active": False})
    sid = uuid.UUID(session.id)
    events = await services.ledger.lifecycle_events(session.id)
    assert [(e.from_status, e.to_status) for e in events] == [("active", "inactive")]
    stranger = uuid.uuid4()
    assert await service.activate_session(sid, stranger) is None
    assert await service.verify_session_ownership(sid, current_user.id) is True
    assert await service.verify_session_ownership(sid, stranger) is False
    activated = await service.activate_session(sid, current_user.id)
    assert activated is not None and activated.is_active
    assert (await service.activate_session(sid, current_user.id)).is_active  # type: ignore[union-attr]
    assert not (await service.deactivate_session(sid, current_user.id)).is_active  # type: ignore[union-attr]
    await services.ledger.terminate(session.id)
    with pytest.raises(InvalidTransition):  # the state machine ends at terminated
        await service.activate_session(sid, current_user.id)
    assert [s.id for s in await service.get_by_user(current_user.id)] == [session.id]
    assert await service.get_by_user(stranger) == []
    with pytest.raises(ValueError, match="Session not found"):
        await service.delete_session(sid, stranger)
    await service.delete_session(sid, current_user.id)
    with pytest.raises(NotFound):
        await service.get(sid)


async def test_session_state_and_transition_validation(services: SessionServices, current_user: User) -> None:
    state = SessionState()
    assert SessionState.TRANSITIONS == {
        SessionState.ACTIVE: [SessionState.INACTIVE, SessionState.TERMINATED],
        SessionState.INACTIVE: [SessionState.ACTIVE, SessionState.TERMINATED],
        SessionState.TERMINATED: [],
    }
    assert state.can_transition("active", "inactive") and not state.can_transition("terminated", "active")
    service = services.agent_session_service
    session = await service.create_session(current_user, session_data)
    assert await service.validate_session_state_transition(session, False) is True
    with pytest.raises(ValueError, match="Invalid state transition: active -> active"):
        await service.validate_session_state_transition(session, True)


async def test_patching_is_active_with_a_taken_session_id_writes_nothing(ledger: Ledger) -> None:
    from convoledger.models.records import ConversationRecord

    one = await ledger.create_conversation(ConversationRecord(owner_id="x", session_id="one"))
    await ledger.create_conversation(ConversationRecord(owner_id="x", session_id="two"))
    with pytest.raises(Conflict):
        await ledger.update_conversation(one, is_active=False, session_id="two")
    after = await ledger.resolve(one.id)
    assert after.is_active and after.session_id == "one" and await ledger.lifecycle_events(one) == []


# -- section 4 and 7: messages, context, memory -------------------------------------------------
async def test_messages_context_and_memory(services: SessionServices, current_user: User) -> None:
    session = await services.agent_session_service.create_session(current_user, session_data)
    sid = uuid.UUID(session.id)
    messages = services.message_service
    first = await messages.create_message(sid, MessageRole.USER, "Add task: Review project documentation")
    assert first.seq == 1 and first.extra_data is None
    for i in range(11):
        await messages.create_message(sid, "assistant" if i % 2 else "USER", f"turn {i}", extra_data=None)
    tool = await messages.create_message(
        sid,
        MessageRole.TOOL,
        "created",
        tool_call_id="call_7",
        tool_name="add_todo",
        extra_data='{"todo_id": 5}',
    )
    assert json.loads(tool.extra_data or "") == {"todo_id": 5}  # seed §7 reads it with json.loads
    assert await messages.get_session_message_count(sid) == 13
    recent = await messages.get_recent_messages(sid)  # limit=10, oldest first
    assert [m.content for m in recent] == [f"turn {i}" for i in range(2, 11)] + ["created"]
    assert all(isinstance(m, SessionMessage) and m.session_id == session.id for m in recent)
    context = await services.agent_session_service.load_conversation_context(sid, context_window=2)
    assert context == [
        {"role": "user", "content": "turn 10", "timestamp": recent[-2].created_at.isoformat(),
         "tool_call_id": None, "tool_name": None, "extra_data": None},
        {"role": "tool", "content": "created", "timestamp": tool.created_at.isoformat(),
         "tool_call_id": "call_7", "tool_name": "add_todo", "extra_data": {"todo_id": 5}},
    ]  # fmt: skip
    memory = services.memory_manager
    await memory.save_session_memory(sid, {"week": 50, "focus": ["docs"]})
    assert await memory.load_session_memory(sid) == {"session_context": {"week": 50, "focus": ["docs"]}}
    await services.agent_session_service.deactivate_session(sid, current_user.id)
    with pytest.raises(ConversationNotActive):
        await messages.create_message(sid, MessageRole.USER, "too late")


async def test_context_window_budget_and_tool_integrity(
    services: SessionServices, current_user: User
) -> None:
    session = await services.agent_session_service.create_session(current_user, session_data)
    ledger = services.ledger
    estimator = services.context_window_manager.token_estimator
    call = {"id": "c1", "type": "function", "function": {"name": "list_todos", "arguments": "{}"}}
    await ledger.append_batch(
        session.id,
        [
            MessageRecord(role="user", content="old question " * 20),
            MessageRecord(role="assistant", content="Let me look that up for you.", tool_calls=[call]),
            MessageRecord(role="tool", content="three todos", tool_call_id="c1"),
            MessageRecord(role="user", content="and now?"),
        ],
    )
    everything = await services.context_window_manager.get_optimal_context(session.id)
    assert len(everything) == 4  # 4000 tokens hold it all
    tail = estimator.estimate_tokens("three todos") + estimator.estimate_tokens("and now?")
    manager = ContextWindowManager(ledger, max_tokens=tail)
    window = await manager.get_optimal_context(session.id)
    # the seed's loop would keep the tool result without the call that made it: both go
    assert [m.content for m in window] == ["and now?"]
    roomy = ContextWindowManager(
        ledger, max_tokens=tail + estimator.estimate_tokens("Let me look that up for you.")
    )
    assert [m.role.value for m in await roomy.get_optimal_context(session.id)] == [
        "assistant",
        "tool",
        "user",
    ]
    assert await roomy.get_optimal_context(session.id, additional_tokens=10_000) == []


# -- section 8: access control -----------------------------------------------------------------
async def test_access_controller(services: SessionServices, current_user: User) -> None:
    session = await services.agent_session_service.create_session(current_user, session_data)
    msg = await services.message_service.create_message(session.id, MessageRole.USER, "hello")
    access = services.access_controller
    other = User(id=uuid.uuid4())
    assert await access.can_access_session(current_user, session.id, "write")
    assert not await access.can_access_session(other, session.id)
    assert await access.can_access_message(current_user, msg.id)
    assert await access.can_access_message(current_user, msg.id, session_id=session.id)
    assert not await access.can_access_message(other, msg.id)
    await services.agent_session_service.deactivate_session(session.id, current_user.id)
    assert not await access.can_access_session(current_user, session.id, "write")
    assert await access.can_access_message(current_user, msg.id, "read")
    with pytest.raises(NotFound):
        await access.can_access_message(current_user, str(uuid.uuid4()))


# -- section 9: statistics ---------------------------------------------------------------------
async def test_session_statistics(services: SessionServices, current_user: User) -> None:
    service = services.agent_session_service
    talked = await service.create_session(current_user, session_data)
    await service.create_session(current_user, {**session_data, "session_id": "quiet", "is_active": False})
    for text in ("a", "b", "c"):
        await services.message_service.create_message(talked.id, "user", text)
    other_user = User(id=uuid.uuid4())
    await service.create_session(other_user, {**session_data, "session_id": "someone else's"})
    expected = {
        "total_sessions": 2, "active_sessions": 1, "total_messages": 3,
        "average_messages_per_session": 1.5,
        "sessions_with_conversations": 1,  # the seed's expression would say 2 (see its docstring)
    }  # fmt: skip
    assert await services.analytics_service.get_session_statistics(current_user.id) == expected
    everyone = await services.analytics_service.get_session_statistics()
    assert (everyone["total_sessions"], everyone["sessions_with_conversations"]) == (3, 1)


# -- section 10: export, CSV, restore ----------------------------------------------------------
async def test_export_csv_and_restore(services: SessionServices, current_user: User) -> None:
    session = await services.agent_session_service.create_session(current_user, session_data)
    await services.message_service.create_message(
        session.id, "user", 'quote " and, comma', extra_data='{"k": 1}'
    )
    await services.message_service.create_message(session.id, "assistant", "Done.")
    backup = services.backup_service
    export_data = await backup.export_session_data(session.id)
    assert list(export_data["session"]) == [
        "id", "session_id", "session_name", "description", "is_active", "agent_name",
        "agent_instructions", "created_at", "updated_at",
    ]  # fmt: skip
    assert export_data["messages"][0]["extra_data"] == {"k": 1}
    text = await backup.export_session_data(session.id, format="csv")
    assert text == backup.convert_to_csv(export_data)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "message_id",
        "role",
        "content",
        "tool_call_id",
        "tool_name",
        "created_at",
        "updated_at",
    ]
    assert rows[1][1:5] == ["user", 'quote " and, comma', "", ""]
    with pytest.raises(ValueError, match="Unsupported export format: xml"):
        await backup.export_session_data(session.id, format="xml")
    recovery = services.recovery_service
    with pytest.raises(ValueError, match="already exists"):  # seed §10: same session_id
        await recovery.restore_session_from_backup(export_data, current_user.id)
    seed_backup = {
        "session": {**export_data["session"], "session_id": "restored"},
        "messages": export_data["messages"],
    }
    restored = await recovery.restore_session_from_backup(seed_backup, current_user.id)
    assert (
        restored.session_id == "restored"
        and restored.id != session.id
        and restored.user_id == str(current_user.id)
    )
    assert [m["content"] for m in (await backup.export_session_data(restored.id))["messages"]] == [
        'quote " and, comma', "Done.",
    ]  # fmt: skip


# -- section 13: health, session creation with context -----------------------------------------
class SeedSession:
    """The seed's own session object (only what its health functions read)."""

    def __init__(self, is_active: bool, agent_instructions: str | None = None) -> None:
        self.is_active = is_active
        self.agent_instructions = agent_instructions


@pytest.mark.parametrize(
    ("is_active", "message_count", "hours_inactive", "score"),
    [
        (True, 10, 0.5, 100.0),
        (False, 0, 0.0, 100.0 - 20 - 25),  # the example: 55
        (True, 5, 3.0, 100.0 - 3.0 * 2 - 10),
        (True, 2, 24.0, 100.0 - 24.0 * 2 - 20),  # up to 24 h: 2 points an hour
        (True, 2, 48.0, 100.0 - min(30, 48.0 / 24 * 10) - 20),  # over 24 h: the seed's other branch
        (False, 1, 24 * 30, 100.0 - 30 - 20 - 25),
    ],
)
def test_calculate_health_score_is_the_seeds_formula(
    is_active: bool, message_count: int, hours_inactive: float, score: float
) -> None:
    assert calculate_health_score(SeedSession(is_active), message_count, hours_inactive) == score


def test_generate_recommendations_are_the_seeds_texts() -> None:
    assert generate_recommendations(SeedSession(False, "x" * 10_001), 0, 0.5) == [
        "Consider reactivating this recently active session",
        "Session has minimal activity - consider engaging the agent",
        "Consider shortening agent instructions for better performance",
    ]
    assert generate_recommendations(SeedSession(True), 50, 30.0) == [
        "Consider deactivating or archiving this inactive session"
    ]
    assert generate_recommendations(SeedSession(True, "short"), 3, 2.0) == []


async def test_create_session_with_context_and_monitor_health(
    services: SessionServices, current_user: User
) -> None:
    session = await services.create_session_with_context(
        current_user, AgentSessionCreate(**{**session_data, "is_active": False}), {"goal": "plan the week"}
    )
    assert await services.memory_manager.load_session_memory(session.id) == {
        "session_context": {"goal": "plan the week"}
    }
    sid = uuid.UUID(session.id)
    health = await services.monitor_session_health(sid)
    assert health["session_id"] == sid and health["is_active"] is False and health["message_count"] == 0
    assert health["health_score"] == 55 and 0 <= health["hours_inactive"] < 0.1
    record = await services.ledger.resolve(session.id)  # a stored record works as the seed's session
    assert calculate_health_score(record, 0, health["hours_inactive"]) == 55
    messages: list[Any] = await services.get_session_messages_optimized(sid, limit=5)
    assert messages == []
