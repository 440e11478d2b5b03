"""Authentication (401 with problem+json and WWW-Authenticate) and the error classes' shape."""

from __future__ import annotations

import pytest
from api_helpers import Api, assert_problem

from convoledger.api.auth import TOKEN_PREFIX, authenticate, hash_token, issue_api_key

BAD_HEADERS = [
    {},
    {"Authorization": "Bearer"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer clg_not-a-real-token"},
    {"Authorization": "bearer "},
]


async def test_bad_credentials_get_401(api: Api) -> None:
    for headers in BAD_HEADERS:
        for method, path in [
            ("GET", "/api/agent-sessions"),
            ("POST", "/api/agent-sessions"),
            ("GET", "/api/stats"),
            ("GET", "/api/sessions"),
            ("GET", "/api/agent-sessions/whatever/messages"),
        ]:
            r = await api.client.request(method, path, headers=headers, json={})
            body = assert_problem(r, 401, "unauthorized")
            assert r.headers["www-authenticate"].startswith("Bearer")
            assert "token" in body["detail"] or "credentials" in body["detail"]


async def test_issue_api_key_stores_only_the_hash(api: Api) -> None:
    store = api.ledger.store
    token = await issue_api_key(store, "carol-" + api.a_name)
    assert token.startswith(TOKEN_PREFIX) and len(token) > 40
    assert await authenticate(store, token) == "carol-" + api.a_name
    assert await store.account_for_key(token) is None  # the raw token is not a stored key
    account = await store.account_for_key(hash_token(token))
    assert account is not None and account.name == "carol-" + api.a_name
    assert await authenticate(store, None) is None
    assert await authenticate(store, token + "x") is None
    # a second token for the same account works too and differs
    other = await issue_api_key(store, "carol-" + api.a_name)
    assert other != token and await authenticate(store, other) == "carol-" + api.a_name
    with pytest.raises(ValueError, match="empty"):
        await issue_api_key(store, "  ")


async def test_the_token_scopes_to_its_account(api: Api) -> None:
    created = await api.create_session(name="only A")
    r = await api.client.get("/api/agent-sessions", headers=api.a)
    assert [s["id"] for s in r.json()["items"]] == [created["id"]]
    r = await api.client.get("/api/agent-sessions", headers=api.b)
    assert r.json() == {"items": [], "total": 0, "page": 1, "size": 20}  # seed §12: size defaults to 20


async def test_unknown_route_and_method_are_problems(api: Api) -> None:
    assert_problem(await api.client.get("/api/nothing-here", headers=api.a), 404, "not-found")
    assert_problem(await api.client.put("/api/agent-sessions", headers=api.a), 405, "method-not-allowed")


async def test_malformed_json_is_422(api: Api) -> None:
    r = await api.client.post(
        "/api/agent-sessions",
        content=b'{"name": "x",',
        headers={**api.a, "Content-Type": "application/json"},
    )
    body = assert_problem(r, 422, "validation-error")
    assert body["errors"] and body["errors"][0]["type"] == "json_invalid"


async def test_unknown_field_is_422_naming_it(api: Api) -> None:
    r = await api.client.post("/api/agent-sessions", json={"nmae": "typo"}, headers=api.a)
    body = assert_problem(r, 422, "validation-error")
    assert "nmae" in body["detail"]


async def test_openapi_and_docs_are_served(api: Api) -> None:
    r = await api.client.get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    assert "/api/agent-sessions/{session}/messages" in spec["paths"]
    assert "ApiKey" in spec["components"]["securitySchemes"]
    assert (await api.client.get("/docs")).status_code == 200
