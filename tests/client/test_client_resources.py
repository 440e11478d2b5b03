"""``convoledger.client.Client`` against a real ``convoledger serve`` (SQLite and PostgreSQL):
every resource family, typed answers, and RFC 9457 errors raised as typed exceptions that are
also the library's own errors."""

from __future__ import annotations

import pytest
from client_helpers import as_message_in, tau_bench_trajectory, token_of
from pydantic import ValidationError

from convoledger import Conflict, ConversationNotActive, NotFound
from convoledger.api.schemas import MessageOut, SessionOut
from convoledger.client import (
    AuthenticationError,
    Client,
    ConflictError,
    InvalidRequestError,
    InvalidTransitionError,
    NotFoundError,
    SessionNotActiveError,
)
from convoledger.models.status import InvalidTransition
from serve_process import ServeProcess


def test_session_crud_and_lifecycle(api: Client) -> None:
    created = api.create_session(
        session_id="client-crud", name="Task Planning Discussion", agent_name="TodoAssistant"
    )
    assert isinstance(created, SessionOut)
    assert (created.session_id, created.name, created.status, created.is_active) == (
        "client-crud",
        "Task Planning Discussion",
        "active",
        True,
    )
    assert api.get_session("client-crud").id == created.id  # by session_id
    assert api.get_session(created.id).session_id == "client-crud"  # by id
    updated = api.update_session(created.id, description="weekly planning")
    assert updated.description == "weekly planning" and updated.name == "Task Planning Discussion"
    assert api.deactivate_session(created.id, reason="lunch").status == "inactive"
    assert api.activate_session(created.id).status == "active"
    moved = [(e.from_status, e.to_status, e.reason) for e in api.session_events(created.id).items]
    assert moved == [("active", "inactive", "lunch"), ("inactive", "active", None)]
    found = api.list_sessions(search="client-crud")
    assert [s.id for s in found.items] == [created.id] and found.total == 1
    assert created.id in {s.id for s in api.iter_sessions(page_size=1)}
    api.delete_session(created.id)
    with pytest.raises(NotFoundError):
        api.get_session(created.id)


def test_errors_are_typed_problems_and_library_errors(api: Client, served: ServeProcess) -> None:
    session = api.create_session(session_id="client-errors")
    with pytest.raises(ConflictError) as conflict:
        api.create_session(session_id="client-errors")
    assert isinstance(conflict.value, Conflict) and conflict.value.status == 409
    assert (
        conflict.value.type == "urn:convoledger:problem:conflict" and "client-errors" in conflict.value.detail
    )

    with pytest.raises(InvalidTransitionError) as illegal:
        api.transition_session(session.id, "archived")  # never active → archived
    assert isinstance(illegal.value, InvalidTransition) and illegal.value.slug == "invalid-transition"

    api.deactivate_session(session.id)
    with pytest.raises(SessionNotActiveError) as refused:
        api.append_message(session.id, role="user", content="hello?")
    assert isinstance(refused.value, ConversationNotActive)

    with pytest.raises(InvalidRequestError) as invalid:  # a server-side rule: page >= 1
        api.list_messages(session.id, page=0)
    assert isinstance(invalid.value, ValueError) and invalid.value.errors

    with pytest.raises(ValidationError):  # checked here, before sending: a tool result needs its call id
        api.append_message(session.id, role="tool", content="42")

    with Client(served.base_url, token_of(served, "b")) as other, pytest.raises(NotFoundError) as hidden:
        other.get_session(session.id)  # another account's session does not exist for it
    assert isinstance(hidden.value, NotFound)

    with Client(served.base_url, "clg_not-a-token") as stranger, pytest.raises(AuthenticationError) as denied:
        stranger.stats()
    assert denied.value.status == 401


def test_real_tool_calling_history_round_trips(api: Client) -> None:
    trajectory = tau_bench_trajectory(0)
    session = api.create_session(session_id="tau-bench-0")
    stored = api.append_messages(session.id, [as_message_in(m) for m in trajectory])
    assert [m.seq for m in stored] == list(range(1, len(trajectory) + 1))
    read = list(api.iter_messages(session.id, page_size=7))
    assert [m.model_dump() for m in read] == [m.model_dump() for m in stored]
    calls = [m for m in read if m.tool_calls]
    results = [m for m in read if m.role == "tool"]
    assert calls and results
    assert {c["id"] for m in calls for c in m.tool_calls or []} == {m.tool_call_id for m in results}
    assert read[6].tool_calls == trajectory[6]["tool_calls"]
    tools = api.list_messages(session.id, role="tool", size=100)
    assert tools.total == len(results) and all(m.role == "tool" for m in tools.items)


def test_keyset_iteration_and_recent_messages(api: Client) -> None:
    session = api.create_session(session_id="client-pages")
    for start in range(0, 230, 100):
        batch = [{"role": "user", "content": f"message {i}"} for i in range(start, min(start + 100, 230))]
        api.append_messages(session.id, batch)
    every = list(api.iter_messages(session.id))
    assert [m.content for m in every] == [f"message {i}" for i in range(230)]
    assert [m.seq for m in every] == list(range(1, 231))
    assert [m.seq for m in api.iter_messages(session.id, after_seq=225, page_size=2)] == [
        226,
        227,
        228,
        229,
        230,
    ]
    for n in (0, 1, 7, 100, 229, 230, 500):
        recent = api.recent_messages(session.id, n)
        assert [m.content for m in recent] == [f"message {i}" for i in range(max(0, 230 - n), 230)], n
    api.delete_message(session.id, every[5].id)  # a gap in seq: recent still counts messages
    assert [m.seq for m in api.recent_messages(session.id, 226)][:2] == [4, 5]
    with pytest.raises(ValueError):
        api.recent_messages(session.id, -1)


def test_messages_edit_redact_pop_clear(api: Client) -> None:
    session = api.create_session(session_id="client-messages")
    first = api.append_message(session.id, role="user", content="Add task: Review project documentation")
    assert isinstance(first, MessageOut) and first.seq == 1 and first.id
    again = api.append_message(
        session.id, id=first.id, role="user", content="Add task: Review project documentation"
    )
    assert again == first  # same id: the stored message, nothing new
    second = api.append_message(session.id, role="assistant", content="Done.", extra_data={"k": 1})
    assert api.get_message(session.id, second.id).extra_data == {"k": 1}
    assert api.edit_message(session.id, second.id, content="Done!").content == "Done!"
    assert api.redact_message(session.id, first.id).content == "[redacted]"
    popped = api.pop_message(session.id)
    assert popped is not None and popped.id == second.id
    assert [m.id for m in api.iter_messages(session.id)] == [first.id]
    assert api.clear_messages(session.id) == 1
    assert api.pop_message(session.id) is None
    assert api.get_session(session.id).message_count == 0


def test_memory_conversation_turn_and_system_routes(api: Client) -> None:
    session = api.create_session(session_id="client-memory")
    assert api.set_memory(session.id, "prefs", {"tz": "UTC"}).value == {"tz": "UTC"}
    assert api.get_memory(session.id, "prefs").value == {"tz": "UTC"}
    assert [e.key for e in api.list_memory(session.id).items] == ["prefs"]
    api.delete_memory(session.id, "prefs")
    with pytest.raises(NotFoundError):
        api.get_memory(session.id, "prefs")

    turn = {"session_id": "client-turn", "messages": [{"role": "user", "content": "Help me plan my tasks"}]}
    reply = api.conversation(turn)
    assert reply.response == "Echo: Help me plan my tasks" and reply.messages_count == 2
    user_id = api.recent_messages(reply.session_uuid, 2)[0].id
    same = api.conversation(session_id="client-turn", messages=[{"id": user_id, **turn["messages"][0]}])
    assert same == reply  # re-sent turn: the stored reply, no new message

    stats = api.stats()
    assert stats.sessions >= 2 and stats.messages >= 2
    assert api.healthz()["status"] == "ok"
    assert "openai" in {p["provider"] for p in api.providers()["providers"]}
    assert api.usage(reply.session_uuid)["totals"]["calls"] == 0
    assert api.provider_calls(reply.session_uuid) == {"items": [], "total": 0}
    context = api.context(reply.session_uuid, provider="openai", api="chat")
    assert context["strategy"] == "token_window" and len(context["messages"]) == 2
    assert 0 <= api.session_health(reply.session_uuid).score <= 100


def test_export_import_and_multi_participant_sessions(api: Client, served: ServeProcess) -> None:
    session = api.create_session(session_id="client-export")
    api.append_message(session.id, role="user", content="export me")
    bundle = api.export_session(session.id)
    csv_text = api.export_session(session.id, format="csv")
    # The seed-002 document (section 10) with the lossless bundle inside.
    assert bundle["session"]["session_id"] == "client-export"
    assert bundle["convoledger_bundle"]["conversation"]["session_id"] == "client-export"
    assert csv_text.splitlines()[0].startswith("message_id,role,content,tool_call_id,tool_name")
    with Client(served.base_url, token_of(served, "b")) as other:
        restored = other.import_session(bundle)
        assert restored.id == session.id and restored.message_count == 1

    group = api.create_conversation_session(
        session_id="session_002",
        session_type="mc_to_agent",
        participants=[
            {"participant_id": "mc", "participant_type": "master_controller"},
            {"participant_id": "analyst", "participant_type": "agent", "participant_role": "data_analyst"},
        ],
    )
    assert group.session_key == "session_002_mc_to_data_analyst"
    posted = api.post_agent_message(
        group.session_key,
        sender_id="mc",
        recipient_id="analyst",
        content="Analyse Q3",
        message_type="task_assignment",
    )
    assert posted.role == "master_controller" and posted.message_type == "task_assignment"
    assert [m.id for m in api.list_agent_messages(group.session_key).items] == [posted.id]
    assert api.get_conversation_session(group.session_key).id == group.id
    assert group.id in {s.id for s in api.list_conversation_sessions(participant_id="analyst").items}


def test_list_messages_last_n(api: Client) -> None:
    session = api.create_session(session_id="client-last")
    api.append_messages(session.id, [{"role": "user", "content": f"message {i}"} for i in range(12)])
    page = api.list_messages("client-last", last=4)
    assert [m.content for m in page.items] == [f"message {i}" for i in range(8, 12)]
    assert (page.total, page.size) == (12, 4)
    for bad in (0, 101, True):
        with pytest.raises(ValueError):
            api.list_messages("client-last", last=bad)
