"""The SQL store's operations, written once as synchronous code over a ``Cx`` (see ``cx.py``).

Each function is one ``Store`` call: it runs on a SQLite lane thread or in a PostgreSQL greenlet
and does its whole transaction there. Reads that are a single statement are built as
``ReadPlan``s instead (``get_conversation``, ``list_messages``, …), and the PostgreSQL append as a
``StatementPlan`` (``append_plan``), which a driver may run without the synchronous bridge.
Inputs arrive validated by the store (``querying`` rules);
what is checked here is what needs the database (existence, ownership, uniqueness, status).

Concurrency rules (DESIGN.md invariants 2, 3, 4, 9):

- every write runs in ``cx.write()`` (SQLite ``BEGIN IMMEDIATE``, PostgreSQL ``BEGIN``);
- a write that depends on the conversation's state locks its row first (``SELECT … FOR
  UPDATE``, or the ``UPDATE`` of the append) — on SQLite the database write lock already
  serialises writers;
- appends reserve seqs with one ``UPDATE … SET last_seq = last_seq + n … RETURNING`` in the same
  transaction as the INSERT, so seq order is commit order (SQLite: inside ``BEGIN IMMEDIATE``,
  then one multi-row INSERT; PostgreSQL: both in a single autocommitted statement, so the row
  lock is never held across client round trips). A duplicate id makes the optimistic INSERT
  fail, everything rolls back (no seq is consumed) and the slow path retries with the stored
  ids looked up under the lock;
- every write also records its events (the outbox, issue 18) with ``outbox_sql.record_events``
  as the last statement of its transaction (the PostgreSQL append inside its one statement);
- SQLite search indexing is deferred (``search.py``): every transaction that inserts messages
  calls ``cx.messages_inserted()``, which indexes the pending rows in that transaction once a
  batch of them is waiting; searches index the rest first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from convoledger.errors import Conflict, ConversationNotActive, LedgerError, NotFound
from convoledger.models import events as ev
from convoledger.models.records import ConversationRecord, MemoryEntry, MessageRecord, ProviderCallRecord
from convoledger.models.status import ConversationStatus, LifecycleEvent, make_transition
from convoledger.store import lineage, outbox
from convoledger.store import querying as q
from convoledger.store.base import (
    Account,
    ApiKey,
    ConversationPage,
    ConversationQuery,
    MessageQuery,
    OwnerStats,
)
from convoledger.store.outbox import owner_key
from convoledger.store.sql.codec import MESSAGE_COLUMNS, Codec, dump_json
from convoledger.store.sql.cx import (
    Cx,
    IntegrityViolation,
    ReadPlan,
    StatementPlan,
    run_plan,
    run_statement_plan,
)
from convoledger.store.sql.outbox_sql import record_events
from convoledger.store.sql.querybuild import (
    conversation_listing,
    idle_query,
    message_count,
    message_count_between,
    message_window,
)
from convoledger.store.sql.statements import APPEND_PAYLOAD_COLUMNS, Q, Statements

T = TypeVar("T")


def _conv_missing(conversation_id: str) -> NotFound:
    return NotFound(f"conversation {conversation_id!r} not found")


def _msg_missing(conversation_id: str, message_id: str) -> NotFound:
    return NotFound(f"message {message_id!r} not found in conversation {conversation_id!r}")


def _scope(owner_id: str, conversation_id: str) -> dict[str, Any]:
    return {"owner_id": owner_id, "conversation_id": conversation_id}


def _require_pk(cx: Cx, owner_id: str, conversation_id: str, *, lock: bool = False) -> int:
    """The conversation's surrogate key (row-locked when ``lock``); ``NotFound`` otherwise."""
    row = cx.first(cx.st.conv_lock if lock else cx.st.conv_pk, _scope(owner_id, conversation_id))
    if row is None:
        raise _conv_missing(conversation_id)
    return int(row[0])


# -- accounts ---------------------------------------------------------------------------------


def ensure_account(cx: Cx, name: str, now: datetime) -> Account:
    """Account ``name``, created at ``now`` if missing."""
    row = cx.first(cx.st.account_get, {"name": name})
    if row is None:
        with cx.write():
            cx.execute(cx.st.account_insert, (name, cx.codec.ts_in(now)))
            row = cx.first(cx.st.account_get, {"name": name})
    assert row is not None
    return Account(name=row[0], created_at=cx.codec.ts_out(row[1]))


def add_api_key(cx: Cx, account: str, key_hash: str, label: str | None, now: datetime) -> None:
    """Bind ``key_hash`` to ``account`` (label replaced if already bound to it)."""
    with cx.write():
        if cx.first(cx.st.account_get, {"name": account}) is None:
            raise NotFound(f"account {account!r} not found")
        if not isinstance(key_hash, str) or not key_hash:
            raise ValueError("key_hash must be a non-empty string")
        bound = cx.first(cx.st.api_key_get, {"key_hash": key_hash})
        if bound is not None and bound[0] != account:
            raise Conflict("this API key is already bound to another account")
        cx.execute(cx.st.api_key_upsert, (key_hash, account, label, cx.codec.ts_in(now)))


def account_for_key(st: Statements, codec: Codec, key_hash: str) -> ReadPlan[Account | None]:
    """The account bound to ``key_hash``, or ``None``."""

    def finish(rows: list[Sequence[Any]]) -> Account | None:
        return Account(name=rows[0][0], created_at=codec.ts_out(rows[0][1])) if rows else None

    return ReadPlan(st.account_for_key, {"key_hash": key_hash}, finish)


def _api_key(codec: Codec, row: Sequence[Any]) -> ApiKey:
    return ApiKey(key_hash=row[0], account=row[1], label=row[2], created_at=codec.ts_out(row[3]))


def list_api_keys(
    st: Statements, codec: Codec, account: str | None, key_hash_prefix: str
) -> ReadPlan[list[ApiKey]]:
    """The keys of ``account`` (all when ``None``) whose hash starts with ``key_hash_prefix``
    (checked lowercase hex by the caller), oldest first."""
    params: dict[str, Any] = {}
    if account is not None:
        params["account"] = account
    if key_hash_prefix:
        params["prefix"] = key_hash_prefix
    stmt = st.api_keys_where[(account is not None, bool(key_hash_prefix))]

    def finish(rows: list[Sequence[Any]]) -> list[ApiKey]:
        return [_api_key(codec, row) for row in rows]

    return ReadPlan(stmt, params, finish)


def delete_api_key(cx: Cx, key_hash: str) -> ApiKey:
    """Remove the key with this hash and return it; ``NotFound`` if there is none."""
    with cx.write():
        row = cx.first(cx.st.api_key_row, {"key_hash": key_hash})
        if row is None:
            raise NotFound("no API key has this hash")
        cx.execute(cx.st.api_key_delete, {"key_hash": key_hash})
    return _api_key(cx.codec, row)


# -- conversations ----------------------------------------------------------------------------


def _check_new(cx: Cx, owner_id: str, record: ConversationRecord) -> None:
    """``Conflict`` when the owner already has the record's id, session_id or session_key."""
    for cid, sid, skey in cx.all(
        cx.st.conv_taken,
        {
            "owner_id": owner_id,
            "id": record.id,
            "session_id": record.session_id,
            "session_key": record.session_key,
        },
    ):
        if cid == record.id:
            raise Conflict(f"conversation {record.id!r} already exists")
        if record.session_id is not None and sid == record.session_id:
            raise Conflict(f"session_id {record.session_id!r} is already used by another conversation")
        if record.session_key is not None and skey == record.session_key:
            raise Conflict(f"session_key {record.session_key!r} is already used by another conversation")


def _insert_participants(cx: Cx, pk: int, owner_id: str, record: ConversationRecord) -> None:
    rows = [
        (pk, p.participant_id, owner_id, p.participant_type, p.participant_role, i)
        for i, p in enumerate(record.participants)
    ]
    if rows:
        cx.executemany(cx.st.participant_insert, rows)


def _insert_conversation(cx: Cx, owner_id: str, record: ConversationRecord, values: dict[str, Any]) -> int:
    """Insert a prepared conversation (+ participants); its ``pk``. ``Conflict`` when taken."""
    _check_new(cx, owner_id, record)
    try:
        row = cx.first(cx.st.conv_insert, values)
    except IntegrityViolation as exc:  # lost a race with a concurrent create
        raise Conflict(f"conversation {record.id!r}, its session_id or session_key is already used") from exc
    assert row is not None
    pk = int(row[0])
    _insert_participants(cx, pk, owner_id, record)
    return pk


def create_conversation(cx: Cx, owner_id: str, record: ConversationRecord) -> ConversationRecord:
    """Store a prepared conversation (``querying.prepare_conversation``); returns it."""
    values = cx.codec.conversation_values(record)
    with cx.write():
        _insert_conversation(cx, owner_id, record, values)
        record_events(cx, owner_id, [ev.conversation_created_event(record)])
    return record


def _one_conversation(codec: Codec) -> Callable[[list[Sequence[Any]]], ConversationRecord | None]:
    def finish(rows: list[Sequence[Any]]) -> ConversationRecord | None:
        return codec.conversation(rows[0]) if rows else None

    return finish


def get_conversation(st: Statements, codec: Codec, owner_id: str, conversation_id: str) -> ReadPlan[Any]:
    """The conversation, or ``NotFound``."""

    def missing(cx: Cx) -> ConversationRecord:
        raise _conv_missing(conversation_id)

    return ReadPlan(st.conv_get, _scope(owner_id, conversation_id), _one_conversation(codec), missing)


def find_conversation(
    st: Statements, codec: Codec, owner_id: str, session_id: str | None, session_key: str | None
) -> ReadPlan[ConversationRecord | None]:
    """Lookup by session_id (when given) or session_key; ``None`` when absent."""
    if session_id is not None:
        return ReadPlan(
            st.conv_by_session_id, {"owner_id": owner_id, "session_id": session_id}, _one_conversation(codec)
        )
    return ReadPlan(
        st.conv_by_session_key, {"owner_id": owner_id, "session_key": session_key}, _one_conversation(codec)
    )


def list_conversations(cx: Cx, owner_id: str, query: ConversationQuery) -> ConversationPage:
    """A page of the owner's conversations and the total (one snapshot)."""
    page_q, count_q, params = conversation_listing(cx.st, cx.codec, owner_id, query)
    with cx.read():
        rows = cx.all(page_q, params)
        total = cx.first(count_q, params)
    assert total is not None
    return ConversationPage(items=[cx.codec.conversation(r) for r in rows], total=int(total[0]))


def update_conversation(
    cx: Cx, owner_id: str, conversation_id: str, changes: dict[str, Any], now: datetime
) -> ConversationRecord:
    """Apply ``changes`` under the row lock (``querying.apply_conversation_changes`` rules)."""
    with cx.write():
        row = cx.first(cx.st.conv_get_for_update, _scope(owner_id, conversation_id))
        if row is None:
            raise _conv_missing(conversation_id)
        pk = int(row[0])
        updated = q.apply_conversation_changes(cx.codec.conversation(row), changes, now)
        if (
            "session_id" in changes
            and updated.session_id is not None
            and cx.first(
                cx.st.session_id_taken, {"owner_id": owner_id, "session_id": updated.session_id, "pk": pk}
            )
        ):
            raise Conflict(f"session_id {updated.session_id!r} is already used by another conversation")
        values = cx.codec.conversation_values(updated)
        params = {f"v_{k}": values[k] for k in _CONV_EDIT_COLUMNS}
        params["pk"] = pk
        try:
            cx.execute(cx.st.conv_update, params)
        except IntegrityViolation as exc:
            raise Conflict(
                f"session_id {updated.session_id!r} is already used by another conversation"
            ) from exc
        if "participants" in changes:
            cx.execute(cx.st.participant_delete_all, {"pk": pk})
            _insert_participants(cx, pk, owner_id, updated)
        record_events(cx, owner_id, [ev.conversation_updated_event(conversation_id, changes)], now)
    return updated


_CONV_EDIT_COLUMNS = (
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


def delete_conversation(cx: Cx, owner_id: str, conversation_id: str, now: datetime) -> None:
    """Delete the conversation; the schema's cascades delete everything recorded about it (its
    outbox events stay). ``Conflict`` while it has branches (checked under its row lock, which a
    fork of it holds until it commits)."""
    with cx.write():
        _require_pk(cx, owner_id, conversation_id, lock=True)
        lineage.check_deletable(conversation_id, _branch_points(cx, owner_id, conversation_id))
        if cx.execute(cx.st.conv_delete, _scope(owner_id, conversation_id)) == 0:
            raise _conv_missing(conversation_id)
        record_events(cx, owner_id, [ev.conversation_deleted_event(conversation_id)], now)


# -- forks ------------------------------------------------------------------------------------


def _branch_points(cx: Cx, owner_id: str, conversation_id: str) -> list[tuple[str, int]]:
    """``(branch id, forked_at_seq)`` of the conversation's direct branches."""
    return [(r[0], int(r[1])) for r in cx.all(cx.st.conv_branches, _scope(owner_id, conversation_id))]


def _check_removal(cx: Cx, owner_id: str, conversation_id: str, lowest_seq: int | None) -> None:
    """``Conflict`` when a branch shares the conversation's messages from ``lowest_seq`` up."""
    if lowest_seq is not None:
        lineage.check_removal(conversation_id, _branch_points(cx, owner_id, conversation_id), lowest_seq)


def _as_branch(cx: Cx, owner_id: str, enc: EncodedImport) -> EncodedImport:
    """``enc`` with its branch record checked against the parent and counted
    (``store/lineage.py``). Locks the parent's row (PostgreSQL ``FOR UPDATE``) so that no removal
    of the shared messages, and no deletion of the parent, commits before this fork does."""
    record = enc.record
    assert record.parent_id is not None and record.forked_at_seq is not None
    codec = cx.codec
    row = cx.first(cx.st.conv_get_for_update, _scope(owner_id, record.parent_id))
    if row is None:
        raise NotFound(f"parent conversation {record.parent_id!r} not found")
    pks = {record.parent_id: int(row[0])}
    parent = codec.conversation(row)

    def get(cid: str) -> ConversationRecord:
        found = cx.first(cx.st.conv_get, _scope(owner_id, cid))
        if found is None:
            raise NotFound(f"ancestor conversation {cid!r} not found")
        pks[cid] = int(found[0])
        return codec.conversation(found)

    def own_above(conv: ConversationRecord, seq: int) -> int:
        counted = cx.first(cx.st.msg_count_above, {"pk": pks[conv.id], "seq": seq})
        return int(counted[0]) if counted else 0

    lineage.check_chain_depth(parent, get)
    lineage.check_fork_point(parent, record.forked_at_seq)
    inherited = lineage.visible_upto(parent, record.forked_at_seq, get, own_above)
    # ``prepare_import`` already raised ``last_seq`` to the highest own seq and checked the seqs.
    branch = lineage.branch_record(record, parent, inherited + enc.count, [])
    values = {**enc.values, "message_count": branch.message_count, "last_seq": branch.last_seq}
    return EncodedImport(branch, values, enc.messages, enc.count, enc.events, enc.memory, enc.calls)


def list_branches(cx: Cx, owner_id: str, conversation_id: str) -> list[ConversationRecord]:
    """The conversation's direct branches, oldest first; ``NotFound`` if it is missing."""
    with cx.read():
        _require_pk(cx, owner_id, conversation_id)
        rows = cx.all(cx.st.conv_branch_records, _scope(owner_id, conversation_id))
    return [cx.codec.conversation(r) for r in rows]


def transition(
    cx: Cx,
    owner_id: str,
    conversation_id: str,
    target: ConversationStatus,
    reason: str | None,
    actor: str | None,
    now: datetime,
) -> tuple[ConversationRecord, LifecycleEvent]:
    """Check and apply a lifecycle move under the row lock; record its event."""
    with cx.write():
        row = cx.first(cx.st.conv_get_for_update, _scope(owner_id, conversation_id))
        if row is None:
            raise _conv_missing(conversation_id)
        pk = int(row[0])
        current = cx.codec.conversation(row)
        event = make_transition(conversation_id, current.status, target, reason=reason, actor=actor, at=now)
        cx.execute(
            cx.st.conv_set_status, {"pk": pk, "status": event.to_status.value, "now": cx.codec.ts_in(now)}
        )
        cx.execute(cx.st.event_insert, cx.codec.event_row(event, pk))
        record_events(cx, owner_id, [ev.lifecycle_event(event)], now)
    return current.model_copy(update={"status": event.to_status, "updated_at": now}), event


def _children(
    st: Statements,
    q: Q,
    owner_id: str,
    conversation_id: str,
    decode: Callable[[Sequence[Any], str], T],
) -> ReadPlan[list[T]]:
    """An owner-scoped child list: rows decoded; none → ``NotFound`` unless the conversation
    exists (then ``[]``)."""

    def finish(rows: list[Sequence[Any]]) -> list[T]:
        return [decode(r, conversation_id) for r in rows]

    def empty(cx: Cx) -> list[T]:
        _require_pk(cx, owner_id, conversation_id)
        return []

    return ReadPlan(q, _scope(owner_id, conversation_id), finish, empty)


def list_lifecycle_events(
    st: Statements, codec: Codec, owner_id: str, conversation_id: str
) -> ReadPlan[list[LifecycleEvent]]:
    """The conversation's events in recording order."""
    return _children(st, st.event_list, owner_id, conversation_id, codec.event)


@dataclass(frozen=True, slots=True)
class EncodedImport:
    """An ``import_conversation`` payload encoded for the driver (everything but the
    conversation's ``pk``, which the INSERT returns): built outside the write lane so that
    Python work of the next import overlaps the database work of this one."""

    record: ConversationRecord
    values: dict[str, Any]
    messages: list[Any]  # flat INSERT values, MESSAGE_COLUMNS per row; conversation_pk slots are 0
    count: int  # messages
    events: list[tuple[Any, ...]]
    memory: list[tuple[Any, ...]]
    calls: list[tuple[Any, ...]]


def encode_import(codec: Codec, bundle: q.ImportBundle) -> EncodedImport:
    """Encode a prepared bundle (``ValueError`` for a value that cannot be stored)."""
    row = codec.message_row
    flat: list[Any] = []
    for m in bundle.messages:
        flat.extend(row(m, 0, m.seq))
    return EncodedImport(
        record=bundle.conversation,
        values=codec.conversation_values(bundle.conversation),
        messages=flat,
        count=len(bundle.messages),
        events=[codec.event_row(e, 0)[1:] for e in bundle.events],
        memory=[codec.memory_row(e, 0)[1:] for e in bundle.memory],
        calls=[codec.provider_call_row(c, 0)[1:] for c in bundle.provider_calls],
    )


def _import_one(cx: Cx, owner_id: str, enc: EncodedImport) -> ConversationRecord:
    st = cx.st
    if enc.record.parent_id is not None:
        _check_new(cx, owner_id, enc.record)
        enc = _as_branch(cx, owner_id, enc)
    pk = _insert_conversation(cx, owner_id, enc.record, enc.values)
    if enc.count:
        flat = enc.messages
        flat[:: len(MESSAGE_COLUMNS)] = [pk] * enc.count
        cx.insert_flat(st.msg_insert, flat)
    if enc.events:
        cx.executemany(st.event_insert, [(pk, *e) for e in enc.events])
    if enc.memory:
        cx.executemany(st.memory_upsert, [(pk, *e) for e in enc.memory])
    if enc.calls:
        cx.executemany(st.call_insert, [(pk, *c) for c in enc.calls])
    return enc.record


def _imported_events(records: Sequence[ConversationRecord]) -> list[ev.EventDraft]:
    return [ev.conversation_created_event(r, imported=True) for r in records]


def import_conversation(cx: Cx, owner_id: str, enc: EncodedImport, now: datetime) -> ConversationRecord:
    """Insert an encoded import in one transaction; ``Conflict`` when the id or a session key
    is taken (nothing written)."""
    with cx.write():
        record = _import_one(cx, owner_id, enc)
        if enc.count:
            cx.messages_inserted()
        record_events(cx, owner_id, _imported_events([record]), now)
        return record


def import_many(
    cx: Cx, owner_id: str, encoded: Sequence[EncodedImport], now: datetime
) -> list[ConversationRecord | LedgerError | ValueError]:
    """Insert several encoded imports in one transaction, each all-or-nothing: a refused one
    (``Conflict``) is reported in its place and the others are stored. One commit for the group
    instead of one per conversation (fewer WAL writes of the shared index pages).

    SQLite takes a group-wide path (``_import_group``: a handful of statements for the whole
    group, so the writer thread hands the GIL back and forth a few times instead of ~10 times
    per conversation while the event loop encodes the next group); anything else, or an
    integrity error there, takes one savepoint per conversation."""
    if cx.multi_row_returning and not any(
        e.events or e.memory or e.calls or e.record.parent_id is not None for e in encoded
    ):
        try:
            return _import_group(cx, owner_id, encoded, now)
        except IntegrityViolation:
            pass  # rolled back; redo conversation by conversation to tell which one failed
    out: list[ConversationRecord | LedgerError | ValueError] = []
    with cx.write():
        for enc in encoded:
            try:
                with cx.savepoint():
                    out.append(_import_one(cx, owner_id, enc))
            except (LedgerError, ValueError) as exc:
                out.append(exc)
        cx.messages_inserted()
        stored = [r for r in out if isinstance(r, ConversationRecord)]
        record_events(cx, owner_id, _imported_events(stored), now)
    return out


def _import_group(
    cx: Cx, owner_id: str, encoded: Sequence[EncodedImport], now: datetime
) -> list[ConversationRecord | LedgerError | ValueError]:
    """SQLite bulk path of ``import_many`` (under BEGIN IMMEDIATE no other writer can take a key
    between the check and the inserts)."""
    st = cx.st
    width = len(MESSAGE_COLUMNS)
    out: list[ConversationRecord | LedgerError | ValueError] = []
    with cx.write():
        records = [e.record for e in encoded]
        taken = cx.all(
            st.conv_taken_many,
            {
                "owner_id": owner_id,
                "ids": dump_json([r.id for r in records], "ids"),
                "session_ids": dump_json([r.session_id for r in records if r.session_id], "ids"),
                "session_keys": dump_json([r.session_key for r in records if r.session_key], "ids"),
            },
        )
        ids = {row[0] for row in taken}
        session_ids = {row[1] for row in taken if row[1] is not None}
        session_keys = {row[2] for row in taken if row[2] is not None}
        keep: list[EncodedImport] = []
        for enc in encoded:
            r = enc.record
            if r.id in ids:
                out.append(Conflict(f"conversation {r.id!r} already exists"))
            elif r.session_id is not None and r.session_id in session_ids:
                out.append(Conflict(f"session_id {r.session_id!r} is already used by another conversation"))
            elif r.session_key is not None and r.session_key in session_keys:
                out.append(Conflict(f"session_key {r.session_key!r} is already used by another conversation"))
            else:
                keep.append(enc)
                out.append(r)
        if keep:
            names = st.conv_insert_ids.names
            flat = [e.values[n] for e in keep for n in names]
            pk_of = {row[1]: int(row[0]) for row in cx.insert_flat_returning(st.conv_insert_ids, flat)}
            messages: list[Any] = []
            people: list[tuple[Any, ...]] = []
            for enc in keep:
                pk = pk_of[enc.record.id]
                if enc.count:
                    part = enc.messages
                    part[::width] = [pk] * enc.count
                    messages += part
                people += [
                    (pk, p.participant_id, owner_id, p.participant_type, p.participant_role, i)
                    for i, p in enumerate(enc.record.participants)
                ]
            if messages:
                cx.insert_flat(st.msg_insert, messages)
                cx.messages_inserted()
            if people:
                cx.executemany(st.participant_insert, people)
            record_events(cx, owner_id, _imported_events([e.record for e in keep]), now)
    return out


# -- messages ---------------------------------------------------------------------------------


def message_payload(codec: Any, m: MessageRecord) -> tuple[Any, ...]:
    """Encoded INSERT values of ``m`` after ``(conversation_pk, seq)`` (``ValueError`` for a
    value that cannot be stored)."""
    return codec.message_row(m, 0, 0)[2:]  # type: ignore[no-any-return]


def _check_appendable(cx: Cx, owner_id: str, conversation_id: str) -> int:
    """Lock the conversation for an append and return its ``pk``; ``NotFound`` /
    ``ConversationNotActive`` when it cannot take one."""
    row = cx.first(cx.st.conv_lock, _scope(owner_id, conversation_id))
    if row is None:
        raise _conv_missing(conversation_id)
    if row[1] != ConversationStatus.ACTIVE.value:
        raise ConversationNotActive(f"conversation {conversation_id!r} is {row[1]}; appends need 'active'")
    return int(row[0])


def _reserve(
    cx: Cx, owner_id: str, conversation_id: str, batch: Sequence[MessageRecord], now: datetime
) -> Any:
    """Run the seq reservation for ``batch`` and move the activity times
    (``querying.activity_after_append``): the ``(pk, last_seq, …)`` row, or ``None`` when the
    conversation is missing or not active (nothing changed then)."""
    codec = cx.codec
    n = len(batch)
    row = cx.first(cx.st.conv_reserve, {"n": n, "owner_id": owner_id, "conversation_id": conversation_id})
    if row is None:
        return None
    pk, _, count, updated_at, last_activity_at = row
    current = (codec.ts_out(updated_at), codec.ts_out(last_activity_at))
    moved = q.activity_after_append(*current, int(count) - n, max(m.created_at for m in batch), now)
    if moved != current:
        cx.execute(
            cx.st.conv_touch,
            {"pk": pk, "updated_at": codec.ts_in(moved[0]), "last_activity_at": codec.ts_in(moved[1])},
        )
    return row


def append_messages(
    cx: Cx, owner_id: str, conversation_id: str, batch: Sequence[MessageRecord], now: datetime
) -> list[MessageRecord]:
    """Append a prepared batch (see the module docstring for the locking)."""
    codec = cx.codec
    if not batch:
        with cx.write():
            _check_appendable(cx, owner_id, conversation_id)
        return []
    if cx.st.is_pg:
        return run_statement_plan(cx, append_plan(cx.st, codec, owner_id, conversation_id, batch, now))
    payloads = [message_payload(codec, m) for m in batch]
    stored: list[MessageRecord] = []
    try:
        with cx.write():
            row = _reserve(cx, owner_id, conversation_id, batch, now)
            if row is not None:
                pk, base = int(row[0]), int(row[1]) - len(batch)
                rows = [(pk, base + i, *p) for i, p in enumerate(payloads, start=1)]
                cx.insert_rows(cx.st.msg_insert, rows)
                cx.messages_inserted()
                # Each stored message is decoded once: for its event and for the result.
                decode = codec.message_from_insert
                stored = [decode(r, conversation_id) for r in rows]
                record_events(cx, owner_id, [ev.message_appended_event(m) for m in stored], now)
    except IntegrityViolation as exc:
        if not exc.violates("uq_messages_conversation_id"):
            raise
        return _append_with_duplicates(cx, owner_id, conversation_id, batch, payloads, now)
    if row is None:
        _check_appendable(cx, owner_id, conversation_id)
        raise AssertionError("unreachable: an active conversation refused a reservation")
    return stored


def _event_extra() -> str:
    """The jsonb merged into the payloads the PostgreSQL append writes: the current
    ``outbox.event_context`` as ``{"context": …}``, or ``{}``."""
    context = outbox.current_context()
    return dump_json({"context": dict(context)} if context else {}, "event context")


def _appended(rows: Sequence[Sequence[Any]], conversation_id: str, codec: Any) -> list[ev.EventDraft]:
    """The ``message.appended`` events of inserted message ``rows`` (INSERT values)."""
    return [ev.message_appended_event(codec.message_from_insert(r, conversation_id)) for r in rows]


def append_plan(
    st: Statements,
    codec: Codec,
    owner_id: str,
    conversation_id: str,
    batch: Sequence[MessageRecord],
    now: datetime,
) -> StatementPlan[list[MessageRecord]]:
    """PostgreSQL: a non-empty prepared batch appended by one autocommitted statement
    (reservation + INSERT, ``statements._append_cte``; one message: ``_append_one_cte``).

    No row back means the conversation is missing or not active (nothing written; the error is
    found under the lock). A duplicate message id makes the statement fail as a whole (nothing
    reserved) and the slow path handles it (invariant 4)."""
    payloads = [message_payload(codec, m) for m in batch]
    n = len(batch)
    latest = max(m.created_at for m in batch)
    params: dict[str, Any] = {
        "n": n,
        "now": codec.ts_in(now),
        "now_floor": codec.ts_in(now - q.ACTIVITY_RESOLUTION),
        "latest": codec.ts_in(latest),
        "latest_floor": codec.ts_in(latest - q.ACTIVITY_RESOLUTION),
        "owner_id": owner_id,
        "conversation_id": conversation_id,
        "ev_extra": _event_extra(),
        "ev_owner_key": owner_key(owner_id),
    }
    if n == 1:
        stmt = st.msg_append_pg_one
        params.update(zip(_ONE_PAYLOAD_PARAMS, payloads[0], strict=True))
    else:
        stmt = st.msg_append_pg
        for name, column in zip(APPEND_PAYLOAD_COLUMNS, zip(*payloads, strict=True), strict=True):
            # Arrays must be rectangular: each message's words travel as one space-joined string.
            params[f"a_{name}"] = [" ".join(w) for w in column] if name == "search_words" else list(column)
    assert stmt is not None, "append_plan is for PostgreSQL"

    def finish(rows: list[Sequence[Any]]) -> list[MessageRecord]:
        pk, base = int(rows[0][0]), int(rows[0][1]) - n
        decode = codec.message_from_insert
        return [decode((pk, base + i, *p), conversation_id) for i, p in enumerate(payloads, start=1)]

    def refused(cx: Cx) -> list[MessageRecord]:
        _check_appendable(cx, owner_id, conversation_id)
        raise AssertionError("unreachable: an active conversation refused a reservation")

    def duplicates(cx: Cx, exc: IntegrityViolation) -> list[MessageRecord]:
        if not exc.violates("uq_messages_conversation_id"):
            raise exc
        return _append_with_duplicates(cx, owner_id, conversation_id, batch, payloads, now)

    return StatementPlan(stmt, stmt.args(params), finish, refused, duplicates)


_ONE_PAYLOAD_PARAMS = tuple(f"v_{name}" for name in APPEND_PAYLOAD_COLUMNS)


def _append_with_duplicates(
    cx: Cx,
    owner_id: str,
    conversation_id: str,
    batch: Sequence[MessageRecord],
    payloads: list[tuple[Any, ...]],
    now: datetime,
) -> list[MessageRecord]:
    """The slow path of an append whose batch repeats stored ids (invariant 4): under the lock,
    stored ids return the stored message and only the others get seqs."""
    codec = cx.codec
    result: list[MessageRecord | None] = []
    fresh: list[int] = []
    with cx.write():
        pk = _check_appendable(cx, owner_id, conversation_id)
        for i, m in enumerate(batch):
            row = cx.first(cx.st.msg_by_id, {"pk": pk, "id": m.id})
            result.append(None if row is None else codec.message(row, conversation_id))
            if row is None:
                fresh.append(i)
        if fresh:
            reserved = _reserve(cx, owner_id, conversation_id, [batch[i] for i in fresh], now)
            assert reserved is not None
            base = int(reserved[1]) - len(fresh)
            rows = [(pk, base + k, *payloads[i]) for k, i in enumerate(fresh, start=1)]
            cx.insert_rows(cx.st.msg_insert, rows)
            cx.messages_inserted()
            for i, r in zip(fresh, rows, strict=True):
                result[i] = codec.message_from_insert(r, conversation_id)
            record_events(cx, owner_id, _appended(rows, conversation_id, codec), now)
    return [m for m in result if m is not None]


def get_message(
    st: Statements, codec: Codec, owner_id: str, conversation_id: str, message_id: str
) -> ReadPlan[MessageRecord]:
    """One message by id; ``NotFound`` for a missing conversation or message."""

    def finish(rows: list[Sequence[Any]]) -> MessageRecord:
        return codec.message(rows[0], conversation_id)

    def missing(cx: Cx) -> MessageRecord:
        _require_pk(cx, owner_id, conversation_id)
        raise _msg_missing(conversation_id, message_id)

    return ReadPlan(
        st.msg_get_owned, {**_scope(owner_id, conversation_id), "id": message_id}, finish, missing
    )


def list_messages(
    st: Statements, codec: Codec, owner_id: str, conversation_id: str, query: MessageQuery
) -> ReadPlan[list[MessageRecord]]:
    """Messages matching ``query`` (filters, then window), oldest first (the recent-N path)."""
    stmt, params, newest_first = message_window(st, codec, owner_id, conversation_id, query)
    decode = codec.message

    def finish(rows: list[Sequence[Any]]) -> list[MessageRecord]:
        if newest_first:
            return [decode(r, conversation_id) for r in reversed(rows)]
        return [decode(r, conversation_id) for r in rows]

    def empty(cx: Cx) -> list[MessageRecord]:
        _require_pk(cx, owner_id, conversation_id)
        return []

    return ReadPlan(stmt, params, finish, empty)


def list_messages_by_ref(
    st: Statements, codec: Codec, owner_id: str, ref: str, query: MessageQuery
) -> ReadPlan[list[MessageRecord] | None]:
    """``list_messages`` of the conversation named by reference ``ref`` (id, else session_id,
    else session_key) resolved in the same statement (``statements.ref_root_pk``). ``None``
    when that gives no rows — the reference names nothing, a branch, or no message matches —
    and the caller must take the long way (resolve, then read)."""
    stmt, params, newest_first = message_window(st, codec, owner_id, ref, query, by_ref=True)
    decode = codec.message

    def finish(rows: list[Sequence[Any]]) -> list[MessageRecord]:
        conversation_id = rows[0][-1] or ref  # NULL: the reference is the id (ref_other_id)
        ordered = reversed(rows) if newest_first else rows
        return [decode(r, conversation_id) for r in ordered]

    return ReadPlan(stmt, params, finish, lambda cx: None)


def page_by_ref(
    cx: Cx, owner_id: str, ref: str, window: MessageQuery, filters: MessageQuery
) -> tuple[list[MessageRecord], int] | None:
    """A page of messages (``window``) of the conversation named by reference ``ref`` and how
    many pass ``filters`` (``count_messages``), from one snapshot; ``None`` as in
    ``list_messages_by_ref`` (the page is empty, or ``ref`` names a branch or nothing)."""
    with cx.read():
        items = run_plan(cx, list_messages_by_ref(cx.st, cx.codec, owner_id, ref, window))
        if not items:
            return None
        stmt, params = message_count(cx.st, cx.codec, owner_id, ref, filters, by_ref=True)
        row = cx.first(stmt, params)
    return items, int(row[0]) if row else 0


def resolve_ref(cx: Cx, owner_id: str, ref: str) -> str:
    """The id of the owner's conversation named by ``ref`` (id, else session_id, else
    session_key; three indexed lookups in one statement); ``NotFound``."""
    row = cx.first(cx.st.conv_ref_id, {"owner_id": owner_id, "conversation_id": ref})
    if row is None:
        raise _conv_missing(ref)
    return str(row[0])


def append_to_ref(
    cx: Cx, owner_id: str, ref: str, batch: Sequence[MessageRecord], now: datetime
) -> list[MessageRecord]:
    """``append_messages`` to the conversation named by reference ``ref``, resolved on the same
    connection (one hop on SQLite's writer lane)."""
    return append_messages(cx, owner_id, resolve_ref(cx, owner_id, ref), batch, now)


def append_to_ref_refused(
    owner_id: str, ref: str, batch: Sequence[MessageRecord], now: datetime, cx: Cx
) -> list[MessageRecord]:
    """PostgreSQL: the one-statement append by id (``append_plan``) wrote nothing, so ``ref`` is
    not the id of an active conversation: resolve it as a reference and append there, or raise
    what the conversation's state says (``NotFound``, ``ConversationNotActive``)."""
    conversation_id = resolve_ref(cx, owner_id, ref)
    if conversation_id == ref:
        _check_appendable(cx, owner_id, ref)
        raise AssertionError("unreachable: an active conversation refused a reservation")
    return append_messages(cx, owner_id, conversation_id, batch, now)


def count_messages_between(
    cx: Cx,
    owner_id: str,
    conversation_id: str,
    query: MessageQuery,
    after_seq: int | None,
    before_seq: int | None,
) -> int:
    """How many messages with ``after_seq < seq < before_seq`` pass the filters of ``query``."""
    stmt, params = message_count_between(
        cx.st, cx.codec, owner_id, conversation_id, query, after_seq, before_seq
    )
    row = cx.first(stmt, params)
    count = int(row[0]) if row else 0
    if count == 0:
        _require_pk(cx, owner_id, conversation_id)
    return count


def count_messages(cx: Cx, owner_id: str, conversation_id: str, query: MessageQuery) -> int:
    """How many messages pass the filters of ``query``."""
    stmt, params = message_count(cx.st, cx.codec, owner_id, conversation_id, query)
    row = cx.first(stmt, params)
    count = int(row[0]) if row else 0
    if count == 0:
        _require_pk(cx, owner_id, conversation_id)
    return count


def _rewrite_message(cx: Cx, pk: int, updated: MessageRecord) -> None:
    codec = cx.codec
    row = codec.message_row(updated, pk, updated.seq)
    values = dict(zip(_MESSAGE_ROW_NAMES, row, strict=True))
    params = {f"v_{k}": values[k] for k in _MESSAGE_EDIT_COLUMNS}
    params.update(pk=pk, id=updated.id)
    cx.execute(cx.st.msg_update, params)


_MESSAGE_EDIT_COLUMNS = (
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


_MESSAGE_ROW_NAMES = MESSAGE_COLUMNS


def _locked_message(
    cx: Cx, owner_id: str, conversation_id: str, message_id: str
) -> tuple[int, MessageRecord]:
    pk = _require_pk(cx, owner_id, conversation_id, lock=True)
    row = cx.first(cx.st.msg_by_id, {"pk": pk, "id": message_id})
    if row is None:
        raise _msg_missing(conversation_id, message_id)
    return pk, cx.codec.message(row, conversation_id)


def edit_message(
    cx: Cx, owner_id: str, conversation_id: str, message_id: str, changes: dict[str, Any], now: datetime
) -> MessageRecord:
    """Apply ``changes`` to a message (``querying.apply_message_changes`` rules)."""
    with cx.write():
        pk, current = _locked_message(cx, owner_id, conversation_id, message_id)
        edited = q.apply_message_changes(current, changes, now)
        _rewrite_message(cx, pk, edited)
        record_events(cx, owner_id, [ev.message_edited_event(edited, changes)], now)
    return edited


def redact_message(
    cx: Cx, owner_id: str, conversation_id: str, message_id: str, marker: str, now: datetime
) -> MessageRecord:
    """Redact a message (``querying.redacted_copy`` rules)."""
    with cx.write():
        pk, current = _locked_message(cx, owner_id, conversation_id, message_id)
        redacted = q.redacted_copy(current, marker, now)
        _rewrite_message(cx, pk, redacted)
        record_events(cx, owner_id, [ev.message_redacted_event(redacted)], now)
    return redacted


def delete_message(cx: Cx, owner_id: str, conversation_id: str, message_id: str, now: datetime) -> None:
    """Delete one message; ``last_seq`` stays (seq is never reused)."""
    with cx.write():
        pk = _require_pk(cx, owner_id, conversation_id, lock=True)
        found = cx.first(cx.st.msg_exists, {"pk": pk, "id": message_id})
        if found is None:
            raise _msg_missing(conversation_id, message_id)
        _check_removal(cx, owner_id, conversation_id, int(found[0]))
        if cx.execute(cx.st.msg_delete, {"pk": pk, "id": message_id}) == 0:
            raise _msg_missing(conversation_id, message_id)
        cx.execute(cx.st.conv_count_delta, {"pk": pk, "delta": -1, "now": cx.codec.ts_in(now)})
        gone = ev.message_deleted_event(conversation_id, message_id, int(found[0]))
        record_events(cx, owner_id, [gone], now)


def pop_message(cx: Cx, owner_id: str, conversation_id: str, now: datetime) -> MessageRecord | None:
    """Remove and return the newest message, or ``None``."""
    with cx.write():
        pk = _require_pk(cx, owner_id, conversation_id, lock=True)
        row = cx.first(cx.st.msg_last, {"pk": pk})
        if row is None:
            return None
        _check_removal(cx, owner_id, conversation_id, int(row[0]))
        cx.execute(cx.st.msg_delete_seq, {"pk": pk, "seq": row[0]})
        cx.execute(cx.st.conv_count_delta, {"pk": pk, "delta": -1, "now": cx.codec.ts_in(now)})
        popped = cx.codec.message(row, conversation_id)
        gone = ev.message_deleted_event(conversation_id, popped.id, popped.seq, popped=True)
        record_events(cx, owner_id, [gone], now)
    return popped


def clear_messages(cx: Cx, owner_id: str, conversation_id: str, now: datetime) -> int:
    """Delete every message; how many were deleted."""
    with cx.write():
        pk = _require_pk(cx, owner_id, conversation_id, lock=True)
        first = cx.first(cx.st.msg_first_seq, {"pk": pk})
        _check_removal(
            cx, owner_id, conversation_id, None if first is None or first[0] is None else int(first[0])
        )
        n = cx.execute(cx.st.msg_delete_all, {"pk": pk})
        cx.execute(cx.st.conv_count_delta, {"pk": pk, "delta": -n, "now": cx.codec.ts_in(now)})
        record_events(cx, owner_id, [ev.messages_cleared_event(conversation_id, n)], now)
    return n


# -- memory -----------------------------------------------------------------------------------


def get_memory(
    st: Statements, codec: Codec, owner_id: str, conversation_id: str
) -> ReadPlan[list[MemoryEntry]]:
    """Memory entries ordered by key."""
    return _children(st, st.memory_list, owner_id, conversation_id, codec.memory)


def set_memory(cx: Cx, owner_id: str, conversation_id: str, entry: MemoryEntry) -> MemoryEntry:
    """Create or replace a prepared memory entry."""
    with cx.write():
        pk = _require_pk(cx, owner_id, conversation_id, lock=True)
        cx.execute(cx.st.memory_upsert, cx.codec.memory_row(entry, pk))
        record_events(cx, owner_id, [ev.memory_set_event(conversation_id, entry.key)])
    return entry


def delete_memory(cx: Cx, owner_id: str, conversation_id: str, key: str, now: datetime) -> None:
    """Delete memory entry ``key``; ``NotFound`` when absent."""
    with cx.write():
        pk = _require_pk(cx, owner_id, conversation_id, lock=True)
        if cx.execute(cx.st.memory_delete, {"pk": pk, "key": key}) == 0:
            raise NotFound(f"memory key {key!r} not found")
        record_events(cx, owner_id, [ev.memory_deleted_event(conversation_id, key)], now)


# -- provider calls ---------------------------------------------------------------------------


def record_provider_call(
    cx: Cx,
    owner_id: str,
    conversation_id: str,
    call: ProviderCallRecord,
    server_state: dict[str, Any] | None,
    now: datetime,
) -> ProviderCallRecord:
    """Store a prepared provider call and, when given, the conversation's server_state."""
    codec = cx.codec
    row = codec.provider_call_row(call, 0)
    state = None if server_state is None else dump_json(server_state, "server_state")
    with cx.write():
        pk = _require_pk(cx, owner_id, conversation_id, lock=True)
        if (
            call.message_id is not None
            and cx.first(cx.st.msg_exists, {"pk": pk, "id": call.message_id}) is None
        ):
            raise _msg_missing(conversation_id, call.message_id)
        try:
            cx.execute(cx.st.call_insert, (pk, *row[1:]))
        except IntegrityViolation as exc:
            raise Conflict(f"provider call {call.id!r} already recorded") from exc
        if state is not None:
            cx.execute(
                cx.st.conv_set_server_state, {"pk": pk, "server_state": state, "now": codec.ts_in(now)}
            )
        record_events(cx, owner_id, [ev.provider_call_event(call)], now)
    return call


def list_provider_calls(
    st: Statements, codec: Codec, owner_id: str, conversation_id: str
) -> ReadPlan[list[ProviderCallRecord]]:
    """Provider calls in recording order."""
    return _children(st, st.call_list, owner_id, conversation_id, codec.provider_call)


# -- analytics --------------------------------------------------------------------------------


def stats(cx: Cx, owner_id: str) -> OwnerStats:
    """Counts per status and kind of the owner's conversations."""
    by_status: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    total = messages = with_messages = 0
    for status, kind, count, msgs, nonempty in cx.all(cx.st.stats, {"owner_id": owner_id}):
        total += int(count)
        messages += int(msgs)
        with_messages += int(nonempty)
        by_status[status] = by_status.get(status, 0) + int(count)
        by_kind[kind] = by_kind.get(kind, 0) + int(count)
    return OwnerStats(
        conversations=total,
        active_conversations=by_status.get(ConversationStatus.ACTIVE.value, 0),
        messages=messages,
        by_status=by_status,
        by_kind=by_kind,
        conversations_with_messages=with_messages,
    )


def conversations_idle_since(
    cx: Cx,
    cutoff: datetime,
    limit: int,
    statuses: Sequence[ConversationStatus],
    created_before: datetime | None = None,
    after: tuple[datetime, str] | None = None,
) -> list[ConversationRecord]:
    """Conversations of any owner in ``statuses`` idle since before ``cutoff`` (created before
    ``created_before`` and after the keyset ``after`` when given)."""
    stmt, params = idle_query(cx.st, cx.codec, cutoff, limit, statuses, created_before, after)
    return [cx.codec.conversation(r) for r in cx.all(stmt, params)]
