"""The real OpenAI-compatible agent behind ``POST /api/agent-sessions/conversation``, offline:
a recorded OpenAI response is replayed through httpx, and the API stores the reply, the call's
usage and cost, and answers 502 when the provider fails."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from capture_helpers import Replay, body, make_agent

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from api_helpers import assert_problem, start_api  # noqa: E402

CHAT_CACHED = "openai_chat/dd__chat_completion_prompt_caching_cache_read__0.json"
CHAT_404 = "openai_chat/pai__test_model_name_suggestion_openai-chat___0.json"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'api.db'}"


async def test_conversation_turn_records_the_model_call(db_url: str) -> None:
    replay = Replay()
    replay.push(CHAT_CACHED)
    agent = make_agent(replay, model="gpt-4o", provider="openai", api="chat")
    recorded = body(CHAT_CACHED)
    async for api in start_api(db_url, agent=agent):
        r = await api.client.post(
            "/api/agent-sessions/conversation",
            json={
                "session_id": "db-help",
                "messages": [{"role": "user", "content": "How to structure a schema?"}],
            },
            headers=api.a,
        )
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["response"] == recorded["choices"][0]["message"]["content"]
        assert out["messages_count"] == 2 and out["session_active"] is True
        # What the client sent: the stored user message, in chat-completions form.
        assert replay.sent[0].path == "/v1/chat/completions"
        assert replay.sent[0].json["model"] == "gpt-4o"
        assert replay.sent[0].json["messages"][-1] == {
            "role": "user",
            "content": "How to structure a schema?",
        }
        usage = (
            await api.client.get(f"/api/agent-sessions/{out['session_uuid']}/usage", headers=api.a)
        ).json()
        # Tokens from the recorded body: 1220 in (1152 cached), 100 out.
        totals = usage["totals"]
        assert (
            totals["calls"],
            totals["input_tokens"],
            totals["cache_read_tokens"],
            totals["output_tokens"],
        ) == (
            1,
            1220,
            1152,
            100,
        )
        # gpt-4o (2024-08-06) list prices per MTok: $2.50 input, $1.25 cached input, $10 output.
        expected = (1220 - 1152) * 2.5e-6 + 1152 * 1.25e-6 + 100 * 10e-6
        assert totals["cost"] == pytest.approx(expected, rel=1e-9)
        calls = (
            await api.client.get(f"/api/agent-sessions/{out['session_uuid']}/provider-calls", headers=api.a)
        ).json()
        assert calls["items"][0]["identifiers"]["response_id"] == recorded["id"]
        reply_id = calls["items"][0]["message_id"]
        reply = (
            await api.client.get(
                f"/api/agent-sessions/{out['session_uuid']}/messages/{reply_id}", headers=api.a
            )
        ).json()
        assert reply["role"] == "assistant" and reply["seq"] == 2


async def test_provider_failure_is_a_502_problem(db_url: str) -> None:
    replay = Replay()
    replay.push(CHAT_404)
    agent = make_agent(replay, model="gpt-4o", provider="openai", api="chat")
    async for api in start_api(db_url, agent=agent):
        r = await api.client.post(
            "/api/agent-sessions/conversation",
            json={"session_id": "s-err", "messages": [{"role": "user", "content": "hello"}]},
            headers=api.a,
        )
        problem = assert_problem(r, 502, "model-call-failed")
        assert problem["status_code"] == 404 and problem["provider"] == "openai"
        # The user's message is kept; no reply was invented.
        listing = (await api.client.get("/api/agent-sessions/s-err/messages", headers=api.a)).json()
        assert [m["role"] for m in listing["items"]] == ["user"]
