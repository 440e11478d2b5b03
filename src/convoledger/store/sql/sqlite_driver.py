"""SQLite connections for the SQL store: one connection per worker thread ("lane").

Model (that of aiosqlite, without a thread hop per statement): a lane is a worker thread that
owns one ``sqlite3`` connection; the store submits a whole operation (all statements of a
transaction plus the row conversions) to the lane and awaits it once. The writer lane runs every
write of this process, so writes of one process never wait on each other's locks; the reader lane
runs reads, which in WAL mode never wait for writers. An in-memory database (``:memory:``) uses
one lane for both, since each connection would otherwise see its own database.

Connection settings (every connection; DESIGN.md invariants 2 and 5): ``journal_mode=WAL``
(readers and one writer run concurrently; a committed transaction survives a process crash),
``synchronous=NORMAL`` (in WAL mode durable against process crashes, fsync at checkpoints),
``busy_timeout`` (wait for another process's write lock instead of failing), ``foreign_keys=ON``
(the ``ON DELETE CASCADE`` of the schema). The ``sqlite3`` module runs in autocommit mode
(``isolation_level=None``) and the store issues ``BEGIN IMMEDIATE`` itself: a writer takes the
database write lock at its first statement, so seq assignment is serialised across processes
and no transaction can fail late on a lock upgrade.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from convoledger.store.sql.codec import Codec
from convoledger.store.sql.cx import Cx, IntegrityViolation, Params, ReadPlan, run_plan
from convoledger.store.sql.search import (
    INDEX_BATCH_ROWS,
    SQLITE_INDEX_PENDING,
    SQLITE_PENDING,
    SQLITE_RAISE_WATERMARK,
)
from convoledger.store.sql.statements import Q, Statements

T = TypeVar("T")

#: Default time (seconds) a connection waits for another process's write lock.
DEFAULT_BUSY_TIMEOUT = 30.0


def _lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def connect(path: str, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> sqlite3.Connection:
    """Open ``path`` with the store's settings (see the module docstring).

    The connection may only be used by the thread that opened it. It has the SQL function
    ``convoledger_lower(text)`` (Python's ``str.lower``), so that case-insensitive filters agree
    with the other backends beyond ASCII (SQLite's ``lower()`` folds ASCII only).
    Raises ``sqlite3.Error`` when the file cannot be opened.
    """
    conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, cached_statements=512)
    try:
        _enable_wal(conn, busy_timeout)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.create_function("convoledger_lower", 1, _lower, deterministic=True)
    except BaseException:
        conn.close()
        raise
    return conn


def _enable_wal(conn: sqlite3.Connection, busy_timeout: float) -> None:
    """Switch to WAL. Changing the journal mode of a new file needs an exclusive lock, for which
    SQLite does not always call the busy handler; two processes creating the same file at once
    can see "database is locked" here, so retry until ``busy_timeout``."""
    deadline = time.monotonic() + busy_timeout
    delay = 0.001
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL").fetchall()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)


#: Bound parameters per statement we stay under (SQLite's default limit is 32766 since 3.32).
_MAX_VARIABLES = 30000


@functools.lru_cache(maxsize=256)
def _multi_row_sql(single: str, width: int, count: int) -> str:
    """``single`` (``INSERT … VALUES (?, …, ?) [RETURNING …]`` of ``width`` placeholders, as
    compiled by SQLAlchemy) extended to ``count`` rows."""
    row = "(" + ", ".join("?" * width) + ")"
    head, sep, returning = single.partition(" RETURNING ")
    if not head.endswith(row):
        raise ValueError(f"not a single-row INSERT of {width} values: {single[:80]}…")
    return head + (", " + row) * (count - 1) + sep + returning


def _row_chunks(rows: int, max_rows: int) -> list[int]:
    """Split ``rows`` into chunk sizes that are powers of two (at most ``max_rows``, largest
    first), e.g. 100 → [64, 32, 4].

    Each distinct row count is a distinct prepared statement, and a multi-row INSERT's compiled
    program is large; sqlite3 keeps up to 128 of them per connection. Powers of two bound the
    variants to about log2(max_rows) per INSERT, so memory stays small and constant however
    the batch sizes of an import vary (measured: peak RSS of a full chitchat import fell from
    365 MB, one statement per batch size, to the figure in the import note).
    """
    chunks: list[int] = []
    cap = 1 << (max(1, max_rows).bit_length() - 1)
    while rows > 0:
        size = min(cap, 1 << (rows.bit_length() - 1))
        chunks.append(size)
        rows -= size
    return chunks


class SqliteCx(Cx):
    """``Cx`` over one ``sqlite3`` connection (used only on its lane's thread)."""

    multi_row_returning = True

    def __init__(self, conn: sqlite3.Connection, st: Statements, codec: Codec) -> None:
        self.conn = conn
        self.st = st
        self.codec = codec

    def all(self, q: Q, params: Params = ()) -> list[Sequence[Any]]:
        try:
            return self.conn.execute(q.sql, q.args(params)).fetchall()
        except sqlite3.IntegrityError as exc:
            raise IntegrityViolation(str(exc)) from exc

    def execute(self, q: Q, params: Params = ()) -> int:
        try:
            return self.conn.execute(q.sql, q.args(params)).rowcount
        except sqlite3.IntegrityError as exc:
            raise IntegrityViolation(str(exc)) from exc

    def executemany(self, q: Q, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self.conn.executemany(q.sql, rows)
        except sqlite3.IntegrityError as exc:
            raise IntegrityViolation(str(exc)) from exc

    def insert_rows(self, q: Q, rows: Sequence[Sequence[Any]]) -> None:
        """One multi-row ``INSERT … VALUES (…), (…)`` per chunk instead of one statement per row:
        FTS5 flushes its pending index data at every statement boundary, so per-row statements
        cost ~3x more with the search trigger (measured: 7 vs 20 µs per message)."""
        if len(rows) == 1:
            self.execute(q, rows[0])
        else:
            self.insert_flat(q, [v for row in rows for v in row])

    def insert_flat(self, q: Q, flat: list[Any]) -> None:
        self.insert_flat_returning(q, flat)

    def insert_flat_returning(self, q: Q, flat: list[Any]) -> list[Sequence[Any]]:
        """Multi-row INSERT of ``flat`` (``len(q.names)`` values per row) in as few statements
        as the bound-parameter limit allows; the rows of ``q``'s RETURNING clause, if any
        (in no particular order)."""
        width = len(q.names)
        out: list[Sequence[Any]] = []
        start = 0
        for count in _row_chunks(len(flat) // width, max(1, _MAX_VARIABLES // width)):
            end = start + count * width
            part = flat[start:end] if (start, end) != (0, len(flat)) else flat
            start = end
            try:
                out += self.conn.execute(_multi_row_sql(q.sql, width, count), part).fetchall()
            except sqlite3.IntegrityError as exc:
                raise IntegrityViolation(str(exc)) from exc
        return out

    def _pending(self) -> tuple[int, int]:
        """``(indexed_upto, max(row_id))`` of the deferred search index (``search.py``).
        ``RuntimeError`` when the watermark row of migration 0002 is missing."""
        row = self.conn.execute(SQLITE_PENDING).fetchone()
        if row is None:
            raise RuntimeError(
                "the search index watermark (table messages_fts_state, row id 1) is missing; "
                "restore it with INSERT INTO messages_fts(messages_fts) VALUES ('rebuild') and "
                "INSERT INTO messages_fts_state VALUES (1, (SELECT coalesce(max(row_id), 0) FROM messages))"
            )
        return int(row[0]), int(row[1])

    def messages_inserted(self) -> None:
        """Index the rows pending for search when ``INDEX_BATCH_ROWS`` or more are waiting
        (inside the caller's write transaction; see ``search.py``)."""
        indexed, newest = self._pending()
        if newest - indexed >= INDEX_BATCH_ROWS:
            self.index_pending()

    def index_pending(self) -> None:
        """Index every message above the watermark and raise it (inside a write transaction)."""
        self.conn.execute(SQLITE_INDEX_PENDING)
        self.conn.execute(SQLITE_RAISE_WATERMARK)

    def catch_up_search(self) -> None:
        """Make the search index cover every committed message: when rows are pending, index
        them in a write transaction of their own (outside any transaction)."""
        indexed, newest = self._pending()
        if newest > indexed:
            with self.write():
                self.index_pending()

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        conn = self.conn
        conn.execute("SAVEPOINT convoledger_item")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK TO convoledger_item")
            conn.execute("RELEASE convoledger_item")
            raise
        conn.execute("RELEASE convoledger_item")

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        conn = self.conn
        conn.execute("BEGIN")
        try:
            yield
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")


class _Lane:
    """A worker thread owning one connection (``cx``, opened on that thread).

    Calls travel through a ``queue.SimpleQueue`` and come back with ``call_soon_threadsafe``
    (the aiosqlite model): cheaper than ``run_in_executor`` on the hot paths, one hop per call.
    """

    def __init__(self, name: str) -> None:
        self.cx: SqliteCx | None = None
        self._queue: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            loop, fut, fn, args = item
            try:
                result = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task, which raises it
                _reply(loop, _fail, fut, exc)
            else:
                _reply(loop, _succeed, fut, result)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on this lane's thread; its result or error."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._queue.put((loop, fut, fn, args))
        return await fut

    def stop(self) -> None:
        """Let the thread finish the calls already queued, then end it."""
        self._queue.put(None)
        self._thread.join()


def _succeed(fut: asyncio.Future[Any], result: Any) -> None:
    if not fut.done():
        fut.set_result(result)


def _fail(fut: asyncio.Future[Any], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


def _reply(
    loop: asyncio.AbstractEventLoop, how: Callable[..., None], fut: asyncio.Future[Any], value: Any
) -> None:
    try:
        loop.call_soon_threadsafe(how, fut, value)
    except RuntimeError:  # the loop is closed: nobody is waiting any more
        pass


class SqliteDriver:
    """Runs store operations on SQLite lanes (see the module docstring).

    ``path`` is a file path or ``:memory:``; ``busy_timeout`` is in seconds.
    """

    def __init__(self, path: str, st: Statements, codec: Codec, busy_timeout: float = DEFAULT_BUSY_TIMEOUT):
        self.path = path
        self.st = st
        self.codec = codec
        self.busy_timeout = busy_timeout
        self.in_memory = path in ("", ":memory:")
        self._writer: _Lane | None = None
        self._reader: _Lane | None = None

    async def start(self, prepare: Callable[[sqlite3.Connection], None]) -> None:
        """Open the lanes' connections; ``prepare(conn)`` (the schema upgrade) runs first on the
        writer's connection. Raises whatever opening or ``prepare`` raises (lanes closed then)."""
        self._writer = _Lane("convoledger-sqlite-w")
        self._reader = self._writer if self.in_memory else _Lane("convoledger-sqlite-r")
        try:
            await self._writer.call(self._open_lane, self._writer, prepare)
            if self._reader is not self._writer:
                await self._reader.call(self._open_lane, self._reader, None)
        except BaseException:
            await self.close()
            raise

    def _open_lane(self, lane: _Lane, prepare: Callable[[sqlite3.Connection], None] | None) -> None:
        conn = connect(self.path, self.busy_timeout)
        try:
            if prepare is not None:
                prepare(conn)
        except BaseException:
            conn.close()
            raise
        lane.cx = SqliteCx(conn, self.st, self.codec)

    async def run(self, fn: Callable[..., T], *args: Any, write: bool) -> T:
        """``fn(cx, *args)`` on the writer (``write=True``) or reader lane; its result or error."""
        lane = self._writer if write else self._reader
        if lane is None or lane.cx is None:
            raise RuntimeError("the SQL store is not open (call await store.open() first)")
        return await lane.call(fn, lane.cx, *args)

    async def read(self, plan: ReadPlan[T]) -> T:
        """Run a one-statement read on the reader lane."""
        lane = self._reader
        if lane is None or lane.cx is None:
            raise RuntimeError("the SQL store is not open (call await store.open() first)")
        return await lane.call(run_plan, lane.cx, plan)

    async def prepare_search(self) -> None:
        """Before a search: index every committed message still pending (``search.py``). Runs on
        the writer lane, so it takes its turn among this process's writes instead of contending
        with them for the database write lock."""
        lane = self._writer
        if lane is None or lane.cx is None:
            raise RuntimeError("the SQL store is not open (call await store.open() first)")
        await lane.call(SqliteCx.catch_up_search, lane.cx)

    async def close(self) -> None:
        """Close every lane's connection and stop its thread. Idempotent."""
        lanes = [lane for lane in {id(x): x for x in (self._reader, self._writer) if x}.values()]
        self._writer = self._reader = None
        for lane in lanes:
            if lane.cx is not None:
                cx, lane.cx = lane.cx, None
                await lane.call(cx.conn.close)
            await asyncio.to_thread(lane.stop)
