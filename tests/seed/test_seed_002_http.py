"""Seed 002 (agent session management) over HTTP, against a real ``convoledger serve`` on SQLite
and on PostgreSQL: every request of the seed's API reference (section 12), its export / restore
shapes (section 10), statistics (section 9) and health (section 13), sent as the seed writes
them (bodies verbatim)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from convoledger.models.session_health import (
    MINIMAL_ACTIVITY_RECOMMENDATION,
    REACTIVATE_RECOMMENDATION,
    calculate_health_score,
)
from serve_process import ServeProcess

# section 12, "Create Session" — verbatim
SEED_CREATE_BODY = {
    "session_id": "session_user123_20241213_143000",
    "session_name": "Task Planning Discussion",
    "description": "Optional session description",
    "agent_name": "TodoAssistant",
    "agent_instructions": "Custom instructions for the agent",
    "is_active": True,
}
# section 12, "Update Session" — verbatim
SEED_PATCH_BODY = {
    "session_name": "Updated Session Name",
    "description": "Updated description",
    "is_active": False,
}
# section 12, "Create Message" — verbatim
SEED_MESSAGE_BODY = {
    "role": "user",
    "content": "Add task: Review project documentation",
    "tool_call_id": None,
    "tool_name": None,
    "extra_data": None,
}
# section 12, "Update Message" — verbatim
SEED_MESSAGE_PATCH = {"content": "Updated message content", "extra_data": '{"key": "value"}'}
# section 12, "Agent Conversation" — verbatim
SEED_CONVERSATION_BODY = {
    "messages": [{"role": "user", "content": "Help me plan my tasks for tomorrow"}],
    "session_id": "session_user123_20241213_143000",
    "session_name": "Task Planning Discussion",
}
SEED_SESSION_KEYS = [
    "id", "session_id", "session_name", "description", "is_active", "agent_name",
    "agent_instructions", "created_at", "updated_at",
]  # fmt: skip
SEED_MESSAGE_KEYS = [
    "id", "role", "content", "tool_call_id", "tool_name", "extra_data", "created_at", "updated_at",
]  # fmt: skip
SEED_CSV_HEADER = ["message_id", "role", "content", "tool_call_id", "tool_name", "created_at", "updated_at"]


@pytest.fixture
def server(serve_module: ServeProcess) -> ServeProcess:
    return serve_module


def fresh(server: ServeProcess) -> httpx.Client:
    """A client of a new, empty account (for listings and statistics)."""
    return server.client(server.new_account("seed002"))


def unique(body: dict[str, Any]) -> dict[str, Any]:
    """The seed's body with a session_id of its own (tests share the module's accounts)."""
    return {**body, "session_id": f"{body['session_id']}-{uuid.uuid4().hex[:8]}"}


def problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["detail"]
    return body


# -- sessions ----------------------------------------------------------------------------------
def test_create_session_with_the_seed_body_returns_both_names(server: ServeProcess) -> None:
    with server.client("a") as c:
        body = unique(SEED_CREATE_BODY)
        r = c.post("/api/agent-sessions", json=body)
        assert r.status_code == 201, r.text
        s = r.json()
        assert s["session_name"] == s["name"] == "Task Planning Discussion"
        assert s["is_active"] is True and s["status"] == "active"
        for key in ("session_id", "description", "agent_name", "agent_instructions"):
            assert s[key] == body[key]
        uuid.UUID(s["id"])
        got = c.get(f"/api/agent-sessions/{s['id']}")  # GET /api/agent-sessions/{session_id}
        assert got.status_code == 200 and got.json() == s
        problem(c.post("/api/agent-sessions", json=body), 409)  # the same session_id again


def test_create_inactive_is_a_recorded_lifecycle_move(server: ServeProcess) -> None:
    with server.client("a") as c:
        s = c.post("/api/agent-sessions", json=unique({**SEED_CREATE_BODY, "is_active": False})).json()
        assert s["is_active"] is False and s["status"] == "inactive"
        events = c.get(f"/api/agent-sessions/{s['id']}/events").json()["items"]
        assert [(e["from_status"], e["to_status"]) for e in events] == [("active", "inactive")]
        problem(c.post("/api/agent-sessions", json=unique({**SEED_CREATE_BODY, "is_active": "no"})), 422)


def test_patch_with_the_seed_body_renames_and_deactivates(server: ServeProcess) -> None:
    with server.client("a") as c:
        s = c.post("/api/agent-sessions", json=unique(SEED_CREATE_BODY)).json()
        url = f"/api/agent-sessions/{s['id']}"
        r = c.patch(url, json=SEED_PATCH_BODY)
        assert r.status_code == 200, r.text
        p = r.json()
        assert p["session_name"] == p["name"] == "Updated Session Name"
        assert p["description"] == "Updated description" and p["is_active"] is False
        assert c.patch(url, json={"is_active": False}).status_code == 200  # already so: no move
        assert c.patch(url, json={"name": "Via convoledger's name", "is_active": True}).json()["is_active"]
        events = c.get(f"{url}/events").json()["items"]
        assert [(e["from_status"], e["to_status"]) for e in events] == [
            ("active", "inactive"),
            ("inactive", "active"),
        ]
        c.post(f"{url}/transition", json={"status": "inactive_user_terminated"})
        # a terminated session cannot be reactivated: 409, and nothing else changes either
        body = problem(c.patch(url, json={"session_name": "Not applied", "is_active": True}), 409)
        assert "inactive_user_terminated" in body["detail"]
        assert c.get(url).json()["name"] == "Via convoledger's name"


def test_put_activate_and_deactivate(server: ServeProcess) -> None:
    with server.client("a") as c:
        s = c.post("/api/agent-sessions", json=unique(SEED_CREATE_BODY)).json()
        r = c.put(f"/api/agent-sessions/{s['id']}/deactivate")
        assert r.status_code == 200 and r.json()["is_active"] is False
        r = c.put(f"/api/agent-sessions/{s['id']}/activate")
        assert r.status_code == 200 and r.json()["is_active"] is True


def test_delete_session(server: ServeProcess) -> None:
    with server.client("a") as c:
        s = c.post("/api/agent-sessions", json=unique(SEED_CREATE_BODY)).json()
        assert c.delete(f"/api/agent-sessions/{s['id']}").status_code == 204
        problem(c.get(f"/api/agent-sessions/{s['id']}"), 404)


def test_list_sessions_with_the_seed_parameters(server: ServeProcess) -> None:
    with fresh(server) as c:
        made = [
            c.post(
                "/api/agent-sessions", json={"session_id": f"s{i:02d}", "session_name": f"Plan {i}"}
            ).json()
            for i in range(21)
        ]
        page = c.get("/api/agent-sessions").json()  # page 1, size 20 by default
        assert (page["page"], page["size"], page["total"], len(page["items"])) == (1, 20, 21, 20)
        assert len(c.get("/api/agent-sessions", params={"page": 2}).json()["items"]) == 1
        r = c.get("/api/agent-sessions", params={"search": "plan 7"})  # search in session_name
        assert [s["session_name"] for s in r.json()["items"]] == ["Plan 7"]
        t = [datetime.fromisoformat(s["created_at"]) for s in made]
        start, end = t[5].isoformat(), t[9].isoformat()
        ids = lambda r: sorted(s["session_id"] for s in r.json()["items"])  # noqa: E731
        expected = [f"s{i:02d}" for i in range(5, 10)]
        assert ids(c.get("/api/agent-sessions", params={"created_at": f"{start},{end}"})) == expected
        # the same range as the parameter given twice, and as convoledger's created_from/to
        assert (
            ids(c.get("/api/agent-sessions", params=[("created_at", start), ("created_at", end)])) == expected
        )
        assert (
            ids(c.get("/api/agent-sessions", params={"created_from": start, "created_to": end})) == expected
        )
        assert ids(c.get("/api/agent-sessions", params={"created_at": f",{t[1].isoformat()}"})) == [
            "s00",
            "s01",
        ]
        later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        assert c.get("/api/agent-sessions", params={"updated_at": f"{later},"}).json()["total"] == 0
        assert c.get("/api/agent-sessions", params={"updated_at": f",{later}"}).json()["total"] == 21
        for bad in ("yesterday,", f"{start}", f"{end},{start}", f"{start},{end},{later}"):
            problem(c.get("/api/agent-sessions", params={"created_at": bad}), 422)


def test_conversation_with_the_seed_body(server: ServeProcess) -> None:
    with server.client("a") as c:
        body = unique(SEED_CONVERSATION_BODY)
        r = c.post("/api/agent-sessions/conversation", json=body)
        assert r.status_code == 200, r.text
        out = r.json()
        assert set(out) == {"session_id", "session_uuid", "response", "messages_count", "session_active"}
        assert out["session_id"] == body["session_id"] and out["session_active"] is True
        assert out["messages_count"] == 2 and out["response"]
        s = c.get(f"/api/agent-sessions/{out['session_uuid']}").json()
        assert s["session_name"] == "Task Planning Discussion"
        problem(c.post("/api/agent-sessions/conversation", json={**body, "is_active": False}), 422)


# -- messages ----------------------------------------------------------------------------------
def test_messages_with_the_seed_bodies_and_parameters(server: ServeProcess) -> None:
    with server.client("a") as c:
        s = c.post("/api/agent-sessions", json=unique(SEED_CREATE_BODY)).json()
        base = f"/api/agent-sessions/{s['id']}"
        r = c.post(f"{base}/messages", json=SEED_MESSAGE_BODY)
        assert r.status_code == 201, r.text
        m = r.json()
        assert (m["role"], m["content"], m["extra_data"]) == ("user", SEED_MESSAGE_BODY["content"], None)
        c.post(f"{base}/messages", json={"role": "assistant", "content": "Added the task."})
        c.post(f"{base}/messages", json={"role": "USER", "content": "Thanks, and the docs review?"})
        listing = c.get(f"{base}/messages").json()
        assert (listing["size"], listing["total"]) == (50, 3)  # size defaults to 50
        for role in ("USER", "user", "User"):  # the seed's enum names, any case
            users = c.get(f"{base}/messages", params={"role": role}).json()["items"]
            assert [x["role"] for x in users] == ["user", "user"]
        assert c.get(f"{base}/messages", params={"role": "ASSISTANT"}).json()["total"] == 1
        problem(c.get(f"{base}/messages", params={"role": "NARRATOR"}), 422)
        found = c.get(f"{base}/messages", params={"search": "documentation"}).json()["items"]
        assert [x["id"] for x in found] == [m["id"]]
        first = m["created_at"]
        assert c.get(f"{base}/messages", params={"created_at": f",{first}"}).json()["total"] == 1
        assert c.get(f"{base}/messages", params={"created_at": f"{first},"}).json()["total"] == 3
        assert c.get(f"{base}/messages/{m['id']}").json() == m
        r = c.patch(f"{base}/messages/{m['id']}", json=SEED_MESSAGE_PATCH)
        assert r.status_code == 200, r.text
        assert r.json()["content"] == "Updated message content" and r.json()["extra_data"] == {"key": "value"}
        problem(c.patch(f"{base}/messages/{m['id']}", json={"extra_data": "{not json"}), 422)
        assert c.delete(f"{base}/messages/{m['id']}").status_code == 204
        r = c.delete(f"{base}/clear-messages")
        assert r.status_code == 200 and r.json() == {"deleted_count": 2}


# -- export / restore / CSV --------------------------------------------------------------------
def _session_with_history(c: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    s: dict[str, Any] = c.post("/api/agent-sessions", json=body).json()
    base = f"/api/agent-sessions/{s['id']}"
    c.post(f"{base}/messages", json=SEED_MESSAGE_BODY)
    call = {"id": "call_1", "type": "function", "function": {"name": "add_todo", "arguments": "{}"}}
    c.post(f"{base}/messages", json={"role": "assistant", "content": "", "tool_calls": [call]})
    c.post(
        f"{base}/messages",
        json={"role": "tool", "content": "ok", "tool_call_id": "call_1", "tool_name": "add_todo",
              "extra_data": '{"todo_id": 5}'},
    )  # fmt: skip
    c.put(f"{base}/memory/plan", json={"value": {"week": 50}})
    c.put(f"{base}/deactivate")
    return s


def test_export_json_is_the_seeds_document_and_round_trips(server: ServeProcess) -> None:
    with server.client("a") as a, server.client("b") as b:
        s = _session_with_history(a, unique(SEED_CREATE_BODY))
        r = a.get(f"/api/agent-sessions/{s['id']}/export", params={"format": "json"})
        assert r.status_code == 200
        doc = r.json()
        assert list(doc["session"]) == SEED_SESSION_KEYS
        assert (
            doc["session"]["session_name"] == "Task Planning Discussion"
            and doc["session"]["is_active"] is False
        )
        assert [list(m) for m in doc["messages"]] == [SEED_MESSAGE_KEYS] * 3
        assert [m["role"] for m in doc["messages"]] == ["user", "assistant", "tool"]
        assert doc["messages"][2]["extra_data"] == {"todo_id": 5}  # parsed JSON, as the seed exports
        assert doc["messages"][0]["updated_at"] == doc["messages"][0]["created_at"]
        assert doc["convoledger_bundle"]["format"] == "convoledger.bundle"
        # export → import (another account) → export: identical
        r = b.post("/api/agent-sessions/import", json=doc)
        assert r.status_code == 201, r.text
        assert b.get(f"/api/agent-sessions/{s['id']}/export").json() == doc
        assert b.get(f"/api/agent-sessions/{s['id']}/memory/plan").json()["value"] == {"week": 50}
        problem(b.post("/api/agent-sessions/import", json=doc), 409)


def test_import_a_backup_in_the_seeds_shape(server: ServeProcess) -> None:
    with server.client("a") as a, fresh(server) as other:
        s = _session_with_history(a, unique(SEED_CREATE_BODY))
        doc = a.get(f"/api/agent-sessions/{s['id']}/export").json()
        backup = {"session": doc["session"], "messages": doc["messages"]}  # what the seed's export gives
        r = other.post("/api/agent-sessions/import", json=backup)
        assert r.status_code == 201, r.text
        restored = r.json()
        assert restored["session_id"] == s["session_id"] and restored["is_active"] is False
        assert restored["session_name"] == "Task Planning Discussion"
        again = other.get(f"/api/agent-sessions/{restored['id']}/export").json()
        assert {k: again[k] for k in ("session", "messages")} == backup  # nothing lost on the seed's keys
        # seed §10: a backup whose session_id exists is refused
        body = problem(other.post("/api/agent-sessions/import", json=backup), 409)
        assert "already exists" in body["detail"]
        problem(other.post("/api/agent-sessions/import", json={"session": {}, "messages": []}), 422)
        assert other.get("/api/agent-sessions").json()["total"] == 1


def test_export_csv_starts_with_the_seeds_columns(server: ServeProcess) -> None:
    with server.client("a") as c:
        s = _session_with_history(c, unique(SEED_CREATE_BODY))
        doc = c.get(f"/api/agent-sessions/{s['id']}/export").json()
        r = c.get(f"/api/agent-sessions/{s['id']}/export", params={"format": "csv"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(r.text)))
        assert rows[0][:7] == SEED_CSV_HEADER and len(rows) == 4
        for row, m in zip(rows[1:], doc["messages"], strict=True):
            assert row[:7] == [
                m["id"], m["role"], m["content"], m["tool_call_id"] or "", m["tool_name"] or "",
                m["created_at"], m["updated_at"],
            ]  # fmt: skip


# -- statistics and health ---------------------------------------------------------------------
def test_stats_have_the_seeds_keys_for_the_callers_account(server: ServeProcess) -> None:
    with fresh(server) as c:
        with_messages = c.post("/api/agent-sessions", json={"session_id": "one"}).json()
        c.post("/api/agent-sessions", json={"session_id": "two", "is_active": False})
        c.post("/api/agent-sessions", json={"session_id": "three"})
        for _ in range(3):
            c.post(f"/api/agent-sessions/{with_messages['id']}/messages", json=SEED_MESSAGE_BODY)
        stats = c.get("/api/stats").json()
        assert {k: stats[k] for k in (
            "total_sessions", "active_sessions", "total_messages", "average_messages_per_session",
            "sessions_with_conversations",
        )} == {
            "total_sessions": 3, "active_sessions": 2, "total_messages": 3,
            "average_messages_per_session": 1.0, "sessions_with_conversations": 1,
        }  # fmt: skip
        assert stats["by_status"] == {"active": 2, "inactive": 1}  # convoledger's keys stay


def test_health_has_the_seeds_keys_and_formula(server: ServeProcess) -> None:
    with server.client("a") as c:
        s = c.post("/api/agent-sessions", json=unique({**SEED_CREATE_BODY, "is_active": False})).json()
        h = c.get(f"/api/agent-sessions/{s['id']}/health").json()
        # the example: an inactive session with no messages scores 55
        assert h["health_score"] == 55
        assert h["session_id"] == s["id"] and h["is_active"] is False and h["message_count"] == 0
        assert 0 <= h["hours_inactive"] < 0.1
        assert h["recommendations"] == [REACTIVATE_RECOMMENDATION, MINIMAL_ACTIVITY_RECOMMENDATION]
        assert {"score", "grade", "factors", "actions", "metrics"} <= set(h)  # convoledger's report
        active = c.post("/api/agent-sessions", json=unique(SEED_CREATE_BODY)).json()
        for _ in range(3):
            c.post(f"/api/agent-sessions/{active['id']}/messages", json=SEED_MESSAGE_BODY)
        h = c.get(f"/api/agent-sessions/{active['id']}/health").json()
        assert h["message_count"] == 3 and h["recommendations"] == []
        assert h["health_score"] == calculate_health_score(active_session(), 3, h["hours_inactive"]) == 90


def active_session() -> Any:
    """The seed's own kind of session object: any object with is_active / agent_instructions."""

    class Session:
        is_active = True
        agent_instructions = "Custom instructions for the agent"

    return Session()
