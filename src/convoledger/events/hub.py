"""``EventHub``: wakes this process's live streams when an account has new events.

The event table (``Store.list_events``) is the only source of events; the hub only says *when*
to read it again. Wake-ups come from, by configuration:

- PostgreSQL: ``LISTEN convoledger_events`` on a dedicated asyncpg connection. Every store
  statement or transaction that writes ``ledger_events`` also runs ``pg_notify`` (delivered at
  commit; ``store/sql/outbox_sql.py``), so several ``serve`` processes on one database wake each
  other;
- Redis pub/sub (when a Redis URL is configured and the store is not PostgreSQL): this process
  publishes on ``<prefix>events`` after each of its own commits and subscribes to the same
  channel, so processes sharing a SQLite or JSON-files ledger and a Redis wake each other;
- always: this process's own commits (``Store.on_events``).

A notification names the account by the hex SHA-256 of its id (``owner_key``), never the id.
If the LISTEN connection or the Redis subscription is lost, the hub reconnects with backoff;
meanwhile streams still re-read the table every ``poll`` seconds, so nothing is missed, only
later. Nothing here queues events: a wake-up is one flag per stream (bounded memory).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from convoledger.store.base import Store
from convoledger.store.outbox import PG_CHANNEL, owner_key

log = logging.getLogger(__name__)

#: Seconds between reconnection attempts of a lost LISTEN connection or Redis subscription.
RECONNECT_SECONDS = 2.0


def _set_on_termination(flag: asyncio.Event, _conn: Any) -> None:
    flag.set()


class Subscription:
    """One stream's wake-up flag for one account (from ``EventHub.subscribe``)."""

    def __init__(self, hub: EventHub, key: str) -> None:
        self._hub = hub
        self.key = key
        self._flag = asyncio.Event()

    def wake(self) -> None:
        """Set the flag (the account has new events)."""
        self._flag.set()

    def clear(self) -> None:
        """Forget earlier wake-ups: call before reading the table, so a commit that lands while
        reading sets the flag again."""
        self._flag.clear()

    async def wait(self, timeout: float) -> bool:
        """Wait for a wake-up at most ``timeout`` seconds; True when woken."""
        try:
            async with asyncio.timeout(timeout):
                await self._flag.wait()
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        """Stop receiving wake-ups."""
        self._hub._unsubscribe(self)


class EventHub:
    """Wake-ups for the streams of this process (see the module docstring).

    ``store``: the ledger's store (its own commits wake streams at once). ``postgres_dsn``: an
    asyncpg DSN (``postgresql://…``) to LISTEN on, or ``None``. ``redis_url``: used only when
    ``postgres_dsn`` is ``None``. ``redis_prefix``: prefix of the Redis channel name.
    ``start()`` must run on the event loop that serves the streams; ``stop()`` releases all.
    """

    def __init__(
        self,
        store: Store,
        *,
        postgres_dsn: str | None = None,
        redis_url: str | None = None,
        redis_prefix: str = "convoledger:",
    ) -> None:
        self.store = store
        self.postgres_dsn = postgres_dsn
        self.redis_url = None if postgres_dsn else redis_url
        self.redis_channel = f"{redis_prefix}events"
        self._subs: dict[str, set[Subscription]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._remove_listener: Callable[[], None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._redis: aioredis.Redis | None = None
        #: Set while the cross-process channel (LISTEN or Redis) is connected (tests, health).
        self.connected = asyncio.Event()

    @property
    def mode(self) -> str:
        """``postgres`` (LISTEN/NOTIFY), ``redis`` (pub/sub) or ``local`` (this process only)."""
        return "postgres" if self.postgres_dsn else "redis" if self.redis_url else "local"

    async def start(self) -> None:
        """Listen to the store's commits and, by mode, to PostgreSQL or Redis. Returns once the
        first connection attempt has finished (a failed one is retried in the background)."""
        self._loop = asyncio.get_running_loop()
        self._remove_listener = self.store.on_events(self._local_commit)
        if self.mode == "postgres":
            first: asyncio.Future[None] = self._loop.create_future()
            self._tasks.append(asyncio.create_task(self._listen_postgres(first)))
            await first
        elif self.mode == "redis":
            self._redis = aioredis.Redis.from_url(self.redis_url or "", socket_connect_timeout=2)
            first = self._loop.create_future()
            self._tasks.append(asyncio.create_task(self._listen_redis(first)))
            await first

    async def stop(self) -> None:
        """Stop listening and wake every stream one last time."""
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
        for subs in list(self._subs.values()):
            for sub in list(subs):
                sub.wake()

    # -- streams ------------------------------------------------------------------------------
    def subscribe(self, owner_id: str) -> Subscription:
        """A wake-up flag for ``owner_id``'s new events (close it when the stream ends)."""
        sub = Subscription(self, owner_key(owner_id))
        self._subs.setdefault(sub.key, set()).add(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.key)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.key]

    def wake(self, key: str) -> None:
        """Wake the streams of the account named by ``key`` (``owner_key``); on the loop."""
        for sub in list(self._subs.get(key, ())):
            sub.wake()

    def _local_commit(self, owner_id: str) -> None:
        """``Store.on_events`` listener: may run on a store worker thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        key = owner_key(owner_id)
        try:
            loop.call_soon_threadsafe(self._after_local_commit, key)
        except RuntimeError:  # the loop closed meanwhile: nobody is streaming any more
            return

    def _after_local_commit(self, key: str) -> None:
        self.wake(key)
        if self._redis is not None:
            task = asyncio.create_task(self._publish(key))
            self._tasks.append(task)
            task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        if task in self._tasks:
            self._tasks.remove(task)

    async def _publish(self, key: str) -> None:
        redis = self._redis
        if redis is None:
            return
        try:
            await redis.publish(self.redis_channel, key)
        except (RedisError, OSError) as exc:  # other processes fall back to their poll interval
            log.warning("could not publish an event wake-up to Redis: %s", exc)

    # -- PostgreSQL LISTEN --------------------------------------------------------------------
    def _on_notify(self, conn: Any, pid: int, channel: str, payload: object) -> None:
        self.wake(str(payload))

    async def _listen_postgres(self, first: asyncio.Future[None]) -> None:
        dsn = self.postgres_dsn or ""
        while True:
            lost = asyncio.Event()
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(dsn, timeout=10)
                conn.add_termination_listener(functools.partial(_set_on_termination, lost))
                await conn.add_listener(PG_CHANNEL, self._on_notify)
                self.connected.set()
                # Streams may have missed commits while we were away: let them re-read.
                for key in list(self._subs):
                    self.wake(key)
                if not first.done():
                    first.set_result(None)
                await lost.wait()
                log.warning("PostgreSQL LISTEN connection lost; reconnecting")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("PostgreSQL LISTEN unavailable (%s); streams poll until it is back", exc)
                if not first.done():
                    first.set_result(None)
            finally:
                self.connected.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                        await conn.close(timeout=2)
            await asyncio.sleep(RECONNECT_SECONDS)

    # -- Redis pub/sub ------------------------------------------------------------------------
    async def _listen_redis(self, first: asyncio.Future[None]) -> None:
        while True:
            redis = self._redis
            if redis is None:
                return
            pubsub = redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.redis_channel)
                self.connected.set()
                for key in list(self._subs):
                    self.wake(key)
                if not first.done():
                    first.set_result(None)
                async for message in pubsub.listen():
                    data = message.get("data")
                    if isinstance(data, bytes):
                        self.wake(data.decode("ascii", "replace"))
            except (RedisError, OSError) as exc:
                log.warning("Redis event subscription unavailable (%s); streams poll until it is back", exc)
                if not first.done():
                    first.set_result(None)
            finally:
                self.connected.clear()
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
            await asyncio.sleep(RECONNECT_SECONDS)


def hub_for(store: Store, redis_url: str | None = None) -> EventHub:
    """The hub a ``serve`` process needs for ``store``: LISTEN/NOTIFY when it is (or wraps) a
    PostgreSQL ``SqlStore``, else Redis pub/sub when ``redis_url`` is given, else local only."""
    from convoledger.store.sql import SqlStore
    from convoledger.store.sql.migrate import asyncpg_dsn

    inner = store
    while not isinstance(inner, SqlStore) and isinstance(getattr(inner, "inner", None), Store):
        inner = inner.inner  # type: ignore[attr-defined]
    if isinstance(inner, SqlStore) and inner.dialect_name == "postgresql":
        return EventHub(store, postgres_dsn=asyncpg_dsn(inner.url))
    return EventHub(store, redis_url=redis_url)
