"""HTTP tests of branches (issue 17): ``POST …/{session}/fork``, ``GET …/branches``, lineage on
the session resource, a branch's reads, isolation, and the 409 on removing shared history."""

from __future__ import annotations

from api_helpers import Api, assert_problem


async def _session_with(api: Api, n: int) -> tuple[dict, list[dict]]:  # type: ignore[type-arg]
    session = await api.create_session()
    msgs = [await api.post_message(session["id"], content=f"turn {i}") for i in range(1, n + 1)]
    return session, msgs


async def test_fork_over_http_shares_history_and_continues_the_numbering(api: Api) -> None:
    session, msgs = await _session_with(api, 4)
    r = await api.client.post(
        f"/api/agent-sessions/{session['id']}/fork", json={"at_seq": 2, "session_id": "alt"}, headers=api.a
    )
    assert r.status_code == 201, r.text
    branch = r.json()
    assert (branch["parent_id"], branch["forked_at_seq"], branch["message_count"]) == (session["id"], 2, 2)
    assert branch["session_id"] == "alt" and branch["name"] == session["name"]
    plain = (await api.client.get(f"/api/agent-sessions/{session['id']}", headers=api.a)).json()
    assert (plain["parent_id"], plain["forked_at_seq"]) == (None, None)

    own = await api.post_message(branch["id"], content="another way")
    assert own["seq"] == 3
    page = (await api.client.get("/api/agent-sessions/alt/messages", headers=api.a)).json()
    assert [m["content"] for m in page["items"]] == ["turn 1", "turn 2", "another way"]
    assert page["total"] == 3
    r = await api.client.get(f"/api/agent-sessions/{branch['id']}/messages?search=turn", headers=api.a)
    assert r.json()["total"] == 2
    parent_page = (
        await api.client.get(f"/api/agent-sessions/{session['id']}/messages", headers=api.a)
    ).json()
    assert [m["content"] for m in parent_page["items"]] == ["turn 1", "turn 2", "turn 3", "turn 4"]

    listed = (await api.client.get(f"/api/agent-sessions/{session['id']}/branches", headers=api.a)).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == branch["id"]
    exported = (await api.client.get(f"/api/agent-sessions/{branch['id']}/export", headers=api.a)).json()
    assert len(exported["messages"]) == 3

    # a message the branch shares cannot be removed, nor the parent deleted
    r = await api.client.delete(
        f"/api/agent-sessions/{session['id']}/messages/{msgs[0]['id']}", headers=api.a
    )
    assert_problem(r, 409)
    assert_problem(await api.client.delete(f"/api/agent-sessions/{session['id']}", headers=api.a), 409)
    r = await api.client.delete(
        f"/api/agent-sessions/{session['id']}/messages/{msgs[3]['id']}", headers=api.a
    )
    assert r.status_code == 204


async def test_fork_is_scoped_to_the_account_and_checks_the_fork_point(api: Api) -> None:
    session, _ = await _session_with(api, 2)
    r = await api.client.post(f"/api/agent-sessions/{session['id']}/fork", json={"at_seq": 1}, headers=api.b)
    assert_problem(r, 404)
    r = await api.client.post(f"/api/agent-sessions/{session['id']}/fork", json={"at_seq": 3}, headers=api.a)
    assert_problem(r, 422)
    r = await api.client.post(f"/api/agent-sessions/{session['id']}/fork", json={"at_seq": 0}, headers=api.a)
    assert r.status_code == 422
    r = await api.client.post(
        f"/api/agent-sessions/{session['id']}/fork", headers=api.a
    )  # no body: at the end
    assert r.status_code == 201 and r.json()["forked_at_seq"] == 2
    branch = r.json()
    assert_problem(await api.client.get(f"/api/agent-sessions/{branch['id']}", headers=api.b), 404)
    assert_problem(await api.client.get(f"/api/agent-sessions/{branch['id']}/messages", headers=api.b), 404)
    assert_problem(await api.client.get(f"/api/agent-sessions/{session['id']}/branches", headers=api.b), 404)
    listed = (await api.client.get("/api/agent-sessions", headers=api.b)).json()
    assert listed["total"] == 0
