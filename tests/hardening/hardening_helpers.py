"""Helpers of the hardening tests: ``new_session`` and ``assert_problem`` (RFC 9457 shape)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx


def new_session(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    """Create a session (asserting 201) and return it."""
    body = {"session_id": f"s-{uuid.uuid4().hex[:10]}", "name": "hardening", **fields}
    r = client.post("/api/agent-sessions", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> dict[str, Any]:
    """Assert ``response`` is an RFC 9457 problem+json with ``status`` (and type slug)."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = dict(response.json())
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["type"].startswith("urn:convoledger:problem:")
    if slug is not None:
        assert body["type"] == f"urn:convoledger:problem:{slug}", body
    return body
