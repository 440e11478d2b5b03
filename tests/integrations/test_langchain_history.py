"""``LedgerChatMessageHistory`` (LangChain ``BaseChatMessageHistory``) with ``langchain-core`` only,
no network: messages round-trip exactly (tool calls and tool results included) and are stored as
ledger messages with tool calls/results; sync and async methods; ``RunnableWithMessageHistory``;
history written by others; remote over a real ``convoledger serve``."""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path

import pytest
from integration_helpers import chat_to_record, tau_bench_trajectory
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory

from convoledger.integrations.langchain import LedgerChatMessageHistory
from convoledger.ledger import Ledger
from convoledger.models.records import ConversationRecord
from serve_process import ServeProcess

#: RunnableWithMessageHistory is deprecated in langchain-core 1.x (for LangGraph) but still shipped
#: and used; the issue asks for it.
pytestmark = pytest.mark.filterwarnings("ignore:RunnableWithMessageHistory is deprecated")

CONVERSATION: list[BaseMessage] = [
    SystemMessage("You are an airline agent."),
    HumanMessage("Book me on HAT136, user mia_li_3668.", id="human-1"),
    AIMessage(
        "",
        tool_calls=[
            {
                "name": "get_user_details",
                "args": {"user_id": "mia_li_3668"},
                "id": "call_1",
                "type": "tool_call",
            },
            {"name": "search_flight", "args": {"flight": "HAT136", "date": "2024-05-20"}, "id": "call_2"},
        ],
        response_metadata={"model_name": "gpt-4o", "finish_reason": "tool_calls"},
        usage_metadata={"input_tokens": 900, "output_tokens": 40, "total_tokens": 940},
    ),
    ToolMessage('{"name": "Mia Li"}', tool_call_id="call_1"),
    ToolMessage("HAT136 JFK→ATL 19:00", tool_call_id="call_2", name="search_flight", status="success"),
    AIMessage([{"type": "text", "text": "Found it: HAT136 at 19:00."}], id="ai-2"),
    ChatMessage(role="assistant", content="Anything else?"),
]


async def test_messages_round_trip_and_are_ledger_tool_calls(ledger: Ledger) -> None:
    history = LedgerChatMessageHistory("lc-1", ledger=ledger, conversation={"agent_name": "airline"})
    await history.aadd_messages(CONVERSATION)
    assert await history.aget_messages() == CONVERSATION

    stored = await ledger.messages("lc-1")
    assert [(m.role, m.content) for m in stored] == [
        ("system", "You are an airline agent."),
        ("user", "Book me on HAT136, user mia_li_3668."),
        ("assistant", ""),
        ("tool", '{"name": "Mia Li"}'),
        ("tool", "HAT136 JFK→ATL 19:00"),
        ("assistant", "Found it: HAT136 at 19:00."),
        ("assistant", "Anything else?"),
    ]
    assert stored[1].id == "human-1" and stored[5].id == "ai-2"
    arguments = ['{"user_id":"mia_li_3668"}', '{"flight":"HAT136","date":"2024-05-20"}']
    assert stored[2].tool_calls == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_user_details", "arguments": arguments[0]},
        },
        {
            "id": "call_2",
            "type": "function",
            "function": {"name": "search_flight", "arguments": arguments[1]},
        },
    ]
    assert [(m.tool_call_id, m.tool_name) for m in stored[3:5]] == [
        ("call_1", "get_user_details"),
        ("call_2", "search_flight"),
    ]
    plan = await ledger.context_for("lc-1", provider="openai", api="chat", budget_tokens=100_000)
    assert [m.seq for m in plan.messages] == [1, 2, 3, 4, 5, 6, 7]  # the call group is complete

    await history.aadd_messages([CONVERSATION[1]])  # same id again: stored once
    assert len(await history.aget_messages()) == len(CONVERSATION)
    limited = LedgerChatMessageHistory("lc-1", ledger=ledger, history_limit=2)
    assert await limited.aget_messages() == CONVERSATION[-2:]
    await history.aclear()
    assert await history.aget_messages() == []
    with pytest.raises(RuntimeError, match="async-only"):
        _ = history.messages  # a ledger= history belongs to its event loop


def test_sync_methods_and_runnable_with_message_history(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    histories: dict[str, LedgerChatMessageHistory] = {}

    def history_for(session_id: str) -> LedgerChatMessageHistory:
        return histories.setdefault(session_id, LedgerChatMessageHistory(session_id, url=url))

    replies = [AIMessage("Hello Mia!"), AIMessage("You said your name is Mia.")]
    model = FakeMessagesListChatModel(responses=replies)
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Be brief."), MessagesPlaceholder("history"), ("human", "{question}")]
    )
    chain = RunnableWithMessageHistory(
        prompt | model, history_for, input_messages_key="question", history_messages_key="history"
    )
    config = {"configurable": {"session_id": "lc-sync"}}
    assert chain.invoke({"question": "I'm Mia."}, config=config).content == "Hello Mia!"
    assert (
        chain.invoke({"question": "What's my name?"}, config=config).content == "You said your name is Mia."
    )
    messages = history_for("lc-sync").messages
    assert [type(m).__name__ for m in messages] == ["HumanMessage", "AIMessage", "HumanMessage", "AIMessage"]
    assert [m.content for m in messages] == [
        "I'm Mia.",
        "Hello Mia!",
        "What's my name?",
        "You said your name is Mia.",
    ]

    # the same ledger file read by a fresh history (another process would see the same)
    again = LedgerChatMessageHistory("lc-sync", url=url)
    assert again.messages == messages
    again.clear()
    assert history_for("lc-sync").messages == []
    for h in (*histories.values(), again):
        h.close()


async def test_async_runnable_sees_history_written_by_others(ledger: Ledger) -> None:
    trajectory = tau_bench_trajectory(1)
    conversation = await ledger.create_conversation(
        ConversationRecord(owner_id=ledger.owner, session_id="tau-1")
    )
    await ledger.append_batch(conversation, [chat_to_record(m) for m in trajectory])
    history = LedgerChatMessageHistory("tau-1", ledger=ledger)
    read = await history.aget_messages()
    assert len(read) == len(trajectory)
    for message, original in zip(read, trajectory, strict=True):
        if original["role"] == "tool":
            assert isinstance(message, ToolMessage) and message.tool_call_id == original["tool_call_id"]
            assert message.name == original["name"]
        elif original.get("tool_calls"):
            assert isinstance(message, AIMessage)
            assert [(c["id"], c["name"]) for c in message.tool_calls] == [
                (c["id"], c["function"]["name"]) for c in original["tool_calls"]
            ]
        else:
            assert message.content == original["content"]
    seen: list[list[BaseMessage]] = []

    def history_for(session_id: str) -> LedgerChatMessageHistory:
        return LedgerChatMessageHistory(session_id, ledger=ledger)

    model = FakeMessagesListChatModel(responses=[AIMessage("Done.")])

    async def remember(messages: list[BaseMessage]) -> AIMessage:
        seen.append(messages)
        return await model.ainvoke(messages)

    from langchain_core.runnables import RunnableLambda

    chain = RunnableWithMessageHistory(RunnableLambda(remember), history_for)
    reply = await chain.ainvoke([HumanMessage("Thanks!")], config={"configurable": {"session_id": "tau-1"}})
    assert reply.content == "Done."
    assert seen[0][:-1] == read and seen[0][-1].content == "Thanks!"
    assert [m.content for m in (await history.aget_messages())[-2:]] == ["Thanks!", "Done."]


async def test_remote_history_over_http(served: ServeProcess) -> None:
    token = served.headers["a"]["Authorization"].split()[1]
    history = LedgerChatMessageHistory("lc-remote", base_url=served.base_url, token=token)
    await history.aadd_messages(CONVERSATION[:5])
    await asyncio.to_thread(history.add_messages, CONVERSATION[5:])  # blocking, from a worker thread
    assert await history.aget_messages() == CONVERSATION
    assert await asyncio.to_thread(lambda: history.messages) == CONVERSATION
    with served.client("a") as http:
        listed = http.get("/api/agent-sessions/lc-remote/messages", params={"size": 100}).json()["items"]
    assert [m["role"] for m in listed] == [
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
        "assistant",
        "assistant",
    ]
    assert listed[2]["tool_calls"][1]["function"]["name"] == "search_flight"
    await history.aclear()
    assert await history.aget_messages() == []
    history.close()


def test_tool_call_without_id_is_refused_before_writing(tmp_path: Path) -> None:
    history = LedgerChatMessageHistory("lc-bad", url=f"sqlite:///{tmp_path / 'l.db'}")
    bad = AIMessage("", tool_calls=[{"name": "x", "args": {}, "id": None}])
    with pytest.raises(ValueError, match="needs an id"):
        history.add_messages([HumanMessage("hi"), bad])
    assert history.messages == []
    history.close()


def test_missing_langchain_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in sys.modules if n == "langchain_core" or n.startswith("langchain_core.")]:
        monkeypatch.setitem(sys.modules, name, None)  # as if langchain-core were not installed
    monkeypatch.delitem(sys.modules, "convoledger.integrations.langchain")
    with pytest.raises(ImportError, match=r'pip install "convoledger\[langchain\]"'):
        importlib.import_module("convoledger.integrations.langchain")
