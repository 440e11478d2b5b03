"""Session memory routes, JSON/CSV export and bundle import."""

from __future__ import annotations

import csv
import io

from api_helpers import Api, assert_problem

from convoledger.ledger import CSV_COLUMNS


async def test_memory_put_get_list_delete(api: Api) -> None:
    s = await api.create_session()
    base = f"/api/agent-sessions/{s['id']}/memory"
    assert (await api.client.get(base, headers=api.a)).json() == {
        "items": [],
        "total": 0,
        "page": 1,
        "size": 50,
    }
    r = await api.client.put(
        f"{base}/prefs", json={"value": {"lang": "fr", "tone": ["brief"]}}, headers=api.a
    )
    assert r.status_code == 200 and r.json()["value"] == {"lang": "fr", "tone": ["brief"]}
    await api.client.put(f"{base}/name", json={"value": "Ada"}, headers=api.a)
    await api.client.put(f"{base}/empty", json={"value": None}, headers=api.a)
    r = await api.client.put(f"{base}/name", json={"value": "Ada L."}, headers=api.a)
    assert r.json()["value"] == "Ada L."
    page = (await api.client.get(base, headers=api.a)).json()
    assert [(e["key"], e["value"]) for e in page["items"]] == [
        ("empty", None), ("name", "Ada L."), ("prefs", {"lang": "fr", "tone": ["brief"]}),
    ]  # fmt: skip
    page = (await api.client.get(base, params={"size": 1, "page": 2}, headers=api.a)).json()
    assert page["total"] == 3 and [e["key"] for e in page["items"]] == ["name"]
    assert (await api.client.get(f"{base}/name", headers=api.a)).json()["value"] == "Ada L."
    assert (await api.client.delete(f"{base}/name", headers=api.a)).status_code == 204
    assert_problem(await api.client.get(f"{base}/name", headers=api.a), 404)
    assert_problem(await api.client.delete(f"{base}/name", headers=api.a), 404)
    assert_problem(await api.client.put(f"{base}/x", json={}, headers=api.a), 422)
    assert_problem(await api.client.put(f"{base}/x", json={"value": 1, "other": 2}, headers=api.a), 422)
    assert_problem(await api.client.get(base, params={"size": 101}, headers=api.a), 422)


async def test_export_json_round_trips_through_import(api: Api) -> None:
    s = await api.create_session(session_id="exp-1", name="Export me", metadata={"m": 1})
    await api.post_message(s["id"], content="first", sender="u")
    await api.post_message(s["id"], role="assistant", content="second")
    await api.client.put(f"/api/agent-sessions/{s['id']}/memory/k", json={"value": [1]}, headers=api.a)
    await api.client.put(f"/api/agent-sessions/{s['id']}/deactivate", headers=api.a)
    r = await api.client.get(f"/api/agent-sessions/{s['id']}/export", headers=api.a)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert 'filename="exp-1.json"' in r.headers["content-disposition"]
    bundle = r.json()  # the seed's document with the lossless bundle inside
    assert bundle["convoledger_bundle"]["format"] == "convoledger.bundle" and len(bundle["messages"]) == 2
    assert bundle["session"]["session_id"] == "exp-1" and bundle["session"]["is_active"] is False
    # the same account already has it: 409, nothing changes
    assert_problem(await api.client.post("/api/agent-sessions/import", json=bundle, headers=api.a), 409)
    # another account restores it exactly
    r = await api.client.post("/api/agent-sessions/import", json=bundle, headers=api.b)
    assert r.status_code == 201, r.text
    restored = r.json()
    original = (await api.client.get(f"/api/agent-sessions/{s['id']}", headers=api.a)).json()
    assert restored == original
    again = (await api.client.get(f"/api/agent-sessions/{restored['id']}/export", headers=api.b)).json()
    assert again == bundle
    msgs = (await api.client.get(f"/api/agent-sessions/{restored['id']}/messages", headers=api.b)).json()
    assert [(m["seq"], m["content"]) for m in msgs["items"]] == [(1, "first"), (2, "second")]
    assert_problem(await api.client.post("/api/agent-sessions/import", json=bundle, headers=api.b), 409)


async def test_import_rejects_malformed_bundles(api: Api) -> None:
    s = await api.create_session(session_id="src")
    document = (await api.client.get(f"/api/agent-sessions/{s['id']}/export", headers=api.a)).json()
    bundle = document["convoledger_bundle"]
    bad = [
        {**document, "convoledger_bundle": {**bundle, "format": "other"}},
        {"session": {"session_name": "no session_id"}, "messages": []},
        {"session": {"session_id": "x"}, "messages": [{"role": "narrator", "content": "hi"}]},
        {},
        {**bundle, "format": "other"},
        {**bundle, "bundle_version": 99},
        {**bundle, "conversation": {"id": "x", "status": "sleeping"}},
        {**bundle, "messages": [{"conversation_id": "other", "role": "user", "seq": 1}]},
    ]
    for body in bad:
        assert_problem(await api.client.post("/api/agent-sessions/import", json=body, headers=api.b), 422)
    r = await api.client.post(
        "/api/agent-sessions/import", content=b"[]", headers={**api.b, "Content-Type": "application/json"}
    )
    assert_problem(r, 422)
    assert (await api.client.get("/api/agent-sessions", headers=api.b)).json()["total"] == 0


async def test_export_csv(api: Api) -> None:
    s = await api.create_session(session_id="csv/1")
    await api.post_message(s["id"], content='quote " and, comma\nnewline', sender="u")
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    await api.post_message(s["id"], role="assistant", content="", tool_calls=[call])
    r = await api.client.get(f"/api/agent-sessions/{s['id']}/export", params={"format": "csv"}, headers=api.a)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="csv_1.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0]["content"] == 'quote " and, comma\nnewline' and rows[0]["sender"] == "u"
    assert rows[1]["role"] == "assistant" and '"c1"' in rows[1]["tool_calls"]
    r = await api.client.get(f"/api/agent-sessions/{s['id']}/export", params={"format": "xml"}, headers=api.a)
    assert_problem(r, 422)
