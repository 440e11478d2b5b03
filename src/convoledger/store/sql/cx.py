"""``Cx``: the synchronous connection interface the store's operations are written against.

Every operation of the SQL store (``ops.py``) is written once, as plain synchronous code over a
``Cx``, and runs unchanged on both databases:

- SQLite (``sqlite_driver.py``): the whole operation runs on the connection's own worker thread,
  so a transaction of several statements costs one thread hop;
- PostgreSQL (``pg_driver.py``): the operation runs in a greenlet (SQLAlchemy's
  ``greenlet_spawn``, the mechanism of its own asyncio layer) and each statement awaits asyncpg
  on the event loop (``await_only``).

Statements are ``statements.Q`` objects (SQL compiled by SQLAlchemy Core); parameters are a mapping
by name or a tuple already in placeholder order.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from convoledger.store.sql import schema
from convoledger.store.sql.codec import Codec
from convoledger.store.sql.statements import Q, Statements

Params = Mapping[str, Any] | Sequence[Any]
T = TypeVar("T")


class IntegrityViolation(Exception):
    """A constraint refused a write (driver-neutral wrapper of the driver's integrity error).

    ``constraint`` is the constraint name when the driver reports it (PostgreSQL); SQLite reports
    the columns instead, which ``violates`` matches against the schema.
    """

    def __init__(self, message: str, constraint: str | None = None) -> None:
        super().__init__(message)
        self.constraint = constraint

    def violates(self, name: str) -> bool:
        """True when the violated constraint is the unique constraint/index ``name``."""
        if self.constraint is not None:
            return self.constraint == name
        signature = _SQLITE_SIGNATURES.get(name)
        return signature is not None and signature in str(self)


def _sqlite_signatures() -> dict[str, str]:
    """Constraint name → the "table.col, table.col" text of SQLite's UNIQUE error message."""
    out: dict[str, str] = {}
    for table in schema.TABLES:
        groups: list[tuple[str | None, list[str]]] = []
        for cons in table.constraints:
            cols = [c.name for c in getattr(cons, "columns", [])]
            if cols:
                groups.append((cons.name if isinstance(cons.name, str) else None, cols))
        for index in table.indexes:
            if index.unique:
                groups.append(
                    (index.name if isinstance(index.name, str) else None, [c.name for c in index.columns])
                )
        for name, cols in groups:
            if name:
                out[name] = ", ".join(f"{table.name}.{c}" for c in cols)
    return out


_SQLITE_SIGNATURES = _sqlite_signatures()


class Cx(abc.ABC):
    """One connection, seen synchronously (see the module docstring).

    ``st`` holds the compiled statements and ``codec`` the row conversions of its dialect.
    Driver integrity errors surface as ``IntegrityViolation``.
    """

    st: Statements
    codec: Codec
    #: Whether ``insert_flat_returning`` is available (SQLite).
    multi_row_returning = False

    @abc.abstractmethod
    def all(self, q: Q, params: Params = ()) -> list[Sequence[Any]]:
        """All rows of ``q``."""

    def first(self, q: Q, params: Params = ()) -> Sequence[Any] | None:
        """The first row of ``q`` or ``None`` (use on statements returning at most one row)."""
        rows = self.all(q, params)
        return rows[0] if rows else None

    @abc.abstractmethod
    def execute(self, q: Q, params: Params = ()) -> int:
        """Run a statement that returns no rows; return how many rows it changed."""

    @abc.abstractmethod
    def executemany(self, q: Q, rows: Sequence[Sequence[Any]]) -> None:
        """Run ``q`` once per parameter tuple in ``rows`` (tuples in placeholder order)."""

    def insert_rows(self, q: Q, rows: Sequence[Sequence[Any]]) -> None:
        """Insert ``rows`` with the single-row INSERT ``q`` (tuples in placeholder order), as
        efficiently as the driver allows (default: ``executemany``)."""
        self.executemany(q, rows)

    def insert_flat_returning(self, q: Q, flat: list[Any]) -> list[Sequence[Any]]:
        """Multi-row INSERT with RETURNING (only where ``multi_row_returning``)."""
        raise NotImplementedError(f"{type(self).__name__} has no multi-row INSERT … RETURNING")

    def insert_flat(self, q: Q, flat: list[Any]) -> None:
        """``insert_rows`` for rows given as one flat list (``len(q.names)`` values per row)."""
        width = len(q.names)
        self.insert_rows(q, [flat[i : i + width] for i in range(0, len(flat), width)])

    def messages_inserted(self) -> None:  # noqa: B027 - optional hook
        """Called inside a write transaction after it inserted messages: SQLite indexes the rows
        pending for search once there are enough of them (``search.py``, deferred indexing);
        PostgreSQL's index is already up to date."""

    @abc.abstractmethod
    def write(self) -> contextlib.AbstractContextManager[None]:
        """A write transaction: committed when the block ends, rolled back if it raises.

        SQLite: ``BEGIN IMMEDIATE`` (the database write lock, so writers of every process are
        serialised from the first statement); PostgreSQL: ``BEGIN`` (READ COMMITTED; the
        operations take row locks where they need them).
        """

    @abc.abstractmethod
    def read(self) -> contextlib.AbstractContextManager[None]:
        """A read transaction giving several statements one consistent snapshot."""

    @abc.abstractmethod
    def savepoint(self) -> contextlib.AbstractContextManager[None]:
        """A savepoint inside the current write transaction: released when the block ends,
        rolled back to (the transaction goes on) if it raises."""


@dataclass(frozen=True, slots=True)
class ReadPlan(Generic[T]):
    """A read that is one statement: ``finish(rows)`` makes the result; when there are no rows
    and ``when_empty`` is given, ``when_empty(cx)`` decides instead (e.g. ``NotFound`` unless the
    conversation exists). Drivers may run the statement without the synchronous bridge
    (``pg_driver`` awaits asyncpg directly), which matters on the hot reads."""

    q: Q
    params: Params
    finish: Callable[[list[Sequence[Any]]], T]
    when_empty: Callable[[Cx], T] | None = None


def run_plan(cx: Cx, plan: ReadPlan[T]) -> T:
    """Run ``plan`` on ``cx`` (the synchronous way)."""
    rows = cx.all(plan.q, plan.params)
    if not rows and plan.when_empty is not None:
        return plan.when_empty(cx)
    return plan.finish(rows)


@dataclass(frozen=True, slots=True)
class StatementPlan(Generic[T]):
    """A write that is one autocommitted statement when all goes well (the PostgreSQL append):
    ``finish(rows)`` makes the result. When the statement returns no rows, ``when_empty(cx)``
    decides; when it violates a constraint (nothing was written: the statement was its own
    transaction), ``on_violation(cx, exc)`` does — both as ordinary operations, which may run
    transactions of their own. Drivers may run the statement without the synchronous bridge
    (``pg_driver`` awaits asyncpg directly: ~16 µs less per call)."""

    q: Q
    params: Params
    finish: Callable[[list[Sequence[Any]]], T]
    when_empty: Callable[[Cx], T]
    on_violation: Callable[[Cx, IntegrityViolation], T]


def run_statement_plan(cx: Cx, plan: StatementPlan[T]) -> T:
    """Run ``plan`` on ``cx`` (the synchronous way; outside any transaction)."""
    try:
        rows = cx.all(plan.q, plan.params)
    except IntegrityViolation as exc:
        return plan.on_violation(cx, exc)
    if not rows:
        return plan.when_empty(cx)
    return plan.finish(rows)
