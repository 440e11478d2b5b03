"""SQL statements of the store, written with SQLAlchemy Core and compiled once per dialect.

The store executes statements on the driver connection (``sqlite3`` / ``asyncpg``) rather than
through SQLAlchemy's execution layer: on the hot paths (append, recent N, windows) that layer
costs more than the database work itself (see ``bench/store_bench.py``). SQLAlchemy Core still
writes every statement: each is built from the ``schema`` tables, compiled for the dialect
(``?`` placeholders for SQLite, ``$n`` with casts for asyncpg) and kept as a ``Q`` — SQL text
plus the order of its named parameters. Fixed statements are compiled when the store opens;
statements whose shape depends on the filters a query uses are compiled once per shape and
cached (``Statements.cached``). No statement is compiled per call in steady state.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialects
from sqlalchemy.dialects import sqlite as sqlite_dialects
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from convoledger.store.outbox import PG_CHANNEL
from convoledger.store.sql import schema
from convoledger.store.sql.codec import (
    CONVERSATION_COLUMNS,
    EVENT_COLUMNS,
    MEMORY_COLUMNS,
    MESSAGE_COLUMNS,
    MESSAGE_READ_COLUMNS,
    PROVIDER_CALL_COLUMNS,
    PROVIDER_CALL_READ_COLUMNS,
    SQLITE_DENSE_COLUMNS,
    SQLITE_SPARSE_COLUMNS,
)

T = TypeVar("T")
_MISSING = object()
#: How many query objects ``Statements.memo`` remembers before starting over.
MEMO_SIZE = 4096

bp = sa.bindparam
C = schema.conversations
M = schema.messages
P = schema.participants
E = schema.lifecycle_events
MEM = schema.memory_entries
PC = schema.provider_calls
A = schema.accounts
K = schema.api_keys

#: Columns selected for a conversation: ``pk`` then ``CONVERSATION_COLUMNS``.
CONV_COLS = [C.c.pk, *(C.c[n] for n in CONVERSATION_COLUMNS)]


def _is_empty(column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """``column`` holds what a plain chat message leaves in it: ``'{}'`` for ``metadata``, false
    for the flags, NULL for the rest."""
    if column.key == "metadata":
        return column == sa.literal_column("'{}'")
    if column.key in ("pinned", "redacted"):
        return column == sa.false()
    return column.is_(None)


def message_columns(dialect_name: str) -> list[sa.ColumnElement[Any]]:
    """What the store selects for a message, as ``Codec.message`` decodes it: the
    ``MESSAGE_READ_COLUMNS`` on PostgreSQL; on SQLite the dense columns then the usually-empty
    ones packed into one JSON array, or NULL when all are NULL (see ``codec.
    SQLITE_SPARSE_COLUMNS`` for why)."""
    if dialect_name != "sqlite":
        return [M.c[n] for n in MESSAGE_READ_COLUMNS]
    sparse = [M.c[n] for n in SQLITE_SPARSE_COLUMNS]
    packed = sa.case(
        (sa.and_(*(_is_empty(c) for c in sparse)), sa.null()),
        else_=sa.func.json_array(*sparse),
    )
    return [*(M.c[n] for n in SQLITE_DENSE_COLUMNS), packed.label("sparse")]


def owned_pk() -> sa.ScalarSelect[int]:
    """``(SELECT pk FROM conversations WHERE owner_id = :owner_id AND id = :conversation_id)``:
    the owner scope of every child-table statement (NULL, so no rows, for another owner)."""
    return (
        sa.select(C.c.pk)
        .where(C.c.owner_id == bp("owner_id"), C.c.id == bp("conversation_id"))
        .scalar_subquery()
    )


def _ranked_ref(*cols: Any) -> sa.Subquery:
    """The owner's conversation named by ``:conversation_id`` as a reference — its id, else its
    session_id, else its session_key (``Ledger.resolve``'s order) — as ranked rows of ``cols``:
    three point lookups, one per unique index, never an OR over the columns (issue 15)."""
    owner = C.c.owner_id == bp("owner_id")
    ref: sa.BindParameter[Any] = bp("conversation_id")
    return sa.union_all(
        *(
            sa.select(sa.literal(rank).label("rank"), *cols).where(owner, column == ref)
            for rank, column in enumerate((C.c.id, C.c.session_id, C.c.session_key))
        )
    ).subquery("ref")


def ref_root_pk() -> sa.ScalarSelect[Any]:
    """Like ``owned_pk`` but ``:conversation_id`` is a reference (``_ranked_ref``) and only a
    conversation that is not a branch counts: the ``pk`` of the conversation the reference
    resolves to when its ``parent_id`` is NULL, else NULL (no rows: a branch's history needs
    its parent's messages, which the caller reads the long way)."""
    ranked = _ranked_ref(C.c.pk, C.c.parent_id)
    return (
        sa.select(sa.case((ranked.c.parent_id.is_(None), ranked.c.pk), else_=sa.null()))
        .order_by(ranked.c.rank)
        .limit(1)
        .scalar_subquery()
    )


def ref_other_id() -> sa.ScalarSelect[Any]:
    """The id of the conversation the reference ``:conversation_id`` resolves to
    (``_ranked_ref``'s first row), or NULL when the reference is that id itself: a by-reference
    read selects it with every row, and a NULL costs the driver nothing per row where the
    36-character id cost ~0.07 µs a row (measured on SQLite, 100-message history: 177 → 170 µs)."""
    ranked = _ranked_ref(C.c.id)
    return (
        sa.select(sa.case((ranked.c.rank == 0, sa.null()), else_=ranked.c.id))
        .order_by(ranked.c.rank)
        .limit(1)
        .scalar_subquery()
    )


@dataclass(frozen=True, slots=True)
class Q:
    """A compiled statement: ``sql`` text and the parameter ``names`` in placeholder order.

    ``fixed`` holds values of parameters the statement carries itself (e.g. an OFFSET 0 that the
    SQLite compiler adds).
    """

    sql: str
    names: tuple[str, ...]
    fixed: Mapping[str, Any]

    def args(self, params: Mapping[str, Any] | Sequence[Any]) -> Sequence[Any]:
        """Positional arguments for the driver: ``params`` by name, or as given when a tuple/list
        (already in ``names`` order). ``KeyError`` names a missing parameter."""
        if not isinstance(params, Mapping):
            return params
        fixed = self.fixed
        return tuple(params[n] if n in params else fixed[n] for n in self.names)


#: Columns ``update_conversation`` rewrites (``v_<name>`` parameters).
_UPDATED_ON_EDIT = (
    "session_id",
    "name",
    "description",
    "agent_name",
    "agent_instructions",
    "user_id",
    "device_id",
    "topic",
    "current_goal",
    "metadata",
    "participants",
    "server_state",
    "updated_at",
)

#: Columns ``edit_message`` / ``redact_message`` rewrite (``v_<name>`` parameters).
_UPDATED_ON_MESSAGE_EDIT = (
    "content",
    "tool_calls",
    "extra_data",
    "metadata",
    "token_count",
    "pinned",
    "redacted",
    "updated_at",
    "search_words",
)


#: Message columns sent per row by an append (all but ``conversation_pk`` and ``seq``).
APPEND_PAYLOAD_COLUMNS = MESSAGE_COLUMNS[2:]


def _reserve_counters(owner_conv: sa.ColumnElement[bool]) -> sa.Update:
    """The append's lock + seq reservation: one UPDATE that locks the conversation row
    (PostgreSQL row lock until commit; SQLite already holds the database write lock from BEGIN
    IMMEDIATE), requires status 'active', reserves seqs ``last_seq+1 … last_seq+n`` and updates the
    counters, and nothing else. The activity times follow with ``conv_touch`` when
    ``querying.activity_after_append`` moves them: an UPDATE whose SET list names an indexed
    column rewrites that index's entries on SQLite even when the value is unchanged (measured:
    12.8 kB of WAL per commit against 4.6 kB without), so the common case of an append within the
    1 s resolution must not name them."""
    n = bp("n", type_=sa.BigInteger())
    return (
        sa.update(C)
        .where(owner_conv, C.c.status == "active")
        .values(last_seq=C.c.last_seq + n, message_count=C.c.message_count + n)
    )


def _reserve_update(owner_conv: sa.ColumnElement[bool]) -> sa.Update:
    """PostgreSQL: ``_reserve_counters`` that also applies ``querying.activity_after_append`` in
    SQL, for the one-statement append. Parameters ``now``/``now_floor`` (the store's clock and
    that minus ``ACTIVITY_RESOLUTION``) and ``latest``/``latest_floor`` (the newest message time
    and that minus the resolution). A kept value is written back unchanged, which PostgreSQL
    recognises: the row update stays HOT (no new entry in any index of ``conversations``)."""
    latest = bp("latest", type_=C.c.last_activity_at.type)
    now = bp("now", type_=C.c.updated_at.type)
    return _reserve_counters(owner_conv).values(
        updated_at=sa.case(
            (
                sa.and_(C.c.updated_at > bp("now_floor", type_=C.c.updated_at.type), C.c.updated_at <= now),
                C.c.updated_at,
            ),
            else_=now,
        ),
        last_activity_at=sa.case(
            (C.c.message_count == 0, latest),
            (
                C.c.last_activity_at > bp("latest_floor", type_=C.c.last_activity_at.type),
                C.c.last_activity_at,
            ),
            else_=latest,
        ),
    )


#: Message fields copied into a ``message.appended`` event's payload (``models.events.message_envelope``).
_ENVELOPE = ("role", "sender", "recipient", "message_type", "tool_call_id", "tool_name")


def _append_events(
    r: sa.CTE, field: Callable[[str], sa.ColumnElement[Any]], ordinal: sa.ColumnElement[Any], source: Any
) -> tuple[sa.CTE, sa.CTE]:
    """PostgreSQL: the outbox part of the one-statement append (``outbox_sql.py``): the owner's
    event counter moved by ``n`` (only when the reservation ``r`` returned a row) and one
    ``message.appended`` event per message, ids ``last_id - n + ordinal``. ``field(name)`` gives
    a message column, ``ordinal`` the message's 1-based place in the batch, ``source`` what they
    are selected from (joined to ``r``). ``ev_extra`` (jsonb) is merged into every payload (the
    ``event_context``, or ``{}``). Returns the two CTEs to add to the statement."""
    from sqlalchemy.dialects.postgresql import JSONB
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    E_ = schema.ledger_events
    EC_ = schema.ledger_event_counters
    n = bp("n", type_=sa.BigInteger())
    owner = sa.cast(bp("owner_id"), sa.Text())
    counter = pg_insert(EC_).from_select(["owner_id", "last_id"], sa.select(owner, n).select_from(r))
    ec = (
        counter.on_conflict_do_update(
            index_elements=["owner_id"], set_={"last_id": EC_.c.last_id + counter.excluded.last_id}
        )
        .returning(EC_.c.last_id)
        .cte("ec")
    )

    def key(name: str) -> sa.ColumnElement[Any]:
        return sa.literal_column(f"'{name}'", sa.Text())

    pairs: list[Any] = [key("message_id"), field("id"), key("seq"), r.c.last_seq - n + ordinal]
    for name in _ENVELOPE:
        pairs += [key(name), field(name)]
    payload = sa.func.jsonb_build_object(*pairs, type_=JSONB).op("||")(bp("ev_extra", type_=JSONB))
    rows = (
        sa.select(
            owner,
            ec.c.last_id - n + ordinal,
            sa.literal_column("'message.appended'"),
            sa.cast(bp("conversation_id"), sa.Text()),
            payload,
            bp("now", type_=C.c.updated_at.type),
        )
        .select_from(ec)
        .join(r, sa.true())
    )
    if source is not None:
        rows = rows.join(source, sa.true())
    columns = ["owner_id", "id", "kind", "conversation_id", "payload", "created_at"]
    ev = sa.insert(E_).from_select(columns, rows).cte("ev")
    return ec, ev


def pg_notify_events(param: str) -> sa.ColumnElement[Any]:
    """``pg_notify('convoledger_events', :<param>)`` (``param`` names the bound ``owner_key``):
    selected once by each statement that writes events, so the account's live streams wake at
    commit exactly when events were written (``outbox_sql.py``, ``events.hub``)."""
    return sa.func.pg_notify(sa.literal_column(f"'{PG_CHANNEL}'"), bp(param, type_=sa.Text()))


def _append_cte(owner_conv: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """PostgreSQL append in one statement: ``WITH r AS (reservation RETURNING pk, last_seq),
    ins AS (INSERT … SELECT … FROM r JOIN unnest(arrays) WITH ORDINALITY), ec/ev (the outbox:
    ``_append_events``) SELECT pk, last_seq, pg_notify(…) FROM r`` (``pg_notify_events``). No row
    when the conversation is missing or not active (nothing inserted then); a duplicate message id
    fails the whole statement (nothing reserved)."""
    from sqlalchemy.dialects.postgresql import ARRAY

    def element(name: str) -> sa.types.TypeEngine[Any]:
        # search_words travels as one space-joined string per message (arrays must be
        # rectangular); words never contain a space.
        return sa.Text() if name == "search_words" else M.c[name].type.dialect_impl(dialect_for("postgresql"))

    arrays = [bp(f"a_{n}", type_=ARRAY(element(n))) for n in APPEND_PAYLOAD_COLUMNS]
    u = (
        sa.func.unnest(*arrays)
        .table_valued(*(sa.column(n, element(n)) for n in APPEND_PAYLOAD_COLUMNS), with_ordinality="ord")
        .render_derived(name="u")
    )
    r = _reserve_update(owner_conv).returning(C.c.pk, C.c.last_seq).cte("r")
    n = bp("n", type_=sa.BigInteger())
    values = [
        sa.func.string_to_array(u.c[name], sa.literal_column("' '")) if name == "search_words" else u.c[name]
        for name in APPEND_PAYLOAD_COLUMNS
    ]
    rows = sa.select(r.c.pk, r.c.last_seq - n + u.c.ord, *values).select_from(r).join(u, sa.true())
    ins = sa.insert(M).from_select(list(MESSAGE_COLUMNS), rows).cte("ins")
    ec, ev = _append_events(r, lambda name: u.c[name], u.c.ord, u)
    notify = pg_notify_events("ev_owner_key")
    return sa.select(r.c.pk, r.c.last_seq, notify).add_cte(ins).add_cte(ec).add_cte(ev)


def _append_one_cte(owner_conv: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """PostgreSQL append of one message: ``_append_cte`` with the row as plain parameters
    (``v_<column>``; ``search_words`` as a ``text[]``) instead of one-element arrays. One-message
    appends are the common case; skipping ``unnest`` and the 17 one-element arrays measured ~30 µs
    less client and server CPU per call."""
    from sqlalchemy.dialects.postgresql import ARRAY

    def param(name: str) -> sa.BindParameter[Any]:
        kind = ARRAY(sa.Text()) if name == "search_words" else M.c[name].type
        return bp(f"v_{name}", type_=kind)

    r = _reserve_update(owner_conv).returning(C.c.pk, C.c.last_seq).cte("r")
    rows = sa.select(r.c.pk, r.c.last_seq, *(param(n) for n in APPEND_PAYLOAD_COLUMNS)).select_from(r)
    ins = sa.insert(M).from_select(list(MESSAGE_COLUMNS), rows).cte("ins")
    ec, ev = _append_events(r, param, sa.literal_column("1", sa.BigInteger()), None)
    notify = pg_notify_events("ev_owner_key")
    return sa.select(r.c.pk, r.c.last_seq, notify).add_cte(ins).add_cte(ec).add_cte(ev)


@functools.cache
def statements_for(dialect_name: str) -> Statements:
    """The compiled statements of ``dialect_name``, shared by every store of this process (they
    are immutable; the shape caches only grow)."""
    return Statements(dialect_name)


def dialect_for(name: str) -> Dialect:
    """The SQLAlchemy dialect used to compile statements for ``name`` (sqlite | postgresql)."""
    if name == "sqlite":
        return sqlite_dialects.dialect()
    if name == "postgresql":
        # SQLAlchemy leaves the asyncpg dialect's constructor unannotated.
        return cast(Dialect, pg_dialects.asyncpg.dialect())  # type: ignore[no-untyped-call]
    raise ValueError(f"unsupported SQL dialect {name!r}; expected sqlite or postgresql")


def compile_q(stmt: ClauseElement, dialect: Dialect, column_keys: Sequence[str] | None = None) -> Q:
    """Compile ``stmt`` for ``dialect`` into a ``Q``."""
    compiled = cast(
        SQLCompiler, stmt.compile(dialect=dialect, column_keys=list(column_keys) if column_keys else None)
    )
    names = tuple(compiled.positiontup or ())
    fixed = {
        n: b.value for n, b in compiled.binds.items() if n in names and not b.required and b.value is not None
    }
    return Q(compiled.string, names, fixed)


class Statements:
    """Every fixed statement of the store, compiled for one dialect, plus a shape cache.

    Parameter conventions: ``owner_id`` + ``conversation_id`` name a conversation in its owner's
    scope; ``pk`` is its surrogate key once known; ``now`` is the store's clock.
    """

    def __init__(self, dialect_name: str) -> None:
        self.dialect_name = dialect_name
        self.dialect = dialect_for(dialect_name)
        self.is_pg = dialect_name == "postgresql"
        self._cache: dict[Hashable, Q] = {}
        self._memo: dict[Any, Any] = {}
        q = self.q
        #: Columns selected for a message (``message_columns``).
        self.msg_cols = message_columns(dialect_name)
        owner_conv = sa.and_(C.c.owner_id == bp("owner_id"), C.c.id == bp("conversation_id"))
        by_pk = C.c.pk == bp("pk")

        # accounts and keys
        self.account_get = q(sa.select(A.c.name, A.c.created_at).where(A.c.name == bp("name")))
        self.account_insert = q(self._insert_ignore(A, ["name"]), ["name", "created_at"])
        self.api_key_get = q(sa.select(K.c.account).where(K.c.key_hash == bp("key_hash")))
        self.api_key_upsert = q(
            self._upsert(K, ["key_hash"], ["label"]), ["key_hash", "account", "label", "created_at"]
        )
        self.account_for_key = q(
            sa.select(A.c.name, A.c.created_at)
            .select_from(K.join(A, A.c.name == K.c.account))
            .where(K.c.key_hash == bp("key_hash"))
        )
        api_key_cols = (K.c.key_hash, K.c.account, K.c.label, K.c.created_at)
        self.api_key_row = q(sa.select(*api_key_cols).where(K.c.key_hash == bp("key_hash")))
        self.api_key_delete = q(sa.delete(K).where(K.c.key_hash == bp("key_hash")))
        #: ``api_keys_where[(by_account, by_prefix)]``: the keys, oldest first, filtered by
        #: ``account`` and/or ``prefix`` (a lowercase hex prefix: no LIKE wildcards in it).
        self.api_keys_where = {
            (by_account, by_prefix): q(
                sa.select(*api_key_cols)
                .where(
                    K.c.account == bp("account") if by_account else sa.true(),
                    K.c.key_hash.like(bp("prefix") + "%") if by_prefix else sa.true(),
                )
                .order_by(K.c.created_at, K.c.key_hash)
            )
            for by_account in (False, True)
            for by_prefix in (False, True)
        }

        # conversations
        self.conv_get = q(sa.select(*CONV_COLS).where(owner_conv))
        self.conv_get_for_update = q(sa.select(*CONV_COLS).where(owner_conv).with_for_update())
        self.conv_pk = q(sa.select(C.c.pk).where(owner_conv))
        self.conv_lock = q(sa.select(C.c.pk, C.c.status).where(owner_conv).with_for_update())
        self.conv_by_session_id = q(
            sa.select(*CONV_COLS).where(C.c.owner_id == bp("owner_id"), C.c.session_id == bp("session_id"))
        )
        self.conv_by_session_key = q(
            sa.select(*CONV_COLS).where(C.c.owner_id == bp("owner_id"), C.c.session_key == bp("session_key"))
        )
        #: The id of the owner's conversation named by reference ``:conversation_id`` (id, else
        #: session_id, else session_key), one row or none.
        ranked = _ranked_ref(C.c.id)
        self.conv_ref_id = q(sa.select(ranked.c.id).order_by(ranked.c.rank).limit(1))
        # One indexed lookup per key, glued by UNION ALL (issue 15): an OR over the three columns
        # cannot use one index and scanned every conversation of the owner (41 ms per lookup at
        # 14k conversations); each branch here is a point lookup in its own unique index
        # (``uq_conversations_owner_id``, ``uq_conversations_owner_session_id`` / ``…_key``,
        # partial indexes that ``session_id = ?`` implies). A row may come back twice.
        taken_cols = (C.c.id, C.c.session_id, C.c.session_key)
        self.conv_taken = q(
            sa.union_all(
                sa.select(*taken_cols).where(C.c.owner_id == bp("owner_id"), C.c.id == bp("id")),
                sa.select(*taken_cols).where(
                    C.c.owner_id == bp("owner_id"), C.c.session_id == bp("session_id")
                ),
                sa.select(*taken_cols).where(
                    C.c.owner_id == bp("owner_id"), C.c.session_key == bp("session_key")
                ),
            )
        )
        self.session_id_taken = q(
            sa.select(C.c.pk).where(
                C.c.owner_id == bp("owner_id"), C.c.session_id == bp("session_id"), C.c.pk != bp("pk")
            )
        )
        self.conv_insert = q(sa.insert(C).returning(C.c.pk), CONVERSATION_COLUMNS)
        self.conv_insert_ids = q(sa.insert(C).returning(C.c.pk, C.c.id), CONVERSATION_COLUMNS)
        if not self.is_pg:
            # Bulk import (SQLite): the keys already taken among a whole group, lists bound as
            # JSON arrays (json_each), so the statement does not depend on the group's size.
            def listed(name: str) -> sa.Select[Any]:
                return sa.select(sa.literal_column("value")).select_from(sa.func.json_each(bp(name)))

            self.conv_taken_many = q(
                sa.union_all(
                    sa.select(*taken_cols).where(C.c.owner_id == bp("owner_id"), C.c.id.in_(listed("ids"))),
                    sa.select(*taken_cols).where(
                        C.c.owner_id == bp("owner_id"), C.c.session_id.in_(listed("session_ids"))
                    ),
                    sa.select(*taken_cols).where(
                        C.c.owner_id == bp("owner_id"), C.c.session_key.in_(listed("session_keys"))
                    ),
                )
            )
        self.conv_update = q(
            sa.update(C).where(by_pk).values({n: bp(f"v_{n}", type_=C.c[n].type) for n in _UPDATED_ON_EDIT})
        )
        self.conv_delete = q(sa.delete(C).where(owner_conv))
        self.conv_branches = q(
            sa.select(C.c.id, C.c.forked_at_seq).where(
                C.c.owner_id == bp("owner_id"), C.c.parent_id == bp("conversation_id")
            )
        )
        self.conv_branch_records = q(
            sa.select(*CONV_COLS)
            .where(C.c.owner_id == bp("owner_id"), C.c.parent_id == bp("conversation_id"))
            .order_by(C.c.created_at, C.c.id)
        )
        self.msg_count_above = q(
            sa.select(sa.func.count())
            .select_from(M)
            .where(M.c.conversation_pk == bp("pk"), M.c.seq > bp("seq", type_=sa.BigInteger()))
        )
        self.conv_set_status = q(
            sa.update(C)
            .where(by_pk)
            .values(status=bp("status"), updated_at=bp("now", type_=C.c.updated_at.type))
        )
        self.conv_set_server_state = q(
            sa.update(C)
            .where(by_pk)
            .values(
                server_state=bp("server_state", type_=C.c.server_state.type),
                updated_at=bp("now", type_=C.c.updated_at.type),
            )
        )
        # The append's lock + seq reservation (see _reserve_counters), then the activity times.
        self.conv_reserve = q(
            _reserve_counters(owner_conv).returning(
                C.c.pk, C.c.last_seq, C.c.message_count, C.c.updated_at, C.c.last_activity_at
            )
        )
        self.conv_touch = q(
            sa.update(C)
            .where(by_pk)
            .values(
                updated_at=bp("updated_at", type_=C.c.updated_at.type),
                last_activity_at=bp("last_activity_at", type_=C.c.last_activity_at.type),
            )
        )
        # PostgreSQL: reservation and INSERT in one statement (data-modifying CTEs), so the row
        # lock is held only while the server runs it, not across client round trips; a batch
        # travels as one array per column (unnest … WITH ORDINALITY keeps batch order).
        self.msg_append_pg = q(_append_cte(owner_conv)) if self.is_pg else None
        self.msg_append_pg_one = q(_append_one_cte(owner_conv)) if self.is_pg else None
        self.conv_count_delta = q(
            sa.update(C)
            .where(by_pk)
            .values(
                message_count=C.c.message_count + bp("delta", type_=sa.BigInteger()),
                updated_at=bp("now", type_=C.c.updated_at.type),
            )
        )

        # participants
        self.participant_insert = q(
            self._insert_ignore(P, ["conversation_pk", "participant_id"]),
            [
                "conversation_pk",
                "participant_id",
                "owner_id",
                "participant_type",
                "participant_role",
                "position",
            ],
        )
        self.participant_delete_all = q(sa.delete(P).where(P.c.conversation_pk == bp("pk")))

        # messages
        self.msg_insert = q(sa.insert(M).inline(), MESSAGE_COLUMNS)
        msg_key = sa.and_(M.c.conversation_pk == bp("pk"), M.c.id == bp("id"))
        self.msg_by_id = q(sa.select(*self.msg_cols).where(msg_key))
        self.msg_get_owned = q(
            sa.select(*self.msg_cols).where(M.c.conversation_pk == owned_pk(), M.c.id == bp("id"))
        )
        self.msg_exists = q(sa.select(M.c.seq).where(msg_key))
        self.msg_delete = q(sa.delete(M).where(msg_key))
        self.msg_last = q(
            sa.select(*self.msg_cols).where(M.c.conversation_pk == bp("pk")).order_by(M.c.seq.desc()).limit(1)
        )
        self.msg_delete_seq = q(sa.delete(M).where(M.c.conversation_pk == bp("pk"), M.c.seq == bp("seq")))
        self.msg_delete_all = q(sa.delete(M).where(M.c.conversation_pk == bp("pk")))
        self.msg_first_seq = q(sa.select(sa.func.min(M.c.seq)).where(M.c.conversation_pk == bp("pk")))
        self.msg_update = q(
            sa.update(M)
            .where(msg_key)
            .values({n: bp(f"v_{n}", type_=M.c[n].type) for n in _UPDATED_ON_MESSAGE_EDIT})
        )

        # lifecycle events
        self.event_insert = q(sa.insert(E).inline(), EVENT_COLUMNS)
        self.event_list = q(
            sa.select(*[E.c[n] for n in EVENT_COLUMNS[1:]])
            .where(E.c.conversation_pk == owned_pk())
            .order_by(E.c.row_id)
        )

        # memory
        self.memory_list = q(
            sa.select(*[MEM.c[n] for n in MEMORY_COLUMNS[1:]])
            .where(MEM.c.conversation_pk == owned_pk())
            .order_by(MEM.c.key)
        )
        self.memory_upsert = q(
            self._upsert(MEM, ["conversation_pk", "key"], ["value", "updated_at"]), MEMORY_COLUMNS
        )
        self.memory_delete = q(
            sa.delete(MEM).where(MEM.c.conversation_pk == bp("pk"), MEM.c.key == bp("key"))
        )

        # provider calls
        self.call_insert = q(sa.insert(PC).inline(), PROVIDER_CALL_COLUMNS)
        self.call_list = q(
            sa.select(*[PC.c[n] for n in PROVIDER_CALL_READ_COLUMNS])
            .where(PC.c.conversation_pk == owned_pk())
            .order_by(PC.c.row_id)
        )

        # analytics
        self.stats = q(
            sa.select(
                C.c.status,
                C.c.kind,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(C.c.message_count), 0),
                sa.func.coalesce(sa.func.sum(sa.case((C.c.message_count > 0, 1), else_=0)), 0),
            )
            .where(C.c.owner_id == bp("owner_id"))
            .group_by(C.c.status, C.c.kind)
        )

    # -- helpers ------------------------------------------------------------------------------
    def q(self, stmt: ClauseElement, column_keys: Sequence[str] | None = None) -> Q:
        """Compile ``stmt`` for this dialect."""
        return compile_q(stmt, self.dialect, column_keys)

    def cached(self, key: Hashable, build: Callable[[], ClauseElement]) -> Q:
        """The compiled statement for ``key``, building and compiling it on first use."""
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self.q(build())
        return found

    def memo(self, key: Any, build: Callable[[], T]) -> T:
        """``build()``, remembered under ``key`` (a query object; at most ``MEMO_SIZE`` kept).
        Unhashable keys are not remembered."""
        try:
            found = self._memo.get(key, _MISSING)
        except TypeError:
            return build()
        if found is _MISSING:
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            found = self._memo[key] = build()
        return found  # type: ignore[no-any-return]

    def _insert_ignore(self, table: sa.Table, conflict: list[str]) -> ClauseElement:
        mod = pg_dialects if self.is_pg else sqlite_dialects
        return mod.insert(table).on_conflict_do_nothing(index_elements=conflict)  # type: ignore[no-any-return]

    def _upsert(self, table: sa.Table, conflict: list[str], update: list[str]) -> ClauseElement:
        mod = pg_dialects if self.is_pg else sqlite_dialects
        ins = mod.insert(table)
        return ins.on_conflict_do_update(  # type: ignore[no-any-return]
            index_elements=conflict, set_={n: ins.excluded[n] for n in update}
        )
