"""A2A export and import: ``GET …/export?format=a2a`` on a real ``convoledger serve`` gives A2A v1.0
objects that ``a2a-sdk``'s own types accept unchanged (strict parse), with the conversation as the
``contextId``, roles and parts, and the agents' intents as task states; importing an export gives
the same conversation back (round trip), and A2A histories made with ``a2a-sdk`` import too."""

from __future__ import annotations

from typing import Any

import a2a.types as a2a_types
import pytest
from google.protobuf.json_format import MessageToDict, ParseDict
from integration_helpers import chat_to_record, tau_bench_trajectory

from convoledger.client import Client
from convoledger.integrations.a2a import a2a_to_conversation, conversation_to_a2a, export_a2a, import_a2a
from convoledger.ledger import Ledger
from convoledger.models.records import ConversationRecord
from serve_process import ServeProcess

PARTICIPANTS = [
    {"participant_id": "mc", "participant_type": "master_controller"},
    {"participant_id": "analyst", "participant_type": "agent", "participant_role": "data_analyst"},
]
#: The seed's controller → agent exchange, one message per intent (sender, type, content).
EXCHANGE = [
    ("mc", "task_assignment", "Analyse the Q3 sales data and report the top regions."),
    ("analyst", "progress_update", "Loaded 12,400 rows; cleaning now."),
    ("analyst", "clarification_request", "Should returns be netted out?"),
    ("mc", "communication", "Yes, net them out."),
    ("analyst", "result_report", "Top regions: EMEA, APAC, NA."),
    ("analyst", "task_completion", "Done: report attached."),
]


def strict(kind: type, data: dict[str, Any]) -> Any:
    """``data`` parsed into the a2a-sdk type (unknown fields are an error)."""
    return ParseDict(data, kind(), ignore_unknown_fields=False)


def run_exchange(api: Client, exchange: list[tuple[str, str, str]]) -> str:
    group = api.create_conversation_session(
        session_id=f"a2a-{len(exchange)}-{exchange[-1][1]}",
        session_type="mc_to_agent",
        participants=PARTICIPANTS,
    )
    for sender, kind, text in exchange:
        recipient = "analyst" if sender == "mc" else "mc"
        api.post_agent_message(
            group.session_key, sender_id=sender, recipient_id=recipient, content=text, message_type=kind
        )
    return group.id


def test_export_over_http_is_a2a_with_task_states(served: ServeProcess) -> None:
    with Client(served.base_url, served.headers["a"]["Authorization"].split()[1]) as api:
        session = run_exchange(api, EXCHANGE)
        document = api.export_session(session, format="a2a")
        failing = api.export_session(
            run_exchange(api, [*EXCHANGE[:2], ("analyst", "error_report", "DB down.")]), "a2a"
        )
        chat = api.create_session(session_id="a2a-plain")
        api.append_message(chat.id, role="user", content="Hello")
        plain = api.export_session(chat.id, format="a2a")

    assert document["contextId"] == session and document["a2aVersion"] == "1.0"
    messages = [strict(a2a_types.Message, m) for m in document["messages"]]
    assert [(m.role, m.parts[0].text) for m in messages] == [
        (a2a_types.Role.ROLE_USER if sender == "mc" else a2a_types.Role.ROLE_AGENT, text)
        for sender, _kind, text in EXCHANGE
    ]
    assert {m.context_id for m in messages} == {session} and {m.task_id for m in messages} == {session}
    task = strict(a2a_types.Task, document["task"])
    assert task.id == session and task.context_id == session
    assert task.status.state == a2a_types.TaskState.TASK_STATE_COMPLETED
    assert task.status.message.parts[0].text == "Done: report attached."
    assert [m.message_id for m in task.history] == [m.message_id for m in messages]

    assert strict(a2a_types.Task, failing["task"]).status.state == a2a_types.TaskState.TASK_STATE_FAILED
    assert plain["task"] is None  # no agent intents: a plain message history
    assert [strict(a2a_types.Message, m).parts[0].text for m in plain["messages"]] == ["Hello"]


async def test_round_trip_with_tool_calls(ledger: Ledger) -> None:
    conversation = await ledger.create_conversation(
        ConversationRecord(owner_id=ledger.owner, session_id="tau-2", name="Airline support")
    )
    await ledger.append_batch(conversation, [chat_to_record(m) for m in tau_bench_trajectory(2)])
    exported = await export_a2a(ledger, "tau-2")
    for message in exported["messages"]:
        strict(a2a_types.Message, message)
    calls = [p["data"]["toolCall"] for m in exported["messages"] for p in m["parts"] if "data" in p]
    assert calls and all(c["type"] == "function" for c in calls)

    other = ledger.for_owner(f"{ledger.owner}-b")
    await ledger.store.ensure_account(other.owner)
    outcome = await import_a2a(other, exported)
    assert outcome.created and outcome.messages == len(exported["messages"])
    again = await export_a2a(other, conversation.id)
    assert again == exported  # the same conversation, message for message
    original = await ledger.messages(conversation)
    restored = await other.messages(conversation.id)
    keep = {
        "id",
        "seq",
        "role",
        "content",
        "tool_calls",
        "tool_call_id",
        "tool_name",
        "created_at",
        "token_count",
    }
    assert [m.model_dump(include=keep) for m in restored] == [m.model_dump(include=keep) for m in original]
    assert (await import_a2a(other, exported)).created is False  # idempotent


def test_histories_made_with_a2a_sdk_import() -> None:
    user = a2a_types.Message(
        message_id="m-1",
        context_id="ctx-9",
        role=a2a_types.Role.ROLE_USER,
        parts=[
            a2a_types.Part(text="Summarise this file"),
            a2a_types.Part(url="https://x/y.pdf", filename="y.pdf"),
        ],
    )
    agent = a2a_types.Message(
        message_id="m-2",
        context_id="ctx-9",
        role=a2a_types.Role.ROLE_AGENT,
        parts=[a2a_types.Part(text="Summary: …")],
    )
    task = a2a_types.Task(
        id="t-1",
        context_id="ctx-9",
        status=a2a_types.TaskStatus(state=a2a_types.TaskState.TASK_STATE_COMPLETED, message=agent),
        history=[user],
    )
    conversation, messages = a2a_to_conversation(MessageToDict(task), owner="someone")
    assert conversation.id == "ctx-9"
    assert [(m.id, m.role, m.content) for m in messages] == [
        ("m-1", "user", "Summarise this file\n[file: y.pdf]"),
        ("m-2", "assistant", "Summary: …"),
    ]
    listed = [MessageToDict(user), MessageToDict(agent)]
    assert [m.id for m in a2a_to_conversation(listed, owner="someone")[1]] == ["m-1", "m-2"]
    round_tripped = conversation_to_a2a(conversation, messages)
    assert [strict(a2a_types.Message, m).message_id for m in round_tripped["messages"]] == ["m-1", "m-2"]


def test_import_refuses_what_is_not_one_a2a_history() -> None:
    with pytest.raises(ValueError, match="not an A2A history"):
        a2a_to_conversation({"hello": "world"}, owner="o")
    two = [
        {"messageId": "a", "contextId": "c1", "role": "ROLE_USER", "parts": [{"text": "x"}]},
        {"messageId": "b", "contextId": "c2", "role": "ROLE_USER", "parts": [{"text": "y"}]},
    ]
    with pytest.raises(ValueError, match="2 contexts"):
        a2a_to_conversation(two, owner="o")
    with pytest.raises(ValueError):
        a2a_to_conversation([{"messageId": "a", "role": "ROLE_ROBOT", "parts": []}], owner="o")
