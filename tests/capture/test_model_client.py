"""The OpenAI-compatible agent against recorded real responses (offline, httpx MockTransport).

Each test rebuilds the conversation a real client had, lets the agent build and send its request,
and checks: the request equals the recorded one, the reply is the recorded output, and recording
it through ``ledger.record_provider_call`` stores the recorded usage, identifiers and the cost by
hand (prices per million tokens as in tests/providers/test_providers_pricing.py).
"""

from __future__ import annotations

import json

import httpx
import pytest
from capture_helpers import Replay, body, headers_of, make_agent, request_of, store_reply, text, usd

from convoledger.agent import Agent
from convoledger.agent.openai_compatible import (
    ModelCallError,
    ModelCallReply,
    OpenAICompatibleAgent,
    infer_provider,
    openai_agent_from_settings,
)
from convoledger.ledger import Ledger
from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.settings import Settings

CHAT_CACHED = "openai_chat/dd__chat_completion_prompt_caching_cache_read__0.json"
CHAT_STREAM_CACHED = "openai_chat/dd__chat_completion_stream_prompt_caching_cache_read__0.sse"
CHAT_STREAM_TOOL = "openai_chat/pai__test_run_stream_sync_streams_real_model__0.sse"
CHAT_404 = "openai_chat/pai__test_model_name_suggestion_openai-chat___0.json"
CHAT_400 = "openai_chat/pai__test_openai_web_search_tool_model_not_supported__0.json"
RESPONSES_WEB = (
    "openai_responses/pai__test_openai_responses_model_web_search_tool_without_external_access__0.json"
)
OPENROUTER_STREAM_ERROR = "openrouter/pai__test_openrouter_stream_error__0.sse"
OLLAMA_CLOUD = "ollama/pai__test_ollama_cloud_tool_output__1.json"


async def _conversation(ledger: Ledger, instructions: str | None = None) -> ConversationRecord:
    return await ledger.create_conversation(
        ConversationRecord(owner_id=ledger.owner, agent_instructions=instructions)
    )


def _options(request: dict, *core: str) -> dict:
    """The recorded request's parameters other than ``core`` (what ``request_options`` carries)."""
    return {k: v for k, v in request.items() if k not in core}


def _sse_chat_text(rel: str) -> str:
    """Concatenated ``choices[0].delta.content`` of a recorded Chat stream (read independently)."""
    out = []
    for line in text(rel).splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            for choice in json.loads(line[6:]).get("choices") or []:
                out.append(choice.get("delta", {}).get("content") or "")
    return "".join(out)


async def test_chat_request_reply_and_recording(ledger: Ledger) -> None:
    recorded = body(CHAT_CACHED)
    req = request_of(CHAT_CACHED)
    system, user = req["messages"]
    conv = await _conversation(ledger, instructions=system["content"])
    await ledger.append(conv.id, MessageRecord(role="user", content=user["content"]))
    replay = Replay()
    replay.push(CHAT_CACHED)
    agent = make_agent(replay, model="gpt-4o", request_options=_options(req, "model", "messages"))

    reply = await agent.respond(ledger, conv, [])

    assert isinstance(reply, ModelCallReply)
    [sent] = replay.sent
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.json == req  # system = agent_instructions first, then the user turn, then the options
    assert reply.request == req
    assert reply.content == recorded["choices"][0]["message"]["content"]
    assert reply.tool_calls is None
    assert reply.raw_response == recorded
    assert reply.headers["x-request-id"] == headers_of(CHAT_CACHED)["x-request-id"]
    assert (reply.provider, reply.api, reply.model) == ("openai", "chat", "gpt-4o")
    assert reply.metadata["context_strategy"] == "token_window"
    assert "keeps no server-side history" in reply.metadata["context_reason"]

    stored = await store_reply(ledger, conv.id, reply.content, reply.tool_calls)
    call = await reply.record(ledger, conv.id, stored)

    usage = recorded["usage"]
    assert call.message_id == stored.id
    assert call.model == recorded["model"] == "gpt-4o-2024-08-06"
    assert call.input_tokens == usage["prompt_tokens"] == 1220
    assert call.cache_read_tokens == usage["prompt_tokens_details"]["cached_tokens"] == 1152
    assert call.output_tokens == usage["completion_tokens"] == 100
    assert call.total_tokens == usage["total_tokens"]
    assert call.identifiers["response_id"] == recorded["id"]
    assert call.identifiers["system_fingerprint"] == recorded["system_fingerprint"]
    assert call.identifiers["request_id"] == "req_c0f374d27da52b49fbc9e28b67f5496a"
    assert call.latency_ms == 2807  # openai-processing-ms header
    # OpenAI pricing, gpt-4o: $2.50 input, $1.25 cached input, $10 output
    assert call.cost == pytest.approx(usd((1220 - 1152, 2.50), (1152, 1.25), (100, 10.0)))
    assert call.raw_response == recorded
    assert call.request == req
    assert (await ledger.resolve(conv.id)).server_state is None  # Chat Completions is stateless


async def test_chat_stream_with_usage(ledger: Ledger) -> None:
    req = request_of(CHAT_STREAM_CACHED)
    system, user = req["messages"]
    conv = await _conversation(ledger, instructions=system["content"])
    await ledger.append(conv.id, MessageRecord(role="user", content=user["content"]))
    replay = Replay()
    replay.push(CHAT_STREAM_CACHED)
    agent = make_agent(
        replay,
        model="gpt-4o",
        stream=True,
        request_options=_options(req, "model", "messages", "stream_options"),
    )

    reply = await agent.respond(ledger, conv, [])

    assert replay.sent[0].json == req  # stream + stream_options.include_usage added by the agent
    assert reply.raw_response == text(CHAT_STREAM_CACHED)  # the SSE text as received
    assert reply.content == _sse_chat_text(CHAT_STREAM_CACHED)
    assert reply.content.startswith("Structuring a database schema effectively")
    call = await reply.record(ledger, conv.id, await store_reply(ledger, conv.id, reply.content))
    assert (call.input_tokens, call.cache_read_tokens, call.output_tokens) == (1420, 1280, 100)
    assert not call.usage_estimated
    # OpenAI pricing, gpt-4o: $2.50 input, $1.25 cached input, $10 output
    assert call.cost == pytest.approx(usd((1420 - 1280, 2.50), (1280, 1.25), (100, 10.0)))


async def test_chat_stream_tool_call_is_assembled_and_sent_back(ledger: Ledger) -> None:
    req = request_of(CHAT_STREAM_TOOL)
    conv = await _conversation(ledger)
    await ledger.append(conv.id, MessageRecord(role="user", content=req["messages"][0]["content"]))
    replay = Replay()
    replay.push(CHAT_STREAM_TOOL)
    agent = make_agent(
        replay, model="gpt-4o-mini", stream=True, request_options=_options(req, "model", "messages", "stream")
    )

    reply = await agent.respond(ledger, conv, [])

    assert replay.sent[0].json == req
    assert reply.content == ""
    # the deltas of the recorded stream: id and name in the first chunk, arguments in four pieces
    assert reply.tool_calls == [
        {
            "id": "call_ZR5UUuTt3pf61kjwAJIYdVMj",
            "type": "function",
            "function": {"name": "get_capital", "arguments": '{"country":"UK"}'},
        }
    ]
    stored = await store_reply(ledger, conv.id, reply.content, reply.tool_calls)
    call = await reply.record(ledger, conv.id, stored)
    assert call.identifiers["tool_call_ids"] == ["call_ZR5UUuTt3pf61kjwAJIYdVMj"]
    assert (call.input_tokens, call.output_tokens) == (53, 15)

    # next turn: the tool result goes back after the assistant call that asked for it
    await ledger.append(
        conv.id, MessageRecord(role="tool", tool_call_id="call_ZR5UUuTt3pf61kjwAJIYdVMj", content="London")
    )
    replay.push(CHAT_STREAM_TOOL)  # any answer will do: only the request matters here
    await agent.respond(ledger, conv, [])
    assert replay.sent[1].json["messages"] == [
        req["messages"][0],
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_ZR5UUuTt3pf61kjwAJIYdVMj",
                    "type": "function",
                    "function": {"name": "get_capital", "arguments": '{"country":"UK"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_ZR5UUuTt3pf61kjwAJIYdVMj", "content": "London"},
    ]


async def test_responses_request_reply_and_recording(ledger: Ledger) -> None:
    recorded = body(RESPONSES_WEB)
    req = request_of(RESPONSES_WEB)
    conv = await _conversation(ledger)
    await ledger.append(conv.id, MessageRecord(role="user", content=req["input"][0]["content"]))
    replay = Replay()
    replay.push(RESPONSES_WEB)
    agent = make_agent(
        replay, model="gpt-5.6", api="responses", request_options=_options(req, "model", "input")
    )

    reply = await agent.respond(ledger, conv, [])

    [sent] = replay.sent
    assert (sent.method, sent.path) == ("POST", "/v1/responses")
    assert sent.json == req  # no instructions (none set), no handle (first call)
    assert "previous_response_id" not in sent.json and "conversation" not in sent.json
    assert reply.metadata["context_strategy"] == "token_window"
    assert "no server-side handle" in reply.metadata["context_reason"]
    [message] = [item for item in recorded["output"] if item["type"] == "message"]
    assert reply.content == message["content"][0]["text"]
    assert reply.content.startswith("1889")

    stored = await store_reply(ledger, conv.id, reply.content)
    call = await reply.record(ledger, conv.id, stored)
    usage = recorded["usage"]
    assert call.input_tokens == usage["input_tokens"] == 8576
    assert call.cache_write_tokens == usage["input_tokens_details"]["cache_write_tokens"] == 4418
    assert call.output_tokens == usage["output_tokens"] == 52
    assert call.reasoning_tokens == usage["output_tokens_details"]["reasoning_tokens"] == 32
    assert call.identifiers["response_id"] == recorded["id"]
    # OpenAI pricing, gpt-5.6-sol (2026-07): $5 input, $6.25 cache write, $30 output; web search $10 / 1K
    assert call.cost == pytest.approx(usd((8576 - 4418, 5.0), (4418, 6.25), (52, 30.0)) + 10.0 / 1000)
    state = (await ledger.resolve(conv.id)).server_state
    assert state is not None
    assert state["previous_response_id"] == recorded["id"]
    assert state["last_message_seq"] == stored.seq == 2


async def test_http_404_raises_with_status_and_provider_message(ledger: Ledger) -> None:
    conv = await _conversation(ledger)
    await ledger.append(conv.id, MessageRecord(role="user", content="hello"))
    replay = Replay()
    replay.push(CHAT_404)
    agent = make_agent(replay, model="gpt-5.2-proo", request_options={"stream": False})

    with pytest.raises(ModelCallError) as caught:
        await agent.respond(ledger, conv, [])

    assert replay.sent[0].json == request_of(CHAT_404)
    err = caught.value
    message = body(CHAT_404)["error"]["message"]
    assert (err.status_code, err.code, err.provider_message) == (404, "model_not_found", message)
    assert "HTTP 404" in str(err) and message in str(err)
    assert err.request == request_of(CHAT_404)
    assert await ledger.provider_calls(conv.id) == []


async def test_http_400_and_5xx_and_network_errors_raise(ledger: Ledger) -> None:
    conv = await _conversation(ledger)
    await ledger.append(conv.id, MessageRecord(role="user", content="hello"))
    replay = Replay()
    replay.push(CHAT_400)
    replay.push_raw(502, b"<html>Bad gateway</html>", {"content-type": "text/html"})
    agent = make_agent(replay, model="gpt-4o")

    with pytest.raises(ModelCallError) as first:
        await agent.respond(ledger, conv, [])
    assert first.value.status_code == 400
    assert first.value.provider_message == body(CHAT_400)["error"]["message"]

    with pytest.raises(ModelCallError, match=r"HTTP 502.*Bad gateway"):
        await agent.respond(ledger, conv, [])

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    offline = OpenAICompatibleAgent(
        model="gpt-4o",
        api_key="sk-test",
        max_retries=0,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(refuse)),
    )
    with pytest.raises(ModelCallError, match="no HTTP response") as network:
        await offline.respond(ledger, conv, [])
    assert network.value.status_code is None


async def test_error_inside_a_200_stream_raises_and_can_still_be_recorded(ledger: Ledger) -> None:
    req = request_of(OPENROUTER_STREAM_ERROR)
    conv = await _conversation(ledger)
    for m in req["messages"]:
        await ledger.append(conv.id, MessageRecord(role=m["role"], content=m["content"]))
    replay = Replay()
    replay.push(OPENROUTER_STREAM_ERROR)
    agent = make_agent(
        replay,
        base_url="https://openrouter.ai/api/v1",
        provider="openrouter",
        model=req["model"],
        stream=True,
        request_options=_options(req, "model", "messages", "stream"),
    )

    with pytest.raises(ModelCallError, match="Token limit reached") as caught:
        await agent.respond(ledger, conv, [])

    assert replay.sent[0].json == req
    err = caught.value
    assert err.status_code == 200 and err.raw_response == text(OPENROUTER_STREAM_ERROR)
    call = await ledger.record_provider_call(
        conv.id,
        err.raw_response,
        request=err.request,
        provider=err.provider,
        api=err.api,
        headers=err.headers,
    )
    assert (call.input_tokens, call.output_tokens, call.reasoning_tokens) == (43, 10, 11)
    assert call.error == {"code": 400, "message": "Token limit reached"}


async def test_ollama_openai_compatible_endpoint(ledger: Ledger) -> None:
    """Ollama's /v1 (here its cloud host): provider ``ollama``, api ``chat``, no key needed."""
    recorded = body(OLLAMA_CLOUD)
    req = request_of(OLLAMA_CLOUD)
    first_user, assistant, second_user = req["messages"][:3]
    conv = await _conversation(ledger)
    await ledger.append(conv.id, MessageRecord(role="user", content=first_user["content"]))
    await ledger.append(conv.id, MessageRecord(role="assistant", content=assistant["content"]))
    await ledger.append(conv.id, MessageRecord(role="user", content=second_user["content"]))
    replay = Replay()
    replay.push(OLLAMA_CLOUD)
    agent = OpenAICompatibleAgent(
        model="gpt-oss:20b",
        base_url="https://ollama.com/v1",
        provider="ollama",
        max_retries=0,
        http_client=replay.http_client(),
    )

    reply = await agent.respond(ledger, conv, [])

    assert replay.sent[0].path == "/v1/chat/completions"
    assert replay.sent[0].json["messages"] == [
        {"role": m["role"], "content": m["content"]} for m in (first_user, assistant, second_user)
    ]
    assert reply.tool_calls == [
        {"id": c["id"], "type": "function", "function": c["function"]}
        for c in recorded["choices"][0]["message"]["tool_calls"]
    ]
    call = await reply.record(
        ledger, conv.id, await store_reply(ledger, conv.id, reply.content, reply.tool_calls)
    )
    assert (call.provider, call.api) == ("ollama", "chat")
    assert call.input_tokens == recorded["usage"]["prompt_tokens"]
    assert call.output_tokens == recorded["usage"]["completion_tokens"]


def test_constructor_validation_and_settings_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ValueError, match="api must be one of chat, responses"):
        OpenAICompatibleAgent(model="m", api="messages", api_key="k")
    with pytest.raises(ValueError, match="has no API 'responses'"):
        OpenAICompatibleAgent(model="m", provider="ollama", api="responses")
    with pytest.raises(ValueError, match="unknown provider"):
        OpenAICompatibleAgent(model="m", provider="nope", api_key="k")
    with pytest.raises(ValueError, match="model must be"):
        OpenAICompatibleAgent(model=" ", api_key="k")
    with pytest.raises(ValueError, match="budget_tokens"):
        OpenAICompatibleAgent(model="m", api_key="k", budget_tokens=-1)
    with pytest.raises(ValueError, match="no API key for openai"):
        OpenAICompatibleAgent(model="m")

    assert isinstance(OpenAICompatibleAgent(model="m", api_key="k"), Agent)  # the route's protocol
    assert infer_provider("https://openrouter.ai/api/v1") == "openrouter"
    assert infer_provider("http://127.0.0.1:11434/v1") == "ollama"
    assert infer_provider("http://vllm.internal:8000/v1") == "openai"
    assert infer_provider(None) == "openai"

    agent = openai_agent_from_settings(
        Settings(
            openai_base_url="https://openrouter.ai/api/v1",
            openai_model="openai/gpt-4o-mini",
            openai_api_key="sk-or-test",
            context_budget_tokens=2000,
        )
    )
    assert (agent.provider, agent.api, agent.model, agent.budget_tokens) == (
        "openrouter",
        "chat",
        "openai/gpt-4o-mini",
        2000,
    )
    assert agent.base_url.startswith("https://openrouter.ai/api/v1")
    local = openai_agent_from_settings(
        Settings(openai_base_url="http://localhost:11434/v1", openai_model="llama3")
    )
    assert (local.provider, local.model) == ("ollama", "llama3")  # keyless local server accepted
