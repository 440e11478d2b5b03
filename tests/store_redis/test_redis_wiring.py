"""``open_ledger(url, redis_url=…)`` / ``store_from_url`` wrap the store in the cache; the CLI and
the API pass ``CONVOLEDGER_REDIS_URL`` (``Settings.redis_url``) through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import convoledger.backends
from convoledger.api.app import create_app
from convoledger.backends import open_ledger, store_from_url
from convoledger.cli import app as cli_app
from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.settings import Settings
from convoledger.store.memory import MemoryStore
from convoledger.store.redis_cache import RedisCachedStore
from convoledger.store.sql import SqlStore


@pytest.mark.parametrize("redis_url", [None, ""])
def test_without_a_redis_url_nothing_is_wrapped(redis_url: str | None) -> None:
    assert type(open_ledger("memory://", redis_url=redis_url).store) is MemoryStore
    assert type(store_from_url("memory://", redis_url=redis_url)) is MemoryStore


def test_a_bad_redis_url_is_refused() -> None:
    with pytest.raises(ValueError, match="redis://"):
        store_from_url("memory://", redis_url="http://127.0.0.1:6379")


@pytest.mark.redis
async def test_open_ledger_wraps_and_works(redis_url: str, tmp_path: Path) -> None:
    async with open_ledger(f"sqlite:///{tmp_path}/ledger.db", owner="alice", redis_url=redis_url) as ledger:
        store = ledger.store
        assert isinstance(store, RedisCachedStore) and isinstance(store.inner, SqlStore)
        conv = await ledger.create_conversation(ConversationRecord(owner_id="alice", name="wired"))
        for i in range(3):
            await ledger.append(conv.id, MessageRecord(role="user", content=f"m{i}"))
        for _ in range(2):
            assert [m.content for m in await ledger.recent(conv.id, 2)] == ["m1", "m2"]
        assert store.counters.hits >= 1


def test_cli_passes_the_redis_url_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []
    real = convoledger.backends.open_ledger

    def recording(url: str, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return real(url, **{**kwargs, "redis_url": None})

    monkeypatch.setattr(convoledger.backends, "open_ledger", recording)
    monkeypatch.setenv("CONVOLEDGER_REDIS_URL", "redis://cache.example:6379/3")
    result = CliRunner().invoke(cli_app, ["stats", "--owner", "alice", "--database-url", "memory://"])
    assert result.exit_code == 0, result.output
    assert [k.get("redis_url") for k in seen] == ["redis://cache.example:6379/3"]


@pytest.mark.redis
def test_api_uses_the_cache_from_settings(redis_url: str) -> None:
    app = create_app("memory://", settings=Settings(redis_url=redis_url))
    with TestClient(app) as client:
        r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["store"] == "RedisCachedStore"
    plain = create_app("memory://", settings=Settings(redis_url=None))
    with TestClient(plain) as client:
        assert client.get("/healthz").json()["store"] == "MemoryStore"
