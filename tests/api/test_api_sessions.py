"""``/api/agent-sessions``: create, read, list with filters and paging, update, delete, and
the lifecycle routes (activate, deactivate, transition, events)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from api_helpers import Api, assert_problem

SESSION_FIELDS = {
    "id", "session_id", "name", "session_name", "description", "agent_name", "agent_instructions", "status",
    "is_active", "kind", "participants", "user_id", "device_id", "topic", "current_goal",
    "metadata", "message_count", "created_at", "updated_at", "last_activity_at",
    "parent_id", "forked_at_seq",  # fork lineage (issue 17), null unless a branch
}  # fmt: skip


async def test_create_and_get_have_exactly_the_session_fields(api: Api) -> None:
    created = await api.create_session(
        session_id="ext-1",
        name="Billing help",
        description="a test",
        agent_name="helper",
        agent_instructions="be brief",
        user_id="u1",
        device_id="d1",
        topic="billing",
        current_goal={"intent": "refund", "slots": {"order": "#W1"}},
        metadata={"channel": "web"},
        participants=[{"participant_id": "u1", "participant_type": "user"}],
    )
    assert set(created) == SESSION_FIELDS
    assert created["status"] == "active" and created["is_active"] is True
    assert created["kind"] == "agent_session" and created["message_count"] == 0
    assert created["current_goal"] == {"intent": "refund", "slots": {"order": "#W1"}}
    assert created["participants"][0]["participant_id"] == "u1"
    assert created["created_at"].endswith(("Z", "+00:00"))
    for ref in (created["id"], "ext-1"):  # the UUID, or the external session_id
        r = await api.client.get(f"/api/agent-sessions/{ref}", headers=api.a)
        assert r.status_code == 200 and r.json() == created


async def test_duplicate_session_id_is_409(api: Api) -> None:
    await api.create_session(session_id="dup")
    r = await api.client.post("/api/agent-sessions", json={"session_id": "dup"}, headers=api.a)
    body = assert_problem(r, 409, "conflict")
    assert "dup" in body["detail"]
    # another account may use the same external id
    r = await api.client.post("/api/agent-sessions", json={"session_id": "dup"}, headers=api.b)
    assert r.status_code == 201


async def test_create_rejects_bad_input_with_422(api: Api) -> None:
    bad_bodies = [
        {"session_id": ""},
        {"kind": "conversation_session"},
        {"kind": "nonsense"},
        {"participants": [{"participant_id": "a1", "participant_type": "agent"}]},  # agent w/o role
        {"participants": [{"participant_id": "x", "participant_type": "robot"}]},
        {"metadata": "not an object"},
        {"name": "x" * 256},  # the seed's String(255)
        {"session_name": "x" * 256},
        {"name": "a", "session_name": "b"},
        {"is_active": "yes"},
    ]
    for body in bad_bodies:
        r = await api.client.post("/api/agent-sessions", json=body, headers=api.a)
        assert_problem(r, 422)
    r = await api.client.get("/api/agent-sessions", headers=api.a)
    assert r.json()["total"] == 0  # nothing was written


async def test_get_missing_session_is_404(api: Api) -> None:
    r = await api.client.get("/api/agent-sessions/00000000-0000-4000-8000-000000000000", headers=api.a)
    assert_problem(r, 404, "not-found")


async def test_list_pages_and_filters(api: Api) -> None:
    made = []
    for i in range(5):
        made.append(await api.create_session(session_id=f"p{i}", name=f"Alpha {i}" if i % 2 else f"Beta {i}"))
        await asyncio.sleep(0.002)  # distinct updated_at
    r = await api.client.get("/api/agent-sessions", params={"size": 2, "page": 1}, headers=api.a)
    page1 = r.json()
    assert page1["total"] == 5 and page1["page"] == 1 and page1["size"] == 2
    assert [s["session_id"] for s in page1["items"]] == ["p4", "p3"]  # most recently updated first
    r = await api.client.get("/api/agent-sessions", params={"size": 2, "page": 3}, headers=api.a)
    assert [s["session_id"] for s in r.json()["items"]] == ["p0"]
    r = await api.client.get("/api/agent-sessions", params={"search": "alpha"}, headers=api.a)
    assert sorted(s["session_id"] for s in r.json()["items"]) == ["p1", "p3"]
    await api.client.put(f"/api/agent-sessions/{made[0]['id']}/deactivate", headers=api.a)
    r = await api.client.get("/api/agent-sessions", params={"status": "inactive"}, headers=api.a)
    assert [s["session_id"] for s in r.json()["items"]] == ["p0"]
    r = await api.client.get("/api/agent-sessions", params={"kind": "chat_session"}, headers=api.a)
    assert r.json()["total"] == 0
    created_2 = datetime.fromisoformat(made[2]["created_at"])
    r = await api.client.get(
        "/api/agent-sessions", params={"created_from": made[2]["created_at"], "size": 100}, headers=api.a
    )
    assert sorted(s["session_id"] for s in r.json()["items"]) == ["p2", "p3", "p4"]
    naive_to = (created_2.astimezone(UTC).replace(tzinfo=None)).isoformat()  # naive = UTC
    r = await api.client.get("/api/agent-sessions", params={"created_to": naive_to}, headers=api.a)
    assert sorted(s["session_id"] for s in r.json()["items"]) == ["p0", "p1", "p2"]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    r = await api.client.get("/api/agent-sessions", params={"updated_from": future}, headers=api.a)
    assert r.json()["total"] == 0
    r = await api.client.get("/api/agent-sessions", params={"updated_to": future}, headers=api.a)
    assert r.json()["total"] == 5


async def test_list_rejects_bad_paging_and_filters(api: Api) -> None:
    for params in [
        {"size": 101},
        {"size": 0},
        {"page": 0},
        {"page": "x"},
        {"status": "sleeping"},
        {"kind": "x"},
        {"created_from": "yesterday"},
        {"created_from": "2025-02-01T00:00:00Z", "created_to": "2025-01-01T00:00:00Z"},
    ]:
        r = await api.client.get("/api/agent-sessions", params=params, headers=api.a)
        body = assert_problem(r, 422)
        assert body["detail"]
    r = await api.client.get("/api/agent-sessions", params={"size": 100}, headers=api.a)
    assert r.status_code == 200 and r.json()["size"] == 100


async def test_patch_updates_only_given_fields(api: Api) -> None:
    s = await api.create_session(session_id="patch-me", name="old", topic="t", metadata={"a": 1})
    r = await api.client.patch(
        f"/api/agent-sessions/{s['id']}",
        json={"name": "new", "metadata": {"b": 2}, "agent_instructions": "x"},
        headers=api.a,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "new" and body["metadata"] == {"b": 2} and body["agent_instructions"] == "x"
    assert body["topic"] == "t" and body["session_id"] == "patch-me"
    assert body["updated_at"] >= s["updated_at"]
    r = await api.client.patch(f"/api/agent-sessions/{s['id']}", json={"topic": None}, headers=api.a)
    assert r.json()["topic"] is None
    agent = {
        "participant_id": "a1",
        "participant_type": "agent",
        "participant_role": "planner",
        "metadata": {},
    }
    r = await api.client.patch(
        f"/api/agent-sessions/{s['id']}", json={"participants": [agent]}, headers=api.a
    )
    assert r.json()["participants"] == [agent]
    r = await api.client.patch(f"/api/agent-sessions/{s['id']}", json={"participants": None}, headers=api.a)
    assert r.json()["participants"] == []


async def test_patch_errors(api: Api) -> None:
    s = await api.create_session(session_id="one")
    await api.create_session(session_id="two")
    url = f"/api/agent-sessions/{s['id']}"
    assert_problem(await api.client.patch(url, json={}, headers=api.a), 422, "invalid-input")
    body = assert_problem(await api.client.patch(url, json={"status": "archived"}, headers=api.a), 422)
    assert "transition" in body["detail"]
    assert_problem(await api.client.patch(url, json={"is_active": None}, headers=api.a), 422)
    assert_problem(await api.client.patch(url, json={"name": "a", "session_name": "b"}, headers=api.a), 422)
    assert_problem(await api.client.patch(url, json={"session_id": "two"}, headers=api.a), 409, "conflict")
    assert (await api.client.get(url, headers=api.a)).json()["session_id"] == "one"


async def test_delete_removes_the_session_and_its_messages(api: Api) -> None:
    s = await api.create_session()
    await api.post_message(s["id"])
    r = await api.client.delete(f"/api/agent-sessions/{s['id']}", headers=api.a)
    assert r.status_code == 204 and r.content == b""
    assert_problem(await api.client.get(f"/api/agent-sessions/{s['id']}", headers=api.a), 404)
    assert_problem(await api.client.get(f"/api/agent-sessions/{s['id']}/messages", headers=api.a), 404)
    assert_problem(await api.client.delete(f"/api/agent-sessions/{s['id']}", headers=api.a), 404)


async def test_lifecycle_routes_and_events(api: Api) -> None:
    s = await api.create_session()
    base = f"/api/agent-sessions/{s['id']}"
    r = await api.client.put(f"{base}/deactivate", json={"reason": "lunch"}, headers=api.a)
    assert r.status_code == 200 and r.json()["status"] == "inactive" and r.json()["is_active"] is False
    body = assert_problem(
        await api.client.put(f"{base}/deactivate", headers=api.a), 409, "invalid-transition"
    )
    assert "inactive" in body["detail"]
    r = await api.client.put(f"{base}/activate", headers=api.a)
    assert r.status_code == 200 and r.json()["is_active"] is True
    # active → archived is never allowed
    body = assert_problem(
        await api.client.post(f"{base}/transition", json={"status": "archived"}, headers=api.a),
        409,
        "invalid-transition",
    )
    assert "archived" in body["detail"]
    assert_problem(await api.client.post(f"{base}/transition", json={"status": "paused"}, headers=api.a), 422)
    assert_problem(await api.client.post(f"{base}/transition", json={}, headers=api.a), 422)
    r = await api.client.post(
        f"{base}/transition", json={"status": "inactive_user_terminated", "reason": "done"}, headers=api.a
    )
    assert r.status_code == 200 and r.json()["status"] == "inactive_user_terminated"
    r = await api.client.post(f"{base}/transition", json={"status": "archived"}, headers=api.a)
    assert r.json()["status"] == "archived"
    assert_problem(await api.client.put(f"{base}/activate", headers=api.a), 409, "invalid-transition")
    events = (await api.client.get(f"{base}/events", headers=api.a)).json()
    assert events["total"] == 4
    moves = [(e["from_status"], e["to_status"], e["reason"]) for e in events["items"]]
    assert moves == [
        ("active", "inactive", "lunch"),
        ("inactive", "active", None),
        ("active", "inactive_user_terminated", "done"),
        ("inactive_user_terminated", "archived", None),
    ]
    assert {e["actor"] for e in events["items"]} == {api.a_name}
