"""The six recorded multi-turn previous_response_id / conversation chains, replayed through the ledger.

For every interaction, in order: the new input of the recorded request is appended as messages;
``ledger.context_for(conv, provider="openai", api="responses")`` gives the plan; where the real
client sent ``previous_response_id`` or ``conversation``, the plan must be ``server_state`` with
exactly that handle and the recorded ``input`` as its delta (the chain verified: the ledger
reproduces what the real client sent). ``/responses`` calls then go through the
``OpenAICompatibleAgent`` over an httpx mock transport, and the request it sends is compared
with the recorded one as a whole; the recorded response is stored with
``ledger.record_provider_call`` and the server-side handle must move to the new response /
conversation. Steps where the real client sent no handle are asserted and explained where they
happen. Totals of ``ledger.usage`` are checked against the usages of the files, added by hand.
Every test runs on memory:// and on a SQLite file.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from capture_helpers import Replay, body, chain, headers_of, make_agent, request_of, store_reply, text, usd

from convoledger.agent.openai_compatible import build_responses_request, responses_input, server_handle_params
from convoledger.context import ContextPlan
from convoledger.ledger import Ledger
from convoledger.models.records import ConversationRecord, MessageRecord

HANDLE_KEYS = ("previous_response_id", "conversation")
CONV_ID = "conv_010000000000000000000000000000000000000000000000"  # scrubbed by the origin tests


class ChainReplay:
    """Drives one recorded chain through a ledger conversation."""

    def __init__(self, ledger: Ledger, conversation: ConversationRecord) -> None:
        self.ledger = ledger
        self.conv = conversation
        self.replay = Replay()
        self.replies: list[MessageRecord] = []

    async def append_input(self, request: dict[str, Any]) -> None:
        """Store the request's new input as messages: user turns and tool results (the ledger
        keeps no compaction items; see the compaction chain)."""
        for item in request["input"]:
            if item.get("role") == "user":
                await self.ledger.append(self.conv.id, MessageRecord(role="user", content=item["content"]))
            elif item.get("type") == "function_call_output":
                await self.ledger.append(
                    self.conv.id,
                    MessageRecord(role="tool", tool_call_id=item["call_id"], content=item["output"]),
                )
            else:
                assert item.get("type") == "compaction", f"unexpected input item {item!r}"

    async def plan(self) -> ContextPlan:
        return await self.ledger.context_for(self.conv.id, provider="openai", api="responses")

    async def verify_handle(self, rel: str) -> ContextPlan:
        """The plan for a step where the real client continued server-side state: same handle,
        same input delta."""
        request = request_of(rel)
        plan = await self.plan()
        sent_handle = {k: request[k] for k in HANDLE_KEYS if k in request}
        assert len(sent_handle) == 1, rel
        assert plan.strategy == "server_state", plan.reason
        assert server_handle_params(plan.server_handle) == sent_handle
        assert responses_input(plan.messages) == request["input"]
        return plan

    async def call(self, rel: str) -> dict[str, Any]:
        """Send the step through the agent (recorded response replayed), store the reply, record
        the call; return the request the agent sent."""
        request = request_of(rel)
        options = {
            k: v for k, v in request.items() if k not in ("model", "input", "instructions", *HANDLE_KEYS)
        }
        self.replay.push(rel)
        agent = make_agent(self.replay, model=request["model"], api="responses", request_options=options)
        reply = await agent.respond(self.ledger, await self.ledger.resolve(self.conv.id), [])
        stored = await store_reply(self.ledger, self.conv.id, reply.content, reply.tool_calls)
        self.replies.append(stored)
        call = await reply.record(self.ledger, self.conv.id, stored)
        recorded = _final_response(rel)
        assert call.identifiers["response_id"] == recorded["id"]
        state = (await self.ledger.resolve(self.conv.id)).server_state
        assert state is not None
        assert state["last_message_seq"] == stored.seq
        if recorded.get("conversation"):
            # Inside a server conversation the conversation is the one handle to send (OpenAI
            # refuses it together with previous_response_id), so no response id is kept.
            assert state["conversation_id"] == recorded["conversation"]["id"]
            assert "previous_response_id" not in state
        else:
            assert state["previous_response_id"] == recorded["id"]  # the handle moved to this response
        return self.replay.sent[-1].json

    async def step(self, rel: str) -> None:
        """A /responses step where the real client sent a handle: verified, then sent."""
        request = request_of(rel)
        await self.append_input(request)
        await self.verify_handle(rel)
        assert await self.call(rel) == request


def _final_response(rel: str) -> dict[str, Any]:
    if rel.endswith(".sse"):
        events = [json.loads(line[6:]) for line in text(rel).splitlines() if line.startswith("data: {")]
        [final] = [e["response"] for e in events if e["type"] == "response.completed"]
        return final
    return body(rel)


async def _new_conversation(ledger: Ledger, instructions: str | None = None) -> ConversationRecord:
    return await ledger.create_conversation(
        ConversationRecord(owner_id=ledger.owner, agent_instructions=instructions)
    )


async def _conversation_created(run: ChainReplay, rel: str) -> None:
    """Step #0 of the conversation chains: POST /v1/conversations (body ``{}``).

    The Conversations object is recorded (api ``conversations``: not a model call, cost 0) and
    sets the conversation's handle: ``conversation_id`` with ``last_message_seq`` at the
    ledger's last seq — the new server conversation holds none of the ledger's messages.
    """
    created = body(rel)
    assert request_of(rel) == {}
    call = await run.ledger.record_provider_call(
        run.conv.id, created, request={}, provider="openai", api="conversations", headers=headers_of(rel)
    )
    assert call.identifiers == {"conversation_id": created["id"]} and created["id"] == CONV_ID
    assert (call.cost, call.input_tokens) == (0.0, 0)
    assert call.latency_ms == float(headers_of(rel)["openai-processing-ms"])
    # Recording the Conversations object sets the handle: conversation_id for the Responses API,
    # with last_message_seq = where the ledger stood (the server conversation holds none yet).
    state = (await run.ledger.resolve(run.conv.id)).server_state
    assert state is not None
    assert {k: state[k] for k in ("provider", "api", "conversation_id")} == {
        "provider": "openai", "api": "responses", "conversation_id": created["id"]
    }
    assert state["last_message_seq"] == run.conv.last_seq


async def _totals(ledger: Ledger, conv_id: str) -> tuple[int, int, int, int, float | None]:
    totals = (await ledger.usage(conv_id)).totals
    return totals.calls, totals.input_tokens, totals.output_tokens, totals.total_tokens, totals.cost


# -- the six chains ---------------------------------------------------------------------------


async def test_chain_conversation_id_explicit_and_auto(ledger: Ledger) -> None:
    steps = [r["file"] for r in chain("test_openai_conversation_id_explicit_and_auto")]
    assert [r["method"] for r in chain("test_openai_conversation_id_explicit_and_auto")] == [
        "POST",
        "POST",
        "POST",
        "DELETE",
    ]
    instructions = request_of(steps[1])["instructions"]
    run = ChainReplay(ledger, await _new_conversation(ledger, instructions))

    await _conversation_created(run, steps[0])
    await run.step(steps[1])  # conversation=conv_…, instructions sent again
    await run.step(steps[2])  # the handle now holds a response id too: `conversation` still wins
    assert [m.content for m in run.replies] == ["stored", "CONV-PAI-5222"]

    deleted = await ledger.record_provider_call(
        run.conv.id, body(steps[3]), provider="openai", api="conversations", headers=headers_of(steps[3])
    )
    assert deleted.identifiers == {"conversation_id": CONV_ID} and deleted.cost == 0.0

    # usage: conversation create + 52/2/54 + 77/9/86 + delete; gpt-4.1 $2 input, $8 output per MTok
    calls, inp, out, total, cost = await _totals(ledger, run.conv.id)
    assert (calls, inp, out, total) == (4, 52 + 77, 2 + 9, 54 + 86)
    assert cost == pytest.approx(usd((129, 2.0), (11, 8.0)))


async def test_chain_conversation_id_streaming_provider_details(ledger: Ledger) -> None:
    create, streamed = (r["file"] for r in chain("test_openai_conversation_id_streaming_provider_details"))
    assert streamed.endswith(".sse") and request_of(streamed)["stream"] is True
    run = ChainReplay(ledger, await _new_conversation(ledger, request_of(streamed)["instructions"]))

    await _conversation_created(run, create)
    await run.step(streamed)  # the agent keeps the SSE text and records it
    assert run.replies[0].content == "streamed"
    [_, call] = await ledger.provider_calls(run.conv.id)
    assert call.raw_response == text(streamed)
    assert call.identifiers["conversation_id"] == CONV_ID

    # usage: 21 input, 3 output (final response.completed event); gpt-4.1 $2 / $8 per MTok
    assert await _totals(ledger, run.conv.id) == (2, 21, 3, 24, pytest.approx(usd((21, 2.0), (3, 8.0))))


async def test_chain_conversation_id_tool_call_continuation(ledger: Ledger) -> None:
    create, first, second = (r["file"] for r in chain("test_openai_conversation_id_tool_call_continuation"))
    run = ChainReplay(ledger, await _new_conversation(ledger, request_of(first)["instructions"]))

    await _conversation_created(run, create)
    await run.step(first)
    # the model called the tool: the reply stores the call so the result can answer it
    assert run.replies[0].content == ""
    assert run.replies[0].tool_calls == [
        {
            "id": "call_010000000000000000000000",
            "type": "function",
            "function": {"name": "get_conversation_code", "arguments": "{}"},
        }
    ]
    await run.step(second)  # delta = the function_call_output alone
    assert run.replies[1].content == "TOOL-PAI-5222"

    # usage: 57/13/70 + 88/10/98; gpt-4.1 $2 / $8 per MTok
    assert await _totals(ledger, run.conv.id) == (
        3,
        57 + 88,
        13 + 10,
        70 + 98,
        pytest.approx(usd((145, 2.0), (23, 8.0))),
    )


async def test_chain_previous_response_id_auto_mode(ledger: Ledger) -> None:
    """One interaction continuing a response made outside the recording: the conversation is
    seeded with that handle (a client resuming a session), then the ledger must send it."""
    [only] = (r["file"] for r in chain("test_openai_previous_response_id_auto_mode"))
    request = request_of(only)
    outside = request["previous_response_id"]
    assert outside == "resp_68b9bda81f5c8197a5a51a20a9f4150a000497db2a4c777b"
    run = ChainReplay(ledger, await _new_conversation(ledger, request["instructions"]))  # instructions ""
    await ledger.update_conversation(
        run.conv.id,
        server_state={
            "provider": "openai",
            "api": "responses",
            "previous_response_id": outside,
            "last_message_seq": 0,
        },
    )

    await run.step(only)
    assert run.replies[0].content == "sesame"
    # usage 10/1/11; gpt-5 $1.25 input, $10 output per MTok
    assert await _totals(ledger, run.conv.id) == (1, 10, 1, 11, pytest.approx(usd((10, 1.25), (1, 10.0))))


async def test_chain_previous_response_id_seed_auto_chains_through_retries(ledger: Ledger) -> None:
    steps = [r["file"] for r in chain("test_openai_previous_response_id_seed_auto_chains_through_retries")]
    run = ChainReplay(ledger, await _new_conversation(ledger))

    # #0: the real client sent no handle; nor does the ledger (nothing on the server yet)
    first = request_of(steps[0])
    await run.append_input(first)
    plan = await run.plan()
    assert plan.strategy == "token_window" and plan.server_handle is None
    assert "the conversation has no server-side handle" in plan.reason
    assert await run.call(steps[0]) == first

    await run.step(steps[1])  # previous_response_id = #0; the model calls get_weather(New York)
    await run.step(steps[2])  # the tool's retry prompt answers that call; the model retries with NYC
    await run.step(steps[3])  # the result answers the retried call
    assert [m.tool_call_ids for m in run.replies] == [
        [],
        ["call_P1vN20XNjvNyIm0VshHYzmSA"],
        ["call_N2BikjqNxghwNIwHl2XKfb0F"],
        [],
    ]
    assert run.replies[-1].content == "The weather in New York is sunny and 72\u00b0F."

    # usage: 40/3/43 + 56/16/72 + 110/16/126 + 139/14/153; gpt-4.1 $2 / $8 per MTok
    assert await _totals(ledger, run.conv.id) == (
        4,
        345,
        49,
        394,
        pytest.approx(usd((345, 2.0), (49, 8.0))),
    )


async def test_chain_responses_compact_with_auto_previous_response_id(ledger: Ledger) -> None:
    """Responses and /responses/compact calls alternate. Each compaction continues the latest
    response (previous_response_id, empty input) — the ledger reproduces it exactly. After a
    compaction the real client sent the encrypted compaction item plus the new user turn and no
    handle; the ledger stores no compaction items, so it sends no handle either and falls back to
    a token window of the whole text history (valid, just more input tokens)."""
    steps = [r["file"] for r in chain("test_openai_responses_compact_with_auto_previous_response_id_chain")]
    endpoints = [
        r["endpoint"].rsplit("/v1", 1)[1]
        for r in chain("test_openai_responses_compact_with_auto_previous_response_id_chain")
    ]
    assert endpoints == ["/responses", "/responses"] + ["/responses/compact", "/responses"] * 3
    run = ChainReplay(ledger, await _new_conversation(ledger))

    first = request_of(steps[0])
    await run.append_input(first)
    assert (await run.plan()).strategy == "token_window"
    assert await run.call(steps[0]) == first
    await run.step(steps[1])

    history = [
        first["input"][0]["content"],
        run.replies[0].content,
        request_of(steps[1])["input"][0]["content"],
        run.replies[1].content,
    ]
    assert history == ["What is 2+2?", "2 + 2 = **4**", "And 3+3?", "3 + 3 = **6**"]
    for compact, after in ((steps[2], steps[3]), (steps[4], steps[5]), (steps[6], steps[7])):
        # the compaction continues the latest response with no new input
        compact_request = request_of(compact)
        plan = await run.verify_handle(compact)
        conv = await ledger.resolve(run.conv.id)
        assert build_responses_request(conv, plan, model="gpt-4.1") == compact_request
        assert compact_request["input"] == []
        compacted = body(compact)
        assert compacted["object"] == "response.compaction" and "model" not in compacted
        call = await ledger.record_provider_call(
            run.conv.id,
            compacted,
            request=compact_request,
            provider="openai",
            api="responses",
            headers=headers_of(compact),
            model=compact_request["model"],  # the compaction body names no model
        )
        assert call.identifiers["response_id"] == compacted["id"]

        # the next turn: no handle (as the real client), the whole text history as input
        after_request = request_of(after)
        assert not any(k in after_request for k in HANDLE_KEYS)
        await run.append_input(after_request)
        plan = await run.plan()
        assert plan.strategy == "token_window" and plan.server_handle is None
        assert plan.reason.startswith("token_window: ")
        sent = await run.call(after)
        user_turn = after_request["input"][-1]["content"]
        assert "previous_response_id" not in sent and "conversation" not in sent
        expected = history + [user_turn]
        assert sent["input"] == [
            {"role": "user" if i % 2 == 0 else "assistant", "content": c} for i, c in enumerate(expected)
        ]
        history = expected + [run.replies[-1].content]

    assert history[4::2] == ["And 4+4?", "91 - 16?", "What's your favorite number?"]
    assert history[5:9:2] == ["4 + 4 = 8", "91 - 16 = **75**"]

    # usage: responses 14/9 + 36/9 + 276/8 + 285/9 + 278/165, compactions 141/183 + 117/193 + 117/186
    # (compactions priced as gpt-4.1, the model their requests named); gpt-4.1 $2 / $8 per MTok
    inputs, outputs = 14 + 36 + 141 + 276 + 117 + 285 + 117 + 278, 9 + 9 + 183 + 8 + 193 + 9 + 186 + 165
    assert (inputs, outputs) == (1264, 762)
    assert await _totals(ledger, run.conv.id) == (
        8,
        1264,
        762,
        2026,
        pytest.approx(usd((1264, 2.0), (762, 8.0))),
    )


# -- Conversations objects: what the ledger should do itself ----------------------------------


async def test_conversation_object_sets_the_handle(ledger: Ledger) -> None:
    create = chain("test_openai_conversation_id_explicit_and_auto")[0]["file"]
    conv = await _new_conversation(ledger)
    await ledger.record_provider_call(conv.id, body(create), provider="openai", api="conversations")
    await ledger.append(conv.id, MessageRecord(role="user", content="hello"))
    plan = await ledger.context_for(conv.id, provider="openai", api="responses")
    assert plan.strategy == "server_state", plan.reason
    assert server_handle_params(plan.server_handle) == {"conversation": CONV_ID}


async def test_deleted_conversation_clears_the_handle(ledger: Ledger) -> None:
    delete = chain("test_openai_conversation_id_explicit_and_auto")[3]["file"]
    conv = await _new_conversation(ledger)
    await ledger.update_conversation(
        conv.id,
        server_state={
            "provider": "openai",
            "api": "responses",
            "conversation_id": CONV_ID,
            "last_message_seq": 0,
        },
    )
    await ledger.record_provider_call(conv.id, body(delete), provider="openai", api="conversations")
    await ledger.append(conv.id, MessageRecord(role="user", content="hello"))
    plan = await ledger.context_for(conv.id, provider="openai", api="responses")
    assert plan.strategy == "token_window"
