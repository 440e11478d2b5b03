"""A Redis read cache in front of any ``Store``: ``RedisCachedStore(inner, redis_url)``.

DESIGN.md ("Services": ``CONVOLEDGER_REDIS_URL`` turns the cache on). The wrapper is a ``Store``
with the same contract as the store it wraps; it delegates every call and caches only the hot,
owner-scoped reads:

- ``get_conversation``;
- ``list_messages`` for the plain recent-N window (a ``MessageQuery`` with only ``last`` >= 1 set);
- ``get_message``.

Everything else (filters, pages, counts, memory, provider calls, analytics) goes to the inner
store. Negative answers (``NotFound``) are never cached.

**Invalidation: one version token per conversation.** Redis holds, per (owner, conversation), a
version key ``v`` and a pending-writes counter ``w``. Cached entries are keyed by the token that
was current *before* the inner read that filled them. Every write that can change a conversation
or its messages (create, import, update, delete, transition, append, edit, redact, delete/pop/
clear messages, record_provider_call, which may set ``server_state``) runs as:

1. ``INCR w`` (with a lease TTL): "a write to this conversation is in flight";
2. the inner write (it commits);
3. atomically (one Lua script): ``DECR w`` and ``SET v <new random token>``.

Step 3 also runs when the inner write raised (``finally``): a write whose outcome is unknown (the
connection dropped while committing) must invalidate too. Session memory is neither cached nor
part of a conversation record, so ``set_memory``/``delete_memory`` do not invalidate.

A read runs one Lua script that returns the current token (creating a fresh one if the key is
missing) and ``w``; when ``w`` is not 0 the read goes to the inner store and caches nothing,
otherwise it returns the entry under that token, or on a miss reads the inner store and stores
the result under the token it read *before* that inner read.

Why no read can be staler than the inner store at the moment the read checked the token (the
race argument; "commit" = the inner write's commit):

- Take a write W committed before a reader R's token check at time r. If W's step 3 has not run
  yet at r, W still counts in ``w`` (step 1 precedes the commit), so R bypasses the cache.
- Otherwise W's step 3 ran before r, after W's commit. The token R sees was set by W's step 3 or
  later (a later writer, or a fresh token after the key expired or was evicted), so after W's
  commit. Every entry under that token was filled by a reader that read the token (hence saw it
  set) before its own inner read, so that inner read began after W's commit and reflects W.
- A slow reader that read an older token and stores its (older) data late stores it under a
  token nobody reads any more: step 3 replaced it, and the replacement is a random token, never
  reused. (An ``INCR``-ed counter would restart at 1 after its key expired or was evicted and
  could name old entries again; a random 128-bit token cannot.)

So a cached read behaves like a direct read made at the token check, and history stays stable
(invariant 9): a reader that has seen a message never gets an older snapshot later. A plain
"version read before the inner read, bumped after the write" scheme alone leaves one window
open: between a commit and its bump, a second reader could get an entry older than what a first
reader already read directly; the pending counter closes it.

Limits (every key has a TTL: tokens and entries expire after ``ttl_seconds``, the pending
counter after ``write_lease_seconds``, so staleness is bounded by ``ttl_seconds``):

- **Every writer must go through the cache.** A process writing the same database without this
  wrapper bumps no tokens; readers through the cache may then serve data older than its writes
  until the entries expire.
- A write running longer than ``write_lease_seconds`` loses its pending mark; a writer process
  that dies between steps 1 and 3 leaves the mark until the lease expires (reads of that
  conversation bypass the cache meanwhile, which is safe).
- Redis persistence (RDB/AOF) restoring old tokens and entries can bring back data older than
  ``ttl_seconds`` minus the downtime; run the cache without persistence (as CI does).

**Redis failures never make the ledger wrong.** Any Redis error (connection refused, timeout,
out of memory) opens a circuit breaker for ``retry_after_seconds``: reads go to the inner store
(one warning is logged, then one info line when Redis answers again), and writes still commit
on the inner store and are acknowledged (raising after a commit would invite a retry of a write
that already happened). A write whose bump could not be delivered is remembered ("owed"); while
any bump is owed, this process reads nothing from Redis, and the first operation after the
breaker closes delivers every owed bump before the cache is used again. When Redis failed after
step 1, the write's pending mark keeps other processes off that conversation's entries until its
lease ends; when it failed before, other processes that still reach Redis may serve entries the
missed bump should have invalidated until it is delivered or they expire (``ttl_seconds``).
Owed bumps are lost if the process exits first (the TTL still bounds staleness).

Keys (all under ``prefix``): ``{prefix}{<len(owner)>:<owner>:<conversation id>}:v`` (token),
``…:w`` (pending writes) and ``…:e:<token>:<schema version>:<entry>`` (cached values). The owner
length makes the scope unambiguous (owner ``a:b`` + conversation ``c`` never meets owner ``a`` +
conversation ``b:c``), and the braces are a Redis Cluster hash tag keeping one conversation's
keys in one slot. The record schema version (``models.records.SCHEMA_VERSION``) in entry keys
keeps processes of different releases from reading each other's shapes. Values are JSON
(orjson) of ``model_dump(mode="json")``, rebuilt with ``model_validate`` (aware UTC datetimes).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import orjson
import redis.asyncio as aioredis
from pydantic import BaseModel
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from convoledger.models.events import EventRecord
from convoledger.models.records import (
    SCHEMA_VERSION,
    ConversationRecord,
    MemoryEntry,
    MessageRecord,
    ProviderCallRecord,
)
from convoledger.models.status import ConversationStatus, LifecycleEvent
from convoledger.store.base import (
    Account,
    ApiKey,
    ConversationPage,
    ConversationQuery,
    MessageQuery,
    OwnerStats,
    Store,
)
from convoledger.store.outbox import EventQuery

log = logging.getLogger(__name__)

T = TypeVar("T")

#: What a failing Redis raises (redis-py wraps most socket errors; OSError covers the rest,
#: TimeoutError included).
REDIS_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)

# KEYS[1] token key, KEYS[2] pending-writes key. ARGV[1] a fresh token (used when the token key
# is missing), ARGV[2] TTL in ms, ARGV[3] entry-key base, ARGV[4] entry name ('' = do not fetch).
# Returns {token, pending, entry value or false}. The entry key is derived here from the token;
# it carries the same hash tag as KEYS, so it lives in their slot.
_LOOKUP = """
local v = redis.call('GET', KEYS[1])
if not v then
  v = ARGV[1]
  redis.call('SET', KEYS[1], v, 'PX', ARGV[2])
end
local w = redis.call('GET', KEYS[2])
if not w then w = '0' end
local e = false
if w == '0' and ARGV[4] ~= '' then
  e = redis.call('GET', ARGV[3] .. v .. ':' .. ARGV[4])
end
return {v, w, e}
"""

# KEYS[1] pending-writes key; ARGV[1] the write lease in ms. Counts one more write in flight.
_BEGIN = """
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""

# KEYS[1] token key, KEYS[2] pending-writes key. ARGV[1] the new token, ARGV[2] TTL in ms,
# ARGV[3] '1' when this writer counted itself in the pending counter.
_BUMP = """
if ARGV[3] == '1' then
  local n = redis.call('DECR', KEYS[2])
  if n <= 0 then redis.call('DEL', KEYS[2]) end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


@dataclass
class CacheCounters:
    """What the cache did with cacheable reads since it was built: ``hits`` (answered from
    Redis), ``misses`` (read the inner store, then filled Redis), ``bypasses`` (read the inner
    store without using Redis: breaker open, owed bumps, or a write in flight); plus ``errors``
    (Redis errors seen) and ``owed_bumps_delivered``. Uncacheable reads are not counted."""

    hits: int = 0
    misses: int = 0
    bypasses: int = 0
    errors: int = 0
    owed_bumps_delivered: int = 0


@dataclass(frozen=True)
class _Keys:
    """The Redis keys of one (owner, conversation)."""

    version: str
    pending: str
    entry_base: str

    @classmethod
    def of(cls, prefix: str, owner_id: str, conversation_id: str) -> _Keys:
        base = f"{prefix}{{{len(owner_id)}:{owner_id}:{conversation_id}}}"
        return cls(version=f"{base}:v", pending=f"{base}:w", entry_base=f"{base}:e:")

    def entry(self, token: str, name: str) -> str:
        return f"{self.entry_base}{token}:{name}"


def _new_token() -> str:
    return uuid.uuid4().hex


def _dump_one(record: BaseModel) -> bytes:
    return orjson.dumps(record.model_dump(mode="json"))


def _dump_many(records: Sequence[BaseModel]) -> bytes:
    return orjson.dumps([r.model_dump(mode="json") for r in records])


def _parse_conversation(raw: bytes) -> ConversationRecord:
    return ConversationRecord.model_validate(orjson.loads(raw))


def _parse_message(raw: bytes) -> MessageRecord:
    return MessageRecord.model_validate(orjson.loads(raw))


def _parse_messages(raw: bytes) -> list[MessageRecord]:
    items = orjson.loads(raw)
    if not isinstance(items, list):
        raise ValueError("cached message window is not a list")
    return [MessageRecord.model_validate(item) for item in items]


def _recent_window(query: MessageQuery) -> int | None:
    """N when ``query`` is the plain recent-N window (only ``last`` set, N >= 1), else ``None``."""
    if query.last is None or query.last < 1:
        return None
    return query.last if query == MessageQuery(last=query.last) else None


class RedisCachedStore(Store):
    """``inner`` with a Redis read cache (see the module docstring for what, how and why).

    ``redis_url``: ``redis://``, ``rediss://`` or ``unix://`` URL (redis-py ``from_url``;
    ``ValueError`` for another scheme). ``ttl_seconds`` (> 0): lifetime of cached entries and
    tokens, the bound on staleness when a writer bypasses the cache. ``prefix``: prepended to
    every key. ``write_lease_seconds`` (> 0): lifetime of a pending-write mark.
    ``retry_after_seconds`` (>= 0): how long Redis is left alone after an error.
    ``socket_timeout`` (seconds, > 0): connect and command timeout; a cache must fail fast.
    Redis errors never escape: see "Redis failures" above. ``counters`` counts hits and misses.
    """

    def __init__(
        self,
        inner: Store,
        redis_url: str,
        *,
        ttl_seconds: float = 300,
        prefix: str = "convoledger:",
        write_lease_seconds: float = 60,
        retry_after_seconds: float = 5,
        socket_timeout: float = 1.0,
    ) -> None:
        if not isinstance(inner, Store):
            raise ValueError(f"inner must be a Store, got {type(inner).__name__}")
        for name, value in (
            ("ttl_seconds", ttl_seconds),
            ("write_lease_seconds", write_lease_seconds),
            ("socket_timeout", socket_timeout),
        ):
            if not value > 0:
                raise ValueError(f"{name} must be > 0 seconds, got {value!r}")
        if not retry_after_seconds >= 0:
            raise ValueError(f"retry_after_seconds must be >= 0, got {retry_after_seconds!r}")
        self.inner = inner
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self._ttl_ms = max(1, int(ttl_seconds * 1000))
        self._lease_ms = max(1, int(write_lease_seconds * 1000))
        self._retry_after = retry_after_seconds
        # One immediate retry: a pooled connection that Redis closed (restart, idle timeout)
        # fails once and reconnects; anything longer belongs to the circuit breaker.
        self._redis = aioredis.Redis.from_url(
            redis_url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            retry=Retry(NoBackoff(), 1),
        )
        self._begin = self._redis.register_script(_BEGIN)
        self._lookup = self._redis.register_script(_LOOKUP)
        self._bump = self._redis.register_script(_BUMP)
        self._down_until: float | None = None
        self._failing = False
        self._owed: set[tuple[str, str]] = set()
        self.counters = CacheCounters()

    # -- health of the Redis side -------------------------------------------------------------
    @property
    def cache_enabled(self) -> bool:
        """False while the breaker is open or invalidations are owed (reads skip Redis then)."""
        return not self._breaker_open() and not self._owed

    def _breaker_open(self) -> bool:
        return self._down_until is not None and time.monotonic() < self._down_until

    def _trip(self, exc: BaseException) -> None:
        self.counters.errors += 1
        self._down_until = time.monotonic() + self._retry_after
        if not self._failing:
            self._failing = True
            log.warning(
                "Redis cache unavailable (%s: %s); using the store directly, retrying in %.0f s",
                type(exc).__name__,
                exc,
                self._retry_after,
            )

    def _succeeded(self) -> None:
        if self._failing:
            self._failing = False
            self._down_until = None
            log.info("Redis cache reachable again")

    async def _ready(self) -> bool:
        """True when Redis may be used now: breaker closed and every owed bump delivered."""
        if self._breaker_open():
            return False
        for owner_id, conversation_id in list(self._owed):
            keys = _Keys.of(self.prefix, owner_id, conversation_id)
            try:
                await self._bump(keys=[keys.version, keys.pending], args=[_new_token(), self._ttl_ms, "0"])
            except REDIS_ERRORS as exc:
                self._trip(exc)
                return False
            self._owed.discard((owner_id, conversation_id))
            self.counters.owed_bumps_delivered += 1
            self._succeeded()
        return True

    # -- the two paths ------------------------------------------------------------------------
    async def _cached(
        self,
        owner_id: str,
        conversation_id: str,
        name: str,
        load: Callable[[], Awaitable[T]],
        dump: Callable[[T], bytes],
        parse: Callable[[bytes], T],
    ) -> T:
        """The value cached as ``name`` for this conversation, else ``load()`` (cached when the
        token allows). Errors of ``load`` propagate unchanged; Redis errors never do."""
        if not await self._ready():
            self.counters.bypasses += 1
            return await load()
        keys = _Keys.of(self.prefix, owner_id, conversation_id)
        entry_name = f"{SCHEMA_VERSION}:{name}"
        failed: BaseException | None = None
        try:
            token, pending, raw = await self._lookup(
                keys=[keys.version, keys.pending],
                args=[_new_token(), self._ttl_ms, keys.entry_base, entry_name],
            )
        except REDIS_ERRORS as exc:
            failed = exc
        if failed is not None:
            self._trip(failed)
            self.counters.bypasses += 1
            return await load()
        self._succeeded()
        if int(pending) != 0:  # a write to this conversation is in flight: ask the store
            self.counters.bypasses += 1
            return await load()
        if raw is not None:
            try:
                value = parse(raw)
            except ValueError as exc:  # orjson and pydantic errors are ValueErrors
                log.warning("ignoring an unreadable cache entry for %s (%s)", name, exc)
            else:
                self.counters.hits += 1
                return value
        # The token was read before this inner read: see "the race argument" above.
        self.counters.misses += 1
        value = await load()
        try:
            data = dump(value)
        except (TypeError, ValueError) as exc:  # orjson.JSONEncodeError is a TypeError
            log.warning("not caching %s: not JSON-serialisable (%s)", name, exc)
            return value
        try:
            await self._redis.set(keys.entry(token.decode(), entry_name), data, px=self._ttl_ms)
        except REDIS_ERRORS as exc:
            self._trip(exc)
        return value

    async def _write(self, owner_id: str, conversation_id: str, op: Callable[[], Awaitable[T]]) -> T:
        """Run the inner write ``op`` between "pending" and "bump" (module docstring)."""
        keys = _Keys.of(self.prefix, owner_id, conversation_id)
        counted = False
        if await self._ready():
            try:
                await self._begin(keys=[keys.pending], args=[self._lease_ms])
                counted = True
            except REDIS_ERRORS as exc:
                self._trip(exc)
        try:
            return await op()
        finally:
            await self._invalidate(owner_id, conversation_id, keys, counted)

    async def _invalidate(self, owner_id: str, conversation_id: str, keys: _Keys, counted: bool) -> None:
        """Step 3: new token (and end of this write's pending mark), or owe it."""
        if self._breaker_open():
            self._owed.add((owner_id, conversation_id))
            return
        try:
            await self._bump(
                keys=[keys.version, keys.pending],
                args=[_new_token(), self._ttl_ms, "1" if counted else "0"],
            )
        except REDIS_ERRORS as exc:
            self._owed.add((owner_id, conversation_id))
            self._trip(exc)
        except BaseException:  # cancelled while bumping: the write may have committed
            self._owed.add((owner_id, conversation_id))
            raise
        else:
            self._succeeded()

    # -- lifetime -----------------------------------------------------------------------------
    async def open(self) -> None:
        """Open the inner store and check Redis; an unreachable Redis is logged (breaker opens),
        not raised: the ledger works without its cache."""
        await self.inner.open()
        try:
            await self._redis.ping()
        except REDIS_ERRORS as exc:
            self._trip(exc)

    async def close(self) -> None:
        """Deliver owed bumps if Redis answers, then close the inner store and the Redis pool."""
        try:
            if self._owed and not await self._ready():
                log.warning(
                    "closing with %d undelivered cache invalidations; their entries expire within %s s",
                    len(self._owed),
                    self.ttl_seconds,
                )
            await self.inner.close()
        finally:
            await self._redis.aclose()

    # -- accounts (not cached) ----------------------------------------------------------------
    async def ensure_account(self, name: str) -> Account:
        """See ``Store.ensure_account``."""
        return await self.inner.ensure_account(name)

    async def add_api_key(self, account: str, key_hash: str, label: str | None = None) -> None:
        """See ``Store.add_api_key``."""
        await self.inner.add_api_key(account, key_hash, label)

    async def account_for_key(self, key_hash: str) -> Account | None:
        """See ``Store.account_for_key``."""
        return await self.inner.account_for_key(key_hash)

    async def list_api_keys(self, account: str | None = None, *, key_hash_prefix: str = "") -> list[ApiKey]:
        """See ``Store.list_api_keys``."""
        return await self.inner.list_api_keys(account, key_hash_prefix=key_hash_prefix)

    async def delete_api_key(self, key_hash: str) -> ApiKey:
        """See ``Store.delete_api_key`` (keys are never cached: revocation is immediate)."""
        return await self.inner.delete_api_key(key_hash)

    # -- conversations ------------------------------------------------------------------------
    async def create_conversation(
        self, owner_id: str, conversation: ConversationRecord
    ) -> ConversationRecord:
        """See ``Store.create_conversation`` (invalidates: the id may have existed before)."""
        return await self._write(
            owner_id, conversation.id, lambda: self.inner.create_conversation(owner_id, conversation)
        )

    async def get_conversation(self, owner_id: str, conversation_id: str) -> ConversationRecord:
        """See ``Store.get_conversation`` (cached)."""
        return await self._cached(
            owner_id,
            conversation_id,
            "conv",
            lambda: self.inner.get_conversation(owner_id, conversation_id),
            _dump_one,
            _parse_conversation,
        )

    async def find_conversation(
        self, owner_id: str, *, session_id: str | None = None, session_key: str | None = None
    ) -> ConversationRecord | None:
        """See ``Store.find_conversation``."""
        return await self.inner.find_conversation(owner_id, session_id=session_id, session_key=session_key)

    async def list_conversations(self, owner_id: str, query: ConversationQuery) -> ConversationPage:
        """See ``Store.list_conversations``."""
        return await self.inner.list_conversations(owner_id, query)

    async def update_conversation(
        self, owner_id: str, conversation_id: str, changes: dict[str, Any]
    ) -> ConversationRecord:
        """See ``Store.update_conversation`` (invalidates)."""
        return await self._write(
            owner_id,
            conversation_id,
            lambda: self.inner.update_conversation(owner_id, conversation_id, changes),
        )

    async def delete_conversation(self, owner_id: str, conversation_id: str) -> None:
        """See ``Store.delete_conversation`` (invalidates)."""
        await self._write(
            owner_id, conversation_id, lambda: self.inner.delete_conversation(owner_id, conversation_id)
        )

    async def transition(
        self,
        owner_id: str,
        conversation_id: str,
        target: ConversationStatus,
        *,
        reason: str | None = None,
        actor: str | None = None,
    ) -> tuple[ConversationRecord, LifecycleEvent]:
        """See ``Store.transition`` (invalidates)."""
        return await self._write(
            owner_id,
            conversation_id,
            lambda: self.inner.transition(owner_id, conversation_id, target, reason=reason, actor=actor),
        )

    async def list_lifecycle_events(self, owner_id: str, conversation_id: str) -> list[LifecycleEvent]:
        """See ``Store.list_lifecycle_events``."""
        return await self.inner.list_lifecycle_events(owner_id, conversation_id)

    async def import_conversation(
        self,
        owner_id: str,
        conversation: ConversationRecord,
        messages: Sequence[MessageRecord],
        *,
        events: Sequence[LifecycleEvent] = (),
        memory: Sequence[MemoryEntry] = (),
        provider_calls: Sequence[ProviderCallRecord] = (),
    ) -> ConversationRecord:
        """See ``Store.import_conversation`` (invalidates)."""
        return await self._write(
            owner_id,
            conversation.id,
            lambda: self.inner.import_conversation(
                owner_id,
                conversation,
                messages,
                events=events,
                memory=memory,
                provider_calls=provider_calls,
            ),
        )

    # -- messages -----------------------------------------------------------------------------
    async def append_messages(
        self,
        owner_id: str,
        conversation_id: str,
        messages: Sequence[MessageRecord],
        token_counts: Sequence[int | None] | None = None,
    ) -> list[MessageRecord]:
        """See ``Store.append_messages`` (invalidates)."""
        return await self._write(
            owner_id,
            conversation_id,
            lambda: self.inner.append_messages(owner_id, conversation_id, messages, token_counts),
        )

    async def get_message(self, owner_id: str, conversation_id: str, message_id: str) -> MessageRecord:
        """See ``Store.get_message`` (cached)."""
        return await self._cached(
            owner_id,
            conversation_id,
            f"msg:{message_id}",
            lambda: self.inner.get_message(owner_id, conversation_id, message_id),
            _dump_one,
            _parse_message,
        )

    async def list_messages(
        self, owner_id: str, conversation_id: str, query: MessageQuery
    ) -> list[MessageRecord]:
        """See ``Store.list_messages`` (cached for the plain recent-N window only)."""
        n = _recent_window(query)
        if n is None:
            return await self.inner.list_messages(owner_id, conversation_id, query)
        return await self._cached(
            owner_id,
            conversation_id,
            f"last:{n}",
            lambda: self.inner.list_messages(owner_id, conversation_id, query),
            _dump_many,
            _parse_messages,
        )

    async def count_messages(self, owner_id: str, conversation_id: str, query: MessageQuery) -> int:
        """See ``Store.count_messages``."""
        return await self.inner.count_messages(owner_id, conversation_id, query)

    async def count_messages_in(
        self,
        owner_id: str,
        conversation_id: str,
        query: MessageQuery,
        *,
        after_seq: int | None = None,
        before_seq: int | None = None,
    ) -> int:
        """See ``Store.count_messages_in`` (not cached)."""
        return await self.inner.count_messages_in(
            owner_id, conversation_id, query, after_seq=after_seq, before_seq=before_seq
        )

    async def list_branches(self, owner_id: str, conversation_id: str) -> list[ConversationRecord]:
        """See ``Store.list_branches`` (not cached). A fork writes only the new branch, so no
        cached entry of the parent goes stale; removals that a branch would notice are refused
        (``store/lineage.py``)."""
        return await self.inner.list_branches(owner_id, conversation_id)

    async def edit_message(
        self,
        owner_id: str,
        conversation_id: str,
        message_id: str,
        changes: dict[str, Any],
    ) -> MessageRecord:
        """See ``Store.edit_message`` (invalidates)."""
        return await self._write(
            owner_id,
            conversation_id,
            lambda: self.inner.edit_message(owner_id, conversation_id, message_id, changes),
        )

    async def redact_message(
        self, owner_id: str, conversation_id: str, message_id: str, marker: str = "[redacted]"
    ) -> MessageRecord:
        """See ``Store.redact_message`` (invalidates)."""
        return await self._write(
            owner_id,
            conversation_id,
            lambda: self.inner.redact_message(owner_id, conversation_id, message_id, marker),
        )

    async def delete_message(self, owner_id: str, conversation_id: str, message_id: str) -> None:
        """See ``Store.delete_message`` (invalidates)."""
        await self._write(
            owner_id,
            conversation_id,
            lambda: self.inner.delete_message(owner_id, conversation_id, message_id),
        )

    async def pop_message(self, owner_id: str, conversation_id: str) -> MessageRecord | None:
        """See ``Store.pop_message`` (invalidates)."""
        return await self._write(
            owner_id, conversation_id, lambda: self.inner.pop_message(owner_id, conversation_id)
        )

    async def clear_messages(self, owner_id: str, conversation_id: str) -> int:
        """See ``Store.clear_messages`` (invalidates)."""
        return await self._write(
            owner_id, conversation_id, lambda: self.inner.clear_messages(owner_id, conversation_id)
        )

    # -- session memory (not cached, not part of a cached record) -----------------------------
    async def get_memory(self, owner_id: str, conversation_id: str) -> list[MemoryEntry]:
        """See ``Store.get_memory``."""
        return await self.inner.get_memory(owner_id, conversation_id)

    async def set_memory(self, owner_id: str, conversation_id: str, key: str, value: Any) -> MemoryEntry:
        """See ``Store.set_memory``."""
        return await self.inner.set_memory(owner_id, conversation_id, key, value)

    async def delete_memory(self, owner_id: str, conversation_id: str, key: str) -> None:
        """See ``Store.delete_memory``."""
        await self.inner.delete_memory(owner_id, conversation_id, key)

    # -- provider calls -----------------------------------------------------------------------
    async def record_provider_call(
        self,
        owner_id: str,
        conversation_id: str,
        call: ProviderCallRecord,
        server_state: dict[str, Any] | None = None,
    ) -> ProviderCallRecord:
        """See ``Store.record_provider_call`` (invalidates: it may set ``server_state``)."""
        return await self._write(
            owner_id,
            conversation_id,
            lambda: self.inner.record_provider_call(owner_id, conversation_id, call, server_state),
        )

    async def list_provider_calls(self, owner_id: str, conversation_id: str) -> list[ProviderCallRecord]:
        """See ``Store.list_provider_calls``."""
        return await self.inner.list_provider_calls(owner_id, conversation_id)

    # -- analytics ----------------------------------------------------------------------------
    async def stats(self, owner_id: str) -> OwnerStats:
        """See ``Store.stats``."""
        return await self.inner.stats(owner_id)

    async def conversations_idle_since(
        self,
        cutoff: datetime,
        limit: int = 1000,
        statuses: Collection[ConversationStatus] = (ConversationStatus.ACTIVE,),
        *,
        created_before: datetime | None = None,
        after: tuple[datetime, str] | None = None,
    ) -> list[ConversationRecord]:
        """See ``Store.conversations_idle_since``."""
        return await self.inner.conversations_idle_since(
            cutoff, limit, statuses, created_before=created_before, after=after
        )

    # -- events (the outbox lives in the inner store; never cached) -------------------------------
    async def append_event(
        self, owner_id: str, kind: str, payload: dict[str, Any], *, conversation_id: str | None = None
    ) -> EventRecord:
        """See ``Store.append_event``."""
        return await self.inner.append_event(owner_id, kind, payload, conversation_id=conversation_id)

    async def list_events(self, owner_id: str, query: EventQuery) -> list[EventRecord]:
        """See ``Store.list_events``."""
        return await self.inner.list_events(owner_id, query)

    async def last_event_id(self, owner_id: str) -> int:
        """See ``Store.last_event_id``."""
        return await self.inner.last_event_id(owner_id)

    def on_events(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """See ``Store.on_events``: the inner store's commits."""
        return self.inner.on_events(listener)
