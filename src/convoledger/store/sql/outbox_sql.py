"""The SQL store's event outbox (issue 18): statements and operations over ``ledger_events``.

Every write operation of ``ops.py`` calls ``record_events`` inside its transaction, after its own
statements, so a change and its events commit together or not at all (the PostgreSQL append does
the same inside its one statement, ``statements._append_events``).

Why ids come from a counter row and not a sequence. A stream resumes with ``Last-Event-ID``: it
asks for ``id > N`` and must never miss an event, so ids must be visible in the order they were
given out. A sequence (``bigserial``) hands out values at INSERT time, before commit: a
transaction that took id 7 may commit after one that took id 8, and a reader who saw 8 and then
asks for ``id > 8`` loses 7 forever. Here each transaction does ``INSERT … ON CONFLICT (owner_id)
DO UPDATE SET last_id = last_id + n RETURNING last_id`` on the owner's row of
``ledger_event_counters`` as its last statement. The row lock it takes is held until commit, so a
second writer of the same owner waits there and numbers its events only after the first has
committed: ids are gap-free (a rollback returns them) and in commit order across every process on
the database. A reader that sees id N therefore sees every id below N (READ COMMITTED: each
statement's snapshot is taken after the commit that made N visible).

The price: commits that write events of one owner are serialised for the length of that final
statement plus the commit (the conversation row was already locked by the change itself, and
writers of different owners never meet). Taking the counter last keeps the wait short and the
lock order fixed (conversation rows, then the counter), so there is no deadlock. The usual
alternative — sequence ids read only below the oldest running transaction's snapshot
(``pg_snapshot_xmin``) — needs no such wait but gives cursors that are not one plain
per-account number, which ``Last-Event-ID`` and the per-account numbering ask for.

SQLite has one writer at a time (``BEGIN IMMEDIATE``), so any numbering taken inside the write
transaction is in commit order, and nothing needs moving: the next id is one more than the owner's
largest event id (a lookup in the primary key the INSERT then writes) or than the counter row,
whichever is larger (``_sqlite_last_id``). Not rewriting the counter saves a changed page, a WAL
frame, per transaction (migration ``0008_sqlite_events_without_rowid``). The counter row is the
floor of the numbering: whatever deletes an owner's newest events must first raise it to the
largest id deleted, or ids would be given out again (nothing in the store deletes events).

Waking live streams (``events.hub``): on PostgreSQL the reservation also selects
``pg_notify('convoledger_events', owner_key)`` (``statements.pg_notify_events``), as does the
one-statement append, so every commit that writes events sends one notification, delivered at
commit and never for a rolled-back transaction (migration ``0007_notify_in_statements`` replaced
the statement trigger that did this, for ~40 µs less per append). SQLite's other processes learn
of commits through Redis or by polling.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialects
from sqlalchemy.dialects import sqlite as sqlite_dialects

from convoledger.models.events import EventDraft, EventRecord
from convoledger.models.timeutil import utcnow
from convoledger.store import outbox
from convoledger.store.outbox import EventQuery, owner_key
from convoledger.store.sql import schema
from convoledger.store.sql.codec import Codec, dump_json
from convoledger.store.sql.cx import Cx, ReadPlan
from convoledger.store.sql.statements import Statements, pg_notify_events

bp = sa.bindparam
EV = schema.ledger_events
EC = schema.ledger_event_counters

#: Columns of an event INSERT, in placeholder order.
EVENT_COLUMNS = ("owner_id", "id", "kind", "conversation_id", "payload", "created_at")


def counter_upsert(dialect_name: str) -> Any:
    """``INSERT INTO ledger_event_counters (owner_id, last_id) VALUES (:owner_id, :n) ON CONFLICT
    (owner_id) DO UPDATE SET last_id = last_id + excluded.last_id`` (no RETURNING yet)."""
    mod: Any = pg_dialects if dialect_name == "postgresql" else sqlite_dialects
    ins = mod.insert(EC).values(owner_id=bp("owner_id"), last_id=bp("n", type_=sa.BigInteger()))
    return ins.on_conflict_do_update(
        index_elements=["owner_id"], set_={"last_id": EC.c.last_id + ins.excluded.last_id}
    )


class EventStatements:
    """The outbox statements of one dialect (compiled with ``Statements.q``)."""

    def __init__(self, st: Statements) -> None:
        q = st.q
        cols = [EV.c[n] for n in EVENT_COLUMNS]
        if st.is_pg:
            # PostgreSQL: move the counter (its row lock orders the commits) and wake the
            # account's live streams at commit (``events.hub``; SQLite's other processes learn of
            # commits by polling or Redis)
            moved = counter_upsert(st.dialect_name).returning(EC.c.last_id).cte("moved")
            self.reserve = q(sa.select(moved.c.last_id, pg_notify_events("owner_key")))
            self.last_id = q(sa.select(EC.c.last_id).where(EC.c.owner_id == bp("owner_id")))
        else:
            # SQLite: read, not moved (see the module docstring); same result row as the upsert's
            self.reserve = q(sa.select(_sqlite_last_id() + bp("n", type_=sa.BigInteger())))
            self.last_id = q(sa.select(_sqlite_last_id()))
        self.insert = q(sa.insert(EV).inline(), EVENT_COLUMNS)
        window = sa.select(*cols).where(
            EV.c.owner_id == bp("owner_id"), EV.c.id > bp("after_id", type_=sa.BigInteger())
        )
        limit = bp("limit", type_=sa.Integer())
        self.list_all = q(window.order_by(EV.c.id).limit(limit))
        self.list_conversation = q(
            window.where(EV.c.conversation_id == bp("conversation_id")).order_by(EV.c.id).limit(limit)
        )


def _sqlite_last_id() -> sa.ColumnElement[int]:
    """SQLite: the owner's last event id, ``max(largest event id, counter)`` (0 for neither).
    Two primary-key lookups; SQLite's two-argument ``max`` is the scalar maximum."""
    largest = sa.select(sa.func.max(EV.c.id)).where(EV.c.owner_id == bp("owner_id")).scalar_subquery()
    counter = sa.select(EC.c.last_id).where(EC.c.owner_id == bp("owner_id")).scalar_subquery()
    return sa.func.max(sa.func.coalesce(largest, 0), sa.func.coalesce(counter, 0))


@functools.cache
def event_statements(st: Statements) -> EventStatements:
    """The compiled outbox statements for ``st``'s dialect (one set per ``Statements``)."""
    return EventStatements(st)


def record_events(cx: Cx, owner_id: str, drafts: Sequence[EventDraft], now: datetime | None = None) -> None:
    """Inside the caller's write transaction: number ``drafts`` (with the current
    ``outbox.event_context`` applied) after the owner's last event id and insert them. Call it
    as the transaction's last statement (see the module docstring)."""
    if not drafts:
        return
    es = event_statements(cx.st)
    drafts = outbox.annotate(drafts)
    row = cx.first(es.reserve, {"owner_id": owner_id, "n": len(drafts), "owner_key": owner_key(owner_id)})
    assert row is not None
    base = int(row[0]) - len(drafts)
    at = cx.codec.ts_in(now or utcnow())
    cx.insert_rows(
        es.insert,
        [
            (owner_id, base + i, d.kind, d.conversation_id, dump_json(d.payload, "event payload"), at)
            for i, d in enumerate(drafts, start=1)
        ],
    )


def append_event(cx: Cx, owner_id: str, draft: EventDraft, now: datetime) -> EventRecord:
    """A standalone event in a transaction of its own."""
    with cx.write():
        record_events(cx, owner_id, [draft], now)
        row = cx.first(event_statements(cx.st).last_id, {"owner_id": owner_id})
    assert row is not None
    return outbox.annotate([draft])[0].numbered(owner_id, int(row[0]), now)


def _decode(codec: Codec, r: Sequence[Any]) -> EventRecord:
    payload = r[4]
    return EventRecord(
        owner_id=r[0],
        id=int(r[1]),
        kind=r[2],
        conversation_id=r[3],
        payload=orjson.loads(payload) if isinstance(payload, str | bytes) else payload,
        created_at=codec.ts_out(r[5]),
    )


def list_events(
    st: Statements, codec: Codec, owner_id: str, query: EventQuery
) -> ReadPlan[list[EventRecord]]:
    """The owner's events after ``query.after_id`` (one keyset statement)."""
    es = event_statements(st)
    params: dict[str, Any] = {"owner_id": owner_id, "after_id": query.after_id, "limit": query.limit}
    stmt = es.list_all
    if query.conversation_id is not None:
        stmt = es.list_conversation
        params["conversation_id"] = query.conversation_id

    def finish(rows: list[Sequence[Any]]) -> list[EventRecord]:
        return [_decode(codec, r) for r in rows]

    return ReadPlan(stmt, params, finish)


def last_event_id(st: Statements, owner_id: str) -> ReadPlan[int]:
    """The owner's last event id (0 when it has none): its counter on PostgreSQL,
    ``_sqlite_last_id`` on SQLite."""

    def finish(rows: list[Sequence[Any]]) -> int:
        return int(rows[0][0]) if rows else 0

    return ReadPlan(event_statements(st).last_id, {"owner_id": owner_id}, finish)
