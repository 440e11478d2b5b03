"""The ``Ledger``: the use cases every caller (library, API, CLI) goes through.

A ``Ledger`` is a ``Store`` seen by one owner (the API principal): every call is scoped to
``ledger.owner``; ``ledger.for_owner(name)`` gives another owner's view of the same store.

It accepts and returns any seed face: conversations from ``ConversationSession``,
``AgentSession``, ``Conversation`` and ``ChatSession`` (anything with ``to_record(owner_id)``),
messages from ``AgentCommunicationMessage``, ``SessionMessage``, ``ConversationTurn`` and
``ChatMessage`` (anything with ``to_record()``), or the records themselves; ``as_=Face`` reads
them back as a face (``Face.from_record``).

Conversation references (``ConversationRef``) may be a ``ConversationRecord``, its ``id``, its
external ``session_id`` or its ``session_key``; they resolve in that order.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from convoledger import forks
from convoledger.errors import Conflict, NotFound, SessionExists
from convoledger.models.policy import LifecyclePolicy
from convoledger.models.provider_metadata import ProviderMetadata
from convoledger.models.provider_views import ConversationProviderViews
from convoledger.models.records import (
    SCHEMA_VERSION,
    ConversationRecord,
    MemoryEntry,
    MessageRecord,
    ProviderCallRecord,
    new_id,
)
from convoledger.models.seed_backup import (
    SEED_CSV_COLUMNS,
    parse_seed_backup,
    seed_export_document,
    seed_message_dict,
)
from convoledger.models.status import (
    ConversationStatus,
    LifecycleEvent,
    check_transition,
    make_transition,
    parse_status,
)
from convoledger.models.storable import check_all_storable, check_storable
from convoledger.models.timeutil import utcnow
from convoledger.store.base import ConversationPage, ConversationQuery, MessageQuery, OwnerStats, Store

#: Identifies an export bundle and its layout version (bump on an incompatible change).
BUNDLE_FORMAT = "convoledger.bundle"
BUNDLE_VERSION = 1

#: Key of the lossless bundle inside the JSON export document (next to the seed's
#: ``session`` and ``messages``); the bundle carries its own ``format`` and ``bundle_version``.
EXPORT_BUNDLE_KEY = "convoledger_bundle"

#: Columns of the CSV export of messages, in order: the agent-session seed's seven columns
#: (section 10 ``convert_to_csv``: ``message_id, role, content, tool_call_id, tool_name,
#: created_at, updated_at``), then convoledger's (``ledger_role`` is the stored role, e.g.
#: ``master_controller``, where ``role`` shows the seed's chat role).
CSV_COLUMNS = (
    *SEED_CSV_COLUMNS,
    "seq",
    "sender",
    "recipient",
    "message_type",
    "tool_calls",
    "extra_data",
    "token_count",
    "redacted",
    "ledger_role",
)

ConversationRef = ConversationRecord | str
F = TypeVar("F")


class _ConversationFace(Protocol):
    def to_record(self, owner_id: str = ...) -> ConversationRecord: ...


class _MessageFace(Protocol):
    def to_record(self) -> MessageRecord: ...


@dataclass(frozen=True)
class ImportOutcome:
    """What ``Ledger.import_conversation`` did: ``created`` False when it was already there."""

    conversation: ConversationRecord
    created: bool
    messages: int


@dataclass
class UsageTotals:
    """Summed usage of provider calls: tokens, and ``cost`` in USD summed over the calls that
    could be priced (``None`` when none could); ``unpriced_calls`` says how many could not, so a
    partial sum is never mistaken for a full one."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    total_tokens: int = 0
    cost: float | None = 0.0
    provider_cost: float | None = None
    unpriced_calls: int = 0

    def add(self, call: ProviderCallRecord) -> None:
        """Add one call's usage and cost into these totals."""
        self.calls += 1
        self.input_tokens += call.input_tokens
        self.output_tokens += call.output_tokens
        self.cache_read_tokens += call.cache_read_tokens
        self.cache_write_tokens += call.cache_write_tokens
        self.reasoning_tokens += call.reasoning_tokens
        self.total_tokens += call.total_tokens
        if call.cost is None:
            self.unpriced_calls += 1
        elif self.cost is not None:
            self.cost = round(self.cost + call.cost, 12)
        if call.provider_cost is not None:
            self.provider_cost = round((self.provider_cost or 0.0) + call.provider_cost, 12)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ``cost`` is ``None`` when no call could be priced."""
        data = dict(self.__dict__)
        if self.calls and self.unpriced_calls == self.calls:
            data["cost"] = None
        return data


@dataclass
class ConversationUsage:
    """Usage of one conversation: totals, per model and per message (keys: model, message id)."""

    totals: UsageTotals = field(default_factory=UsageTotals)
    by_model: dict[str, UsageTotals] = field(default_factory=dict)
    by_message: dict[str, UsageTotals] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict with ``totals``, ``by_model`` and ``by_message``."""
        return {
            "totals": self.totals.as_dict(),
            "by_model": {k: v.as_dict() for k, v in self.by_model.items()},
            "by_message": {k: v.as_dict() for k, v in self.by_message.items()},
        }


def _usage_of(calls: Iterable[ProviderCallRecord]) -> ConversationUsage:
    """Totals of ``calls``, per model and per message."""
    result = ConversationUsage()
    for call in calls:
        result.totals.add(call)
        result.by_model.setdefault(call.model or "unknown", UsageTotals()).add(call)
        if call.message_id:
            result.by_message.setdefault(call.message_id, UsageTotals()).add(call)
    return result


def _check_ref(ref: object) -> None:
    """``ValueError`` unless ``ref`` is a non-empty string (a conversation reference)."""
    if not isinstance(ref, str) or not ref:
        raise ValueError(f"a conversation reference must be a record or a non-empty string, got {ref!r}")


#: Characters of message content in one batch above which its token counting runs on a worker
#: thread instead of the event loop (tiktoken releases the GIL while it encodes). o200k encodes
#: ~1.5-2 MB/s here, so 32 KiB is ~20 ms of loop time at most; a 10 x 1 MB batch counted on the
#: loop froze every other request for 5.7 s (issue 15). Smaller batches stay on the loop: the
#: hop to a thread (~40 us) would cost more than the counting.
OFF_LOOP_TOKEN_CHARS = 32 * 1024


def _count_all(records: Sequence[MessageRecord]) -> list[int | None]:
    from convoledger.tokens import count_message_tokens

    return [None if r.token_count is not None else count_message_tokens(r) for r in records]


async def _token_counts(records: Sequence[MessageRecord]) -> list[int | None] | None:
    """The write-time ``token_count`` of each record that has none (``None`` for those that
    have one), or ``None`` when all have one; counted off the event loop for large batches
    (:data:`OFF_LOOP_TOKEN_CHARS`)."""
    size = 0
    missing = False
    for r in records:
        if r.token_count is None:
            missing = True
            size += len(r.content or "")
    if not missing:
        return None
    if size > OFF_LOOP_TOKEN_CHARS:
        return await asyncio.to_thread(_count_all, records)
    return _count_all(records)


def _message_record(message: MessageRecord | _MessageFace) -> MessageRecord:
    if isinstance(message, MessageRecord):
        return message
    to_record = getattr(message, "to_record", None)
    if to_record is None:
        raise ValueError(
            f"cannot append {type(message).__name__}: not a MessageRecord or a seed message face"
        )
    record = to_record()
    if not isinstance(record, MessageRecord):
        raise ValueError(f"{type(message).__name__}.to_record() did not return a MessageRecord")
    return record


class Ledger:
    """Use cases over a ``Store`` for one owner. Build one with ``open_ledger(url)``.

    Usable as an async context manager (``async with open_ledger(url) as ledger``), which opens
    and closes the store. Token counts are computed once per message at write time
    (``convoledger.tokens``, o200k_base) unless the message already carries one.
    """

    def __init__(self, store: Store, *, owner: str = "local", policy: LifecyclePolicy | None = None) -> None:
        if not owner:
            raise ValueError("owner cannot be empty")
        self.store = store
        self.owner = owner
        self.policy = policy or LifecyclePolicy()

    # -- lifetime -----------------------------------------------------------------------------
    async def open(self, *, warm_up: bool = True) -> Ledger:
        """Open the store (creating or upgrading its schema) and make sure the owner exists.

        ``warm_up`` (default): also load the tokenizer that counts each appended message
        (``tokens.get_encoding``, ~0.3 s once per process, in a worker thread), so the first
        append is as fast as the others instead of paying for it (measured on the peers
        benchmark: the first of 3,000 single appends took 305 ms, a third of the phase's mean).
        Pass ``False`` where nothing will be appended (the CLI's commands do). Raises what
        ``Store.open`` raises, and ``tokens.TokenizerDataError`` when the bundled tokenizer data
        is missing or corrupt."""
        await self.store.open()
        await self.store.ensure_account(self.owner)
        if warm_up:
            from convoledger.tokens import get_encoding

            await asyncio.to_thread(get_encoding)
        return self

    async def close(self) -> None:
        """Close the store."""
        await self.store.close()

    async def __aenter__(self) -> Ledger:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def for_owner(self, owner: str) -> Ledger:
        """The same store seen by ``owner`` (no new connection)."""
        return Ledger(self.store, owner=owner, policy=self.policy)

    # -- conversations ------------------------------------------------------------------------
    async def create_conversation(
        self, conversation: ConversationRecord | _ConversationFace, *, reason: str | None = None
    ) -> ConversationRecord:
        """Store a new conversation from a record or any seed face; ``Conflict`` when its id,
        session_id or session_key is taken by this owner.

        A conversation created in another status than ``active`` (e.g. the agent-session seed's
        ``is_active: false``) is a lifecycle move from ``active``: it is stored in that status
        together with its ``LifecycleEvent`` (``reason``, actor = the owner) in one transaction;
        ``InvalidTransition`` when the status machine forbids the move (e.g. created
        ``archived``), before anything is written.
        """
        record = self._conversation_record(conversation)
        check_storable(record, "")
        if record.status is ConversationStatus.ACTIVE:
            return await self.store.create_conversation(self.owner, record)
        at = utcnow()
        event = make_transition(
            record.id,
            ConversationStatus.ACTIVE,
            record.status,
            reason=reason or f"created {record.status.value}",
            actor=self.owner,
            at=at,
        )
        record = record.model_copy(
            update={
                "created_at": at,
                "updated_at": at,
                "last_activity_at": at,
                "message_count": 0,
                "last_seq": 0,
            }
        )
        return await self.store.import_conversation(self.owner, record, [], events=[event])

    def _conversation_record(
        self, conversation: ConversationRecord | _ConversationFace
    ) -> ConversationRecord:
        if isinstance(conversation, ConversationRecord):
            record = conversation.model_copy(update={"owner_id": self.owner})
        else:
            to_record = getattr(conversation, "to_record", None)
            if to_record is None:
                raise ValueError(
                    f"cannot create a conversation from {type(conversation).__name__}: "
                    "not a ConversationRecord or a seed conversation face"
                )
            record = to_record(self.owner)
        if not isinstance(record, ConversationRecord):
            raise ValueError(f"{type(conversation).__name__}.to_record() did not return a ConversationRecord")
        return record

    async def get_or_create_conversation(
        self, conversation: ConversationRecord | _ConversationFace
    ) -> tuple[ConversationRecord, bool]:
        """The conversation with the same session_id (or session_key), else a new one; the
        bool says whether it was created. ``UnstorableText`` (a ``ValueError``) for a NUL in any of
        its text, before the lookup (PostgreSQL cannot even compare such a key)."""
        record = (
            conversation
            if isinstance(conversation, ConversationRecord)
            else conversation.to_record(self.owner)
        )
        check_storable(record, "")
        found = await self._existing(record)
        if found is not None:
            return found, False
        try:
            return await self.create_conversation(record), True
        except Conflict:
            # Lost a race with another writer creating the same session: read theirs.
            again = await self._existing(record)
            if again is None:
                raise
            return again, False

    async def _existing(self, record: ConversationRecord) -> ConversationRecord | None:
        """The owner's conversation with ``record``'s session_id, else its session_key, else
        ``None`` (what creating ``record`` would collide with)."""
        if record.session_id:
            found = await self.store.find_conversation(self.owner, session_id=record.session_id)
            if found is not None:
                return found
        if record.session_key:
            return await self.store.find_conversation(self.owner, session_key=record.session_key)
        return None

    async def resolve(self, ref: ConversationRef) -> ConversationRecord:
        """The conversation named by a record, id, session_id or session_key; ``NotFound``."""
        if isinstance(ref, ConversationRecord):
            return await self.store.get_conversation(self.owner, ref.id)
        _check_ref(ref)
        check_storable(ref, "session")
        try:
            return await self.store.get_conversation(self.owner, ref)
        except NotFound:
            pass
        found = await self.store.find_conversation(self.owner, session_id=ref)
        if found is None:
            found = await self.store.find_conversation(self.owner, session_key=ref)
        if found is None:
            raise NotFound(f"conversation {ref!r} not found")
        return found

    async def find_conversation(
        self, *, session_id: str | None = None, session_key: str | None = None
    ) -> ConversationRecord | None:
        """The owner's conversation with this external ``session_id`` or ``session_key``
        (exactly one given; ``ValueError`` otherwise, ``UnstorableText`` for a NUL in it), or
        ``None``."""
        if (session_id is None) == (session_key is None):
            raise ValueError("give exactly one of session_id or session_key")
        check_all_storable([("session_id", session_id), ("session_key", session_key)])
        return await self.store.find_conversation(self.owner, session_id=session_id, session_key=session_key)

    async def get_conversation(self, ref: ConversationRef, as_: type[F] | None = None) -> Any:
        """The conversation as a record, or as face ``as_`` (``as_.from_record(record)``)."""
        record = await self.resolve(ref)
        return record if as_ is None else as_.from_record(record)  # type: ignore[attr-defined]

    async def list_conversations(self, query: ConversationQuery | None = None) -> ConversationPage:
        """The owner's conversations (see ``ConversationQuery``); ``UnstorableText`` for a
        filter holding a NUL character."""
        check_storable(query, "")
        return await self.store.list_conversations(self.owner, query or ConversationQuery())

    async def update_conversation(
        self,
        ref: ConversationRef,
        *,
        is_active: bool | None = None,
        reason: str | None = None,
        **changes: Any,
    ) -> ConversationRecord:
        """Change descriptive fields (see ``store.base.UPDATABLE_CONVERSATION_FIELDS``) and, with
        ``is_active`` (the agent-session seed's PATCH field), activate or deactivate.

        ``is_active`` equal to the current value changes nothing; otherwise it is the lifecycle
        move to ``active`` / ``inactive``, recorded as a ``LifecycleEvent`` (``reason``).
        Checked before anything is written: ``InvalidTransition`` when the status machine
        forbids the move (e.g. reactivating a terminated session), ``Conflict`` when a new
        ``session_id`` is taken. The move is made first, then the field changes; should those
        fail after all (another writer took the session_id in between), the move is undone
        with a second recorded event and the error is raised.
        """
        check_all_storable([("reason", reason), *changes.items()])
        record = await self.resolve(ref)
        target: ConversationStatus | None = None
        if is_active is not None and is_active != record.is_active:
            target = ConversationStatus.ACTIVE if is_active else ConversationStatus.INACTIVE
            check_transition(record.status, target)
        new_sid = changes.get("session_id")
        if new_sid and new_sid != record.session_id:
            holder = await self.store.find_conversation(self.owner, session_id=new_sid)
            if holder is not None and holder.id != record.id:
                raise Conflict(f"session_id {new_sid!r} is already used by another conversation")
        if target is not None:
            before = record.status
            record, _ = await self.transition(
                record, target, reason=reason or f"is_active set to {str(is_active).lower()}"
            )
        if not changes:
            return record
        try:
            return await self.store.update_conversation(self.owner, record.id, changes)
        except Conflict:
            if target is not None:
                await self.transition(record, before, reason="undone: the update it came with was refused")
            raise

    async def delete_conversation(self, ref: ConversationRef) -> None:
        """Delete the conversation and everything recorded about it."""
        record = await self.resolve(ref)
        await self.store.delete_conversation(self.owner, record.id)

    async def stats(self) -> OwnerStats:
        """The owner's conversation and message counts, per status and kind."""
        return await self.store.stats(self.owner)

    # -- lifecycle ----------------------------------------------------------------------------
    async def transition(
        self,
        ref: ConversationRef,
        status: ConversationStatus | str,
        *,
        reason: str | None = None,
        actor: str | None = None,
    ) -> tuple[ConversationRecord, LifecycleEvent]:
        """Move the conversation to ``status`` (``InvalidTransition`` when illegal) and record
        the ``LifecycleEvent``; ``actor`` defaults to the owner."""
        check_storable(reason, "reason")
        check_storable(actor, "actor")
        record = await self.resolve(ref)
        return await self.store.transition(
            self.owner, record.id, parse_status(status), reason=reason, actor=actor or self.owner
        )

    async def activate(self, ref: ConversationRef, reason: str | None = None) -> ConversationRecord:
        """inactive → active."""
        return (await self.transition(ref, ConversationStatus.ACTIVE, reason=reason))[0]

    async def deactivate(self, ref: ConversationRef, reason: str | None = None) -> ConversationRecord:
        """active → inactive."""
        return (await self.transition(ref, ConversationStatus.INACTIVE, reason=reason))[0]

    async def terminate(
        self, ref: ConversationRef, *, by_user: bool = True, reason: str | None = None
    ) -> ConversationRecord:
        """active/inactive → inactive_user_terminated (or inactive_system_terminated)."""
        target = (
            ConversationStatus.INACTIVE_USER_TERMINATED
            if by_user
            else ConversationStatus.INACTIVE_SYSTEM_TERMINATED
        )
        return (await self.transition(ref, target, reason=reason))[0]

    async def archive(self, ref: ConversationRef, reason: str | None = None) -> ConversationRecord:
        """inactive_* → archived (never straight from active)."""
        return (await self.transition(ref, ConversationStatus.ARCHIVED, reason=reason))[0]

    async def lifecycle_events(self, ref: ConversationRef) -> list[LifecycleEvent]:
        """The conversation's status transitions, oldest first."""
        record = await self.resolve(ref)
        return await self.store.list_lifecycle_events(self.owner, record.id)

    # -- messages -----------------------------------------------------------------------------
    async def append(
        self, ref: ConversationRef | None, message: MessageRecord | _MessageFace
    ) -> MessageRecord:
        """Append one message (record or seed face) and return it as stored (with ``seq``).

        ``ref=None`` takes the conversation from the face (``session_key``, ``session_id`` or
        ``conversation_id`` attribute). ``ConversationNotActive`` unless the conversation is
        active; the same message id twice returns the first message.
        """
        return (await self.append_batch(ref, [message]))[0]

    async def append_batch(
        self, ref: ConversationRef | None, messages: Sequence[MessageRecord | _MessageFace]
    ) -> list[MessageRecord]:
        """Append messages atomically (all or none) and return them as stored, in order."""
        if not messages:
            return []
        if ref is None:
            ref = self._ref_from_face(messages[0])
        if not isinstance(ref, ConversationRecord):
            _check_ref(ref)
            check_storable(ref, "session")
        records = [_message_record(m) for m in messages]
        for index, message in enumerate(records):
            check_storable(message, f"messages[{index}]" if len(records) > 1 else "")
        counts = await _token_counts(records)
        # The counts go into the store's own validating copy of each message (one copy per
        # message, issue 15); a reference is resolved where the append runs (one trip).
        if isinstance(ref, ConversationRecord):
            return await self.store.append_messages(self.owner, ref.id, records, counts)
        return await self.store.append_to_ref(self.owner, ref, records, counts)

    @staticmethod
    def _ref_from_face(message: object) -> str:
        for attr in ("session_key", "session_id", "conversation_id"):
            value = getattr(message, attr, None)
            if isinstance(value, str) and value:
                return value
        raise ValueError(
            f"no conversation given and {type(message).__name__} names none "
            "(no session_key, session_id or conversation_id)"
        )

    @staticmethod
    def _with_token_count(message: MessageRecord) -> MessageRecord:
        """``message`` with its write-time ``token_count`` (a copy when it had none)."""
        if message.token_count is not None:
            return message
        from convoledger.tokens import count_message_tokens

        return message.model_copy(update={"token_count": count_message_tokens(message)})

    async def messages(
        self, ref: ConversationRef, query: MessageQuery | None = None, as_: type[F] | None = None
    ) -> list[Any]:
        """Messages matching ``query`` (default: the whole history), oldest first; as face
        ``as_`` when given; ``UnstorableText`` for a NUL in the query or the reference.

        A string reference to a conversation that is not a branch is resolved inside the read
        (one trip, ``Store.list_messages_by_ref``); otherwise the conversation is resolved first."""
        check_storable(query, "")
        query = query or MessageQuery()
        if as_ is None and isinstance(ref, str) and ref:
            check_storable(ref, "session")
            found = await self.store.list_messages_by_ref(self.owner, ref, query)
            if found is not None:
                return found
        record = await self.resolve(ref)
        found = await self._history(record, query)
        return found if as_ is None else [self._as_face(as_, m, record) for m in found]

    async def messages_page(
        self, ref: ConversationRef, window: MessageQuery, filters: MessageQuery
    ) -> tuple[list[MessageRecord], int]:
        """``(messages(ref, window), count(ref, filters))``: a page and how many messages pass
        the filters (``GET …/messages``). One trip for a string reference to a conversation that
        is not a branch (``Store.page_by_ref``); ``NotFound``; ``UnstorableText`` for a NUL in
        the queries or the reference."""
        check_storable(window, "")
        check_storable(filters, "")
        if isinstance(ref, str) and ref:
            check_storable(ref, "session")
            found = await self.store.page_by_ref(self.owner, ref, window, filters)
            if found is not None:
                return found
        record = await self.resolve(ref)
        return await self._history(record, window), await self.count(record, filters)

    async def recent(self, ref: ConversationRef, n: int = 20, as_: type[F] | None = None) -> list[Any]:
        """The most recent ``n`` messages in chronological order."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        return await self.messages(ref, MessageQuery(last=n), as_=as_)

    async def page(self, ref: ConversationRef, *, after_seq: int = 0, limit: int = 50) -> list[MessageRecord]:
        """Keyset page: up to ``limit`` messages with ``seq > after_seq``, oldest first."""
        return await self.messages(ref, MessageQuery(after_seq=after_seq, limit=limit))

    async def count(self, ref: ConversationRef, query: MessageQuery | None = None) -> int:
        """How many messages match ``query``'s filters (a branch: shared history included)."""
        check_storable(query, "")
        record = await self.resolve(ref)
        if record.parent_id is None:
            return await self.store.count_messages(self.owner, record.id, query or MessageQuery())
        return await forks.count_history(
            self.store,
            self.owner,
            await forks.chain_of(self.store, self.owner, record),
            query or MessageQuery(),
        )

    async def get_message(self, ref: ConversationRef, message_id: str) -> MessageRecord:
        """One message by id (a branch: its own or a shared one); ``NotFound``."""
        check_storable(message_id, "message_id")
        return await self._find_message(await self.resolve(ref), message_id)

    async def edit_message(self, ref: ConversationRef, message_id: str, **changes: Any) -> MessageRecord:
        """Edit content / extra_data / metadata / pinned (token_count is recomputed). A message
        a branch shares with its parent is edited where it is stored, so every conversation
        that shares it shows the edit (``store/lineage.py``)."""
        check_all_storable([("message_id", message_id), *changes.items()])
        record = await self.resolve(ref)
        if record.parent_id is not None:
            record = await self.resolve((await self._find_message(record, message_id)).conversation_id)
        if "content" in changes and "token_count" not in changes:
            current = await self.store.get_message(self.owner, record.id, message_id)
            from convoledger.tokens import count_message_tokens

            changes["token_count"] = count_message_tokens(
                current.model_copy(update={"content": changes["content"]})
            )
        return await self.store.edit_message(self.owner, record.id, message_id, changes)

    async def redact_message(
        self, ref: ConversationRef, message_id: str, marker: str = "[redacted]"
    ) -> MessageRecord:
        """Replace the message's content with ``marker``, keeping its envelope. A message a
        branch shares is redacted where it is stored: no copy of the content remains anywhere."""
        check_all_storable([("message_id", message_id), ("marker", marker)])
        record = await self.resolve(ref)
        if record.parent_id is not None:
            record = await self.resolve((await self._find_message(record, message_id)).conversation_id)
        return await self.store.redact_message(self.owner, record.id, message_id, marker)

    async def delete_message(self, ref: ConversationRef, message_id: str) -> None:
        """Delete one message (its seq is not reused). ``Conflict`` for a message that a branch
        shares: from a branch, one of its parent's; in a parent, one a branch was forked with."""
        check_storable(message_id, "message_id")
        record = await self.resolve(ref)
        if record.parent_id is not None:
            found = await self._find_message(record, message_id)
            if found.conversation_id != record.id:
                raise Conflict(
                    f"message {message_id!r} is history that branch {record.id!r} shares with "
                    f"conversation {found.conversation_id!r}; a branch removes only its own messages"
                )
        await self.store.delete_message(self.owner, record.id, message_id)

    async def pop_message(self, ref: ConversationRef) -> MessageRecord | None:
        """Remove and return the last message, or ``None``."""
        record = await self.resolve(ref)
        return await self.store.pop_message(self.owner, record.id)

    async def clear_messages(self, ref: ConversationRef) -> int:
        """Delete every message; return how many."""
        record = await self.resolve(ref)
        return await self.store.clear_messages(self.owner, record.id)

    @staticmethod
    def _as_face(face: type[F], message: MessageRecord, conversation: ConversationRecord) -> F:
        from_record = face.from_record  # type: ignore[attr-defined]
        params = _parameters(from_record)
        kwargs: dict[str, Any] = {}
        if "session_key" in params and conversation.session_key:
            kwargs["session_key"] = conversation.session_key
        if "participants" in params:
            kwargs["participants"] = conversation.participants
        if "session_id" in params and conversation.session_id:
            kwargs["session_id"] = conversation.session_id
        return from_record(message, **kwargs)  # type: ignore[no-any-return]

    # -- session memory -----------------------------------------------------------------------
    async def memory(self, ref: ConversationRef) -> dict[str, Any]:
        """The session memory as ``{key: value}``."""
        record = await self.resolve(ref)
        return {e.key: e.value for e in await self.store.get_memory(self.owner, record.id)}

    async def memory_entries(self, ref: ConversationRef) -> list[MemoryEntry]:
        """The session memory entries (with their update times), ordered by key."""
        record = await self.resolve(ref)
        return await self.store.get_memory(self.owner, record.id)

    async def set_memory(self, ref: ConversationRef, key: str, value: Any) -> MemoryEntry:
        """Create or replace memory entry ``key``; ``UnstorableText`` when the key or the value
        holds a NUL character."""
        check_all_storable([("key", key), ("value", value)])
        record = await self.resolve(ref)
        return await self.store.set_memory(self.owner, record.id, key, value)

    async def delete_memory(self, ref: ConversationRef, key: str) -> None:
        """Delete memory entry ``key``; ``NotFound`` when absent."""
        check_storable(key, "key")
        record = await self.resolve(ref)
        await self.store.delete_memory(self.owner, record.id, key)

    # -- export / restore / import ------------------------------------------------------------
    async def export_bundle(self, ref: ConversationRef) -> dict[str, Any]:
        """A lossless, versioned JSON bundle of one conversation: the conversation, every
        message, lifecycle event, memory entry and provider call (plain JSON types).

        Restoring it into an empty ledger and exporting again gives an identical bundle. A
        branch's bundle holds its whole history (the shared messages first, with their parent's
        ``conversation_id``) and its lineage; restore its parent first.
        """
        return (await self._bundle(await self.resolve(ref)))[1]

    async def export_document(self, ref: ConversationRef) -> dict[str, Any]:
        """The JSON export of one conversation (``GET …/export?format=json``, ``convoledger
        export``): the agent-session seed's document — ``session`` and ``messages`` with the
        seed's keys (section 10 ``export_session_data``; ``models.seed_backup``) — plus the
        lossless bundle (``export_bundle``) under :data:`EXPORT_BUNDLE_KEY`.

        ``import_document`` restores it from the bundle, so export → import → export gives an
        identical document; the seed's own ``restore_session_from_backup`` reads it too.
        """
        record = await self.resolve(ref)
        messages, bundle = await self._bundle(record)
        return {**seed_export_document(record, messages), EXPORT_BUNDLE_KEY: bundle}

    async def _bundle(self, record: ConversationRecord) -> tuple[list[MessageRecord], dict[str, Any]]:
        messages = await self._history(record, MessageQuery())
        events = await self.store.list_lifecycle_events(self.owner, record.id)
        memory = await self.store.get_memory(self.owner, record.id)
        calls = await self.store.list_provider_calls(self.owner, record.id)
        return messages, {
            "format": BUNDLE_FORMAT,
            "bundle_version": BUNDLE_VERSION,
            "schema_version": SCHEMA_VERSION,
            "conversation": record.model_dump(mode="json", exclude={"owner_id"}),
            "messages": [m.model_dump(mode="json") for m in messages],
            "lifecycle_events": [e.model_dump(mode="json") for e in events],
            "memory": [e.model_dump(mode="json") for e in memory],
            "provider_calls": [c.model_dump(mode="json") for c in calls],
        }

    async def import_document(self, document: Any) -> ConversationRecord:
        """Restore any JSON export into this owner's ledger (``POST /api/agent-sessions/import``):

        - a document with :data:`EXPORT_BUNDLE_KEY` (``export_document``): its bundle is restored
          exactly (``restore_bundle``; the seed part beside it is derived data and not read);
        - a bare bundle (``format`` = ``convoledger.bundle``, ``export_bundle``): restored exactly;
        - a seed-shaped backup ``{"session": {...}, "messages": [...]}``: ``restore_seed_backup``.

        ``ValueError`` for anything else or a malformed export (nothing written); ``Conflict``
        when the session already exists here.
        """
        if not isinstance(document, dict):
            raise ValueError(f"an export must be a JSON object, got {type(document).__name__}")
        check_storable(document, "")
        if EXPORT_BUNDLE_KEY in document:
            return await self.restore_bundle(document[EXPORT_BUNDLE_KEY])
        if "format" in document:
            return await self.restore_bundle(document)
        if "session" in document:
            return await self.restore_seed_backup(document)
        raise ValueError(
            "not an export: expected the seed's backup {'session': {...}, 'messages': [...]}, "
            f"a document with {EXPORT_BUNDLE_KEY!r}, or a convoledger bundle ('format': {BUNDLE_FORMAT!r})"
        )

    async def restore_seed_backup(self, backup: Any, *, user_id: str | None = None) -> ConversationRecord:
        """Restore a backup in the agent-session seed's shape (section 10
        ``restore_session_from_backup``) as a new ``agent_session`` of this owner, in one
        transaction: the session with its messages in order (``seq`` 1..n).

        As in the seed, ``SessionExists`` (a ``Conflict`` and a ``ValueError``: "Session … already
        exists") when this owner already has a
        session with the backup's ``session_id``. The backup's ``session.id`` is kept when it is
        a UUID not used here, else a new id is given. ``is_active: false`` restores the session
        ``inactive`` with its lifecycle event. ``user_id`` becomes the session's ``user_id``.
        Rules and deliberate differences: ``models.seed_backup``. ``ValueError`` for a malformed
        backup (nothing written).
        """
        check_storable(backup, "")
        session = backup.get("session") if isinstance(backup, dict) else None
        conversation_id = await self._restore_id(session.get("id") if isinstance(session, dict) else None)
        restore = parse_seed_backup(
            backup, owner_id=self.owner, conversation_id=conversation_id, user_id=user_id, actor=self.owner
        )
        session_id = restore.conversation.session_id
        if await self.store.find_conversation(self.owner, session_id=session_id) is not None:
            raise SessionExists(f"Session {session_id} already exists")
        messages = [self._with_token_count(m) for m in restore.messages]
        return await self.store.import_conversation(
            self.owner, restore.conversation, messages, events=restore.events
        )

    async def _restore_id(self, wanted: Any) -> str:
        """``wanted`` as canonical UUID text when it is a UUID this owner does not use, else a new id."""
        import uuid

        try:
            candidate = str(uuid.UUID(wanted)) if isinstance(wanted, str) else None
        except ValueError:
            candidate = None
        if candidate is None:
            return new_id()
        try:
            await self.store.get_conversation(self.owner, candidate)
        except NotFound:
            return candidate
        return new_id()

    async def restore_bundle(self, bundle: dict[str, Any]) -> ConversationRecord:
        """Restore a bundle made by ``export_bundle`` as it was (same ids, seqs, statuses and
        times). ``ValueError`` for a malformed bundle (nothing written); ``Conflict`` when the
        conversation id, session_id or session_key already exists for this owner. A branch's
        bundle restores as a branch (only its own messages stored) when its parent is here and
        holds exactly the shared history it was exported with: ``NotFound`` naming the parent
        when it is missing, ``ValueError`` when that history differs."""
        if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
            raise ValueError(f"not a convoledger bundle: expected format {BUNDLE_FORMAT!r}")
        check_storable(bundle, "")
        if bundle.get("bundle_version") != BUNDLE_VERSION:
            raise ValueError(
                f"unsupported bundle_version {bundle.get('bundle_version')!r}; "
                f"this version reads {BUNDLE_VERSION}"
            )
        try:
            conversation = ConversationRecord.model_validate(
                {**bundle["conversation"], "owner_id": self.owner}
            )
            messages = [MessageRecord.model_validate(m) for m in bundle.get("messages", [])]
            events = [LifecycleEvent.model_validate(e) for e in bundle.get("lifecycle_events", [])]
            memory = [MemoryEntry.model_validate(e) for e in bundle.get("memory", [])]
            calls = [ProviderCallRecord.model_validate(c) for c in bundle.get("provider_calls", [])]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed bundle: {exc}") from exc
        if conversation.parent_id is not None:
            messages = await self._own_part_of_branch_bundle(conversation, messages)
        entries: list[MessageRecord | LifecycleEvent | MemoryEntry | ProviderCallRecord] = [
            *messages, *events, *memory, *calls
        ]
        for item in entries:
            if item.conversation_id != conversation.id:
                raise ValueError(
                    f"malformed bundle: an entry belongs to conversation {item.conversation_id!r}, "
                    f"not {conversation.id!r}"
                )
        return await self.store.import_conversation(
            self.owner, conversation, messages, events=events, memory=memory, provider_calls=calls
        )

    async def import_conversation(
        self, conversation: ConversationRecord, messages: Sequence[MessageRecord]
    ) -> ImportOutcome:
        """Store an imported conversation with its messages in one transaction, idempotently:
        when a conversation with the same id or session_id exists, nothing is written and
        ``created`` is False. Messages get ``seq`` 1..n in the given order and token counts
        (a branch's own messages: ``forked_at_seq + 1`` on; its parent must be stored first).
        ``UnstorableText`` when any text holds a NUL character (nothing written)."""
        check_storable(conversation, "conversation")
        for index, message in enumerate(messages):
            check_storable(message, f"messages[{index}]")
        existing = await self._existing(conversation)
        if existing is None:
            try:
                existing = await self.store.get_conversation(self.owner, conversation.id)
            except NotFound:
                existing = None
        if existing is not None:
            return ImportOutcome(existing, created=False, messages=0)
        first_seq = (conversation.forked_at_seq or 0) + 1
        stored_messages = [
            self._with_token_count(m).model_copy(update={"seq": i, "conversation_id": conversation.id})
            for i, m in enumerate(messages, start=first_seq)
        ]
        record = conversation.model_copy(update={"owner_id": self.owner})
        try:
            stored = await self.store.import_conversation(self.owner, record, stored_messages)
        except Conflict:
            # Another importer stored it between our check and our write: same outcome.
            found = await self.resolve(conversation.id)
            return ImportOutcome(found, created=False, messages=0)
        return ImportOutcome(stored, created=True, messages=len(stored_messages))

    async def export_csv(self, ref: ConversationRef) -> str:
        """The conversation's messages as CSV, one row each in ``seq`` order (``CSV_COLUMNS``:
        the seed's seven columns with the seed's values — ``updated_at`` = ``created_at`` when
        never edited — then convoledger's; JSON columns as JSON text, empty for null)."""
        import orjson

        record = await self.resolve(ref)
        messages = await self._history(record, MessageQuery())
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for m in messages:
            seed = seed_message_dict(m)
            writer.writerow(
                [
                    seed["id"],
                    seed["role"],
                    seed["content"],
                    seed["tool_call_id"],
                    seed["tool_name"],
                    seed["created_at"],
                    seed["updated_at"],
                    m.seq,
                    m.sender or "",
                    m.recipient or "",
                    m.message_type or "",
                    orjson.dumps(m.tool_calls).decode() if m.tool_calls is not None else "",
                    orjson.dumps(m.extra_data).decode() if m.extra_data is not None else "",
                    "" if m.token_count is None else m.token_count,
                    "true" if m.redacted else "false",
                    m.role,
                ]
            )
        return out.getvalue()

    # -- provider calls -----------------------------------------------------------------------
    async def add_provider_call(
        self,
        ref: ConversationRef,
        call: ProviderCallRecord | ProviderMetadata,
        server_state: dict[str, Any] | None = None,
    ) -> ProviderCallRecord:
        """Store a ready ``ProviderCallRecord`` or seed-004 ``ProviderMetadata`` (and the new
        server-side state handle, atomically)."""
        record = await self.resolve(ref)
        if isinstance(call, ProviderMetadata):
            call = call.to_record()
        call = call.model_copy(update={"conversation_id": record.id})
        check_all_storable([("provider_call", call), ("server_state", server_state)])
        return await self.store.record_provider_call(self.owner, record.id, call, server_state)

    async def record_provider_call(
        self,
        conversation: ConversationRef,
        response: Any,
        message: MessageRecord | str | None = None,
        request: Any = None,
        *,
        provider: str | None = None,
        api: str | None = None,
        headers: Any = None,
        model: str | None = None,
        at: datetime | None = None,
    ) -> ProviderCallRecord:
        """Record one model call: parse ``response`` (raw body, SDK object, complete stream, or a
        ``ProviderResponseMetadata``), price it, store a ``ProviderCallRecord`` linked to
        ``message`` (the assistant message it produced; a record or its id) and, in the same
        transaction, update the conversation's server-side state handle when the provider API
        is stateful (e.g. the last Responses ``response_id``).

        ``provider`` is required for raw responses (openai, azure, anthropic, google,
        openrouter, groq, mistral, bedrock, ollama, deepseek); ``api`` is detected when omitted.
        Raises ``ValueError`` for unparsable input, ``NotFound`` for an unknown conversation or
        message.
        """
        from convoledger.capture import capture_call, next_server_state

        conv = await self.resolve(conversation)
        msg: MessageRecord | None
        if isinstance(message, str):
            msg = await self.store.get_message(self.owner, conv.id, message)
        elif isinstance(message, MessageRecord):
            msg = await self.store.get_message(self.owner, conv.id, message.id)
        else:
            msg = None
        # Parsing and pricing are CPU work (a long stream, genai-prices): off the event loop.
        metadata, record = await asyncio.to_thread(
            capture_call,
            conv.id,
            response,
            provider=provider,
            api=api,
            headers=headers,
            model=model,
            message=msg,
            request=request,
            at=at,
        )
        return await self.store.record_provider_call(
            self.owner, conv.id, record, next_server_state(metadata, msg, conv.last_seq)
        )

    async def provider_calls(self, ref: ConversationRef) -> list[ProviderCallRecord]:
        """The conversation's provider calls, oldest first."""
        record = await self.resolve(ref)
        return await self.store.list_provider_calls(self.owner, record.id)

    async def usage(self, ref: ConversationRef) -> ConversationUsage:
        """Token and cost totals of the conversation, per model and per message."""
        return _usage_of(await self.provider_calls(ref))

    # -- seed 004: the conversation-level provider views (derived from the call rows) --------
    async def provider_views(
        self, ref: ConversationRef, *, include_raw: bool = True
    ) -> ConversationProviderViews:
        """Seed 004's ``provider_metadata``, ``extracted_identifiers``, ``token_usage_history``
        and ``cost_tracking`` of a conversation, computed from its provider-call rows (never a
        stored JSON column; shapes in ``models.provider_views``). ``include_raw=False`` leaves
        the raw bodies out of ``provider_metadata``. ``NotFound`` for an unknown conversation."""
        calls = await self.provider_calls(ref)
        usage = _usage_of(calls).as_dict()
        return ConversationProviderViews.from_calls(calls, usage, include_raw=include_raw)

    async def provider_metadata_records(self, ref: ConversationRef) -> list[ProviderMetadata]:
        """The conversation's provider calls under seed 004's ``ProviderMetadata`` names
        (``conversation``, ``message``, ``provider_response_raw``, ``extracted_identifiers``,
        ``usage_metrics``, ``provider_specific_data``), oldest first."""
        return [ProviderMetadata.from_record(call) for call in await self.provider_calls(ref)]

    # -- context ------------------------------------------------------------------------------
    async def context_for(
        self,
        ref: ConversationRef,
        *,
        provider: str,
        api: str | None = None,
        budget_tokens: int = 8000,
        history_limit: int = 500,
        summary: bool = False,
    ) -> Any:
        """What to send to ``provider``/``api`` next (seed: ConversationManager): a
        ``context.ContextPlan`` with the strategy (``server_state`` when the API keeps history
        and the conversation holds a valid handle for it, else ``token_window`` under
        ``budget_tokens`` tokens), the reason, the messages and the handle. Reads at most the
        ``history_limit`` most recent messages. ``ValueError`` for an unknown provider/API."""
        from convoledger.context import choose_context
        from convoledger.providers import get_capabilities

        caps = get_capabilities(provider, api)
        record = await self.resolve(ref)
        recent = await self._history(record, MessageQuery(last=history_limit))
        return choose_context(
            record,
            recent,
            provider=provider,
            api=api or caps.api,
            api_stateful=caps.api_stateful,
            budget_tokens=budget_tokens,
            summary=summary,
        )

    # -- forks (issue 17) ---------------------------------------------------------------------
    async def fork(
        self,
        ref: ConversationRef,
        at_seq: int | None = None,
        *,
        session_id: str | None = None,
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> ConversationRecord:
        """A new branch of the conversation at seq ``at_seq`` (default: its ``last_seq``),
        sharing its history up to and including that seq without copying it; the branch's own
        messages continue the numbering after it. Returns the stored branch (``parent_id``,
        ``forked_at_seq``, ``message_count`` = the shared messages).

        The branch copies the parent's descriptive fields (kind, session_type, name unless
        given, description, agent, user, device, topic, current_goal, participants, metadata
        unless given); it starts ``active`` with no ``session_key`` (keys are unique), no
        ``server_state`` (a provider's server-side handle points at the parent's latest turn, not
        at the fork point), no memory, events or provider calls. ``session_id``: an external id
        for the branch. ``NotFound`` for another owner's conversation; ``ValueError`` for a fork
        point outside ``1..last_seq``; ``Conflict`` for a taken ``session_id``.
        """
        from convoledger.models.records import new_id

        parent = await self.resolve(ref)
        now = utcnow()
        branch = parent.model_copy(
            update={
                "id": new_id(),
                "session_id": session_id,
                "session_key": None,
                "name": parent.name if name is None else name,
                "metadata": dict(parent.metadata if metadata is None else metadata),
                "server_state": None,
                "status": ConversationStatus.ACTIVE,
                "message_count": 0,
                "last_seq": 0,
                "created_at": now,
                "updated_at": now,
                "last_activity_at": now,
                "parent_id": parent.id,
                "forked_at_seq": parent.last_seq if at_seq is None else at_seq,
            },
            deep=True,
        )
        return await self.store.create_conversation(
            self.owner, ConversationRecord.model_validate(dict(branch))
        )

    async def branches(self, ref: ConversationRef) -> list[ConversationRecord]:
        """The conversations forked directly from this one, oldest first."""
        record = await self.resolve(ref)
        return await self.store.list_branches(self.owner, record.id)

    async def lineage(self, ref: ConversationRef) -> list[ConversationRecord]:
        """The conversation followed by its ancestors (parent, grandparent, …)."""
        return await forks.chain_of(self.store, self.owner, await self.resolve(ref))

    async def _history(self, record: ConversationRecord, query: MessageQuery) -> list[MessageRecord]:
        """``store.list_messages`` over the whole history (a branch: shared part first)."""
        if record.parent_id is None:
            return await self.store.list_messages(self.owner, record.id, query)
        chain = await forks.chain_of(self.store, self.owner, record)
        return await forks.list_history(self.store, self.owner, chain, query)

    async def _find_message(self, record: ConversationRecord, message_id: str) -> MessageRecord:
        if record.parent_id is None:
            return await self.store.get_message(self.owner, record.id, message_id)
        chain = await forks.chain_of(self.store, self.owner, record)
        return await forks.find_message(self.store, self.owner, chain, message_id)

    async def _own_part_of_branch_bundle(
        self, conversation: ConversationRecord, messages: list[MessageRecord]
    ) -> list[MessageRecord]:
        """The messages of a branch's bundle that the branch stores itself (seq after the fork
        point). The shared part (seq up to it) must be exactly the parent's history here, as
        exported; ``ValueError`` otherwise (restoring would show a different history), and
        ``NotFound`` naming the parent when it is not in this ledger (restore it first)."""
        assert conversation.parent_id is not None and conversation.forked_at_seq is not None
        point = conversation.forked_at_seq
        try:
            parent = await self.store.get_conversation(self.owner, conversation.parent_id)
        except NotFound:
            raise NotFound(
                f"bundle {conversation.id!r} is a branch of conversation {conversation.parent_id!r} "
                f"(forked at seq {point}), which is not in this ledger: restore it first"
            ) from None
        shared = [m for m in messages if m.seq <= point]
        here = await self._history(parent, MessageQuery(before_seq=point + 1))
        if [m.model_dump(mode="json") for m in shared] != [m.model_dump(mode="json") for m in here]:
            raise ValueError(
                f"bundle {conversation.id!r}: its history up to seq {point} differs from what conversation "
                f"{parent.id!r} holds now, so restoring it would not give back the exported branch"
            )
        return [m for m in messages if m.seq > point]

    # -- lifecycle sweeping (operator tasks, across owners) -----------------------------------
    async def sweep(self, now: datetime | None = None, batch: int = 1000) -> list[LifecycleEvent]:
        """Apply the lifecycle policy to every owner's conversations, once, through everything
        that is due (read in keyset batches of ``batch``):

        - active with no activity for ``policy.default_timeout`` s → ``inactive_timeout``;
        - ``inactive_*`` idle for ``policy.max_inactive_time`` s → ``archived``.

        Returns the events recorded (actor ``"sweeper"``). A conversation that another writer
        moved meanwhile is skipped (its move is checked under the store's lock). The scheduled
        maintenance pass (``convoledger.maintenance``) applies the seed's cleanup policies instead
        of the second step.
        """
        now = now or utcnow()
        events: list[LifecycleEvent] = []
        async for conv in self._idle(now - timedelta(seconds=self.policy.default_timeout), batch):
            events.extend(
                await self._sweep_move(conv, ConversationStatus.INACTIVE_TIMEOUT, "inactivity timeout")
            )
        inactive = [s for s in ConversationStatus if s.value.startswith("inactive")]
        async for conv in self._idle(now - timedelta(seconds=self.policy.max_inactive_time), batch, inactive):
            events.extend(
                await self._sweep_move(conv, ConversationStatus.ARCHIVED, "max inactive time reached")
            )
        return events

    async def _idle(
        self,
        cutoff: datetime,
        batch: int,
        statuses: Iterable[ConversationStatus] = (ConversationStatus.ACTIVE,),
    ) -> AsyncIterator[ConversationRecord]:
        """Every conversation (all owners) in ``statuses`` idle since before ``cutoff``, read in
        keyset batches of ``batch`` (``Store.conversations_idle_since``)."""
        wanted = tuple(statuses)
        after: tuple[datetime, str] | None = None
        while True:
            rows = await self.store.conversations_idle_since(cutoff, batch, wanted, after=after)
            for conv in rows:
                yield conv
            if len(rows) < batch:
                return
            after = (rows[-1].last_activity_at, rows[-1].id)

    async def _sweep_move(
        self, conv: ConversationRecord, target: ConversationStatus, reason: str
    ) -> Iterable[LifecycleEvent]:
        from convoledger.models.status import InvalidTransition

        try:
            _, event = await self.store.transition(
                conv.owner_id, conv.id, target, reason=reason, actor="sweeper"
            )
        except (InvalidTransition, NotFound):
            return ()
        return (event,)

    async def cleanup(
        self,
        now: datetime | None = None,
        batch: int = 1000,
        *,
        delete: Callable[[ConversationRecord], Awaitable[bool]] | None = None,
    ) -> int:
        """Delete archived conversations idle for ``policy.max_session_age`` s; return how many.
        One that still has branches is kept (they share its history; ``store/lineage.py``).
        ``delete(conversation)``, when given, does each deletion instead and returns whether it
        deleted (``convoledger sweep --cleanup`` passes the maintenance code's, which backs the
        conversation up and records the deletion first)."""
        now = now or utcnow()
        deleted = 0
        cutoff = now - timedelta(seconds=self.policy.max_session_age)
        async for conv in self._idle(cutoff, batch, [ConversationStatus.ARCHIVED]):
            if delete is not None:
                deleted += 1 if await delete(conv) else 0
                continue
            try:
                await self.store.delete_conversation(conv.owner_id, conv.id)
            except NotFound:
                continue
            except Conflict:  # it still has branches, which share its history: kept for them
                continue
            deleted += 1
        return deleted


def _parameters(func: Any) -> frozenset[str]:
    import inspect

    try:
        return frozenset(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return frozenset()
