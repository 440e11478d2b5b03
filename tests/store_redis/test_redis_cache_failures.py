"""Redis failures never make the ledger wrong: reads fall back to the store, writes commit and are
acknowledged, missed invalidations are owed and delivered before the cache is used again."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from cache_helpers import RedisProxy, SpyStore, new_prefix

from convoledger.errors import ConversationNotActive
from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.models.status import ConversationStatus
from convoledger.store.base import MessageQuery
from convoledger.store.redis_cache import RedisCachedStore

UNREACHABLE = "redis://127.0.0.1:1/0"


def msg(content: str, **fields: Any) -> MessageRecord:
    return MessageRecord(role="user", content=content, **fields)


def contents(messages: list[MessageRecord]) -> list[str]:
    return [m.content for m in messages]


async def seeded(store: RedisCachedStore, owner: str = "alice", n: int = 5) -> str:
    cid = (await store.create_conversation(owner, ConversationRecord(owner_id=owner))).id
    await store.append_messages(owner, cid, [msg(f"m{i}", id=f"m{i}") for i in range(1, n + 1)])
    return cid


def warnings_about_redis(caplog: pytest.LogCaptureFixture) -> list[str]:
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    return [m for m in messages if "Redis" in m]


@pytest.mark.parametrize("retry_after", [0, 30])
async def test_redis_down_reads_and_writes_stay_correct(
    caplog: pytest.LogCaptureFixture, retry_after: float
) -> None:
    caplog.set_level(logging.INFO, logger="convoledger.store.redis_cache")
    spy = SpyStore()
    store = RedisCachedStore(spy, UNREACHABLE, socket_timeout=0.2, retry_after_seconds=retry_after)
    await store.open()  # does not raise: the ledger works without its cache
    try:
        assert store.cache_enabled is (retry_after == 0)  # the breaker is open for retry_after s
        cid = await seeded(store)
        for _ in range(3):
            assert contents(await store.list_messages("alice", cid, MessageQuery(last=2))) == ["m4", "m5"]
        [stored] = await store.append_messages("alice", cid, [msg("m6", id="m6")])
        assert stored.seq == 6
        assert contents(await store.list_messages("alice", cid, MessageQuery(last=2))) == ["m5", "m6"]
        assert (await store.get_conversation("alice", cid)).last_seq == 6
        assert (await store.get_message("alice", cid, "m6")).content == "m6"
        assert spy.calls["list_messages"] == 4  # every read reached the store
        assert store.counters.hits == 0 and store.counters.bypasses == 6
        assert not store.cache_enabled  # invalidations are owed
        if retry_after:
            assert store.counters.errors == 1  # the breaker kept us away from Redis
        else:
            assert store.counters.errors > 3  # tried (and failed fast) every time
        assert len(warnings_about_redis(caplog)) == 1, "one warning per outage, not one per call"
    finally:
        await store.close()
    assert any("undelivered" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


@pytest.mark.redis
async def test_outage_during_a_write_is_owed_and_delivered(
    redis_proxy: RedisProxy, redis_url: str, prefix: str, spy: SpyStore
) -> None:
    """Redis goes away after the inner commit, before the bump: the write is acknowledged, this
    process stops using Redis, the other process bypasses the conversation (its pending mark is
    still there), and when Redis is back the owed bump is delivered before any cached read."""
    here = RedisCachedStore(
        spy,
        redis_proxy.url,
        prefix=prefix,
        retry_after_seconds=0,
        socket_timeout=0.5,
        write_lease_seconds=0.5,
    )
    other = RedisCachedStore(spy, redis_url, prefix=prefix)
    await here.open()
    await other.open()
    try:
        cid = await seeded(here)
        for store in (here, other, here, other):
            assert contents(await store.list_messages("alice", cid, MessageQuery(last=2))) == ["m4", "m5"]
        assert here.counters.hits + other.counters.hits == 3

        async def outage() -> None:
            redis_proxy.cut()

        spy.after_append = outage
        [stored] = await here.append_messages("alice", cid, [msg("m6", id="m6")])
        spy.after_append = None
        assert stored.seq == 6 and not here.cache_enabled

        assert contents(await here.list_messages("alice", cid, MessageQuery(last=2))) == ["m5", "m6"]
        assert contents(await other.list_messages("alice", cid, MessageQuery(last=2))) == ["m5", "m6"]

        redis_proxy.restore()
        assert contents(await here.list_messages("alice", cid, MessageQuery(last=2))) == ["m5", "m6"]
        assert here.cache_enabled and here.counters.owed_bumps_delivered == 1
        await asyncio.sleep(0.6)  # the dead writer's pending mark ends with its lease
        hits = here.counters.hits + other.counters.hits
        for store in (here, other, here, other):
            assert contents(await store.list_messages("alice", cid, MessageQuery(last=2))) == ["m5", "m6"]
        assert here.counters.hits + other.counters.hits == hits + 3
    finally:
        await here.close()
        await other.close()


@pytest.mark.redis
async def test_outage_before_a_write_limits_staleness_elsewhere_to_the_owed_bump(
    redis_proxy: RedisProxy, redis_url: str, prefix: str, spy: SpyStore
) -> None:
    """The documented limit: while this process cannot reach Redis, another process that can
    may serve its cached entry (no pending mark was set); the owed bump ends that as soon as
    this process reaches Redis again (else the TTL does)."""
    here = RedisCachedStore(spy, redis_proxy.url, prefix=prefix, retry_after_seconds=0, socket_timeout=0.5)
    other = RedisCachedStore(spy, redis_url, prefix=prefix)
    await here.open()
    await other.open()
    try:
        cid = await seeded(here)
        await other.list_messages("alice", cid, MessageQuery(last=2))
        redis_proxy.cut()
        await here.append_messages("alice", cid, [msg("m6", id="m6")])
        assert contents(await here.list_messages("alice", cid, MessageQuery(last=2))) == ["m5", "m6"]
        assert contents(await other.list_messages("alice", cid, MessageQuery(last=2))) == ["m4", "m5"]
        redis_proxy.restore()
        await here.get_conversation("alice", cid)  # any operation delivers what is owed first
        assert here.counters.owed_bumps_delivered == 1
        assert contents(await other.list_messages("alice", cid, MessageQuery(last=2))) == ["m5", "m6"]
    finally:
        await here.close()
        await other.close()


@pytest.mark.redis
async def test_read_errors_fall_back_then_the_cache_resumes(
    redis_proxy: RedisProxy, spy: SpyStore, prefix: str
) -> None:
    store = RedisCachedStore(spy, redis_proxy.url, prefix=prefix, retry_after_seconds=0, socket_timeout=0.5)
    await store.open()
    try:
        cid = await seeded(store)
        await store.get_conversation("alice", cid)
        redis_proxy.cut()
        assert (await store.get_conversation("alice", cid)).last_seq == 5
        assert store.counters.errors >= 1 and spy.calls["get_conversation"] == 2
        redis_proxy.restore()
        calls = spy.calls["get_conversation"]
        for _ in range(3):
            assert (await store.get_conversation("alice", cid)).last_seq == 5
        assert spy.calls["get_conversation"] == calls  # served from Redis again
        assert store.cache_enabled
    finally:
        await store.close()


@pytest.mark.redis
async def test_a_refused_write_still_ends_its_pending_mark(redis_url: str) -> None:
    import redis.asyncio as aioredis

    prefix = new_prefix()
    store = RedisCachedStore(SpyStore(), redis_url, prefix=prefix)
    raw = aioredis.Redis.from_url(redis_url)
    await store.open()
    try:
        cid = await seeded(store)
        await store.transition("alice", cid, ConversationStatus.INACTIVE)
        with pytest.raises(ConversationNotActive):
            await store.append_messages("alice", cid, [msg("refused")])
        assert await raw.exists(f"{prefix}{{5:alice:{cid}}}:w") == 0
        assert (await store.get_conversation("alice", cid)).status is ConversationStatus.INACTIVE
        assert store.cache_enabled
    finally:
        await store.close()
        await raw.aclose()
