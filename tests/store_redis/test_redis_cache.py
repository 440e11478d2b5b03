"""The Redis cache answers hot reads from Redis, invalidates on every write, keeps owners apart
and puts a TTL on every key (``convoledger.store.redis_cache``)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis
from cache_helpers import SpyStore, keys_under

from convoledger.errors import NotFound
from convoledger.models.records import ConversationRecord, MessageRecord, ProviderCallRecord
from convoledger.models.status import ConversationStatus
from convoledger.store.base import MessageQuery
from convoledger.store.redis_cache import RedisCachedStore

pytestmark = pytest.mark.redis

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def conv(**fields: Any) -> ConversationRecord:
    return ConversationRecord(owner_id="placeholder", **fields)


def msg(content: str, **fields: Any) -> MessageRecord:
    return MessageRecord(role=fields.pop("role", "user"), content=content, **fields)


async def seeded(store: RedisCachedStore, owner: str, n: int = 5) -> str:
    cid = (await store.create_conversation(owner, conv(name="seeded"))).id
    await store.append_messages(
        owner, cid, [msg(f"m{i}", id=f"m{i}", created_at=T0 + timedelta(minutes=i)) for i in range(1, n + 1)]
    )
    return cid


async def test_recent_window_hits_come_from_redis(cached: RedisCachedStore, spy: SpyStore) -> None:
    cid = await seeded(cached, "alice")
    first = await cached.list_messages("alice", cid, MessageQuery(last=3))
    assert spy.calls["list_messages"] == 1
    second = await cached.list_messages("alice", cid, MessageQuery(last=3))
    assert spy.calls["list_messages"] == 1, "the second recent-N read reached the inner store"
    assert second == first and [m.content for m in second] == ["m3", "m4", "m5"]
    assert (cached.counters.hits, cached.counters.misses) == (1, 1)
    for m in second:  # rebuilt with aware UTC datetimes
        assert m.created_at.utcoffset() == timedelta(0)
        assert m.created_at == T0 + timedelta(minutes=int(m.content[1:]))

    await cached.append_messages("alice", cid, [msg("m6", id="m6")])
    third = await cached.list_messages("alice", cid, MessageQuery(last=3))
    assert spy.calls["list_messages"] == 2, "after an append the cached window must not be used"
    assert [m.content for m in third] == ["m4", "m5", "m6"]
    assert await cached.list_messages("alice", cid, MessageQuery(last=3)) == third
    assert spy.calls["list_messages"] == 2


async def test_conversation_and_message_reads_are_cached(cached: RedisCachedStore, spy: SpyStore) -> None:
    cid = await seeded(cached, "alice")
    got = await cached.get_conversation("alice", cid)
    assert await cached.get_conversation("alice", cid) == got
    assert spy.calls["get_conversation"] == 1
    assert got.created_at.tzinfo is not None and (got.message_count, got.last_seq) == (5, 5)

    m2 = await cached.get_message("alice", cid, "m2")
    assert await cached.get_message("alice", cid, "m2") == m2
    assert spy.calls["get_message"] == 1
    assert await cached.get_message("alice", cid, "m3") != m2  # one entry per message id
    assert spy.calls["get_message"] == 2


async def test_returned_records_are_copies(cached: RedisCachedStore) -> None:
    cid = await seeded(cached, "alice")
    hit = (await cached.list_messages("alice", cid, MessageQuery(last=2)))[0]
    hit.content = "changed locally"
    hit.metadata["x"] = 1
    again = (await cached.list_messages("alice", cid, MessageQuery(last=2)))[0]
    assert (again.content, again.metadata) == ("m4", {})


@pytest.mark.parametrize(
    "query",
    [
        MessageQuery(),
        MessageQuery(last=3, role="user"),
        MessageQuery(last=3, before_seq=5),
        MessageQuery(limit=2),
    ],
)
async def test_other_windows_are_not_cached(
    cached: RedisCachedStore, spy: SpyStore, query: MessageQuery
) -> None:
    cid = await seeded(cached, "alice")
    first = await cached.list_messages("alice", cid, query)
    assert await cached.list_messages("alice", cid, query) == first
    assert spy.calls["list_messages"] == 2
    assert cached.counters.hits == cached.counters.misses == 0


async def test_bad_windows_still_raise_and_missing_things_are_not_cached(
    cached: RedisCachedStore, spy: SpyStore
) -> None:
    cid = await seeded(cached, "alice")
    with pytest.raises(ValueError):
        await cached.list_messages("alice", cid, MessageQuery(last=-1))
    assert await cached.list_messages("alice", cid, MessageQuery(last=0)) == []
    for _ in range(2):
        with pytest.raises(NotFound):
            await cached.get_message("alice", cid, "later")
        with pytest.raises(NotFound):
            await cached.get_conversation("alice", "no-such-conversation")
    assert (spy.calls["get_message"], spy.calls["get_conversation"]) == (2, 2)
    await cached.append_messages("alice", cid, [msg("now here", id="later")])
    assert (await cached.get_message("alice", cid, "later")).content == "now here"


Write = Callable[[RedisCachedStore, str, str], Awaitable[object]]

WRITES: dict[str, Write] = {
    "append": lambda s, o, c: s.append_messages(o, c, [msg("new", id="new")]),
    "edit": lambda s, o, c: s.edit_message(o, c, "m5", {"content": "edited", "pinned": True}),
    "redact": lambda s, o, c: s.redact_message(o, c, "m5"),
    "delete_message": lambda s, o, c: s.delete_message(o, c, "m5"),
    "pop": lambda s, o, c: s.pop_message(o, c),
    "clear": lambda s, o, c: s.clear_messages(o, c),
    "update": lambda s, o, c: s.update_conversation(o, c, {"name": "renamed", "metadata": {"k": 1}}),
    "transition": lambda s, o, c: s.transition(o, c, ConversationStatus.INACTIVE, reason="test"),
    "provider_call": lambda s, o, c: s.record_provider_call(
        o, c, ProviderCallRecord(conversation_id=c, message_id="m5", provider="openai"), {"resp": "r1"}
    ),
}


@pytest.mark.parametrize("write", sorted(WRITES))
async def test_every_write_invalidates(cached: RedisCachedStore, spy: SpyStore, write: str) -> None:
    """After each kind of write, the cached reads answer exactly what the inner store says."""
    cid = await seeded(cached, "alice")

    async def reads(store: Any) -> tuple[object, ...]:
        try:
            m5: object = await store.get_message("alice", cid, "m5")
        except NotFound:
            m5 = None
        return (
            await store.get_conversation("alice", cid),
            await store.list_messages("alice", cid, MessageQuery(last=3)),
            m5,
        )

    before = await reads(cached)
    assert await reads(cached) == before  # cached now
    hits = cached.counters.hits
    await WRITES[write](cached, "alice", cid)
    after = await reads(cached)
    assert after == await reads(spy), f"stale cache after {write}"
    assert after != before
    assert await reads(cached) == after and cached.counters.hits > hits  # and cached again


async def test_delete_then_reimport_the_same_id(cached: RedisCachedStore, spy: SpyStore) -> None:
    cid = await seeded(cached, "alice")
    old = await cached.list_messages("alice", cid, MessageQuery(last=3))
    await cached.get_conversation("alice", cid)
    await cached.delete_conversation("alice", cid)
    with pytest.raises(NotFound):
        await cached.get_conversation("alice", cid)
    record = conv(id=cid, name="restored", message_count=1, last_seq=9)
    await cached.import_conversation("alice", record, [msg("only", id="x", seq=9, conversation_id=cid)])
    assert (await cached.get_conversation("alice", cid)).name == "restored"
    new = await cached.list_messages("alice", cid, MessageQuery(last=3))
    assert [m.content for m in new] == ["only"] and new != old


async def test_owners_never_share_entries(cached: RedisCachedStore, spy: SpyStore) -> None:
    cid = await seeded(cached, "alice")
    await cached.get_conversation("alice", cid)
    await cached.list_messages("alice", cid, MessageQuery(last=3))
    calls = spy.calls.copy()
    with pytest.raises(NotFound):
        await cached.get_conversation("bob", cid)
    with pytest.raises(NotFound):
        await cached.list_messages("bob", cid, MessageQuery(last=3))
    assert spy.calls["get_conversation"] == calls["get_conversation"] + 1
    assert spy.calls["list_messages"] == calls["list_messages"] + 1


async def test_scopes_cannot_collide_through_separators(cached: RedisCachedStore, spy: SpyStore) -> None:
    """Owner "u:x" + conversation "y" and owner "u" + conversation "x:y" are different scopes."""
    u = uuid.uuid4().hex
    a = await cached.create_conversation(f"{u}:x", conv(id="y", name="first"))
    b = await cached.create_conversation(u, conv(id="x:y", name="second"))
    for _ in range(2):
        assert (await cached.get_conversation(f"{u}:x", "y")).name == "first"
        assert (await cached.get_conversation(u, "x:y")).name == "second"
    assert spy.calls["get_conversation"] == 2 and (a.id, b.id) == ("y", "x:y")


async def test_every_key_has_a_ttl_and_names_its_owner(
    cached: RedisCachedStore, raw_redis: aioredis.Redis, prefix: str
) -> None:
    cid = await seeded(cached, "alice")
    await cached.get_conversation("alice", cid)
    await cached.list_messages("alice", cid, MessageQuery(last=3))
    await cached.get_message("alice", cid, "m1")
    keys = await keys_under(raw_redis, prefix)
    scope = f"{prefix}{{5:alice:{cid}}}"
    assert f"{scope}:v" in keys
    entries = [k for k in keys if k.startswith(f"{scope}:e:")]
    assert len(entries) == 3 and len(keys) == 4, keys
    for key in keys:
        ttl_ms = await raw_redis.pttl(key)
        assert 0 < ttl_ms <= 60_000, (key, ttl_ms)


async def test_unreadable_entries_are_misses(
    cached: RedisCachedStore, spy: SpyStore, raw_redis: aioredis.Redis, prefix: str
) -> None:
    cid = await seeded(cached, "alice")
    good = await cached.get_conversation("alice", cid)
    [entry] = [k for k in await keys_under(raw_redis, prefix) if ":e:" in k]
    await raw_redis.set(entry, b'{"not": "a conversation"}', px=60_000)
    assert await cached.get_conversation("alice", cid) == good
    assert spy.calls["get_conversation"] == 2
    assert await cached.get_conversation("alice", cid) == good  # refilled
    assert spy.calls["get_conversation"] == 2


async def test_two_caches_on_one_redis_see_each_others_writes(
    spy: SpyStore, redis_url: str, prefix: str
) -> None:
    """Two processes (two wrappers) over one store and one Redis: an acknowledged write through
    one is visible to the very next read through the other."""
    a = RedisCachedStore(spy, redis_url, prefix=prefix)
    b = RedisCachedStore(spy, redis_url, prefix=prefix)
    await a.open()
    await b.open()
    try:
        cid = (await a.create_conversation("alice", conv())).id
        for i in range(1, 21):
            await b.list_messages("alice", cid, MessageQuery(last=5))  # fill b's view
            await b.list_messages("alice", cid, MessageQuery(last=5))  # and hit it
            await a.append_messages("alice", cid, [msg(f"n{i}", id=f"n{i}")])
            recent = await b.list_messages("alice", cid, MessageQuery(last=5))
            assert recent[-1].content == f"n{i}"
            assert (await b.get_conversation("alice", cid)).last_seq == i
        assert b.counters.hits >= 20
    finally:
        await a.close()
        await b.close()


def test_constructor_checks_its_arguments(redis_url: str) -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        RedisCachedStore(SpyStore(), redis_url, ttl_seconds=0)
    with pytest.raises(ValueError, match="write_lease_seconds"):
        RedisCachedStore(SpyStore(), redis_url, write_lease_seconds=-1)
    with pytest.raises(ValueError, match="retry_after_seconds"):
        RedisCachedStore(SpyStore(), redis_url, retry_after_seconds=-1)
    with pytest.raises(ValueError, match="redis://"):
        RedisCachedStore(SpyStore(), "http://127.0.0.1:6379")
    with pytest.raises(ValueError, match="Store"):
        RedisCachedStore(object(), redis_url)  # type: ignore[arg-type]
