"""``POST /api/agent-sessions/conversation``: append, run the agent, store its reply."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import pytest
from api_helpers import Api, assert_problem, start_api

from convoledger.agent import Agent, AgentReply, EchoAgent, agent_from_settings
from convoledger.ledger import Ledger
from convoledger.models.records import ConversationRecord, MessageRecord, ProviderCallRecord
from convoledger.settings import Settings

URL = "/api/agent-sessions/conversation"


async def test_turn_creates_the_session_and_stores_the_echo_reply(api: Api) -> None:
    r = await api.client.post(
        URL,
        json={
            "session_id": "chat-1",
            "agent_name": "support-bot",
            "name": "Support chat",
            "messages": [
                {"role": "system", "content": "You are helpful."},
                {"role": "user", "content": "Hello there", "sender": "u-7"},
            ],
        },
        headers=api.a,
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert set(out) == {"session_id", "session_uuid", "response", "messages_count", "session_active"}
    assert out["session_id"] == "chat-1" and out["response"] == "Echo: Hello there"
    assert out["messages_count"] == 3 and out["session_active"] is True
    s = (await api.client.get(f"/api/agent-sessions/{out['session_uuid']}", headers=api.a)).json()
    assert s["session_id"] == "chat-1" and s["agent_name"] == "support-bot" and s["name"] == "Support chat"
    msgs = (await api.client.get("/api/agent-sessions/chat-1/messages", headers=api.a)).json()["items"]
    assert [(m["seq"], m["role"]) for m in msgs] == [(1, "system"), (2, "user"), (3, "assistant")]
    reply = msgs[-1]
    assert reply["content"] == "Echo: Hello there"
    assert reply["sender"] == "support-bot" and reply["recipient"] == "u-7"
    # a second turn continues the same session
    r = await api.client.post(
        URL, json={"session_id": "chat-1", "messages": [{"role": "user", "content": "again"}]}, headers=api.a
    )
    assert r.json()["response"] == "Echo: again" and r.json()["messages_count"] == 5
    assert r.json()["session_uuid"] == out["session_uuid"]


async def test_retry_with_the_same_message_ids_does_not_duplicate(api: Api) -> None:
    body = {"session_id": "retry", "messages": [{"id": "u-1", "role": "user", "content": "once"}]}
    first = (await api.client.post(URL, json=body, headers=api.a)).json()
    second = (await api.client.post(URL, json=body, headers=api.a)).json()
    assert first == second and first["messages_count"] == 2


async def test_turn_on_an_inactive_session_is_409(api: Api) -> None:
    s = await api.create_session(session_id="paused")
    await api.client.put(f"/api/agent-sessions/{s['id']}/deactivate", headers=api.a)
    r = await api.client.post(
        URL, json={"session_id": "paused", "messages": [{"role": "user", "content": "hi"}]}, headers=api.a
    )
    assert_problem(r, 409, "session-not-active")
    assert (await api.client.get(f"/api/agent-sessions/{s['id']}", headers=api.a)).json()[
        "message_count"
    ] == 0


async def test_turn_validation(api: Api) -> None:
    for body in [
        {"messages": [{"role": "user", "content": "x"}]},
        {"session_id": "x", "messages": []},
        {"session_id": "x", "messages": [{"role": "boss", "content": "x"}]},
        {"session_id": "", "messages": [{"role": "user", "content": "x"}]},
    ]:
        assert_problem(await api.client.post(URL, json=body, headers=api.a), 422)
    assert (await api.client.get("/api/agent-sessions", headers=api.a)).json()["total"] == 0


class PricedAgent:
    """A test agent that reports a provider call and sees the history it was given."""

    name = "priced"

    def __init__(self) -> None:
        self.seen: list[list[str]] = []

    async def respond(
        self, ledger: Ledger, conversation: ConversationRecord, history: Sequence[MessageRecord]
    ) -> AgentReply:
        self.seen.append([m.content for m in history])
        call = ProviderCallRecord(
            conversation_id="", provider="openai", model="gpt-4o-mini", input_tokens=12, output_tokens=3,
            total_tokens=15, cost=0.0000036,
        )  # fmt: skip
        return AgentReply(
            content=f"{len(history)} messages seen",
            provider_call=call,
            server_state={"provider": "openai", "previous_response_id": "resp_1"},
        )


@pytest.fixture
async def priced_api() -> AsyncIterator[tuple[Api, PricedAgent]]:
    agent = PricedAgent()
    async for running in start_api("memory://", agent=agent):
        yield running, agent


async def test_agent_protocol_gets_history_and_its_provider_call_is_stored(
    priced_api: tuple[Api, PricedAgent],
) -> None:
    api, agent = priced_api
    assert isinstance(agent, Agent)
    r = await api.client.post(
        URL, json={"session_id": "p", "messages": [{"role": "user", "content": "q1"}]}, headers=api.a
    )
    assert r.json()["response"] == "1 messages seen"
    assert agent.seen == [["q1"]]
    ledger = api.ledger.for_owner(api.a_name)
    calls = await ledger.provider_calls("p")
    reply = (await ledger.recent("p", 1))[0]
    assert len(calls) == 1 and calls[0].message_id == reply.id and calls[0].total_tokens == 15
    assert (await ledger.get_conversation("p")).server_state == {
        "provider": "openai",
        "previous_response_id": "resp_1",
    }


def test_agent_from_settings() -> None:
    assert isinstance(agent_from_settings(Settings(agent="echo")), EchoAgent)
    with pytest.raises(ValueError, match="unknown agent 'nope'.*echo"):
        agent_from_settings(Settings(agent="nope"))


async def test_echo_agent_without_a_user_message() -> None:
    reply = await EchoAgent().respond(None, ConversationRecord(owner_id="o"), [])  # type: ignore[arg-type]
    assert reply.content == "Echo: (no user message)" and reply.provider_call is None
