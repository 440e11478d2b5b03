"""Helpers of the API tests: the running ``Api`` (app + client + two accounts), ``start_api``
and ``assert_problem`` (RFC 9457 shape check)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from convoledger.agent import Agent
from convoledger.api.app import create_app
from convoledger.api.auth import issue_api_key
from convoledger.ledger import Ledger
from convoledger.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"


@dataclass
class Api:
    """A running app with an httpx client and two accounts' bearer headers."""

    app: FastAPI
    client: httpx.AsyncClient
    a: dict[str, str]
    b: dict[str, str]
    a_name: str
    b_name: str

    @property
    def ledger(self) -> Ledger:
        """The app's (service-owner) ledger."""
        ledger: Ledger = self.app.state.ledger
        return ledger

    async def new_token(self, name: str | None = None) -> tuple[str, dict[str, str]]:
        """A fresh account (random name unless given) and its bearer header."""
        name = name or f"acct-{uuid.uuid4().hex[:12]}"
        token = await issue_api_key(self.ledger.store, name)
        return name, {"Authorization": f"Bearer {token}"}

    async def create_session(self, headers: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
        """POST /api/agent-sessions and return the created resource (asserting 201)."""
        body = {"session_id": f"s-{uuid.uuid4().hex[:10]}", "name": "Test session", **fields}
        r = await self.client.post("/api/agent-sessions", json=body, headers=headers or self.a)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def post_message(
        self, session: str, headers: dict[str, str] | None = None, **fields: Any
    ) -> dict[str, Any]:
        """POST one message and return it (asserting 201)."""
        body = {"role": "user", "content": "hello", **fields}
        r = await self.client.post(
            f"/api/agent-sessions/{session}/messages", json=body, headers=headers or self.a
        )
        assert r.status_code == 201, r.text
        return dict(r.json())


async def start_api(
    url: str, *, agent: Agent | None = None, settings: Settings | None = None
) -> AsyncIterator[Api]:
    """Build the app for ``url``, run its lifespan, yield an ``Api`` with accounts A and B."""
    app = create_app(url, settings or Settings(agent="echo"), agent=agent)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            api = Api(app, client, {}, {}, "", "")
            api.a_name, api.a = await api.new_token()
            api.b_name, api.b = await api.new_token()
            yield api


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> dict[str, Any]:
    """Assert ``response`` is an RFC 9457 problem with ``status`` (and type slug); return it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = dict(response.json())
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["type"].startswith("urn:convoledger:problem:")
    assert body["instance"] == response.request.url.path
    if slug is not None:
        assert body["type"] == f"urn:convoledger:problem:{slug}", body
    return body
