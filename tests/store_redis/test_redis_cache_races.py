"""The cache under concurrency: a reader racing a writer can only store stale data under a token
nobody reads any more; reads during an in-flight write go to the store; several writers and
readers through two cache instances keep history stable and acknowledged writes visible."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis
from cache_helpers import SpyStore

from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.store.base import MessageQuery
from convoledger.store.redis_cache import RedisCachedStore

pytestmark = pytest.mark.redis


def msg(content: str, **fields: Any) -> MessageRecord:
    return MessageRecord(role="user", content=content, **fields)


async def seeded(store: RedisCachedStore, owner: str = "alice", n: int = 5) -> str:
    cid = (await store.create_conversation(owner, ConversationRecord(owner_id=owner))).id
    await store.append_messages(owner, cid, [msg(f"m{i}", id=f"m{i}") for i in range(1, n + 1)])
    return cid


def contents(messages: list[MessageRecord]) -> list[str]:
    return [m.content for m in messages]


async def test_a_slow_reader_cannot_publish_stale_data(cached: RedisCachedStore, spy: SpyStore) -> None:
    """Reader: token check, inner read (old data)… writer appends and bumps… reader stores its
    old data. The next read must not get it: it was stored under the token read before."""
    cid = await seeded(cached)
    read_done, release = asyncio.Event(), asyncio.Event()

    async def pause() -> None:
        read_done.set()
        await release.wait()

    spy.after_read = pause
    reader = asyncio.create_task(cached.list_messages("alice", cid, MessageQuery(last=3)))
    await read_done.wait()
    spy.after_read = None
    await cached.append_messages("alice", cid, [msg("new", id="new")])
    release.set()
    assert contents(await reader) == ["m3", "m4", "m5"]  # a read concurrent with the write
    assert cached.counters.misses == 1

    fresh = await cached.list_messages("alice", cid, MessageQuery(last=3))
    assert contents(fresh) == ["m4", "m5", "new"]
    assert await cached.list_messages("alice", cid, MessageQuery(last=3)) == fresh
    assert (cached.counters.misses, cached.counters.hits) == (2, 1)


async def test_reads_during_a_write_go_to_the_store(
    cached: RedisCachedStore, spy: SpyStore, raw_redis: aioredis.Redis, prefix: str
) -> None:
    """Between the inner commit and the token bump, a read must not serve the old entry: it
    would show a history without a message that a direct read already shows."""
    cid = await seeded(cached)
    for _ in range(2):
        await cached.list_messages("alice", cid, MessageQuery(last=3))
        await cached.get_conversation("alice", cid)
    committed, release = asyncio.Event(), asyncio.Event()

    async def pause() -> None:
        committed.set()
        await release.wait()

    spy.after_append = pause
    writer = asyncio.create_task(cached.append_messages("alice", cid, [msg("new", id="new")]))
    await committed.wait()
    spy.after_append = None
    bypasses = cached.counters.bypasses
    assert contents(await cached.list_messages("alice", cid, MessageQuery(last=3))) == ["m4", "m5", "new"]
    assert (await cached.get_conversation("alice", cid)).last_seq == 6
    assert cached.counters.bypasses == bypasses + 2
    pending = f"{prefix}{{5:alice:{cid}}}:w"
    assert await raw_redis.get(pending) == b"1"
    assert 0 < await raw_redis.pttl(pending) <= 60_000  # the write lease

    release.set()
    await writer
    assert await raw_redis.exists(pending) == 0
    hits = cached.counters.hits
    for _ in range(2):
        assert contents(await cached.list_messages("alice", cid, MessageQuery(last=3))) == ["m4", "m5", "new"]
    assert cached.counters.hits == hits + 1


async def test_a_cancelled_write_still_invalidates(cached: RedisCachedStore, spy: SpyStore) -> None:
    cid = await seeded(cached)
    await cached.list_messages("alice", cid, MessageQuery(last=3))
    committed = asyncio.Event()

    async def hang() -> None:
        committed.set()
        await asyncio.Event().wait()

    spy.after_append = hang
    writer = asyncio.create_task(cached.append_messages("alice", cid, [msg("new", id="new")]))
    await committed.wait()
    spy.after_append = None
    writer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writer
    # The append committed before the cancellation: the cache must show it.
    assert contents(await cached.list_messages("alice", cid, MessageQuery(last=3))) == ["m4", "m5", "new"]
    assert cached.cache_enabled


WRITERS = 4
PER_WRITER = 40


async def test_writers_and_readers_through_two_caches(spy: SpyStore, redis_url: str, prefix: str) -> None:
    """Writers append through cache A, readers poll through cache B (two processes sharing the
    store and Redis). Each reader's snapshots only move forward (invariant 9) and, once a writer's
    append is acknowledged, B's very next read shows it."""
    a = RedisCachedStore(spy, redis_url, prefix=prefix)
    b = RedisCachedStore(spy, redis_url, prefix=prefix)
    await a.open()
    await b.open()
    try:
        cid = (await a.create_conversation("alice", ConversationRecord(owner_id="alice"))).id
        done = asyncio.Event()
        seen: dict[int, str] = {}

        async def writer(w: int) -> None:
            for i in range(PER_WRITER):
                [stored] = await a.append_messages("alice", cid, [msg(f"w{w}-{i}", id=f"w{w}-{i}")])
                got = await b.get_conversation("alice", cid)
                assert got.last_seq >= stored.seq, "an acknowledged append is missing from the cache"
                recent = await b.list_messages("alice", cid, MessageQuery(last=3))
                assert recent[-1].seq >= stored.seq
                await asyncio.sleep(0)

        async def reader() -> int:
            last_seen = 0
            snapshots = 0
            while True:
                finished = done.is_set()
                window = await b.list_messages("alice", cid, MessageQuery(last=5))
                seqs = [m.seq for m in window]
                assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True, seqs
                newest = seqs[-1] if seqs else 0
                assert newest >= last_seen, f"history went back from seq {last_seen} to {newest}"
                last_seen = newest
                for m in window:
                    assert seen.setdefault(m.seq, m.id) == m.id
                snapshots += 1
                if finished:
                    return snapshots
                await asyncio.sleep(0.001)

        readers = [asyncio.create_task(reader()) for _ in range(2)]
        await asyncio.gather(*(writer(w) for w in range(WRITERS)))
        done.set()
        assert all(n > 3 for n in await asyncio.gather(*readers))

        total = WRITERS * PER_WRITER
        direct = await spy.list_messages("alice", cid, MessageQuery(last=5))
        assert [m.seq for m in direct] == list(range(total - 4, total + 1))
        for _ in range(2):
            assert await b.list_messages("alice", cid, MessageQuery(last=5)) == direct
            assert await a.list_messages("alice", cid, MessageQuery(last=5)) == direct
        assert a.counters.hits + b.counters.hits >= 3
    finally:
        await a.close()
        await b.close()
