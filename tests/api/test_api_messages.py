"""``/api/agent-sessions/{session}/messages``: append, idempotency, validation, batch
atomicity, filters, keyset paging, edit, redact, delete, clear — including a real SWE-agent
trajectory with tool calls from ../shared."""

from __future__ import annotations

import gzip
import json
from typing import Any

from api_helpers import SHARED, Api, assert_problem

MESSAGE_FIELDS = {
    "id", "seq", "role", "content", "sender", "recipient", "message_type", "tool_call_id",
    "tool_name", "tool_calls", "extra_data", "token_count", "redacted", "created_at", "updated_at",
}  # fmt: skip


def swe_agent_messages() -> list[dict[str, Any]]:
    """A real SWE-agent trajectory (MIT, see the data README) as API message bodies: the
    first record with tool calls, its tool results linked by ``tool_call_id``."""
    path = SHARED / "data" / "conversations" / "tool_calling" / "swe_agent_trajectories.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            history = json.loads(line)["history"]
            if any(m.get("tool_calls") for m in history):
                break
    out = []
    for m in history:
        body: dict[str, Any] = {"role": m["role"], "content": m["content"], "sender": m.get("agent")}
        if m.get("tool_calls"):
            body["tool_calls"] = m["tool_calls"]
        if m["role"] == "tool":
            body["tool_call_id"] = m["tool_call_ids"][0]
            body["tool_name"] = "swe-agent"
        body["extra_data"] = {"swe_message_type": m.get("message_type")}
        out.append(body)
    return out


async def test_append_and_read_a_message(api: Api) -> None:
    s = await api.create_session()
    m = await api.post_message(
        s["id"], content="Where is my order?", sender="u1", recipient="agent", extra_data={"k": [1, 2]}
    )
    assert set(m) == MESSAGE_FIELDS
    assert m["seq"] == 1 and m["role"] == "user" and m["extra_data"] == {"k": [1, 2]}
    assert m["token_count"] and m["token_count"] > 0
    r = await api.client.get(f"/api/agent-sessions/{s['id']}/messages/{m['id']}", headers=api.a)
    assert r.status_code == 200 and r.json() == m
    got = (await api.client.get(f"/api/agent-sessions/{s['id']}", headers=api.a)).json()
    assert got["message_count"] == 1


async def test_client_ids_make_appends_idempotent(api: Api) -> None:
    s = await api.create_session()
    first = await api.post_message(s["id"], id="m-1", content="once")
    again = await api.post_message(s["id"], id="m-1", content="once")
    assert again == first
    second = await api.post_message(s["id"], content="two")
    assert second["seq"] == 2
    page = (await api.client.get(f"/api/agent-sessions/{s['id']}/messages", headers=api.a)).json()
    assert page["total"] == 2


async def test_message_validation_is_422_and_writes_nothing(api: Api) -> None:
    s = await api.create_session()
    url = f"/api/agent-sessions/{s['id']}/messages"
    bad = [
        {"role": "robot", "content": "x"},
        {"role": "user"},
        {"role": "user", "content": ""},
        {"content": "no role"},
        {"role": "tool", "content": "result without call id"},
        {"role": "user", "content": "x", "tool_calls": [{"id": "c1", "function": {"name": "f"}}]},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "c1"}]},
        {"role": "user", "content": "x", "message_type": "gossip"},
        {"role": "user", "content": "x", "created_at": "not a time"},
        {"role": "user", "content": "x", "unknown_field": 1},
        {"role": "user", "content": "x", "id": ""},
    ]
    for body in bad:
        r = await api.client.post(url, json=body, headers=api.a)
        assert_problem(r, 422)
    r = await api.client.post(
        url, content=b"{not json", headers={**api.a, "Content-Type": "application/json"}
    )
    assert_problem(r, 422, "validation-error")
    r = await api.client.post(url, content=b"[1, 2]", headers={**api.a, "Content-Type": "application/json"})
    assert_problem(r, 422, "validation-error")
    assert (await api.client.get(url, headers=api.a)).json()["total"] == 0


async def test_assistant_tool_call_and_tool_result_may_have_empty_content(api: Api) -> None:
    s = await api.create_session()
    call = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": '{"q": 1}'}}
    a = await api.post_message(s["id"], role="assistant", content="", tool_calls=[call])
    assert a["tool_calls"] == [call]
    t = await api.post_message(s["id"], role="tool", content="", tool_call_id="call_1", tool_name="lookup")
    assert t["tool_call_id"] == "call_1" and t["tool_name"] == "lookup"


async def test_batch_is_atomic(api: Api) -> None:
    s = await api.create_session()
    url = f"/api/agent-sessions/{s['id']}/messages/batch"
    good = [{"role": "user", "content": f"m{i}"} for i in range(3)]
    r = await api.client.post(
        url, json={"messages": [*good, {"role": "nope", "content": "x"}]}, headers=api.a
    )
    assert_problem(r, 422)
    r = await api.client.post(
        url, json={"messages": [{"id": "same", **good[0]}, {"id": "same", **good[1]}]}, headers=api.a
    )
    assert_problem(r, 422, "invalid-input")
    assert_problem(await api.client.post(url, json={"messages": []}, headers=api.a), 422)
    listing = f"/api/agent-sessions/{s['id']}/messages"
    assert (await api.client.get(listing, headers=api.a)).json()["total"] == 0
    r = await api.client.post(url, json={"messages": good}, headers=api.a)
    assert r.status_code == 201
    assert [(m["seq"], m["content"]) for m in r.json()] == [(1, "m0"), (2, "m1"), (3, "m2")]


async def test_append_to_an_inactive_session_is_409(api: Api) -> None:
    s = await api.create_session()
    await api.client.put(f"/api/agent-sessions/{s['id']}/deactivate", headers=api.a)
    r = await api.client.post(
        f"/api/agent-sessions/{s['id']}/messages", json={"role": "user", "content": "hi"}, headers=api.a
    )
    body = assert_problem(r, 409, "session-not-active")
    assert "inactive" in body["detail"] or "active" in body["detail"]
    r = await api.client.post(
        f"/api/agent-sessions/{s['id']}/messages/batch",
        json={"messages": [{"role": "user", "content": "hi"}]},
        headers=api.a,
    )
    assert_problem(r, 409, "session-not-active")


async def test_real_trajectory_filters_search_and_keyset_paging(api: Api) -> None:
    s = await api.create_session(session_id="swe-1")
    bodies = swe_agent_messages()
    r = await api.client.post(
        f"/api/agent-sessions/{s['id']}/messages/batch", json={"messages": bodies}, headers=api.a
    )
    assert r.status_code == 201, r.text
    stored = r.json()
    assert [m["seq"] for m in stored] == list(range(1, len(bodies) + 1))
    url = f"/api/agent-sessions/{s['id']}/messages"
    n_tool = sum(1 for b in bodies if b["role"] == "tool")
    r = await api.client.get(url, params={"role": "tool", "size": 100}, headers=api.a)
    assert r.json()["total"] == n_tool and all(m["role"] == "tool" for m in r.json()["items"])
    word_hits = [b for b in bodies if "division" in b["content"].lower()]
    r = await api.client.get(url, params={"search": "Division", "size": 100}, headers=api.a)
    found = r.json()
    assert 0 < found["total"] <= len(word_hits)
    assert all("division" in m["content"].lower() for m in found["items"])
    r = await api.client.get(url, params={"search": "division zebra", "size": 100}, headers=api.a)
    assert r.json()["total"] == 0  # every word must occur
    r = await api.client.get(url, params={"sender": "main"}, headers=api.a)
    assert r.json()["total"] == len(bodies)
    r = await api.client.get(url, params={"sender": "nobody"}, headers=api.a)
    assert r.json() == {"items": [], "total": 0, "page": 1, "size": 50}
    # keyset paging with after_seq walks every message once, in order
    seen: list[int] = []
    after = 0
    while True:
        page = (await api.client.get(url, params={"after_seq": after, "size": 3}, headers=api.a)).json()
        if not page["items"]:
            break
        seen.extend(m["seq"] for m in page["items"])
        after = page["items"][-1]["seq"]
    assert seen == list(range(1, len(bodies) + 1))
    # page/size paging agrees
    r = await api.client.get(url, params={"page": 2, "size": 4}, headers=api.a)
    assert [m["seq"] for m in r.json()["items"]] == [5, 6, 7, 8]
    assert_problem(await api.client.get(url, params={"size": 101}, headers=api.a), 422)
    assert_problem(await api.client.get(url, params={"role": "robot"}, headers=api.a), 422)
    assert_problem(await api.client.get(url, params={"after_seq": -1}, headers=api.a), 422)
    assert_problem(await api.client.get(url, params={"message_type": "x"}, headers=api.a), 422)


async def test_filter_by_message_type_and_time_range(api: Api) -> None:
    s = await api.create_session()
    url = f"/api/agent-sessions/{s['id']}/messages"
    times = ["2025-01-01T10:00:00Z", "2025-01-02T10:00:00Z", "2025-01-03T10:00:00+02:00"]
    for i, t in enumerate(times):
        await api.post_message(
            s["id"], content=f"m{i}", created_at=t, message_type="status_update" if i == 1 else None
        )
    r = await api.client.get(url, params={"message_type": "status_update"}, headers=api.a)
    assert [m["content"] for m in r.json()["items"]] == ["m1"]
    r = await api.client.get(
        url,
        params={"created_from": "2025-01-02T00:00:00Z", "created_to": "2025-01-03T08:00:00"},
        headers=api.a,
    )
    assert [m["content"] for m in r.json()["items"]] == ["m1", "m2"]  # 10:00+02:00 = 08:00Z, inclusive
    assert r.json()["items"][1]["created_at"].startswith("2025-01-03T08:00:00")
    r = await api.client.get(
        url,
        params={"created_from": "2025-01-03T00:00:00Z", "created_to": "2025-01-02T00:00:00Z"},
        headers=api.a,
    )
    assert_problem(r, 422, "invalid-input")


async def test_edit_redact_delete_and_clear(api: Api) -> None:
    s = await api.create_session()
    m1 = await api.post_message(s["id"], content="my card is 4111 1111 1111 1111", extra_data={"x": 1})
    m2 = await api.post_message(s["id"], content="second")
    base = f"/api/agent-sessions/{s['id']}/messages"
    r = await api.client.patch(f"{base}/{m2['id']}", json={"content": "second, edited"}, headers=api.a)
    assert r.status_code == 200
    edited = r.json()
    assert edited["content"] == "second, edited" and edited["seq"] == 2 and edited["updated_at"]
    assert edited["token_count"] > m2["token_count"]  # recomputed for the longer content
    assert_problem(await api.client.patch(f"{base}/{m2['id']}", json={}, headers=api.a), 422)
    assert_problem(await api.client.patch(f"{base}/{m2['id']}", json={"content": None}, headers=api.a), 422)
    assert_problem(await api.client.patch(f"{base}/{m2['id']}", json={"role": "system"}, headers=api.a), 422)
    r = await api.client.post(f"{base}/{m1['id']}/redact", headers=api.a)
    assert r.status_code == 200
    red = r.json()
    assert red["content"] == "[redacted]" and red["extra_data"] is None
    assert (red["id"], red["seq"], red["role"], red["created_at"]) == (
        m1["id"], m1["seq"], m1["role"], m1["created_at"],
    )  # fmt: skip
    r = await api.client.post(f"{base}/{m2['id']}/redact", json={"marker": "[gone]"}, headers=api.a)
    assert r.json()["content"] == "[gone]"
    r = await api.client.get(base, params={"search": "4111"}, headers=api.a)
    assert r.json()["total"] == 0
    r = await api.client.delete(f"{base}/{m1['id']}", headers=api.a)
    assert r.status_code == 204
    assert_problem(await api.client.get(f"{base}/{m1['id']}", headers=api.a), 404)
    assert_problem(await api.client.delete(f"{base}/{m1['id']}", headers=api.a), 404)
    assert_problem(await api.client.patch(f"{base}/nope", json={"content": "x"}, headers=api.a), 404)
    assert_problem(await api.client.post(f"{base}/nope/redact", headers=api.a), 404)
    m3 = await api.post_message(s["id"], content="third")
    assert m3["seq"] == 3  # seq is never reused
    r = await api.client.delete(f"/api/agent-sessions/{s['id']}/clear-messages", headers=api.a)
    assert r.status_code == 200 and r.json() == {"deleted_count": 2}
    assert (await api.client.get(base, headers=api.a)).json()["total"] == 0
    r = await api.client.delete(f"/api/agent-sessions/{s['id']}/clear-messages", headers=api.a)
    assert r.json() == {"deleted_count": 0}
    assert (await api.post_message(s["id"], content="after clear"))["seq"] == 4


async def test_last_n_reads_the_most_recent_messages_in_order(api: Api) -> None:
    """``?last=N`` (issue 15): the N most recent matching messages, oldest first, in one page;
    ``total`` still counts every match; filters apply before the window; other owners see 404."""
    s = await api.create_session()
    base = f"/api/agent-sessions/{s['session_id']}/messages"
    for i in range(1, 31):
        await api.post_message(s["session_id"], content=f"m{i}", role="user" if i % 3 else "assistant")
    r = await api.client.get(base, params={"last": 5}, headers=api.a)
    assert r.status_code == 200, r.text
    page = r.json()
    assert [m["content"] for m in page["items"]] == ["m26", "m27", "m28", "m29", "m30"]
    assert (page["total"], page["page"], page["size"]) == (30, 1, 5)
    r = await api.client.get(base, params={"last": 3, "role": "assistant"}, headers=api.a)
    assert [m["content"] for m in r.json()["items"]] == ["m24", "m27", "m30"] and r.json()["total"] == 10
    r = await api.client.get(base, params={"last": 100, "after_seq": 27}, headers=api.a)
    assert [m["seq"] for m in r.json()["items"]] == [28, 29, 30]
    # the default paging is unchanged: the first page, oldest first
    r = await api.client.get(base, params={"size": 2}, headers=api.a)
    assert [m["seq"] for m in r.json()["items"]] == [1, 2]
    for bad in ({"last": 0}, {"last": 101}, {"last": 5, "page": 2}):
        assert_problem(await api.client.get(base, params=bad, headers=api.a), 422)
    assert_problem(await api.client.get(base, params={"last": 5}, headers=api.b), 404)
