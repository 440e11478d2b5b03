"""Seed 004 over HTTP, against a real ``convoledger serve`` on SQLite and on PostgreSQL: a client in
any language records a provider call from its raw response (``POST …/provider-calls``) and reads
the conversation's ``provider_metadata``, ``extracted_identifiers``, ``token_usage_history`` and
``cost_tracking`` (``GET …/provider-metadata`` etc., derived from the recorded calls).

One server per backend: each test function runs the whole flow (server starts are slow).
Costs: the hand computations of ``shared/data/provider_responses/FIELDS.md`` ("Pricing").
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from recorded_responses import Recorded
from serve_process import ServeProcess

ANTHROPIC_STREAM = "anthropic/dd__anthropic_completion_stream_cache_read__0.sse"
OPENAI_CHAT = "openai_chat/dd__chat_completion_prompt_caching_cache_read__0.json"
CONVERSATION = "openai_responses/pai__test_openai_conversation_id_explicit_and_auto__1.json"
# gpt-4o, 1220 input of which 1152 cached, 100 output: 68 × $2.50 + 1152 × $1.25 + 100 × $10 per MTok
OPENAI_CHAT_COST = 0.00261
PROBLEM = "application/problem+json"


def _problem(r: httpx.Response, status: int, text: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = r.json()
    assert body["status"] == status and text in body["detail"], body
    return body


def test_record_provider_calls_and_read_the_four_views(serve: ServeProcess, recorded: Recorded) -> None:
    with serve.client("a") as a, serve.client("b") as b:
        r = a.post("/api/agent-sessions", json={"session_id": "seed-004-http"})
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        r = a.post(
            f"/api/agent-sessions/{sid}/messages", json={"role": "assistant", "content": "Cached answer."}
        )
        assert r.status_code == 201, r.text
        answer = r.json()["id"]
        base = f"/api/agent-sessions/{sid}"

        # a JSON body + its headers + the request, linked to the message it produced
        body = {
            "provider": "openai",
            "api": "chat",
            "response": recorded.json(OPENAI_CHAT),
            "message_id": answer,
            "request": recorded.request(OPENAI_CHAT),
            "headers": {"x-request-id": "req_seed_004", "openai-processing-ms": "812"},
        }
        r = a.post(f"{base}/provider-calls", json=body)
        assert r.status_code == 201, r.text
        chat = r.json()
        assert (
            chat["message_id"] == answer
            and chat["provider"] == "openai"
            and chat["model"].startswith("gpt-4o")
        )
        assert (chat["input_tokens"], chat["cache_read_tokens"], chat["output_tokens"]) == (1220, 1152, 100)
        assert chat["cost"] == pytest.approx(OPENAI_CHAT_COST, abs=1e-12) and chat["currency"] == "USD"
        assert chat["latency_ms"] == 812.0
        assert chat["identifiers"]["request_id"] == "req_seed_004"
        assert chat["extracted_identifiers"] == chat["identifiers"]  # the seed's name
        assert chat["usage_metrics"]["cost"] == chat["cost"] and chat["usage_metrics"]["input_tokens"] == 1220
        assert chat["provider_specific_data"] == {"service_tier": "default"}
        assert "raw_response" not in chat

        # a complete stream as text (Anthropic SSE), api detected
        r = a.post(
            f"{base}/provider-calls?include_raw=true",
            json={"provider": "anthropic", "response": recorded.text(ANTHROPIC_STREAM)},
        )
        assert r.status_code == 201, r.text
        stream = r.json()
        assert (stream["api"], stream["input_tokens"], stream["cache_read_tokens"]) == (
            "messages",
            1042,
            1031,
        )
        assert stream["raw_response"] == recorded.text(ANTHROPIC_STREAM)
        # a Responses body that names its server-side conversation, for a second answer
        r = a.post(f"{base}/messages", json={"role": "assistant", "content": "Second answer."})
        assert r.status_code == 201, r.text
        second = r.json()["id"]
        r = a.post(
            f"{base}/provider-calls",
            json={"provider": "openai", "response": recorded.json(CONVERSATION), "message_id": second},
        )
        assert r.status_code == 201, r.text
        conv_id = recorded.json(CONVERSATION)["conversation"]["id"]
        assert r.json()["identifiers"]["conversation_id"] == conv_id

        # the four views
        metadata = a.get(f"{base}/provider-metadata").json()["provider_metadata"]
        assert list(metadata) == [chat["id"], stream["id"], r.json()["id"]]
        assert (
            metadata[chat["id"]]["message"] == answer and "provider_response_raw" not in metadata[chat["id"]]
        )
        full = a.get(f"{base}/provider-metadata?include_raw=true").json()["provider_metadata"]
        assert full[chat["id"]]["provider_response_raw"] == recorded.json(OPENAI_CHAT)
        identifiers = a.get(f"{base}/extracted-identifiers").json()["extracted_identifiers"]
        assert identifiers["conversation_id"] == conv_id and identifiers["request_id"] == "req_seed_004"
        history = a.get(f"{base}/token-usage-history").json()["token_usage_history"]
        assert [(h["message_id"], h["input_tokens"], h["output_tokens"], h["total"]) for h in history] == [
            (answer, 1220, 100, 1320),
            (None, 1042, 100, 1142),
            (second, 52, 2, 54),
        ]
        costs = a.get(f"{base}/cost-tracking").json()["cost_tracking"]
        assert costs["currency"] == "USD" and costs["calls"] == 3
        assert costs["per_message_costs"] == {
            answer: pytest.approx(OPENAI_CHAT_COST, abs=1e-12),
            second: costs["per_call_costs"][list(metadata)[2]],
        }
        assert costs["total_cost"] == pytest.approx(sum(costs["per_call_costs"].values()), abs=1e-12)
        usage = a.get(f"{base}/usage").json()
        assert usage["totals"]["cost"] == costs["total_cost"]
        listed = a.get(f"{base}/provider-calls").json()
        assert listed["total"] == 3 and listed["items"][0]["usage_metrics"] == chat["usage_metrics"]

        # Phase 3.3: prefer API-level state when the provider keeps it, with the reasoning
        plan = a.get(f"{base}/context", params={"provider": "openai", "api": "responses"}).json()
        assert plan["strategy"] == "server_state" and plan["server_handle"]["conversation_id"] == conv_id
        assert plan["reason"]
        window = a.get(f"{base}/context", params={"provider": "anthropic"}).json()
        assert window["strategy"] == "token_window" and window["server_handle"] is None
        # Phase 1.1 / 5.1: the capability fields and identifier paths over HTTP
        registry = a.get("/api/providers").json()
        openai = next(p for p in registry["providers"] if p["provider"] == "openai")
        responses = next(x for x in openai["apis"] if x["api"] == "responses")
        assert responses["identifier_paths"]["conversation_id"] == "conversation.id"
        assert responses["api_stateful"] is True and responses["sdk_session_support"] is True
        assert set(responses["provider_notes"]) == {
            "architecture",
            "implementation",
            "cost_implications",
            "sdk",
        }

        # bad input: problem+json, and nothing stored
        _problem(
            a.post(f"{base}/provider-calls", json={"provider": "nope", "response": {"id": "x"}}), 422, "nope"
        )
        _problem(
            a.post(
                f"{base}/provider-calls", json={"provider": "openai", "response": "not json, not a stream"}
            ),
            422,
            "",
        )
        _problem(
            a.post(
                f"{base}/provider-calls",
                json={"provider": "openai", "api": "messages", "response": {"id": "x"}},
            ),
            422,
            "messages",
        )
        _problem(
            a.post(
                f"{base}/provider-calls", json={"provider": "openai", "response": {"id": "x"}, "extra": 1}
            ),
            422,
            "extra",
        )
        _problem(
            a.post(
                f"{base}/provider-calls",
                json={
                    "provider": "openai",
                    "response": recorded.json(OPENAI_CHAT),
                    "message_id": "no-such-message",
                },
            ),
            404,
            "no-such-message",
        )
        assert a.get(f"{base}/provider-calls").json()["total"] == 3

        # another account: the session does not exist for it
        _problem(b.post(f"{base}/provider-calls", json=body), 404, "")
        _problem(b.get(f"{base}/cost-tracking"), 404, "")
        assert a.get(f"{base}/provider-calls").json()["total"] == 3
