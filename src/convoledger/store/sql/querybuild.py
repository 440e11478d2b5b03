"""Statements whose shape depends on the query: conversation listings, message windows and
counts, the idle sweep.

Each builder returns a compiled ``Q`` from the dialect's shape cache (``Statements.cached``,
keyed by which filters the query uses, never by their values) and the bound parameters, so a
steady workload compiles nothing. Semantics are those of ``store/querying.py`` (the memory
backend), which the callers have already used to validate the query:

- listings: filters, then ``updated_at`` desc / ``id`` desc, keyset ``before`` (exclusive) or
  ``offset``, ``limit``; ``total`` counts the filters only. ``name_contains`` is a literal,
  case-insensitive substring of ``name`` or ``session_id`` (``instr``/``strpos``, so ``%`` and
  ``_`` are not wildcards; lower-casing by Python's ``str.lower`` on SQLite, ``lower()`` on
  PostgreSQL);
- message windows: filters, then keyset bounds, then ``last`` (newest N, returned oldest first)
  or ``limit``/``offset`` oldest first. Every message statement is scoped by
  ``conversation_pk = (SELECT pk … WHERE owner_id = … AND id = …)``, so another owner's
  conversation yields no rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from convoledger.models.status import ConversationStatus
from convoledger.models.timeutil import ensure_utc
from convoledger.store.base import ConversationQuery, MessageQuery
from convoledger.store.sql.codec import Codec
from convoledger.store.sql.search import search_condition, search_parameter
from convoledger.store.sql.statements import (
    CONV_COLS,
    C,
    M,
    P,
    Q,
    Statements,
    bp,
    owned_pk,
    ref_other_id,
    ref_root_pk,
)


def _ts(codec: Codec, value: datetime) -> Any:
    return codec.ts_in(ensure_utc(value))


# -- conversations ----------------------------------------------------------------------------

_CONV_FILTERS = (
    "status",
    "kind",
    "participant_id",
    "name_contains",
    "created_from",
    "created_to",
    "updated_from",
    "updated_to",
    "idle_before",
)


def _conversation_conditions(st: Statements, shape: tuple[str, ...]) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = [C.c.owner_id == bp("owner_id")]
    for name in shape:
        if name == "status":
            conds.append(C.c.status == bp("status"))
        elif name == "kind":
            conds.append(C.c.kind == bp("kind"))
        elif name == "participant_id":
            conds.append(
                sa.exists().where(P.c.conversation_pk == C.c.pk, P.c.participant_id == bp("participant_id"))
            )
        elif name == "name_contains":
            if st.is_pg:

                def contains(col: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
                    return sa.func.strpos(sa.func.lower(sa.func.coalesce(col, "")), bp("needle")) > 0
            else:

                def contains(col: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
                    return (
                        sa.func.instr(sa.func.convoledger_lower(sa.func.coalesce(col, "")), bp("needle")) > 0
                    )

            conds.append(sa.or_(contains(C.c.name), contains(C.c.session_id)))
        elif name == "created_from":
            conds.append(C.c.created_at >= bp("created_from", type_=C.c.created_at.type))
        elif name == "created_to":
            conds.append(C.c.created_at <= bp("created_to", type_=C.c.created_at.type))
        elif name == "updated_from":
            conds.append(C.c.updated_at >= bp("updated_from", type_=C.c.updated_at.type))
        elif name == "updated_to":
            conds.append(C.c.updated_at <= bp("updated_to", type_=C.c.updated_at.type))
        elif name == "idle_before":
            conds.append(C.c.last_activity_at < bp("idle_before", type_=C.c.last_activity_at.type))
    return conds


def conversation_listing(
    st: Statements, codec: Codec, owner_id: str, query: ConversationQuery
) -> tuple[Q, Q, dict[str, Any]]:
    """``(page statement, count statement, params)`` for a validated ``ConversationQuery``."""
    params: dict[str, Any] = {"owner_id": owner_id, "limit": query.limit, "offset": query.offset}
    shape: list[str] = []
    for name in _CONV_FILTERS:
        value = getattr(query, name)
        if value is None:
            continue
        shape.append(name)
        if name in ("status", "kind"):
            params[name] = value.value if hasattr(value, "value") else str(value)
        elif name == "name_contains":
            params["needle"] = value.lower()
        elif isinstance(value, datetime):
            params[name] = _ts(codec, value)
        else:
            params[name] = value
    key = tuple(shape)
    keyset = query.before is not None
    if keyset:
        assert query.before is not None
        params["b_at"] = _ts(codec, query.before[0])
        params["b_id"] = query.before[1]

    def build_page() -> sa.Select[Any]:
        conds = _conversation_conditions(st, key)
        if keyset:
            conds.append(
                sa.tuple_(C.c.updated_at, C.c.id)
                < sa.tuple_(bp("b_at", type_=C.c.updated_at.type), bp("b_id", type_=C.c.id.type))
            )
        return (
            sa.select(*CONV_COLS)
            .where(*conds)
            .order_by(C.c.updated_at.desc(), C.c.id.desc())
            .limit(bp("limit", type_=sa.BigInteger()))
            .offset(bp("offset", type_=sa.BigInteger()))
        )

    def build_count() -> sa.Select[Any]:
        return sa.select(sa.func.count()).select_from(C).where(*_conversation_conditions(st, key))

    page = st.cached(("conv_page", key, keyset), build_page)
    count = st.cached(("conv_count", key), build_count)
    return page, count, params


def idle_query(
    st: Statements,
    codec: Codec,
    cutoff: datetime,
    limit: int,
    statuses: Sequence[ConversationStatus],
    created_before: datetime | None = None,
    after: tuple[datetime, str] | None = None,
) -> tuple[Q, dict[str, Any]]:
    """The ``conversations_idle_since`` statement for ``len(statuses)`` statuses (at least one),
    with ``created_at < created_before`` and the keyset ``(last_activity_at, id) > after`` when
    those are given."""
    k = len(statuses)
    params: dict[str, Any] = {f"s{i}": s.value for i, s in enumerate(statuses)}
    params.update(cutoff=_ts(codec, cutoff), limit=limit)
    by_age = created_before is not None
    if created_before is not None:
        params["created_before"] = _ts(codec, created_before)
    keyset = after is not None
    if after is not None:
        params.update(after_at=_ts(codec, after[0]), after_id=after[1])

    def build() -> sa.Select[Any]:
        conds = [
            C.c.status.in_([bp(f"s{i}") for i in range(k)]),
            C.c.last_activity_at < bp("cutoff", type_=C.c.last_activity_at.type),
        ]
        if by_age:
            conds.append(C.c.created_at < bp("created_before", type_=C.c.created_at.type))
        if keyset:
            at = bp("after_at", type_=C.c.last_activity_at.type)
            same_time_later_id = sa.and_(C.c.last_activity_at == at, C.c.id > bp("after_id"))
            conds.append(sa.or_(C.c.last_activity_at > at, same_time_later_id))
        return (
            sa.select(*CONV_COLS)
            .where(*conds)
            .order_by(C.c.last_activity_at, C.c.id)
            .limit(bp("limit", type_=sa.BigInteger()))
        )

    return st.cached(("idle", k, by_age, keyset), build), params


# -- messages ---------------------------------------------------------------------------------

_MSG_FILTERS = ("role", "sender", "recipient", "message_type", "since", "until", "search")


def _message_conditions(
    st: Statements, codec: Codec, query: MessageQuery
) -> tuple[tuple[str, ...], dict[str, Any]]:
    params: dict[str, Any] = {}
    shape: list[str] = []
    for name in _MSG_FILTERS:
        value = getattr(query, name)
        if value is None:
            continue
        shape.append(name)
        if name in ("since", "until"):
            params[name] = _ts(codec, value)
        elif name == "search":
            params["search"] = search_parameter(value, st.dialect_name)
        else:
            params[name] = value
    return tuple(shape), params


def _build_conditions(st: Statements, shape: Sequence[str]) -> list[sa.ColumnElement[bool]]:
    # "by_ref": the conversation is named by a reference (id / session_id / session_key) and
    # must not be a branch (``statements.ref_root_pk``): resolution and read in one statement.
    scope = ref_root_pk() if "by_ref" in shape else owned_pk()
    conds: list[sa.ColumnElement[bool]] = [M.c.conversation_pk == scope]
    for name in shape:
        if name in ("role", "sender", "recipient", "message_type"):
            conds.append(M.c[name] == bp(name))
        elif name == "since":
            conds.append(M.c.created_at >= bp("since", type_=M.c.created_at.type))
        elif name == "until":
            conds.append(M.c.created_at <= bp("until", type_=M.c.created_at.type))
        elif name == "search":
            conds.append(search_condition(st.dialect_name))
        elif name == "after_seq":
            conds.append(M.c.seq > bp("after_seq", type_=sa.BigInteger()))
        elif name == "before_seq":
            conds.append(M.c.seq < bp("before_seq", type_=sa.BigInteger()))
    return conds


def message_window(
    st: Statements,
    codec: Codec,
    owner_id: str,
    conversation_id: str,
    query: MessageQuery,
    *,
    by_ref: bool = False,
) -> tuple[Q, list[Any], bool]:
    """``(statement, positional args, newest_first)`` for a validated ``MessageQuery``; rows come
    newest first (to be reversed) when the window is ``last``. Remembered per query object: a
    repeated query costs a lookup and a list copy. ``by_ref``: ``conversation_id`` is a
    reference (id, session_id or session_key) and a branch gives no rows
    (``statements.ref_root_pk``)."""
    stmt, template, owner_at, conversation_at, newest_first = st.memo(
        ("window", query, by_ref), lambda: _positional(*_window(st, codec, query, by_ref))
    )
    args = template.copy()
    for i in owner_at:
        args[i] = owner_id
    for i in conversation_at:
        args[i] = conversation_id
    return stmt, args, newest_first


def _positional(
    stmt: Q, params: dict[str, Any], newest_first: bool
) -> tuple[Q, list[Any], tuple[int, ...], tuple[int, ...], bool]:
    """A statement's args with the owner and conversation left blank, and where they go."""
    names = list(stmt.names)
    owner_at = tuple(i for i, n in enumerate(names) if n == "owner_id")
    conversation_at = tuple(i for i, n in enumerate(names) if n == "conversation_id")
    if not owner_at or not conversation_at:
        raise AssertionError(f"unexpected parameters {names} for a message window")
    filled = {**params, "owner_id": None, "conversation_id": None}
    return stmt, list(stmt.args(filled)), owner_at, conversation_at, newest_first


def _window_bound(st: Statements, name: str, shape: Sequence[str]) -> sa.ColumnElement[Any]:
    """The bound parameter ``name`` of a window's LIMIT/OFFSET; on PostgreSQL, unless the window
    searches, wrapped in a scalar subquery (``LIMIT (SELECT $n)``).

    Why: asyncpg prepares each statement once per connection and PostgreSQL's plan cache then
    compares a generic plan (LIMIT value unknown: costed as 10 % of the estimated rows) with
    custom plans (LIMIT known). For a recent-N read of a conversation estimated at a few hundred
    rows the custom plan looks cheaper, so PostgreSQL re-plans on every execution (measured on
    the benchmark's data: ``pg_prepared_statements`` showed 2,030 custom plans and 0 generic ones
    after 2,030 reads, and each read took ~50 µs more than the same statement with a literal
    LIMIT). Behind a subquery the value is unknown to custom plans too, so both cost the same,
    the generic plan is kept after the fifth execution, and the plan itself (a backward scan
    of ``uq_messages_conversation_seq`` stopped at the limit) is unchanged.

    Search windows keep the plain parameter: there custom plans matter (a rare word is best
    found through the GIN index, a common one by scanning the conversation), and a generic plan
    would fix one choice for every word."""
    param = bp(name, type_=sa.BigInteger())
    if st.is_pg and "search" not in shape:
        return sa.select(param).scalar_subquery()
    return param


def _window(
    st: Statements, codec: Codec, query: MessageQuery, by_ref: bool = False
) -> tuple[Q, dict[str, Any], bool]:
    filters, params = _message_conditions(st, codec, query)
    bounds = tuple(name for name in ("after_seq", "before_seq") if getattr(query, name) is not None)
    for name in bounds:
        params[name] = getattr(query, name)
    if query.last is not None:
        window: tuple[str, ...] = ("last",)
        params["last"] = query.last
    else:
        window = ("asc",)
        if query.limit is not None:
            window += ("limit",)
            params["limit"] = query.limit
        if query.offset:
            window += ("offset",)
            params["offset"] = query.offset
    shape = filters + bounds + (("by_ref",) if by_ref else ())

    def build() -> sa.Select[Any]:
        cols = list(st.msg_cols)
        if by_ref:  # which conversation the reference named, after the message columns: NULL
            # when the reference is its id (``statements.ref_other_id``; evaluated once per
            # statement, not correlated with the row)
            cols.append(ref_other_id())
        stmt = sa.select(*cols).where(*_build_conditions(st, shape))
        if window == ("last",):
            return stmt.order_by(M.c.seq.desc()).limit(_window_bound(st, "last", shape))
        stmt = stmt.order_by(M.c.seq)
        if "limit" in window:
            stmt = stmt.limit(_window_bound(st, "limit", shape))
        if "offset" in window:
            stmt = stmt.offset(_window_bound(st, "offset", shape))
        return stmt

    return st.cached(("msg_window", shape, window), build), params, window == ("last",)


def message_count(
    st: Statements,
    codec: Codec,
    owner_id: str,
    conversation_id: str,
    query: MessageQuery,
    *,
    by_ref: bool = False,
) -> tuple[Q, dict[str, Any]]:
    """``(statement, params)`` counting the messages that pass the filters of ``query``
    (``by_ref``: as in ``message_window``)."""

    def make() -> tuple[Q, dict[str, Any]]:
        filters, params = _message_conditions(st, codec, query)
        if by_ref:
            filters += ("by_ref",)

        def build() -> sa.Select[Any]:
            return sa.select(sa.func.count()).select_from(M).where(*_build_conditions(st, filters))

        return st.cached(("msg_count", filters), build), params

    stmt, static = st.memo(("count", query, by_ref), make)
    return stmt, {**static, "owner_id": owner_id, "conversation_id": conversation_id}


def message_count_between(
    st: Statements,
    codec: Codec,
    owner_id: str,
    conversation_id: str,
    query: MessageQuery,
    after_seq: int | None,
    before_seq: int | None,
) -> tuple[Q, dict[str, Any]]:
    """``(statement, params)`` counting the messages with ``after_seq < seq < before_seq``
    (bounds optional) that pass the filters of ``query`` (one segment of a branch's history)."""
    filters, params = _message_conditions(st, codec, query)
    bounds = tuple(
        name for name, value in (("after_seq", after_seq), ("before_seq", before_seq)) if value is not None
    )
    if after_seq is not None:
        params["after_seq"] = after_seq
    if before_seq is not None:
        params["before_seq"] = before_seq
    shape = filters + bounds

    def build() -> sa.Select[Any]:
        return sa.select(sa.func.count()).select_from(M).where(*_build_conditions(st, shape))

    stmt = st.cached(("msg_count", shape), build)
    return stmt, {**params, "owner_id": owner_id, "conversation_id": conversation_id}
