"""Row ⇄ record conversion for the SQL store (one ``Codec`` per dialect).

Values cross the driver as plain Python values:

- JSON columns travel as JSON text both ways (orjson; PostgreSQL ``jsonb`` accepts and returns
  text through asyncpg's default codec), so a value that cannot be serialised is a ``ValueError``
  raised *before* the transaction starts;
- timestamps: PostgreSQL takes and returns aware ``datetime`` (``timestamptz``); SQLite stores
  fixed-width ISO 8601 text in UTC with microseconds (``2025-01-02T03:04:05.000006+00:00``), whose
  text order is time order, and reads it back with ``datetime.fromisoformat`` (aware UTC);
- booleans: SQLite returns 0/1, turned into ``bool`` by the record's validation.

Row layouts (the ``*_COLUMNS`` tuples) are the column order of the statements in
``statements.py``; the readers index rows positionally.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel

from convoledger.models.records import ConversationRecord, MemoryEntry, MessageRecord, ProviderCallRecord
from convoledger.models.status import LifecycleEvent
from convoledger.models.timeutil import ensure_utc
from convoledger.store.sql import schema
from convoledger.store.sql.search import index_words

#: Columns of a message INSERT, in order; reads select ``MESSAGE_READ_COLUMNS`` (the same
#: without ``conversation_pk``, which the caller knows, and the search index column).
MESSAGE_COLUMNS: tuple[str, ...] = (
    "conversation_pk",
    "seq",
    "id",
    "role",
    "content",
    "sender",
    "recipient",
    "message_type",
    "tool_call_id",
    "tool_name",
    "tool_calls",
    "extra_data",
    "metadata",
    "token_count",
    "pinned",
    "redacted",
    "created_at",
    "updated_at",
    "search_words",
)
MESSAGE_READ_COLUMNS: tuple[str, ...] = MESSAGE_COLUMNS[1:-1]

#: SQLite reads pack the columns that plain chat messages leave at their empty value (NULL,
#: ``metadata`` ``'{}'``, the flags 0) into one: a message row comes back as
#: ``SQLITE_DENSE_COLUMNS`` then ``json_array(*SQLITE_SPARSE_COLUMNS)``, or NULL when all of
#: those are empty (``statements.message_columns``). Every selected column costs the sqlite3
#: module 50–140 ns per row (measured on the peers benchmark's 100-message history: 42 µs for
#: ``content`` alone, +13 µs per text column, +10 µs per integer column). JSON columns travel
#: inside the array as their stored text (decoded once, as unpacked), so no value goes through
#: SQLite's JSON parser. ``token_count`` is dense: the ``Ledger`` counts every message at write
#: time, so packing it made every row take the slow path (223 → 164 µs for that statement, and
#: the Python decode skipped ``orjson.loads`` + the unpack). Moving ``metadata``, ``pinned`` and
#: ``redacted`` into the pack took another ~30 µs off it; a message that sets one of them (or any
#: other packed column, as the framework integrations' ``extra_data`` does) is decoded through
#: the array, ~1 µs more per row.
SQLITE_DENSE_COLUMNS: tuple[str, ...] = (
    "seq",
    "id",
    "role",
    "content",
    "created_at",
    "token_count",
)
SQLITE_SPARSE_COLUMNS: tuple[str, ...] = (
    "sender",
    "recipient",
    "message_type",
    "tool_call_id",
    "tool_name",
    "tool_calls",
    "extra_data",
    "metadata",
    "pinned",
    "redacted",
    "updated_at",
)

#: Columns of a conversation row (table order, without the surrogate ``pk``); reads select
#: ``pk`` first, then these.
CONVERSATION_COLUMNS: tuple[str, ...] = tuple(c.name for c in schema.conversations.c if c.name != "pk")
_CONVERSATION_JSON = ("current_goal", "metadata", "server_state", "participants")
_CONVERSATION_TIMES = ("created_at", "updated_at", "last_activity_at")

#: Columns of a provider-call INSERT (all but ``row_id``), in table order; reads select
#: ``PROVIDER_CALL_READ_COLUMNS`` (without ``conversation_pk``).
PROVIDER_CALL_COLUMNS: tuple[str, ...] = tuple(c.name for c in schema.provider_calls.c if c.name != "row_id")
PROVIDER_CALL_READ_COLUMNS: tuple[str, ...] = PROVIDER_CALL_COLUMNS[1:]
_PROVIDER_CALL_JSON = ("identifiers", "error", "raw_response", "request", "provider_specific_data")

#: Columns of a lifecycle-event INSERT; reads select all but the first.
EVENT_COLUMNS: tuple[str, ...] = ("conversation_pk", "from_status", "to_status", "reason", "actor", "at")

#: Columns of a memory-entry INSERT; reads select all but the first.
MEMORY_COLUMNS: tuple[str, ...] = ("conversation_pk", "key", "value", "updated_at")

_loads = orjson.loads


def dump_json(value: Any, what: str) -> str:
    """``value`` as JSON text; ``ValueError`` naming ``what`` when it is not JSON-serialisable."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError as exc:
        raise ValueError(f"{what} is not JSON-serialisable: {exc}") from None


def _dump_opt(value: Any, what: str) -> str | None:
    return None if value is None else dump_json(value, what)


def _load_opt(text: str | None) -> Any:
    return None if text is None else _loads(text)


def _iso(value: datetime) -> str:
    if value.tzinfo is not UTC:
        value = ensure_utc(value)
    return value.isoformat(timespec="microseconds")


def _same(value: Any) -> Any:
    return value


_object_new = object.__new__
_object_setattr = object.__setattr__
_MESSAGE_FIELDS = tuple(MessageRecord.model_fields)
#: Every field counts as set on a record read back (as after validating a full row); each record
#: gets its own copy, since pydantic adds to it on assignment.
_ALL_SET = frozenset(_MESSAGE_FIELDS)


def _slot_setter(name: str) -> Callable[[Any, Any], None]:
    """A setter for ``BaseModel``'s slot ``name`` (``__dict__`` included): the slot descriptor's
    own ``__set__`` (a third to a fifth of the cost of ``object.__setattr__``'s lookup, measured
    per decoded row), or ``object.__setattr__`` if pydantic stops keeping it in a slot."""
    descriptor = BaseModel.__dict__.get(name)
    if type(descriptor).__name__ in ("member_descriptor", "getset_descriptor"):
        return descriptor.__set__  # type: ignore[no-any-return, union-attr]
    return lambda obj, value: _object_setattr(obj, name, value)


_set_dict = _slot_setter("__dict__")
_set_fields_set = _slot_setter("__pydantic_fields_set__")
_set_extra = _slot_setter("__pydantic_extra__")
_set_private = _slot_setter("__pydantic_private__")


def _built(fields: dict[str, Any]) -> MessageRecord:
    """A ``MessageRecord`` whose ``__dict__`` is ``fields`` (every field, in declaration order,
    each of the type validation gives), as ``BaseModel.model_construct`` builds one."""
    m = _object_new(MessageRecord)
    _set_dict(m, fields)
    _set_fields_set(m, set(_ALL_SET))
    _set_extra(m, None)
    _set_private(m, None)
    return m


#: Field values of a message whose sparse columns are all NULL (the common row), in declaration
#: order; the decoder copies it and fills the dense fields (cheaper than an 18-key literal).
_SPARSE_NULL_FIELDS: dict[str, Any] = dict.fromkeys(_MESSAGE_FIELDS)


def _plain_message_model() -> bool:
    """True when ``MessageRecord`` can be built by filling its ``__dict__`` (what
    ``BaseModel.model_construct`` does): no post-init hook, private attributes or extra fields,
    which that would skip. Otherwise the decoders validate each record instead."""
    return (
        not MessageRecord.__pydantic_post_init__
        and not MessageRecord.__private_attributes__
        and MessageRecord.model_config.get("extra") != "allow"
    )


_from_iso = datetime.fromisoformat


def _json_object(text: str) -> Any:
    return {} if text == "{}" else _loads(text)


def _sqlite_message(r: Sequence[Any], conversation_id: str) -> MessageRecord:
    """SQLite row in ``MESSAGE_READ_COLUMNS`` order (an INSERT tuple) → record: ISO text times,
    0/1 flags."""
    return _built(
        {
            "id": r[1],
            "conversation_id": conversation_id,
            "seq": r[0],
            "role": r[2],
            "content": r[3],
            "sender": r[4],
            "recipient": r[5],
            "message_type": r[6],
            "tool_call_id": r[7],
            "tool_name": r[8],
            "tool_calls": None if r[9] is None else _loads(r[9]),
            "extra_data": None if r[10] is None else _loads(r[10]),
            "metadata": {} if r[11] == "{}" else _loads(r[11]),
            "token_count": r[12],
            "pinned": bool(r[13]),
            "redacted": bool(r[14]),
            "created_at": _from_iso(r[15]),
            "updated_at": None if r[16] is None else _from_iso(r[16]),
        }
    )


def _sqlite_packed_message(r: Sequence[Any], conversation_id: str) -> MessageRecord:
    """SQLite read row (``SQLITE_DENSE_COLUMNS`` + the packed sparse column) → record."""
    sparse = r[6]
    if sparse is None:
        fields = _SPARSE_NULL_FIELDS.copy()
        fields["id"] = r[1]
        fields["conversation_id"] = conversation_id
        fields["seq"] = r[0]
        fields["role"] = r[2]
        fields["content"] = r[3]
        fields["metadata"] = {}
        fields["pinned"] = False
        fields["redacted"] = False
        fields["created_at"] = _from_iso(r[4])
        fields["token_count"] = r[5]
        return _built(fields)
    # Some packed column is set. Unpack to the full column order and decode that.
    x = _loads(sparse)
    unpacked = (r[0], r[1], r[2], r[3], *x[:8], r[5], x[8], x[9], r[4], x[10])
    return _sqlite_message(unpacked, conversation_id)


def _pg_message(r: Sequence[Any], conversation_id: str) -> MessageRecord:
    """PostgreSQL row → record: asyncpg returns aware UTC datetimes and booleans already."""
    return _built(
        {
            "id": r[1],
            "conversation_id": conversation_id,
            "seq": r[0],
            "role": r[2],
            "content": r[3],
            "sender": r[4],
            "recipient": r[5],
            "message_type": r[6],
            "tool_call_id": r[7],
            "tool_name": r[8],
            "tool_calls": None if r[9] is None else _loads(r[9]),
            "extra_data": None if r[10] is None else _loads(r[10]),
            "metadata": {} if r[11] == "{}" else _loads(r[11]),
            "token_count": r[12],
            "pinned": r[13],
            "redacted": r[14],
            "created_at": r[15],
            "updated_at": r[16],
        }
    )


Decoder = Callable[[Sequence[Any], str], MessageRecord]


def _validating(decode: Decoder) -> Decoder:
    """``decode`` followed by validation (when ``MessageRecord`` is not plain; see
    ``_plain_message_model``)."""

    def validated(r: Sequence[Any], conversation_id: str) -> MessageRecord:
        return MessageRecord.model_validate(decode(r, conversation_id).__dict__)

    return validated


class Codec:
    """Encodes record fields into driver values and decodes rows into records for one dialect.

    ``ts_in(dt)`` turns an aware datetime into the driver value (text on SQLite, the datetime on
    PostgreSQL); ``ts_out(v)`` turns a stored value back into an aware UTC datetime.
    ``message(row, conversation_id)`` builds a ``MessageRecord`` from a row as the store's reads
    select it (``statements.message_columns``: ``MESSAGE_READ_COLUMNS`` on PostgreSQL, the packed
    layout on SQLite). Rows come from this store's own tables, written from
    validated records, so the record is built without re-validation (its ``__dict__`` filled
    directly, as ``BaseModel.model_construct`` does, ~6x faster than validating);
    every value is converted to the exact type validation would produce (aware UTC datetimes,
    ``bool`` flags, JSON decoded by orjson). This is the recent-N hot path.
    """

    def __init__(self, dialect_name: str) -> None:
        self.dialect_name = dialect_name
        plain = _plain_message_model()
        if dialect_name == "sqlite":
            self.ts_in: Callable[[datetime], Any] = _iso
            self.ts_out: Callable[[Any], datetime] = datetime.fromisoformat
            self.message: Decoder = _sqlite_packed_message if plain else _validating(_sqlite_packed_message)
            self._unpacked: Decoder = _sqlite_message if plain else _validating(_sqlite_message)
        elif dialect_name == "postgresql":
            self.ts_in = ensure_utc
            self.ts_out = _same
            self.message = self._unpacked = _pg_message if plain else _validating(_pg_message)
        else:
            raise ValueError(f"unsupported SQL dialect {dialect_name!r}; expected sqlite or postgresql")

    def ts_opt(self, value: datetime | None) -> Any:
        """``ts_in`` that passes ``None`` through."""
        return None if value is None else self.ts_in(value)

    # -- messages -----------------------------------------------------------------------------
    def message_row(self, m: MessageRecord, conversation_pk: int, seq: int) -> tuple[Any, ...]:
        """The INSERT values of ``m`` (``MESSAGE_COLUMNS`` order) with its conversation and seq.

        ``m`` must come from ``prepare.prepare_batch``/``prepare_import`` (validated; JSON fields
        checked); ``ValueError`` if a JSON field still cannot be serialised.
        """
        ts_in = self.ts_in
        metadata = m.metadata
        return (
            conversation_pk,
            seq,
            m.id,
            m.role,
            m.content,
            m.sender,
            m.recipient,
            m.message_type,
            m.tool_call_id,
            m.tool_name,
            None if m.tool_calls is None else dump_json(m.tool_calls, f"message {m.id!r} tool_calls"),
            None if m.extra_data is None else dump_json(m.extra_data, f"message {m.id!r} extra_data"),
            dump_json(metadata, f"message {m.id!r} metadata") if metadata else "{}",
            m.token_count,
            bool(m.pinned),
            bool(m.redacted),
            ts_in(m.created_at),
            None if m.updated_at is None else ts_in(m.updated_at),
            index_words(m.content, self.dialect_name),
        )

    def message_from_insert(self, row: Sequence[Any], conversation_id: str) -> MessageRecord:
        """The record a ``message_row`` tuple stores (what a later read returns)."""
        return self._unpacked(row[1:-1], conversation_id)

    # -- conversations ------------------------------------------------------------------------
    def conversation_values(self, c: ConversationRecord) -> dict[str, Any]:
        """Column values of ``c`` (every column of ``conversations``)."""
        what = f"conversation {c.id!r}"
        return {
            "id": c.id,
            "owner_id": c.owner_id,
            "session_id": c.session_id,
            "session_key": c.session_key,
            "kind": str(c.kind.value if hasattr(c.kind, "value") else c.kind),
            "session_type": c.session_type,
            "name": c.name,
            "description": c.description,
            "agent_name": c.agent_name,
            "agent_instructions": c.agent_instructions,
            "user_id": c.user_id,
            "device_id": c.device_id,
            "topic": c.topic,
            "current_goal": _dump_opt(c.current_goal, f"{what} current_goal"),
            "metadata": dump_json(c.metadata, f"{what} metadata"),
            "server_state": _dump_opt(c.server_state, f"{what} server_state"),
            "status": str(c.status.value if hasattr(c.status, "value") else c.status),
            "participants": dump_json(
                [p.model_dump(mode="json") for p in c.participants], f"{what} participants"
            ),
            "message_count": c.message_count,
            "last_seq": c.last_seq,
            "created_at": self.ts_in(c.created_at),
            "updated_at": self.ts_in(c.updated_at),
            "last_activity_at": self.ts_in(c.last_activity_at),
            "parent_id": c.parent_id,
            "forked_at_seq": c.forked_at_seq,
        }

    def conversation(self, r: Sequence[Any]) -> ConversationRecord:
        """A ``ConversationRecord`` from a row ``(pk, *CONVERSATION_COLUMNS)``."""
        d = dict(zip(CONVERSATION_COLUMNS, r[1:], strict=True))
        for k in _CONVERSATION_JSON:
            d[k] = _load_opt(d[k])
        for k in _CONVERSATION_TIMES:
            d[k] = self.ts_out(d[k])
        return ConversationRecord.model_validate(d)

    # -- events, memory, provider calls -------------------------------------------------------
    def event_row(self, e: LifecycleEvent, conversation_pk: int) -> tuple[Any, ...]:
        """INSERT values of a lifecycle event (``EVENT_COLUMNS`` order)."""
        return (conversation_pk, e.from_status.value, e.to_status.value, e.reason, e.actor, self.ts_in(e.at))

    def event(self, r: Sequence[Any], conversation_id: str) -> LifecycleEvent:
        """A ``LifecycleEvent`` from a row in ``EVENT_COLUMNS[1:]`` order."""
        return LifecycleEvent(
            conversation_id=conversation_id,
            from_status=r[0],
            to_status=r[1],
            reason=r[2],
            actor=r[3],
            at=self.ts_out(r[4]),
        )

    def memory_row(self, e: MemoryEntry, conversation_pk: int) -> tuple[Any, ...]:
        """INSERT values of a memory entry (``MEMORY_COLUMNS`` order)."""
        return (
            conversation_pk,
            e.key,
            _dump_opt(e.value, f"memory entry {e.key!r} value"),
            self.ts_in(e.updated_at),
        )

    def memory(self, r: Sequence[Any], conversation_id: str) -> MemoryEntry:
        """A ``MemoryEntry`` from a row in ``MEMORY_COLUMNS[1:]`` order."""
        return MemoryEntry(
            conversation_id=conversation_id, key=r[0], value=_load_opt(r[1]), updated_at=self.ts_out(r[2])
        )

    def provider_call_row(self, call: ProviderCallRecord, conversation_pk: int) -> tuple[Any, ...]:
        """INSERT values of a provider call (``PROVIDER_CALL_COLUMNS`` order)."""
        d = call.model_dump()
        what = f"provider call {call.id!r}"
        d["conversation_pk"] = conversation_pk
        d["identifiers"] = dump_json(call.identifiers, f"{what} identifiers")
        for k in ("error", "raw_response", "request", "provider_specific_data"):
            d[k] = _dump_opt(d[k], f"{what} {k}")
        d["created_at"] = self.ts_in(call.created_at)
        return tuple(d[k] for k in PROVIDER_CALL_COLUMNS)

    def provider_call(self, r: Sequence[Any], conversation_id: str) -> ProviderCallRecord:
        """A ``ProviderCallRecord`` from a row in ``PROVIDER_CALL_READ_COLUMNS`` order."""
        d = dict(zip(PROVIDER_CALL_READ_COLUMNS, r, strict=True))
        d["conversation_id"] = conversation_id
        for k in _PROVIDER_CALL_JSON:
            d[k] = _load_opt(d[k])
        if d["provider_specific_data"] is None:  # a row recorded before revision 0003
            d["provider_specific_data"] = {}
        d["usage_estimated"] = bool(d["usage_estimated"])
        d["created_at"] = self.ts_out(d["created_at"])
        return ProviderCallRecord.model_validate(d)
