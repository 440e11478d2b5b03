"""End to end: ``agents.Runner`` with a scripted model (no network) runs several turns with tool
calls on a ``LedgerSession``; the transcript, usage and cost are then read back through
convoledger's HTTP API from a real ``convoledger serve`` (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any

from agents import Agent, Runner, function_tool
from agents.testing import ScriptedModel, assistant_message, function_call
from agents.usage import Usage
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails

from convoledger.client import Client
from convoledger.integrations.openai_agents import LedgerSession
from serve_process import ServeProcess

#: OpenAI's published gpt-4o-mini prices, USD per token (openai.com/api/pricing): input $0.15,
#: cached input $0.075, output $0.60 per million tokens.
INPUT, CACHED, OUTPUT = 0.15e-6, 0.075e-6, 0.60e-6

FORECAST = {"Paris": "18°C, sunny", "Rome": "24°C, clear"}


@function_tool
def get_weather(city: str) -> str:
    """The weather in ``city``."""
    return FORECAST.get(city, "unknown")


def usage(input_tokens: int, output_tokens: int, cached: int = 0, reasoning: int = 0) -> Usage:
    return Usage(
        requests=1,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
        input_tokens_details=InputTokensDetails(cached_tokens=cached, cache_write_tokens=0),
        output_tokens_details=OutputTokensDetails(reasoning_tokens=reasoning),
    )


#: Three turns: two parallel tool calls, then one, then plain text (usage per model call).
SCRIPT: list[dict[str, Any]] = [
    {
        "output": [
            function_call("get_weather", {"city": "Paris"}, call_id="call_paris", item_id="fc_1"),
            function_call("get_weather", {"city": "Rome"}, call_id="call_rome", item_id="fc_2"),
        ],
        "usage": usage(1200, 40, cached=1024),
        "response_id": "resp_1",
    },
    {
        "output": [assistant_message("Paris 18°C, Rome 24°C.", item_id="msg_1")],
        "usage": usage(1300, 20),
        "response_id": "resp_2",
    },
    {
        "output": [function_call("get_weather", {"city": "Paris"}, call_id="call_paris_2", item_id="fc_3")],
        "usage": usage(1400, 30, cached=1280, reasoning=12),
        "response_id": "resp_3",
    },
    {
        "output": [assistant_message("Still 18°C in Paris.", item_id="msg_2")],
        "usage": usage(1500, 15),
        "response_id": "resp_4",
    },
    {
        "output": [assistant_message("You're welcome!", item_id="msg_3")],
        "usage": usage(1600, 5),
        "response_id": "resp_5",
    },
]
TURNS = ["What's the weather in Paris and Rome?", "And tomorrow in Paris?", "Thanks!"]


def expected_cost() -> float:
    return sum(
        (s["usage"].input_tokens - s["usage"].input_tokens_details.cached_tokens) * INPUT
        + s["usage"].input_tokens_details.cached_tokens * CACHED
        + s["usage"].output_tokens * OUTPUT
        for s in SCRIPT
    )


def check_transcript(api: Client, session: str) -> list[Any]:
    messages = list(api.iter_messages(session))
    assert [(m.role, m.content) for m in messages] == [
        ("user", TURNS[0]),
        ("assistant", ""),
        ("assistant", ""),
        ("tool", "18°C, sunny"),
        ("tool", "24°C, clear"),
        ("assistant", "Paris 18°C, Rome 24°C."),
        ("user", TURNS[1]),
        ("assistant", ""),
        ("tool", "18°C, sunny"),
        ("assistant", "Still 18°C in Paris."),
        ("user", TURNS[2]),
        ("assistant", "You're welcome!"),
    ]
    assert [m.seq for m in messages] == list(range(1, 13))
    calls = [
        (c["id"], c["function"]["name"], c["function"]["arguments"])
        for m in messages
        for c in m.tool_calls or []
    ]
    assert calls == [
        ("call_paris", "get_weather", '{"city":"Paris"}'),
        ("call_rome", "get_weather", '{"city":"Rome"}'),
        ("call_paris_2", "get_weather", '{"city":"Paris"}'),
    ]
    assert [(m.tool_call_id, m.tool_name) for m in messages if m.role == "tool"] == [
        ("call_paris", "get_weather"),
        ("call_rome", "get_weather"),
        ("call_paris_2", "get_weather"),
    ]
    assert [m.seq for m in api.list_messages(session, search="sunny").items] == [4, 9]
    window = api.context(session, provider="openai", api="chat", budget_tokens=100_000)["messages"]
    assert [m["seq"] for m in window] == list(range(1, 13))
    return messages


async def run_turns(session: LedgerSession, hooks: Any = None) -> ScriptedModel:
    model = ScriptedModel(SCRIPT)
    agent = Agent(name="weather", model=model, tools=[get_weather])
    for text in TURNS[:2]:
        await Runner.run(agent, text, session=session, hooks=hooks)
    # the last turn from a worker thread with its own event loop, as Runner.run_sync does
    await asyncio.to_thread(Runner.run_sync, agent, TURNS[2], session=session, hooks=hooks)
    model.assert_complete()
    return model


async def test_runner_in_process_then_read_back_over_http_with_usage(served: ServeProcess) -> None:
    session = LedgerSession("e2e-weather", url=served.database_url, owner=served.accounts["a"])
    model = await run_turns(session, hooks=session.usage_hooks(model="gpt-4o-mini"))
    session.close()
    history_seen = model.calls[-1].input  # the last call saw the whole history and the new turn
    assert len(history_seen) == 11 and history_seen[-1] == {"role": "user", "content": TURNS[2]}

    with served.client("a") as http:
        sid = http.get("/api/agent-sessions/e2e-weather").json()["id"]
    with Client(served.base_url, served.headers["a"]["Authorization"].split()[1]) as api:
        check_usage(api, sid, check_transcript(api, sid))


def check_usage(api: Client, session: str, messages: list[Any]) -> None:
    """Every scripted model call is recorded once, priced (USD) and linked to its message."""
    totals = api.usage(session)["totals"]
    calls = api.provider_calls(session)["items"]
    assert totals["calls"] == len(SCRIPT)
    assert totals["input_tokens"] == sum(s["usage"].input_tokens for s in SCRIPT)
    assert totals["cache_read_tokens"] == 1024 + 1280 and totals["reasoning_tokens"] == 12
    assert totals["output_tokens"] == sum(s["usage"].output_tokens for s in SCRIPT)
    assert abs(totals["cost"] - expected_cost()) < 1e-12 and totals["unpriced_calls"] == 0
    by_id = {m.id: m for m in messages}
    linked = [(c["identifiers"]["response_id"], by_id[c["message_id"]].seq) for c in calls]
    assert linked == [("resp_1", 3), ("resp_2", 6), ("resp_3", 8), ("resp_4", 10), ("resp_5", 12)]
    assert {c["model"] for c in calls} == {"gpt-4o-mini"} and {c["api"] for c in calls} == {"responses"}


async def test_runner_remote_over_http_with_usage(served: ServeProcess) -> None:
    """Remote mode: the items go through the API and each model call's usage is recorded with
    ``POST …/provider-calls`` (priced by the server), read back with ``GET …/usage``."""
    token = served.headers["b"]["Authorization"].split()[1]
    session = LedgerSession("e2e-weather", base_url=served.base_url, token=token)
    await run_turns(session, hooks=session.usage_hooks(model="gpt-4o-mini"))
    assert (await session.get_items(limit=1)) == [
        {
            "id": "msg_3",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [
                {"type": "output_text", "text": "You're welcome!", "annotations": [], "logprobs": []}
            ],
        }
    ]
    session.close()
    with Client(served.base_url, token) as api:
        sid = api.get_session("e2e-weather").id
        check_usage(api, sid, check_transcript(api, sid))
        history = api.token_usage_history(sid)["token_usage_history"]
        assert [h["input_tokens"] for h in history] == [s["usage"].input_tokens for s in SCRIPT]
        assert api.extracted_identifiers(sid)["extracted_identifiers"]["response_id"] == "resp_5"
