"""The maintenance journal: the pass lease, the pass log and the policy deletion records.

One ``MaintenanceJournal`` per ledger database, beside its ``Store``:

- ``SqlJournal`` (SQLite, PostgreSQL): tables ``maintenance_passes``, ``maintenance_deletions``
  and ``maintenance_leases`` (migration ``0006_maintenance``). The lease that lets one process at
  a time run a pass is, on PostgreSQL, the session-level advisory lock
  ``pg_try_advisory_lock(MAINTENANCE_LOCK_KEY)`` held on a dedicated connection for the whole pass
  (released by PostgreSQL if the process dies); on SQLite a row of ``maintenance_leases`` with a
  holder and an expiry, renewed between batches (a crashed holder's lease expires after ``ttl``).
- ``FileJournal`` (``jsonfiles://``): ``<root>/_maintenance/passes.jsonl`` and
  ``deletions.jsonl``, and an exclusive ``fcntl.flock`` on ``lease.lock`` held for the pass (the
  kernel drops it when the process dies).
- ``MemoryJournal`` (``memory://``): in-process lists and lease.

Every method raises the driver's or the OS's error when the database / directory fails; callers
(the scheduler) log it and retry.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import fcntl
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from convoledger.models.maintenance import Alert, DeletionRecord, PassCounts, PassRecord
from convoledger.models.timeutil import utcnow
from convoledger.store.base import Store
from convoledger.store.sql.schema import (
    maintenance_alerts,
    maintenance_deletions,
    maintenance_leases,
    maintenance_passes,
)

T = TypeVar("T")

#: Key of the PostgreSQL advisory lock held during a maintenance pass ("cl-maint" in ASCII).
MAINTENANCE_LOCK_KEY = 0x636C2D6D61696E74
#: Name of the SQLite lease row.
LEASE_NAME = "maintenance"
#: Seconds a SQLite/file lease stays valid without renewal (renewed after every batch).
DEFAULT_LEASE_TTL = 300.0
#: Most rows one ``list_*`` call returns.
MAX_LIST = 1000


def new_holder(label: str = "serve") -> str:
    """A holder name unique to this process and call: ``<label>@<host>:<pid>:<random>``."""
    return f"{label}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseLost(RuntimeError):
    """The lease expired and another process took it: the pass must stop."""


class Lease:
    """A held maintenance lease; ``await renew()`` extends it (``LeaseLost`` when it was taken
    over). A lease that needs no renewal (advisory lock, flock, in-process) renews as a no-op."""

    def __init__(self, holder: str, renew: Callable[[], Any] | None = None) -> None:
        self.holder = holder
        self._renew = renew

    async def renew(self) -> None:
        """Extend the lease; ``LeaseLost`` when another holder has it now."""
        if self._renew is not None:
            await self._renew()


def _check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST:
        raise ValueError(f"limit must be an integer from 1 to {MAX_LIST}, got {limit!r}")
    return limit


class MaintenanceJournal(abc.ABC):
    """Lease, pass log and deletion records of one ledger database (see the module docstring)."""

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Connect (idempotent)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (idempotent)."""

    @abc.abstractmethod
    def lease(
        self, holder: str, ttl: float = DEFAULT_LEASE_TTL
    ) -> contextlib.AbstractAsyncContextManager[Lease | None]:
        """``async with journal.lease(holder) as lease``: ``lease`` is a ``Lease`` when this
        holder may run a pass now (no one else holds it), ``None`` otherwise. Released on exit."""

    @abc.abstractmethod
    async def record_pass(self, record: PassRecord) -> PassRecord:
        """Append ``record`` to the pass log; return it with its ``id``."""

    @abc.abstractmethod
    async def list_passes(self, limit: int = 50) -> list[PassRecord]:
        """The newest ``limit`` passes (1 … ``MAX_LIST``), newest first. ``ValueError`` for a
        bad limit."""

    @abc.abstractmethod
    async def record_deletion(self, record: DeletionRecord) -> DeletionRecord:
        """Store ``record``; return it with its ``id``."""

    @abc.abstractmethod
    async def list_deletions(self, owner_id: str | None = None, limit: int = 100) -> list[DeletionRecord]:
        """The newest ``limit`` deletion records (of ``owner_id`` when given), newest first.
        ``ValueError`` for a bad limit."""

    @abc.abstractmethod
    async def record_alert(self, alert: Alert) -> Alert:
        """Store ``alert``; return it with its ``id``."""

    @abc.abstractmethod
    async def list_alerts(self, owner_id: str | None = None, limit: int = 100) -> list[Alert]:
        """The newest ``limit`` alerts (of ``owner_id`` when given), newest first. ``ValueError``
        for a bad limit."""

    @abc.abstractmethod
    async def alerted_since(self, owner_id: str, conversation_id: str, kind: str, since: datetime) -> bool:
        """Whether an alert of ``kind`` about this session was recorded at or after ``since``."""


# -- memory -----------------------------------------------------------------------------------


class MemoryJournal(MaintenanceJournal):
    """In-process journal for ``memory://`` ledgers."""

    def __init__(self) -> None:
        self._passes: list[PassRecord] = []
        self._deletions: list[DeletionRecord] = []
        self._alerts: list[Alert] = []
        self._holder: str | None = None

    @contextlib.asynccontextmanager
    async def lease(self, holder: str, ttl: float = DEFAULT_LEASE_TTL) -> AsyncIterator[Lease | None]:
        """See ``MaintenanceJournal.lease``."""
        if self._holder is not None:
            yield None
            return
        self._holder = holder
        try:
            yield Lease(holder)
        finally:
            self._holder = None

    async def record_pass(self, record: PassRecord) -> PassRecord:
        """See ``MaintenanceJournal.record_pass``."""
        stored = record.model_copy(update={"id": len(self._passes) + 1})
        self._passes.append(stored)
        return stored

    async def list_passes(self, limit: int = 50) -> list[PassRecord]:
        """See ``MaintenanceJournal.list_passes``."""
        return list(reversed(self._passes))[: _check_limit(limit)]

    async def record_deletion(self, record: DeletionRecord) -> DeletionRecord:
        """See ``MaintenanceJournal.record_deletion``."""
        stored = record.model_copy(update={"id": len(self._deletions) + 1})
        self._deletions.append(stored)
        return stored

    async def list_deletions(self, owner_id: str | None = None, limit: int = 100) -> list[DeletionRecord]:
        """See ``MaintenanceJournal.list_deletions``."""
        _check_limit(limit)
        rows = [d for d in reversed(self._deletions) if owner_id is None or d.owner_id == owner_id]
        return rows[:limit]

    async def record_alert(self, alert: Alert) -> Alert:
        """See ``MaintenanceJournal.record_alert``."""
        stored = alert.model_copy(update={"id": len(self._alerts) + 1})
        self._alerts.append(stored)
        return stored

    async def list_alerts(self, owner_id: str | None = None, limit: int = 100) -> list[Alert]:
        """See ``MaintenanceJournal.list_alerts``."""
        _check_limit(limit)
        return [a for a in reversed(self._alerts) if owner_id is None or a.owner_id == owner_id][:limit]

    async def alerted_since(self, owner_id: str, conversation_id: str, kind: str, since: datetime) -> bool:
        """See ``MaintenanceJournal.alerted_since``."""
        return any(
            a.owner_id == owner_id
            and a.conversation_id == conversation_id
            and a.kind == kind
            and a.at >= since
            for a in self._alerts
        )


# -- JSON files -------------------------------------------------------------------------------


class FileJournal(MaintenanceJournal):
    """Journal of a ``jsonfiles://`` ledger, in ``<root>/_maintenance/`` (see the module
    docstring). Appends hold an exclusive ``flock`` on the file being written."""

    def __init__(self, root: str | Path) -> None:
        self.dir = Path(root) / "_maintenance"

    @contextlib.asynccontextmanager
    async def lease(self, holder: str, ttl: float = DEFAULT_LEASE_TTL) -> AsyncIterator[Lease | None]:
        """See ``MaintenanceJournal.lease`` (non-blocking ``flock`` on ``lease.lock``)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dir / "lease.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield None
                return
            try:
                yield Lease(holder)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _append(self, name: str, row: dict[str, Any]) -> int:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / name, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            fh.seek(0)
            number = sum(1 for _ in fh) + 1
            fh.write(orjson.dumps({**row, "id": number}) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        return number

    def _read(self, name: str) -> list[dict[str, Any]]:
        try:
            with open(self.dir / name, "rb") as fh:
                return [orjson.loads(line) for line in fh if line.strip()]
        except FileNotFoundError:
            return []

    async def record_pass(self, record: PassRecord) -> PassRecord:
        """See ``MaintenanceJournal.record_pass``."""
        number = await asyncio.to_thread(self._append, "passes.jsonl", record.model_dump(mode="json"))
        return record.model_copy(update={"id": number})

    async def list_passes(self, limit: int = 50) -> list[PassRecord]:
        """See ``MaintenanceJournal.list_passes``."""
        _check_limit(limit)
        rows = await asyncio.to_thread(self._read, "passes.jsonl")
        return [PassRecord.model_validate(r) for r in reversed(rows[-limit:])]

    async def record_deletion(self, record: DeletionRecord) -> DeletionRecord:
        """See ``MaintenanceJournal.record_deletion``."""
        number = await asyncio.to_thread(self._append, "deletions.jsonl", record.model_dump(mode="json"))
        return record.model_copy(update={"id": number})

    async def list_deletions(self, owner_id: str | None = None, limit: int = 100) -> list[DeletionRecord]:
        """See ``MaintenanceJournal.list_deletions``."""
        _check_limit(limit)
        rows = await asyncio.to_thread(self._read, "deletions.jsonl")
        wanted = [r for r in reversed(rows) if owner_id is None or r.get("owner_id") == owner_id]
        return [DeletionRecord.model_validate(r) for r in wanted[:limit]]

    async def record_alert(self, alert: Alert) -> Alert:
        """See ``MaintenanceJournal.record_alert``."""
        number = await asyncio.to_thread(self._append, "alerts.jsonl", alert.model_dump(mode="json"))
        return alert.model_copy(update={"id": number})

    async def list_alerts(self, owner_id: str | None = None, limit: int = 100) -> list[Alert]:
        """See ``MaintenanceJournal.list_alerts``."""
        _check_limit(limit)
        rows = await asyncio.to_thread(self._read, "alerts.jsonl")
        wanted = [r for r in reversed(rows) if owner_id is None or r.get("owner_id") == owner_id]
        return [Alert.model_validate(r) for r in wanted[:limit]]

    async def alerted_since(self, owner_id: str, conversation_id: str, kind: str, since: datetime) -> bool:
        """See ``MaintenanceJournal.alerted_since`` (reads the alert file)."""
        rows = await asyncio.to_thread(self._read, "alerts.jsonl")
        for row in rows:
            if (row.get("owner_id"), row.get("conversation_id"), row.get("kind")) == (
                owner_id,
                conversation_id,
                kind,
            ):
                if Alert.model_validate(row).at >= since:
                    return True
        return False


# -- SQL --------------------------------------------------------------------------------------

P, D, A, L = maintenance_passes, maintenance_deletions, maintenance_alerts, maintenance_leases


class SqlJournal(MaintenanceJournal):
    """Journal in the ledger's SQL database (SQLite or PostgreSQL), see the module docstring.
    ``url``: the store's SQLAlchemy URL (``sqlite+aiosqlite:///…`` or ``postgresql+asyncpg://…``);
    the schema is the store's (``SqlStore.open`` migrates it)."""

    def __init__(self, url: str) -> None:
        from convoledger.store.sql import migrate

        self.url = url
        self.dialect = migrate.dialect_of(url)
        self._sqlite_path = migrate.sqlite_path(url) if self.dialect == "sqlite" else None
        self._sync: sa.Engine | None = None
        self._async: AsyncEngine | None = None

    async def open(self) -> None:
        """Create the engine (idempotent; connections are made on use)."""
        if self._sync is not None or self._async is not None:
            return
        if self._sqlite_path is not None:
            from convoledger.store.sql.sqlite_driver import connect

            path = self._sqlite_path
            engine = sa.create_engine("sqlite://", creator=lambda: connect(path), poolclass=NullPool)

            @sa.event.listens_for(engine, "begin")
            def _begin_immediate(connection: Connection) -> None:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

            self._sync = engine
        else:
            self._async = create_async_engine(self.url, pool_size=2, max_overflow=2)

    async def close(self) -> None:
        """Dispose of the engine (idempotent)."""
        sync, self._sync = self._sync, None
        engine, self._async = self._async, None
        if sync is not None:
            sync.dispose()
        if engine is not None:
            await engine.dispose()

    async def _tx(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(connection)`` in one transaction (a thread for SQLite, ``run_sync`` on
        PostgreSQL)."""
        await self.open()
        if self._sync is not None:
            engine = self._sync

            def work() -> T:
                with engine.begin() as conn:
                    return fn(conn)

            return await asyncio.to_thread(work)
        assert self._async is not None
        async with self._async.begin() as aconn:
            return await aconn.run_sync(fn)

    def _ts(self, value: datetime) -> Any:
        value = value.astimezone(UTC)
        return value.isoformat(timespec="microseconds") if self._sqlite_path is not None else value

    @staticmethod
    def _dt(value: Any) -> datetime:
        return datetime.fromisoformat(value) if isinstance(value, str) else value

    # -- lease --------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def lease(self, holder: str, ttl: float = DEFAULT_LEASE_TTL) -> AsyncIterator[Lease | None]:
        """See ``MaintenanceJournal.lease``."""
        await self.open()
        if self._async is not None:
            async with self._advisory_lease(holder) as lease:
                yield lease
            return
        if not await self._tx(lambda c: self._acquire(c, holder, ttl)):
            yield None
            return

        async def renew() -> None:
            if not await self._tx(lambda c: self._acquire(c, holder, ttl, renew_only=True)):
                raise LeaseLost(f"maintenance lease of {holder} expired and was taken over")

        try:
            yield Lease(holder, renew)
        finally:
            await self._tx(
                lambda c: c.execute(sa.delete(L).where(L.c.name == LEASE_NAME, L.c.holder == holder))
            )

    def _acquire(self, conn: Connection, holder: str, ttl: float, *, renew_only: bool = False) -> bool:
        now = utcnow()
        expires = self._ts(now + timedelta(seconds=ttl))
        if not renew_only:
            conn.execute(
                sqlite_insert(L)
                .values(name=LEASE_NAME, holder=holder, expires_at=expires)
                .on_conflict_do_nothing(index_elements=["name"])
            )
        held_by_me = L.c.holder == holder
        cond = held_by_me if renew_only else sa.or_(held_by_me, L.c.expires_at < self._ts(now))
        done = conn.execute(
            sa.update(L).where(L.c.name == LEASE_NAME, cond).values(holder=holder, expires_at=expires)
        )
        return done.rowcount == 1

    @contextlib.asynccontextmanager
    async def _advisory_lease(self, holder: str) -> AsyncIterator[Lease | None]:
        assert self._async is not None
        conn = await self._async.connect()
        got = False
        try:
            got = bool(
                await conn.scalar(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": MAINTENANCE_LOCK_KEY})
            )
            await conn.commit()
            yield Lease(holder) if got else None
        finally:
            try:
                if got:
                    await conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": MAINTENANCE_LOCK_KEY})
                    await conn.commit()
            except BaseException:
                await conn.invalidate()  # the session (and its lock) must not go back to the pool
                raise
            finally:
                await conn.close()

    # -- pass log -----------------------------------------------------------------------------
    async def record_pass(self, record: PassRecord) -> PassRecord:
        """See ``MaintenanceJournal.record_pass``."""
        values = {
            "holder": record.holder,
            "started_at": self._ts(record.started_at),
            "finished_at": self._ts(record.finished_at),
            "status": record.status.value,
            "counts": orjson.dumps(record.counts.model_dump()).decode(),
            "error": record.error,
        }
        new_id = await self._tx(
            lambda c: c.execute(sa.insert(P).values(**values).returning(P.c.id)).scalar_one()
        )
        return record.model_copy(update={"id": int(new_id)})

    async def list_passes(self, limit: int = 50) -> list[PassRecord]:
        """See ``MaintenanceJournal.list_passes``."""
        _check_limit(limit)
        rows = await self._tx(lambda c: c.execute(sa.select(P).order_by(P.c.id.desc()).limit(limit)).all())
        return [
            PassRecord(
                id=r.id,
                holder=r.holder,
                started_at=self._dt(r.started_at),
                finished_at=self._dt(r.finished_at),
                status=r.status,
                counts=PassCounts.model_validate(orjson.loads(r.counts)),
                error=r.error,
            )
            for r in rows
        ]

    # -- deletions ----------------------------------------------------------------------------
    async def record_deletion(self, record: DeletionRecord) -> DeletionRecord:
        """See ``MaintenanceJournal.record_deletion``."""
        values = record.model_dump(mode="python", exclude={"id"})
        values.update(policy=record.policy.value, action=record.action.value, at=self._ts(record.at))
        new_id = await self._tx(
            lambda c: c.execute(sa.insert(D).values(**values).returning(D.c.id)).scalar_one()
        )
        return record.model_copy(update={"id": int(new_id)})

    async def list_deletions(self, owner_id: str | None = None, limit: int = 100) -> list[DeletionRecord]:
        """See ``MaintenanceJournal.list_deletions`` (index ``ix_maintenance_deletions_owner_id``)."""
        _check_limit(limit)
        stmt = sa.select(D).order_by(D.c.id.desc()).limit(limit)
        if owner_id is not None:
            stmt = stmt.where(D.c.owner_id == owner_id)
        rows = await self._tx(lambda c: c.execute(stmt).all())
        return [DeletionRecord.model_validate({**r._asdict(), "at": self._dt(r.at)}) for r in rows]

    # -- alerts -------------------------------------------------------------------------------
    async def record_alert(self, alert: Alert) -> Alert:
        """See ``MaintenanceJournal.record_alert``."""
        values = alert.model_dump(mode="python", exclude={"id"})
        values.update(kind=alert.kind.value, at=self._ts(alert.at))
        new_id = await self._tx(
            lambda c: c.execute(sa.insert(A).values(**values).returning(A.c.id)).scalar_one()
        )
        return alert.model_copy(update={"id": int(new_id)})

    async def list_alerts(self, owner_id: str | None = None, limit: int = 100) -> list[Alert]:
        """See ``MaintenanceJournal.list_alerts`` (index ``ix_maintenance_alerts_owner_id``)."""
        _check_limit(limit)
        stmt = sa.select(A).order_by(A.c.id.desc()).limit(limit)
        if owner_id is not None:
            stmt = stmt.where(A.c.owner_id == owner_id)
        rows = await self._tx(lambda c: c.execute(stmt).all())
        return [Alert.model_validate({**r._asdict(), "at": self._dt(r.at)}) for r in rows]

    async def alerted_since(self, owner_id: str, conversation_id: str, kind: str, since: datetime) -> bool:
        """See ``MaintenanceJournal.alerted_since`` (one probe of its index)."""
        stmt = (
            sa.select(A.c.id)
            .where(
                A.c.owner_id == owner_id,
                A.c.conversation_id == conversation_id,
                A.c.kind == kind,
                A.c.at >= self._ts(since),
            )
            .limit(1)
        )
        return await self._tx(lambda c: c.execute(stmt).first() is not None)


def journal_for_store(store: Store) -> MaintenanceJournal:
    """The journal that belongs beside ``store`` (a Redis cache is looked through):
    ``SqlJournal`` for a ``SqlStore`` (not an in-memory SQLite one), ``FileJournal`` for a
    ``JsonFilesStore``, otherwise the store object's own ``MemoryJournal`` (one per in-process
    store, so its lease is shared)."""
    from convoledger.store.jsonfiles import JsonFilesStore
    from convoledger.store.sql import SqlStore

    inner = getattr(store, "inner", store)
    if isinstance(inner, SqlStore) and not inner.url.endswith(":memory:"):
        return SqlJournal(inner.url)
    if isinstance(inner, JsonFilesStore):
        return FileJournal(inner.root)
    journal: MemoryJournal = inner.__dict__.setdefault("_maintenance_journal", MemoryJournal())
    return journal
