"""Issue 16 item 1: a NUL character (U+0000) anywhere is refused with 422 problem+json naming
the field, the same on SQLite and PostgreSQL (and, through the Ledger, memory and JSON files:
``test_nul_library.py``); nothing is stored."""

from __future__ import annotations

import httpx
import pytest
from hardening_helpers import assert_problem, new_session

NUL = "\u0000"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "user", "content": f"a{NUL}b"}, "content"),
        ({"role": "user", "content": "x", "sender": f"u{NUL}"}, "sender"),
        ({"role": "user", "content": "x", "extra_data": {"k": f"v{NUL}"}}, "extra_data.k"),
        ({"role": "user", "content": "x", "extra_data": {f"k{NUL}": 1}}, "extra_data.k"),
        ({"role": "user", "content": "x", "id": f"m{NUL}1"}, "id"),
    ],
)
def test_nul_in_a_message_is_422_naming_the_field(client: httpx.Client, body: dict, field: str) -> None:
    session = new_session(client)
    r = client.post(f"/api/agent-sessions/{session['id']}/messages", json=body)
    problem = assert_problem(r, 422, "nul-character")
    assert field in problem["detail"], problem
    listed = client.get(f"/api/agent-sessions/{session['id']}/messages")
    assert listed.status_code == 200 and listed.json()["total"] == 0


def test_nul_in_a_batch_names_the_message(client: httpx.Client) -> None:
    session = new_session(client)
    batch = {"messages": [{"role": "user", "content": "ok"}, {"role": "user", "content": f"{NUL}"}]}
    r = client.post(f"/api/agent-sessions/{session['id']}/messages/batch", json=batch)
    problem = assert_problem(r, 422, "nul-character")
    assert "messages[1].content" in problem["detail"]
    assert client.get(f"/api/agent-sessions/{session['id']}/messages").json()["total"] == 0


@pytest.mark.parametrize(
    "fields",
    [{"session_id": f"s{NUL}x"}, {"name": f"n{NUL}"}, {"metadata": {"a": [f"{NUL}"]}}],
)
def test_nul_in_a_session_is_422(client: httpx.Client, fields: dict) -> None:
    body = {"session_id": "nul-session", "name": "n", **fields}
    r = client.post("/api/agent-sessions", json=body)
    problem = assert_problem(r, 422, "nul-character")
    assert next(iter(fields)) in problem["detail"]


def test_nul_in_an_update_and_in_memory_is_422(client: httpx.Client) -> None:
    session = new_session(client)
    base = f"/api/agent-sessions/{session['id']}"
    assert_problem(client.patch(base, json={"description": f"d{NUL}"}), 422, "nul-character")
    r = client.put(f"{base}/memory/k", json={"value": {"deep": [f"v{NUL}"]}})
    assert "value.deep" in assert_problem(r, 422, "nul-character")["detail"]
    assert_problem(client.put(f"{base}/memory/k%00", json={"value": 1}), 422, "nul-character")
    assert client.get(f"{base}/memory").json()["total"] == 0


@pytest.mark.parametrize(
    "url",
    [
        "/api/agent-sessions/abc%00def",
        "/api/agent-sessions/abc%00def/messages",
        "/api/agent-sessions?search=a%00b",
        "/api/agent-sessions?participant_id=%00",
        "/api/agent-sessions/{sid}/messages?search=%00",
        "/api/agent-sessions/{sid}/messages?sender=a%00",
        "/api/agent-sessions/{sid}/messages/m%00",
        "/api/sessions?search=a%00b",
    ],
)
def test_nul_in_a_path_or_filter_is_422(client: httpx.Client, url: str) -> None:
    session = new_session(client)
    r = client.get(url.replace("{sid}", session["id"]))
    assert_problem(r, 422, "nul-character")


def test_nul_in_an_import_is_422_and_stores_nothing(client: httpx.Client) -> None:
    session = new_session(client)
    base = f"/api/agent-sessions/{session['id']}"
    assert client.post(f"{base}/messages", json={"role": "user", "content": "hello"}).status_code == 201
    document = client.get(f"{base}/export").json()
    assert client.delete(base).status_code == 204
    document["convoledger_bundle"]["messages"][0]["content"] = f"hel{NUL}lo"
    r = client.post("/api/agent-sessions/import", json=document)
    problem = assert_problem(r, 422, "nul-character")
    assert "messages[0].content" in problem["detail"]
    assert client.get(base).status_code == 404
    backup = {"session": {"session_id": "nul-backup"}, "messages": [{"role": "user", "content": NUL}]}
    assert_problem(client.post("/api/agent-sessions/import", json=backup), 422, "nul-character")


def test_nul_in_the_session_id_of_a_conversation_turn_is_422(client: httpx.Client) -> None:
    """``POST /api/agent-sessions/conversation`` looks the session up before writing: the NUL
    is refused before that lookup (PostgreSQL answered 500 to it)."""
    body = {"session_id": f"turn{NUL}", "messages": [{"role": "user", "content": "hi"}]}
    r = client.post("/api/agent-sessions/conversation", json=body)
    problem = assert_problem(r, 422, "nul-character")
    assert "session_id" in problem["detail"]
