"""``/api/sessions``: multi-participant ConversationSessions (seed keys and validation) and
their AgentCommunicationMessages."""

from __future__ import annotations

from typing import Any

from api_helpers import Api, assert_problem

MC = {"participant_id": "mc", "participant_type": "master_controller"}
ANALYST = {"participant_id": "agent_001", "participant_type": "agent", "participant_role": "data_analyst"}
WRITER = {"participant_id": "agent_002", "participant_type": "agent", "participant_role": "writer"}
USER = {"participant_id": "user_1", "participant_type": "user"}


async def create(api: Api, **body: Any) -> dict[str, Any]:
    r = await api.client.post("/api/sessions", json=body, headers=api.a)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_create_derives_the_seed_session_key(api: Api) -> None:
    s = await create(
        api, session_id="session_002", session_type="mc_to_agent", participants=[MC, ANALYST], name="Analysis"
    )
    assert s["session_key"] == "session_002_mc_to_data_analyst"
    assert s["session_type"] == "mc_to_agent" and s["kind"] == "conversation_session"
    assert [p["participant_id"] for p in s["participants"]] == ["mc", "agent_001"]
    assert s["name"] == "Analysis" and s["status"] == "active"
    r = await api.client.get("/api/sessions/session_002_mc_to_data_analyst", headers=api.a)
    assert r.status_code == 200 and r.json() == s
    # the same stored session is an agent-session resource too
    r = await api.client.get(f"/api/agent-sessions/{s['id']}", headers=api.a)
    assert r.json()["kind"] == "conversation_session"
    u = await create(api, session_id="session_003", session_type="user_to_agent", participants=[USER, WRITER])
    assert u["session_key"] == "session_003_user_to_writer"
    a2a = await create(api, session_id="s4", session_type="agent_to_agent", participants=[ANALYST, WRITER])
    assert a2a["session_key"] == "s4_data_analyst_to_writer"


async def test_structured_keys_keep_same_role_agents_apart(api: Api) -> None:
    twin = {**ANALYST, "participant_id": "agent_009"}
    a = await create(
        api, session_id="s5", session_type="mc_to_agent", participants=[MC, ANALYST], key_style="structured"
    )
    b = await create(
        api, session_id="s5b", session_type="mc_to_agent", participants=[MC, twin], key_style="structured"
    )
    assert a["session_key"] == "sk1:s5:mc_to_agent:agent=agent_001,master_controller=mc"
    assert b["session_key"] == "sk1:s5b:mc_to_agent:agent=agent_009,master_controller=mc"
    r = await api.client.get(f"/api/sessions/{a['session_key']}", headers=api.a)
    assert r.status_code == 200 and r.json()["id"] == a["id"]


async def test_seed_validation_is_422(api: Api) -> None:
    bad = [
        {"session_id": "x", "session_type": "mc_to_agent", "participants": [MC]},
        {"session_id": "x", "session_type": "agent_to_agent", "participants": [MC, ANALYST]},
        {"session_id": "x", "session_type": "user_to_mc", "participants": [USER, ANALYST]},
        {"session_id": "x", "session_type": "mc_to_mc", "participants": [MC, ANALYST]},
        {"session_id": "x", "session_type": "mc_to_agent", "participants": []},
        {"session_id": "", "session_type": "mc_to_agent", "participants": [MC, ANALYST]},
        {
            "session_id": "x",
            "session_type": "mc_to_agent",
            "participants": [MC, {**ANALYST, "participant_role": None}],
        },
        {"session_id": "x", "session_type": "mc_to_agent", "participants": [MC, ANALYST, ANALYST]},
    ]
    for body in bad:
        body_out = assert_problem(await api.client.post("/api/sessions", json=body, headers=api.a), 422)
        assert body_out["detail"]
    assert (await api.client.get("/api/sessions", headers=api.a)).json()["total"] == 0


async def test_duplicate_key_is_409(api: Api) -> None:
    await create(api, session_id="d", session_type="mc_to_agent", participants=[MC, ANALYST])
    r = await api.client.post(
        "/api/sessions",
        json={"session_id": "d", "session_type": "mc_to_agent", "participants": [MC, ANALYST]},
        headers=api.a,
    )
    assert_problem(r, 409, "conflict")


async def test_unknown_key_is_404(api: Api) -> None:
    assert_problem(await api.client.get("/api/sessions/nope_mc_to_x", headers=api.a), 404, "not-found")
    r = await api.client.post(
        "/api/sessions/nope_mc_to_x/messages",
        json={"sender_id": "mc", "recipient_id": "agent_001", "content": "x", "message_type": "feedback"},
        headers=api.a,
    )
    assert_problem(r, 404, "not-found")


async def test_post_and_list_agent_messages(api: Api) -> None:
    s = await create(api, session_id="session_002", session_type="mc_to_agent", participants=[MC, ANALYST])
    url = f"/api/sessions/{s['session_key']}/messages"
    r = await api.client.post(
        url,
        json={
            "message_id": "msg-1",
            "sender_id": "mc",
            "recipient_id": "agent_001",
            "content": "Analyse Q3 revenue by region.",
            "message_type": "task_assignment",
            "metadata": {"priority": "high"},
            "timestamp": "2025-03-01T09:00:00",
        },
        headers=api.a,
    )
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["id"] == "msg-1" and m["seq"] == 1 and m["role"] == "master_controller"
    assert m["sender"] == "mc" and m["recipient"] == "agent_001" and m["message_type"] == "task_assignment"
    assert m["created_at"].startswith("2025-03-01T09:00:00")
    r = await api.client.post(
        url,
        json={
            "sender_id": "agent_001",
            "recipient_id": "mc",
            "content": "Done: EMEA +4%.",
            "message_type": "result_report",
        },
        headers=api.a,
    )
    assert r.status_code == 201 and r.json()["role"] == "agent" and r.json()["seq"] == 2
    page = (await api.client.get(url, headers=api.a)).json()
    assert [x["message_type"] for x in page["items"]] == ["task_assignment", "result_report"]
    page = (await api.client.get(url, params={"role": "agent"}, headers=api.a)).json()
    assert page["total"] == 1 and page["items"][0]["sender"] == "agent_001"
    page = (await api.client.get(url, params={"message_type": "result_report"}, headers=api.a)).json()
    assert page["total"] == 1
    page = (await api.client.get(url, params={"recipient": "mc"}, headers=api.a)).json()
    assert page["total"] == 1 and page["items"][0]["recipient"] == "mc"
    # the same messages are under /api/agent-sessions, addressed by id or by key
    r = await api.client.get(f"/api/agent-sessions/{s['session_key']}/messages", headers=api.a)
    assert r.json()["total"] == 2


async def test_agent_message_validation(api: Api) -> None:
    s = await create(api, session_id="v", session_type="mc_to_agent", participants=[MC, ANALYST])
    url = f"/api/sessions/{s['session_key']}/messages"
    ok = {"sender_id": "mc", "recipient_id": "agent_001", "content": "hi", "message_type": "communication"}
    for change in [
        {"sender_id": "stranger"},
        {"recipient_id": "stranger"},
        {"content": ""},
        {"message_type": "chitchat"},
        {"recipient_id": None},
        {"sender_id": ""},
    ]:
        body = assert_problem(await api.client.post(url, json={**ok, **change}, headers=api.a), 422)
        if "stranger" in change.values():
            assert "not a participant" in body["detail"]
    await api.client.put(f"/api/agent-sessions/{s['id']}/deactivate", headers=api.a)
    assert_problem(await api.client.post(url, json=ok, headers=api.a), 409, "session-not-active")


async def test_list_sessions_filters_by_participant(api: Api) -> None:
    await create(api, session_id="l1", session_type="mc_to_agent", participants=[MC, ANALYST])
    await create(api, session_id="l2", session_type="mc_to_agent", participants=[MC, WRITER])
    await api.create_session(session_id="plain")  # not a multi-participant session
    page = (await api.client.get("/api/sessions", headers=api.a)).json()
    assert page["total"] == 2 and {s["session_id"] for s in page["items"]} == {"l1", "l2"}
    page = (
        await api.client.get("/api/sessions", params={"participant_id": "agent_002"}, headers=api.a)
    ).json()
    assert [s["session_id"] for s in page["items"]] == ["l2"]
    assert_problem(await api.client.get("/api/sessions", params={"size": 101}, headers=api.a), 422)


async def test_one_base_session_id_holds_several_channels(api: Api) -> None:
    first = await create(api, session_id="shared", session_type="mc_to_agent", participants=[MC, ANALYST])
    second = await create(api, session_id="shared", session_type="mc_to_agent", participants=[MC, WRITER])
    assert first["session_id"] == second["session_id"] == "shared"
    assert first["session_key"] != second["session_key"]
    assert "_convoledger_face" not in first["metadata"]
    again = await api.client.post(
        "/api/sessions",
        json={"session_id": "shared", "session_type": "mc_to_agent", "participants": [MC, ANALYST]},
        headers=api.a,
    )
    assert_problem(again, 409)
