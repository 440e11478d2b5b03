"""``LedgerSession`` (OpenAI Agents SDK ``Session``) over every ledger backend: items round-trip
exactly and are stored as ordinary ledger messages (roles, tool calls, tool results) that the
ledger's views see; SDK limit semantics; atomic, isolated writes; history written by others is
read as SDK items; the optional import names its extra."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import pytest
from agents import Agent, Runner, Session, SQLiteSession
from agents.testing import ScriptedModel, assistant_message
from integration_helpers import chat_to_record, tau_bench_trajectory

from convoledger import ConversationNotActive
from convoledger.integrations.agents_items import EMPTY_MARKER, ITEM_KEY
from convoledger.integrations.openai_agents import LedgerSession
from convoledger.ledger import Ledger
from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.store.base import MessageQuery

#: One item of each kind a session sees (shapes of the OpenAI Responses API input items).
ITEMS: list[dict[str, Any]] = [
    {"role": "developer", "content": "Answer in French."},
    {
        "role": "user",
        "content": [
            {"type": "input_text", "text": "Quel temps fait-il ?"},
            {"type": "input_image", "image_url": "https://example.com/sky.png", "detail": "auto"},
        ],
    },
    {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [{"type": "summary_text", "text": "Need the weather tool."}],
    },
    {"type": "reasoning", "id": "rs_2", "summary": [], "encrypted_content": "gAAAA"},
    {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"city":"Paris"}',
        "status": "completed",
    },
    {
        "type": "function_call",
        "id": "fc_2",
        "call_id": "call_2",
        "name": "get_weather",
        "arguments": '{"city":"Lyon"}',
        "status": "completed",
    },
    {"type": "function_call_output", "call_id": "call_1", "output": "18°C, sunny"},
    {
        "type": "function_call_output",
        "call_id": "call_2",
        "output": [{"type": "input_text", "text": "15°C, rain"}],
    },
    {
        "type": "web_search_call",
        "id": "ws_1",
        "status": "completed",
        "action": {"type": "search", "query": "Paris météo"},
    },
    {
        "type": "computer_call",
        "id": "cu_1",
        "call_id": "call_3",
        "action": {"type": "screenshot"},
        "pending_safety_checks": [],
        "status": "completed",
    },
    {
        "type": "computer_call_output",
        "call_id": "call_3",
        "output": {"type": "computer_screenshot", "image_url": "data:image/png;base64,AAAA"},
    },
    {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "Paris : 18°C.", "annotations": [], "logprobs": []}],
    },
    {
        "role": "assistant",
        "content": [{"type": "refusal", "refusal": "I cannot book flights."}],
        "type": "message",
    },
    {"role": "user", "content": ""},
    {"type": "item_reference", "id": "msg_0"},
]


def _contents(messages: list[MessageRecord]) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in messages]


async def test_every_item_kind_round_trips_and_is_a_ledger_message(ledger: Ledger) -> None:
    session = LedgerSession("items", ledger=ledger)
    assert isinstance(session, Session)  # the SDK's runtime-checkable protocol
    await session.add_items(ITEMS)
    assert await session.get_items() == ITEMS

    stored = await ledger.messages("items")
    assert [m.seq for m in stored] == list(range(1, len(ITEMS) + 1))
    assert [m.extra_data[ITEM_KEY] for m in stored] == ITEMS
    assert _contents(stored) == [
        ("system", "Answer in French."),
        ("user", "Quel temps fait-il ?\n[input_image]"),
        ("assistant", "Need the weather tool."),
        ("assistant", "[reasoning]"),
        ("assistant", ""),
        ("assistant", ""),
        ("tool", "18°C, sunny"),
        ("tool", "15°C, rain"),
        ("assistant", "[web_search_call]"),
        ("assistant", ""),
        ("tool", "[computer_screenshot]"),
        ("assistant", "Paris : 18°C."),
        ("assistant", "I cannot book flights."),
        ("user", EMPTY_MARKER),
        ("assistant", "[item_reference]"),
    ]
    calls = [m.tool_calls for m in stored if m.tool_calls]
    assert calls == [
        [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ],
        [
            {
                "id": "call_2",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Lyon"}'},
            }
        ],
        [
            {
                "id": "call_3",
                "type": "computer_call",
                "function": {
                    "name": "computer_call",
                    "arguments": '{"action":{"type":"screenshot"},"pending_safety_checks":[]}',
                },
            }
        ],
    ]
    results = [(m.tool_call_id, m.tool_name) for m in stored if m.role == "tool"]
    assert results == [("call_1", "get_weather"), ("call_2", "get_weather"), ("call_3", "computer_call")]

    # the ledger's own views see them: search, and a context window keeping call/result groups whole
    found = await ledger.messages("items", MessageQuery(search="sunny"))
    assert [m.tool_call_id for m in found] == ["call_1"]
    plan = await ledger.context_for("items", provider="openai", api="chat", budget_tokens=100_000)
    window = [m.seq for m in plan.messages]
    assert {5, 6, 7, 8, 10, 11} <= set(window)
    tight = await ledger.context_for("items", provider="openai", api="chat", budget_tokens=60)
    kept = {m.seq for m in tight.messages}
    assert not ({7, 8} & kept) or {5, 6, 7, 8} <= kept  # never a result without its call


async def test_limits_pop_and_clear_follow_the_sdk(ledger: Ledger) -> None:
    session = LedgerSession("limits", ledger=ledger, session_settings={"limit": 3})
    assert await session.get_items() == [] and await session.pop_item() is None
    items = [{"role": "user", "content": f"Message {i}"} for i in range(6)]
    await session.add_items(items)
    assert await session.get_items() == items[-3:]  # session_settings.limit
    assert await session.get_items(limit=2) == items[-2:]  # the argument wins
    assert await session.get_items(limit=0) == []
    assert await session.get_items(limit=-1) == items  # negative: all, as SQLite's LIMIT -1
    assert await session.get_items(limit=100) == items
    assert await session.pop_item() == items[-1]
    assert await session.get_items(limit=10) == items[:-1]
    assert (await ledger.get_conversation("limits")).message_count == 5
    await session.clear_session()
    assert await session.get_items(limit=10) == []
    await session.add_items([items[0]])
    assert [m.seq for m in await ledger.messages("limits")] == [7]  # seq never reused


async def test_writes_are_atomic_isolated_and_refused_when_not_active(ledger: Ledger) -> None:
    session = LedgerSession(
        "atomic", ledger=ledger, conversation={"name": "Support", "agent_name": "TodoAssistant"}
    )
    with pytest.raises(TypeError):
        await session.add_items([{"role": "user", "content": "fine"}, {"role": "user", "content": object()}])
    assert await ledger.find_conversation(session_id="atomic") is None  # nothing written at all
    await session.add_items([{"role": "user", "content": "hello"}])
    record = await ledger.get_conversation("atomic")
    assert (record.name, record.agent_name, record.kind) == ("Support", "TodoAssistant", "agent_session")

    other = LedgerSession("atomic", ledger=ledger.for_owner(f"{ledger.owner}-other"))
    await ledger.store.ensure_account(f"{ledger.owner}-other")
    assert await other.get_items() == []  # same session id, another owner: another session
    await other.add_items([{"role": "user", "content": "theirs"}])
    assert await session.get_items() == [{"role": "user", "content": "hello"}]

    await ledger.deactivate("atomic")
    with pytest.raises(ConversationNotActive):
        await session.add_items([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
    assert await session.get_items() == [{"role": "user", "content": "hello"}]

    session.close()
    with pytest.raises(RuntimeError, match="closed"):
        await session.add_items([])


async def test_history_written_by_others_reads_as_sdk_items(ledger: Ledger) -> None:
    trajectory = tau_bench_trajectory(0)
    conversation = await ledger.create_conversation(_conversation(ledger))
    await ledger.append_batch(conversation, [chat_to_record(m) for m in trajectory])
    session = LedgerSession("tau-bench-0", ledger=ledger)
    items = await session.get_items()
    expected: list[dict[str, Any]] = []
    for m in trajectory:
        if m["role"] == "tool":
            expected.append(
                {"type": "function_call_output", "call_id": m["tool_call_id"], "output": m["content"]}
            )
        elif m.get("tool_calls"):
            if m.get("content"):
                expected.append({"role": "assistant", "content": m["content"]})
            for call in m["tool_calls"]:
                function = call["function"]
                expected.append(
                    {
                        "type": "function_call",
                        "call_id": call["id"],
                        "name": function["name"],
                        "arguments": function["arguments"],
                    }
                )
        else:
            expected.append({"role": m["role"], "content": m["content"]})
    assert items == expected

    model = ScriptedModel([[assistant_message("Your booking is confirmed.")]])
    result = await Runner.run(Agent(name="airline", model=model), "Thanks!", session=session)
    assert result.final_output == "Your booking is confirmed."
    # the model sees what it sees with the SDK's own store holding the same items (the SDK drops
    # the duplicate call ids this real trajectory has)
    reference = SQLiteSession("reference")
    await reference.add_items(expected)
    reference_model = ScriptedModel([[assistant_message("Your booking is confirmed.")]])
    await Runner.run(Agent(name="airline", model=reference_model), "Thanks!", session=reference)
    assert model.calls[-1].input == reference_model.calls[-1].input
    assert model.calls[-1].input[-1] == {"role": "user", "content": "Thanks!"}
    reference.close()
    last = await ledger.recent(conversation, 2)
    assert _contents(last) == [("user", "Thanks!"), ("assistant", "Your booking is confirmed.")]


def _conversation(ledger: Ledger) -> ConversationRecord:
    return ConversationRecord(owner_id=ledger.owner, session_id="tau-bench-0")


async def test_foreign_multi_call_message_pops_whole(ledger: Ledger) -> None:
    trajectory = tau_bench_trajectory(0)
    with_calls = next(m for m in trajectory if m.get("tool_calls"))
    call = with_calls["tool_calls"][0]
    two_calls = {
        "role": "assistant",
        "content": "Checking.",
        "tool_calls": [call, {**call, "id": "call_second"}],
    }
    conversation = await ledger.create_conversation(_conversation(ledger))
    await ledger.append(conversation, chat_to_record(two_calls))
    session = LedgerSession("tau-bench-0", ledger=ledger)
    assert len(await session.get_items()) == 3  # text + two function calls
    assert await session.get_items(limit=1) == [
        {
            "type": "function_call",
            "call_id": "call_second",
            "name": call["function"]["name"],
            "arguments": call["function"]["arguments"],
        }
    ]
    popped = await session.pop_item()
    assert popped is not None and popped["call_id"] == "call_second"
    assert await session.get_items() == []


def test_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "agents", None)  # as if openai-agents were not installed
    monkeypatch.delitem(sys.modules, "convoledger.integrations.openai_agents")
    with pytest.raises(ImportError, match=r'pip install "convoledger\[agents\]"'):
        importlib.import_module("convoledger.integrations.openai_agents")
    monkeypatch.undo()
    importlib.import_module("convoledger.integrations.openai_agents")


def test_constructor_rules() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        LedgerSession("x")
    with pytest.raises(ValueError, match="exactly one"):
        LedgerSession("x", url="memory://", base_url="http://127.0.0.1:1")
    with pytest.raises(ValueError, match="non-empty"):
        LedgerSession("", url="memory://")
    with pytest.raises(TypeError, match="Unknown session settings: limitt"):
        LedgerSession("x", url="memory://", session_settings={"limitt": 1})


async def test_parallel_calls_go_to_chat_completions_as_one_assistant_message(ledger: Ledger) -> None:
    from convoledger.agent.openai_compatible import chat_messages

    session = LedgerSession("parallel", ledger=ledger)
    await session.add_items([ITEMS[1], ITEMS[4], ITEMS[5], ITEMS[6], ITEMS[7], ITEMS[11]])
    conversation = await ledger.get_conversation("parallel")
    wire = chat_messages(conversation, await ledger.messages(conversation))
    assert [(w["role"], [c["id"] for c in w.get("tool_calls", [])]) for w in wire] == [
        ("user", []),
        ("assistant", ["call_1", "call_2"]),  # the results must follow the message making the calls
        ("tool", []),
        ("tool", []),
        ("assistant", []),
    ]
    assert [w.get("tool_call_id") for w in wire[2:4]] == ["call_1", "call_2"]
