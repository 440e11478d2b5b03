"""``/healthz``, ``/metrics``, ``/api/stats`` and the session health score."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from api_helpers import Api, assert_problem

from convoledger.api.app import create_app
from convoledger.api.health import HealthInputs, compute_health
from convoledger.ledger import Ledger
from convoledger.models.policy import LifecyclePolicy
from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.models.status import ConversationStatus
from convoledger.settings import Settings
from convoledger.store.base import Account
from convoledger.store.memory import MemoryStore


async def test_healthz_needs_no_auth(api: Api) -> None:
    r = await api.client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


async def test_metrics_count_requests_by_route_template(api: Api) -> None:
    s = await api.create_session()
    await api.post_message(s["id"])
    await api.client.get(f"/api/agent-sessions/{s['id']}", headers=api.a)
    await api.client.get("/api/agent-sessions/missing", headers=api.a)
    await api.client.get("/no/such/route")
    r = await api.client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert (
        'convoledger_http_requests_total{method="GET",route="/api/agent-sessions/{session}",status="200"} 1.0'
        in text
    )
    assert (
        'convoledger_http_requests_total{method="GET",route="/api/agent-sessions/{session}",status="404"} 1.0'
        in text
    )
    assert 'route="<unmatched>",status="404"' in text
    assert s["id"] not in text  # concrete paths never become labels
    assert 'convoledger_messages_appended_total{route="/api/agent-sessions/{session}/messages"} 1.0' in text
    assert "convoledger_http_request_duration_seconds_bucket" in text


async def test_stats_count_only_the_callers_data(api: Api) -> None:
    empty = (await api.client.get("/api/stats", headers=api.a)).json()
    assert empty == {
        "total_sessions": 0, "active_sessions": 0, "total_messages": 0,
        "average_messages_per_session": 0.0, "sessions_with_conversations": 0,
        "sessions": 0, "messages": 0, "by_status": empty["by_status"], "by_kind": empty["by_kind"],
    }  # fmt: skip
    assert sum(empty["by_status"].values()) == 0
    s1 = await api.create_session()
    s2 = await api.create_session()
    for _ in range(3):
        await api.post_message(s1["id"])
    await api.client.put(f"/api/agent-sessions/{s2['id']}/deactivate", headers=api.a)
    await api.client.post(
        "/api/sessions",
        json={
            "session_id": "multi",
            "session_type": "user_to_mc",
            "participants": [
                {"participant_id": "u", "participant_type": "user"},
                {"participant_id": "mc", "participant_type": "master_controller"},
            ],
        },
        headers=api.a,
    )
    other = await api.create_session(headers=api.b)
    await api.post_message(other["id"], headers=api.b)
    stats = (await api.client.get("/api/stats", headers=api.a)).json()
    assert stats["sessions"] == 3 and stats["active_sessions"] == 2 and stats["messages"] == 3
    assert stats["total_sessions"] == 3 and stats["total_messages"] == 3
    assert stats["sessions_with_conversations"] == 1  # only s1 has messages
    assert stats["average_messages_per_session"] == 1.0
    assert stats["by_status"].get("active") == 2 and stats["by_status"].get("inactive") == 1
    assert stats["by_kind"].get("agent_session") == 2 and stats["by_kind"].get("conversation_session") == 1


async def test_health_route_scores_a_session(api: Api) -> None:
    s = await api.create_session()
    url = f"/api/agent-sessions/{s['id']}/health"
    h = (await api.client.get(url, headers=api.a)).json()
    assert h["score"] == 80 and h["grade"] == "healthy"
    assert [f["name"] for f in h["factors"]] == ["empty"]
    assert h["id"] == s["id"] and h["metrics"]["message_count"] == 0
    assert h["external_session_id"] == s["session_id"]
    await api.post_message(s["id"], content="help?")
    h = (await api.client.get(url, headers=api.a)).json()
    assert [f["name"] for f in h["factors"]] == ["unanswered"] and h["score"] == 90
    await api.post_message(s["id"], role="assistant", content="sure")
    h = (await api.client.get(url, headers=api.a)).json()
    # convoledger's report: its own recommendations are under "actions" ("recommendations" is the seed's)
    assert h["score"] == 100 and h["factors"] == [] and h["actions"] == ["No action needed."]
    await api.client.put(f"/api/agent-sessions/{s['id']}/deactivate", headers=api.a)
    h = (await api.client.get(url, headers=api.a)).json()
    assert h["score"] == 90 and h["status"] == "inactive"
    assert any("activate" in r for r in h["actions"])
    assert_problem(await api.client.get("/api/agent-sessions/nope/health", headers=api.a), 404)


NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
POLICY = LifecyclePolicy(default_timeout=3600)


def conv(
    status: ConversationStatus = ConversationStatus.ACTIVE, idle: float = 0, count: int = 0
) -> ConversationRecord:
    return ConversationRecord(
        owner_id="o", status=status, message_count=count, last_activity_at=NOW - timedelta(seconds=idle)
    )


def msg(role: str, **kw: object) -> MessageRecord:
    return MessageRecord(role=role, content=str(kw.pop("content", "x")), **kw)  # type: ignore[arg-type]


def test_health_score_factors() -> None:
    ok = [msg("user"), msg("assistant")]
    report = compute_health(conv(count=2), HealthInputs(2, 0, ok), policy=POLICY, now=NOW)
    assert (report.score, report.grade, report.factors) == (100, "healthy", [])
    idle = compute_health(conv(idle=4000, count=2), HealthInputs(2, 0, ok), policy=POLICY, now=NOW)
    assert idle.score == 70 and idle.factors[0][0] == "idle" and idle.grade == "warning"
    half = compute_health(conv(idle=2000, count=2), HealthInputs(2, 0, ok), policy=POLICY, now=NOW)
    assert half.score == 85
    # idle time does not count against a session that is not active
    archived = compute_health(
        conv(ConversationStatus.ARCHIVED, idle=10**6, count=2), HealthInputs(2, 0, ok), policy=POLICY, now=NOW
    )
    assert [f[0] for f in archived.factors] == ["status"] and archived.score == 60
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    pending = [msg("user"), msg("assistant", content="", tool_calls=[call])]
    r = compute_health(conv(count=2), HealthInputs(2, 0, pending), policy=POLICY, now=NOW)
    assert [f[0] for f in r.factors] == ["tool_calls"] and r.metrics["tool_calls_without_result"] == 1
    answered = [*pending, msg("tool", tool_call_id="c1"), msg("assistant")]
    assert compute_health(conv(count=4), HealthInputs(4, 0, answered), policy=POLICY, now=NOW).score == 100
    orphan = [msg("tool", tool_call_id="zz"), msg("assistant")]
    r = compute_health(conv(count=2), HealthInputs(2, 0, orphan), policy=POLICY, now=NOW)
    assert r.metrics["tool_results_without_call"] == 1 and r.score == 95
    # a result whose call lies before the examined window is not counted as orphaned
    r = compute_health(conv(count=500), HealthInputs(500, 0, orphan), policy=POLICY, now=NOW)
    assert r.metrics["tool_results_without_call"] == 0
    errors = compute_health(conv(count=10), HealthInputs(10, 3, ok), policy=POLICY, now=NOW)
    assert [f[0] for f in errors.factors] == ["errors"] and errors.score == 80
    few = compute_health(conv(count=20), HealthInputs(20, 1, ok), policy=POLICY, now=NOW)
    assert few.score == 90
    long = compute_health(conv(count=501), HealthInputs(501, 0, ok), policy=POLICY, now=NOW)
    assert [f[0] for f in long.factors] == ["long_history"]
    worst = compute_health(
        conv(ConversationStatus.ARCHIVED, count=0), HealthInputs(0, 0, []), policy=POLICY, now=NOW
    )
    assert worst.score == 40 and worst.grade == "critical"


class FailingStore(MemoryStore):
    """A memory store whose key lookups fail once ``broken`` is set (a store that stopped answering)."""

    broken = False

    async def account_for_key(self, key_hash: str) -> Account | None:
        if self.broken:
            raise ConnectionError("store down")
        return await super().account_for_key(key_hash)


async def test_healthz_is_503_when_the_store_does_not_answer() -> None:
    store = FailingStore()
    app = create_app(Ledger(store), Settings(agent="echo"))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            assert (await client.get("/healthz")).status_code == 200
            store.broken = True
            r = await client.get("/healthz")
            body = assert_problem(r, 503, "store-unavailable")
            assert "ConnectionError" in body["detail"]


def test_create_app_rejects_bad_configuration() -> None:
    with pytest.raises(ValueError, match="unsupported ledger URL"):
        create_app("mysql://x", Settings(agent="echo"))
    with pytest.raises(ValueError, match="unknown agent"):
        create_app("memory://", Settings(agent="gpt-9"))
