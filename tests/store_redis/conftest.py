"""Fixtures of the Redis cache tests: a spy store, a cache over it with its own key prefix, a raw
Redis client, and a proxy that can cut Redis off (helpers in ``cache_helpers.py``).

The whole ``Store`` contract of the cache runs in ``tests/store`` (backend ``sqlite+redis``); these
tests prove what only a cache has: hits really come from Redis, invalidation, isolation of keys,
TTLs, races with writers, and behaviour when Redis fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from cache_helpers import RedisProxy, SpyStore, new_prefix

from convoledger.store.redis_cache import RedisCachedStore


@pytest.fixture
def spy() -> SpyStore:
    return SpyStore()


@pytest.fixture
def prefix() -> str:
    return new_prefix()


@pytest.fixture
async def cached(spy: SpyStore, redis_url: str, prefix: str) -> AsyncIterator[RedisCachedStore]:
    """An opened cache over ``spy`` on the test Redis (TTL 60 s, its own prefix)."""
    store = RedisCachedStore(spy, redis_url, ttl_seconds=60, prefix=prefix)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def raw_redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A plain client on the test Redis, to look at the cache's keys."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def redis_proxy(redis_url: str) -> AsyncIterator[RedisProxy]:
    proxy = await RedisProxy(redis_url).start()
    try:
        yield proxy
    finally:
        await proxy.stop()
