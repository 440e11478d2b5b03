"""PostgreSQL connections for the SQL store: an asyncpg pool and a greenlet-bridged ``Cx``.

An operation (``ops.py``, synchronous code) runs inside ``sqlalchemy.util.greenlet_spawn``; each
statement it issues is awaited on the event loop through ``await_only`` — the bridge SQLAlchemy's
own asyncio extension is built on. Statements go to the asyncpg connection directly (asyncpg
prepares and caches each statement per connection), so a statement costs one round trip and no
ORM or result-processing layer.

Connections come from ``ConnectionPool`` (below), which sends nothing on release: a connection
that comes back inside a transaction (an operation interrupted mid-way) is dropped instead.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, cast

import asyncpg
from sqlalchemy.util import await_only, greenlet_spawn

from convoledger.errors import LedgerError
from convoledger.store.sql.codec import Codec
from convoledger.store.sql.cx import Cx, IntegrityViolation, Params, ReadPlan, StatementPlan
from convoledger.store.sql.statements import Q, Statements

T = TypeVar("T")

#: Errors an operation raises on purpose, after which its connection is fine to reuse (its
#: transaction rolled back); anything else (cancellation, connection errors) drops it.
_EXPECTED = (LedgerError, ValueError, IntegrityViolation, asyncpg.PostgresError)


def _rowcount(status: str) -> int:
    """Rows changed, from a command tag such as ``UPDATE 3`` or ``INSERT 0 1``."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class PgCx(Cx):
    """``Cx`` over one asyncpg connection, used from inside ``greenlet_spawn``."""

    def __init__(self, conn: asyncpg.Connection, st: Statements, codec: Codec) -> None:
        self.conn = conn
        self.st = st
        self.codec = codec

    def all(self, q: Q, params: Params = ()) -> list[Sequence[Any]]:
        try:
            return cast(list[Sequence[Any]], await_only(self.conn.fetch(q.sql, *q.args(params))))
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityViolation(str(exc), getattr(exc, "constraint_name", None)) from exc

    def execute(self, q: Q, params: Params = ()) -> int:
        try:
            return _rowcount(await_only(self.conn.execute(q.sql, *q.args(params))))
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityViolation(str(exc), getattr(exc, "constraint_name", None)) from exc

    def executemany(self, q: Q, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        try:
            await_only(self.conn.executemany(q.sql, rows))
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityViolation(str(exc), getattr(exc, "constraint_name", None)) from exc

    @contextlib.contextmanager
    def _transaction(self, **options: Any) -> Iterator[None]:
        tr = self.conn.transaction(**options)
        await_only(tr.start())
        try:
            yield
        except BaseException:
            if not self.conn.is_closed():
                await_only(tr.rollback())
            raise
        await_only(tr.commit())

    def write(self) -> contextlib.AbstractContextManager[None]:
        return self._transaction()

    def read(self) -> contextlib.AbstractContextManager[None]:
        return self._transaction(isolation="repeatable_read", readonly=True)

    def savepoint(self) -> contextlib.AbstractContextManager[None]:
        return self._transaction()  # nested inside a transaction, asyncpg uses a SAVEPOINT


class ConnectionPool:
    """A small LIFO pool of asyncpg connections (at most ``max_size``, opened on demand).

    Why not ``asyncpg.Pool``: its acquire/release bookkeeping (proxy objects, reset hooks,
    inactivity timers) measured ~30 µs per operation here, a third of a recent-20 read. This pool
    keeps only what the store needs: reuse, a bound, fair waiting, and never handing out a
    connection that is closed or still inside a transaction (an operation interrupted mid-way,
    e.g. by cancellation; such a connection is dropped, PostgreSQL rolls its transaction back).
    """

    def __init__(self, dsn: str, max_size: int) -> None:
        if max_size < 1:
            raise ValueError(f"pool size must be at least 1, got {max_size}")
        self.dsn = dsn
        self.max_size = max_size
        self._idle: list[asyncpg.Connection] = []
        self._size = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closed = False

    async def acquire(self) -> asyncpg.Connection:
        """A connection for exclusive use until ``release``; waits while all are busy.
        ``RuntimeError`` after ``close``; connection errors propagate."""
        while True:
            if self._closed:
                raise RuntimeError("the PostgreSQL connection pool is closed")
            if self._idle:
                return self._idle.pop()
            if self._size < self.max_size:
                self._size += 1
                try:
                    return await asyncpg.connect(self.dsn)
                except BaseException:
                    self._size -= 1
                    self._wake()
                    raise
            fut = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                await fut
            except asyncio.CancelledError:
                if fut.done() and not fut.cancelled():
                    self._wake()  # we were woken but leave: pass the turn on
                else:
                    self._waiters.remove(fut)
                raise

    def release(self, conn: asyncpg.Connection) -> None:
        """Give ``conn`` back (dropped if closed, inside a transaction, or the pool is closed)."""
        if self._closed or conn.is_closed() or conn.is_in_transaction():
            self._size -= 1
            if not conn.is_closed():
                conn.terminate()
        else:
            self._idle.append(conn)
        self._wake()

    def discard(self, conn: asyncpg.Connection) -> None:
        """Drop ``conn`` instead of reusing it (its operation was interrupted: a query may still
        be being cancelled on it)."""
        self._size -= 1
        if not conn.is_closed():
            conn.terminate()
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return

    async def close(self) -> None:
        """Close the idle connections now and busy ones when they come back. Idempotent."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            self._size -= 1
            await conn.close()
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)


class PgDriver:
    """Runs store operations on pooled asyncpg connections.

    ``dsn`` is a libpq URL (``postgresql://user@host:port/db``); ``max_size`` bounds the pool
    (connections).
    """

    def __init__(self, dsn: str, st: Statements, codec: Codec, *, max_size: int = 10) -> None:
        self.dsn = dsn
        self.st = st
        self.codec = codec
        self.max_size = max_size
        self._pool: ConnectionPool | None = None

    async def start(self) -> None:
        """Create the pool and open its first connection (asyncpg errors propagate)."""
        pool = ConnectionPool(self.dsn, self.max_size)
        pool.release(await pool.acquire())
        self._pool = pool

    async def run(self, fn: Callable[..., T], *args: Any, write: bool) -> T:
        """``fn(cx, *args)`` on a pooled connection; its result or error. (``write`` is for the
        interface: PostgreSQL needs no separate write lane.)"""
        pool = self._pool
        if pool is None:
            raise RuntimeError("the SQL store is not open (call await store.open() first)")
        conn = await pool.acquire()
        try:
            result = await greenlet_spawn(fn, PgCx(conn, self.st, self.codec), *args)
        except _EXPECTED:
            pool.release(conn)
            raise
        except BaseException:
            pool.discard(conn)
            raise
        pool.release(conn)
        return result

    async def read(self, plan: ReadPlan[T]) -> T:
        """Run a one-statement read: the statement is awaited directly (no greenlet); only an
        empty result with ``when_empty`` goes through the bridge."""
        pool = self._pool
        if pool is None:
            raise RuntimeError("the SQL store is not open (call await store.open() first)")
        conn = await pool.acquire()
        try:
            rows = cast(list[Sequence[Any]], await conn.fetch(plan.q.sql, *plan.q.args(plan.params)))
            if not rows and plan.when_empty is not None:
                result = await greenlet_spawn(plan.when_empty, PgCx(conn, self.st, self.codec))
            else:
                result = plan.finish(rows)
        except _EXPECTED:
            pool.release(conn)
            raise
        except BaseException:
            pool.discard(conn)
            raise
        pool.release(conn)
        return result

    async def write(self, plan: StatementPlan[T]) -> T:
        """Run a one-statement write (autocommitted): the statement is awaited directly; only
        an empty result or a constraint violation goes through the bridge, as an operation of
        its own on the same connection (no transaction is open then)."""
        pool = self._pool
        if pool is None:
            raise RuntimeError("the SQL store is not open (call await store.open() first)")
        conn = await pool.acquire()
        try:
            try:
                rows = cast(list[Sequence[Any]], await conn.fetch(plan.q.sql, *plan.q.args(plan.params)))
            except asyncpg.IntegrityConstraintViolationError as exc:
                violation = IntegrityViolation(str(exc), getattr(exc, "constraint_name", None))
                result = await greenlet_spawn(plan.on_violation, PgCx(conn, self.st, self.codec), violation)
            else:
                if rows:
                    result = plan.finish(rows)
                else:
                    result = await greenlet_spawn(plan.when_empty, PgCx(conn, self.st, self.codec))
        except _EXPECTED:
            pool.release(conn)
            raise
        except BaseException:
            pool.discard(conn)
            raise
        pool.release(conn)
        return result

    async def analyze_if_never_analyzed(self, table: str) -> bool:
        """``ANALYZE table`` when PostgreSQL has never analysed it (neither ``ANALYZE`` nor
        autovacuum: ``pg_stat_user_tables``); ``True`` when it ran. ``table`` is one of the
        store's own table names (it is spliced into the statement). Database errors propagate."""
        pool = self._pool
        if pool is None:
            raise RuntimeError("the SQL store is not open (call await store.open() first)")
        conn = await pool.acquire()
        try:
            never = await conn.fetchval(
                "SELECT last_analyze IS NULL AND last_autoanalyze IS NULL FROM pg_stat_user_tables "
                "WHERE relid = to_regclass($1)",
                table,
            )
            if never:
                await conn.execute(f'ANALYZE "{table}"')
        except BaseException:
            pool.discard(conn)
            raise
        pool.release(conn)
        return bool(never)

    async def prepare_search(self) -> None:
        """Nothing to do before a search: the GIN index is maintained by every INSERT."""

    async def close(self) -> None:
        """Close the pool's connections. Idempotent."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
