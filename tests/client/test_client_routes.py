"""Every route of the app is reachable through a named ``Client`` method and the same-named
``AsyncClient`` method, and every route the clients know exists in the app — so a route added
without a client method (or renamed under it) fails here. No server needed: the app's route
table and the clients' ``Endpoint`` table are compared, and each endpoint's call is checked
against a recording transport."""

from __future__ import annotations

import inspect
import json
from typing import Any

import httpx
import pytest

from convoledger.api.app import create_app
from convoledger.client import AsyncClient, Client, _async, _sync, endpoints, routes

#: Routes no API client calls, and why:
#: - ``/openapi.json``, ``/docs``, ``/docs/oauth2-redirect``, ``/redoc``: FastAPI's generated
#:   schema and its browser pages, about the API rather than part of it;
#: - ``GET /`` and the ``/ui`` mount: the web UI's static page and assets, for browsers.
NOT_CLIENT_ROUTES = {
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("GET", "/"),
}
#: Static files, not API routes: the browser UI and the offline assets of /docs and /redoc.
NOT_CLIENT_MOUNTS = {"/ui", "/static-offline-docs"}


def app_routes() -> set[tuple[str, str]]:
    """``(method, path template)`` of every route the app serves (HEAD is GET's shadow)."""
    app = create_app("memory://")
    try:  # FastAPI ≥ 0.16x keeps included routers as such; this flattens them
        from fastapi.routing import iter_route_contexts

        flat: list[Any] = list(iter_route_contexts(app.routes))
    except ImportError:  # older FastAPI: app.routes is already flat
        flat = list(app.routes)
    found: set[tuple[str, str]] = set()
    for context in flat:
        if getattr(context, "methods", None) is None:  # a mount
            assert context.path in NOT_CLIENT_MOUNTS, f"unexpected mount {context.path}"
            continue
        for method in context.methods - {"HEAD"}:
            found.add((method, str(context.path)))
    return found


def test_every_app_route_has_a_sync_and_an_async_client_method() -> None:
    served = app_routes() - NOT_CLIENT_ROUTES
    table = routes()
    missing = sorted(served - set(table))
    assert not missing, f"routes without a client method (add an Endpoint to client._Routes): {missing}"
    stale = sorted(set(table) - served)
    assert not stale, f"client routes the app does not serve: {stale}"
    for route in sorted(served):
        name = table[route]
        assert callable(getattr(Client, name, None)), f"Client.{name} missing for {route}"
        assert callable(getattr(AsyncClient, name, None)), f"AsyncClient.{name} missing for {route}"


def test_each_endpoint_is_wired_into_both_clients() -> None:
    for name, ep in endpoints().items():
        sync_method = inspect.getattr_static(Client, name)
        async_method = inspect.getattr_static(AsyncClient, name)
        assert isinstance(sync_method, _sync) and sync_method.endpoint is ep, name
        assert isinstance(async_method, _async) and async_method.endpoint is ep, name
        assert ep.__doc__, f"{name}: an endpoint documents its method"
        assert Client.__dict__[name].__doc__ == AsyncClient.__dict__[name].__doc__ == ep.__doc__
        with Client("http://ledger.test") as api:
            bound = getattr(api, name)
            assert bound.__name__ == name and inspect.signature(bound) == ep.__signature__


#: A sample argument per parameter name, enough to build each endpoint's call.
SAMPLES = {
    "session": "s/1",
    "message_id": "m 1",
    "backup_id": "b/1",
    "key": "k",
    "session_key": "key:1",
    "bundle": {"session": {}},
    "status": "inactive",
    "messages": [{"role": "user", "content": "hi"}],
    "value": {"v": 1},
    "provider": "openai",
}
BODIES = {
    "create_session": {"name": "x"},
    "conversation": {"session_id": "c1", "messages": [{"role": "user", "content": "hi"}]},
    "update_session": {"name": "y"},
    "fork_session": {"at_seq": 1},
    "append_message": {"role": "user", "content": "hi"},
    "edit_message": {"content": "new"},
    "create_conversation_session": {
        "session_id": "g1",
        "session_type": "mc_to_agent",
        "participants": [
            {"participant_id": "mc", "participant_type": "master_controller"},
            {"participant_id": "analyst", "participant_type": "agent", "participant_role": "data_analyst"},
        ],
    },
    "post_agent_message": {
        "sender_id": "a",
        "recipient_id": "b",
        "content": "hi",
        "message_type": "task_assignment",
    },
    "record_provider_call": {"provider": "openai", "response": {"id": "resp_1"}},
}


@pytest.mark.parametrize("name", sorted(endpoints()))
def test_endpoint_calls_go_to_their_route(name: str) -> None:
    """Each method sends its route's method to a path matching its template, segments
    percent-encoded; the sync and async clients send the same request."""
    ep = endpoints()[name]
    args = [
        SAMPLES[p.name]
        for p in ep.__signature__.parameters.values()
        if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty
    ]
    body = BODIES.get(name)
    call = ep(*args, body) if body is not None else ep(*args)
    assert call.method == ep.route.method
    expected = ep.route.path.format(
        session="s%2F1", message_id="m%201", key="k", session_key="key%3A1", backup_id="b%2F1"
    )
    assert call.path == expected
    if ep.route.method == "GET":
        assert call.retry_safe and call.json is None

    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"type": "urn:convoledger:problem:not-found", "title": "Not Found"})

    with Client("http://ledger.test", "t", transport=httpx.MockTransport(record), retries=0) as api:
        with pytest.raises(Exception) as raised:
            getattr(api, name)(*args, *([body] if body is not None else []))
        assert type(raised.value).__name__ == "NotFoundError"
    assert [(r.method, r.url.raw_path.decode().split("?")[0]) for r in seen] == [(call.method, expected)]
    if call.json is not None:
        assert without_ids(json.loads(seen[0].content)) == without_ids(call.json)


def without_ids(body: Any) -> Any:
    """``body`` without the message ids the client generates per call (UUIDv7)."""
    if isinstance(body, dict):
        return {k: without_ids(v) for k, v in body.items() if k not in ("id", "message_id")}
    if isinstance(body, list):
        return [without_ids(v) for v in body]
    return body
