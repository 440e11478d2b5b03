"""``TokenCache`` (issue 15): a token's account is read from the store once per ``ttl``; a
revoked token stops working once the entry expires; unknown tokens are never cached."""

from __future__ import annotations

import pytest

from convoledger.api import auth
from convoledger.api.auth import TokenCache, hash_token
from convoledger.store.base import Account


class _Keys:
    """The one store call the cache makes, counted."""

    def __init__(self) -> None:
        self.accounts: dict[str, str] = {}
        self.lookups = 0

    async def account_for_key(self, key_hash: str) -> Account | None:
        self.lookups += 1
        name = self.accounts.get(key_hash)
        return None if name is None else Account(name=name, created_at=None)  # type: ignore[arg-type]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: now[0])
    return now


async def test_a_token_is_read_once_per_ttl_and_a_revocation_shows_after_it(clock: list[float]) -> None:
    store = _Keys()
    store.accounts[hash_token("clg_a")] = "alice"
    cache = TokenCache(0.25)
    assert [await cache.account(store, "clg_a") for _ in range(5)] == ["alice"] * 5  # type: ignore[arg-type]
    assert store.lookups == 1
    del store.accounts[hash_token("clg_a")]  # revoked by another process
    clock[0] += 0.2
    assert await cache.account(store, "clg_a") == "alice"  # type: ignore[arg-type]
    clock[0] += 0.1
    assert await cache.account(store, "clg_a") is None  # type: ignore[arg-type]
    assert store.lookups == 2


async def test_unknown_tokens_are_not_cached_and_ttl_zero_always_reads(clock: list[float]) -> None:
    store = _Keys()
    cache = TokenCache(10)
    assert await cache.account(store, "clg_new") is None  # type: ignore[arg-type]
    store.accounts[hash_token("clg_new")] = "bob"  # issued just now: works at once
    assert await cache.account(store, "clg_new") == "bob"  # type: ignore[arg-type]
    off = TokenCache(0)
    for _ in range(3):
        assert await off.account(store, "clg_new") == "bob"  # type: ignore[arg-type]
    assert store.lookups == 2 + 3
    assert await cache.account(store, "") is None  # type: ignore[arg-type]


async def test_the_cache_is_bounded(clock: list[float]) -> None:
    store = _Keys()
    for i in range(5):
        store.accounts[hash_token(f"clg_{i}")] = f"acct{i}"
    cache = TokenCache(10, max_entries=3)
    for i in range(5):
        assert await cache.account(store, f"clg_{i}") == f"acct{i}"  # type: ignore[arg-type]
    assert len(cache._entries) <= 3
