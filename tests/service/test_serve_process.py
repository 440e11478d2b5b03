"""The real-``serve`` fixture itself: the server answers, tokens authenticate, accounts are
isolated, and a bad token is refused (so every test built on it talks to a working service)."""

from __future__ import annotations

from serve_process import ServeProcess


def test_serve_answers_and_isolates_accounts(serve: ServeProcess) -> None:
    with serve.client("a") as a, serve.client("b") as b, serve.client() as anonymous:
        created = a.post("/api/agent-sessions", json={"session_id": "fixture-check"})
        assert created.status_code == 201, created.text
        assert a.get("/api/agent-sessions/fixture-check").status_code == 200
        assert b.get("/api/agent-sessions/fixture-check").status_code == 404
        assert anonymous.get("/api/agent-sessions").status_code == 401
        assert anonymous.get("/healthz").status_code == 200
