"""Helpers for the capture tests: the recorded real responses and an httpx mock transport replaying them.

``shared/`` sits beside the repository (CI clones it there too), so the path is computed from this
file: ``<repo>/tests/capture/capture_helpers.py`` → ``<repo>/../shared/data/provider_responses``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from convoledger.agent.openai_compatible import OpenAICompatibleAgent
from convoledger.ledger import Ledger
from convoledger.models.records import MessageRecord

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "provider_responses"
INDEX: dict[str, dict[str, Any]] = {rec["file"]: rec for rec in json.loads((DATA / "index.json").read_text())}

_CONTENT_TYPES = {"json": "application/json", "sse": "text/event-stream"}


def text(rel: str) -> str:
    """The recorded file ``rel`` as text."""
    return (DATA / rel).read_text(encoding="utf-8")


def body(rel: str) -> Any:
    """The recorded JSON file ``rel``."""
    return json.loads(text(rel))


def request_of(rel: str) -> dict[str, Any]:
    """The recorded request body that produced response ``rel``."""
    request_file = INDEX[rel]["request_file"]
    assert request_file, f"{rel} has no recorded request"
    return body(request_file)


def headers_of(rel: str) -> dict[str, str]:
    """The recorded response headers of ``rel`` (the index keeps a selection)."""
    return dict(INDEX[rel].get("response_headers") or {})


def chain(name: str) -> list[dict[str, Any]]:
    """The index records of multi-turn chain ``name``, in interaction order."""
    records = sorted((r for r in INDEX.values() if r["chain"] == name), key=lambda r: r["interaction_index"])
    assert records, f"no chain {name!r} in index.json"
    return records


@dataclass
class Sent:
    """One request the client sent: method, URL path and JSON body."""

    method: str
    path: str
    json: Any


@dataclass
class Replay:
    """An httpx ``MockTransport`` answering each request with the next queued recorded response
    (status, body bytes, content type and the recorded headers) and keeping what was sent."""

    queue: list[tuple[int, bytes, dict[str, str]]] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)

    def push(self, rel: str) -> None:
        """Queue recorded response ``rel`` (status and headers from index.json)."""
        rec = INDEX[rel]
        headers = {"content-type": _CONTENT_TYPES[rec["format"]], **headers_of(rel)}
        self.queue.append((rec["http_status"], (DATA / rel).read_bytes(), headers))

    def push_raw(self, status: int, content: bytes, headers: dict[str, str]) -> None:
        """Queue an arbitrary response."""
        self.queue.append((status, content, headers))

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(Sent(request.method, request.url.path, json.loads(request.content or b"null")))
        assert self.queue, f"unexpected extra request {request.method} {request.url}"
        status, content, headers = self.queue.pop(0)
        return httpx.Response(status, content=content, headers=headers)

    def http_client(self) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` whose transport is this replay."""
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler))


def make_agent(replay: Replay, **kwargs: Any) -> OpenAICompatibleAgent:
    """An agent talking to ``replay`` (no retries, a dummy key, the OpenAI base URL by default)."""
    kwargs.setdefault("base_url", "https://api.openai.com/v1")
    kwargs.setdefault("api_key", "sk-test")
    return OpenAICompatibleAgent(http_client=replay.http_client(), max_retries=0, **kwargs)


async def store_reply(
    ledger: Ledger, conversation_id: str, content: str, tool_calls: Any = None
) -> MessageRecord:
    """Append the assistant reply as the route does (role assistant, the reply's tool calls)."""
    return await ledger.append(
        conversation_id, MessageRecord(role="assistant", content=content, tool_calls=tool_calls)
    )


def usd(*items: tuple[float, float]) -> float:
    """Σ tokens × price-per-MTok ÷ 1e6 — the hand calculation."""
    return sum(tokens * per_mtok for tokens, per_mtok in items) / 1_000_000
