"""Issue 16 item 4: every error is RFC 9457 ``application/problem+json`` — a body that is not
UTF-8 (422), unknown routes and methods (404/405), unexpected failures (500) — and the OpenAPI
document says so: each operation's error responses are problem+json with the Problem schema."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from hardening_helpers import assert_problem, new_session

from convoledger.api.app import create_app
from convoledger.ledger import Ledger
from convoledger.settings import Settings
from serve_process import ServeProcess


def test_a_body_that_is_not_utf8_is_422_problem(client: httpx.Client) -> None:
    session = new_session(client)
    r = client.post(
        f"/api/agent-sessions/{session['id']}/messages",
        content=b'{"role": "user", "content": "caf\xe9"}',
        headers={"Content-Type": "application/json"},
    )
    body = assert_problem(r, 422, "invalid-body")
    assert "UTF-8" in body["detail"]


def test_unknown_routes_and_methods_are_problems(client: httpx.Client) -> None:
    assert_problem(client.get("/api/no-such-thing"), 404, "not-found")
    assert_problem(client.delete("/api/stats"), 405, "method-not-allowed")


def test_malformed_json_is_422_problem(client: httpx.Client) -> None:
    r = client.post("/api/agent-sessions", content=b"{", headers={"Content-Type": "application/json"})
    assert_problem(r, 422, "validation-error")


def test_openapi_errors_are_problem_json_and_only_the_possible_ones(hard: ServeProcess) -> None:
    document = httpx.get(f"{hard.base_url}/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert "Problem" in document["components"]["schemas"]
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            errors = {c: r for c, r in operation["responses"].items() if c[0] in "45"}
            assert {"422", "500"} <= errors.keys(), (method, path)
            for code, response in errors.items():
                assert list(response["content"]) == ["application/problem+json"], (method, path, code)
                schema = response["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}
            assert ("401" in errors) == bool(operation.get("security")), (method, path)
            assert ("404" in errors) == ("{" in path), (method, path)
            if method == "get":
                assert "409" not in errors and "413" not in errors, (method, path)
            checked += 1
    assert checked >= 30


class _Broken(Exception):
    """Stands for any unexpected failure inside the store."""


@pytest.fixture
async def broken_app(tmp_path) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:  # type: ignore[no-untyped-def]
    """An app on SQLite whose ``Ledger.stats`` raises an unexpected exception."""
    from convoledger.api.auth import issue_api_key

    app = create_app(f"sqlite:///{tmp_path / 'ledger.db'}", Settings(agent="echo"))
    async with app.router.lifespan_context(app):
        ledger: Ledger = app.state.ledger
        token = await issue_api_key(ledger.store, "broken")
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, {"Authorization": f"Bearer {token}"}


async def test_an_unexpected_failure_is_a_500_problem(
    broken_app: tuple[httpx.AsyncClient, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fail(self: Ledger) -> None:
        raise _Broken("disk on fire")

    monkeypatch.setattr(Ledger, "stats", fail)
    client, headers = broken_app
    r = await client.get("/api/stats", headers=headers)
    body = assert_problem(r, 500, "internal-error")
    assert "disk on fire" not in r.text and "Traceback" not in r.text
    assert body["instance"] == "/api/stats"
