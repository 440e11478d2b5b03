"""The ``Store`` interface: where conversations, messages and everything about them live.

One interface, four backends (``memory``, ``jsonfiles``, ``sql`` for SQLite and PostgreSQL),
one contract test suite (``tests/store/``). Every call takes the owner scope first; another
owner's data behaves as if it did not exist (``NotFound``), never ``forbidden``.

The invariants each backend keeps (DESIGN.md):

1. Isolation by ``owner_id`` on every read and write.
2. Order: appended messages get ``seq`` = ``last_seq + 1, + 2, …`` per conversation, under any
   concurrency and across processes. ``seq`` is never reused: popping, deleting or clearing
   messages leaves ``last_seq`` where it was, so a keyset reader never misses a message.
3. Atomicity: ``append_messages`` stores all messages of a batch or none.
4. Idempotency: a message id already stored in the conversation returns the stored message and
   stores nothing new (a retry of a batch returns the originals in batch order).
5. Durability: an acknowledged write survives a crash of the process.
6. Reads never load a whole history unless asked: ``MessageQuery`` filters are applied before
   its ``limit``; ``last=N`` returns the most recent N in chronological order.
7. Tool-call integrity is enforced by the readers that build context windows (``context``).
8. Datetimes are aware UTC.
9. Stable history: ``seq`` order is commit order (seq is assigned under the conversation's lock
   in the same transaction that stores the message).
10. Events (issue 18): every change writes its ``models.events`` drafts in the same transaction
    (the outbox), numbered per account 1, 2, 3, … in commit order; ``list_events`` reads them
    by keyset. Deleting a conversation keeps its events (the outbox is the account's history).

Full-text search (``MessageQuery.search``) has one meaning on every backend: the query is split
into words (Unicode letters/digits), and a message matches when its content contains every word
as a whole word, case-insensitively (SQLite FTS5 unicode61, PostgreSQL ``simple`` tsvector).

Forks (issue 17; rules in ``store/lineage.py``): a conversation created or imported with
``parent_id``/``forked_at_seq`` is a branch of that parent (same owner, else ``NotFound``; fork
point ``1 <= forked_at_seq <= parent.last_seq``, else ``ValueError``). The store keeps only the
branch's own messages (seqs after the fork point; its ``last_seq`` starts there) and counts the
shared ones in its ``message_count``. Message reads of the store (``list_messages``,
``get_message``, ``count_messages``) see a conversation's own messages; the composed history of
a branch (shared part first) is read through ``convoledger.forks`` / ``Ledger``. Removing
messages a branch shares, or deleting a conversation that has branches, is a ``Conflict``;
``list_branches`` names them.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from convoledger.models.events import EventRecord
from convoledger.models.records import (
    ConversationKind,
    ConversationRecord,
    MemoryEntry,
    MessageRecord,
    ProviderCallRecord,
)
from convoledger.models.status import ConversationStatus, LifecycleEvent
from convoledger.store.outbox import EventQuery

#: Fields of a conversation that ``update_conversation`` may change.
UPDATABLE_CONVERSATION_FIELDS = frozenset(
    {
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
    }
)


@dataclass(frozen=True)
class ConversationQuery:
    """Filters and paging for ``Store.list_conversations``.

    Order: ``updated_at`` descending, then ``id`` descending. Paging is either by ``offset``
    (API pages) or by keyset: ``before`` = ``(updated_at, id)`` of the last item already seen.
    ``name_contains`` matches ``name`` (or ``session_id``) case-insensitively as a substring;
    ``idle_before`` keeps conversations whose ``last_activity_at`` is before it.
    """

    status: ConversationStatus | None = None
    kind: ConversationKind | None = None
    participant_id: str | None = None
    name_contains: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    idle_before: datetime | None = None
    limit: int = 50
    offset: int = 0
    before: tuple[datetime, str] | None = None


@dataclass(frozen=True)
class ConversationPage:
    """One page of conversations: ``items`` and ``total`` (all matches, ignoring paging)."""

    items: list[ConversationRecord]
    total: int


@dataclass(frozen=True)
class MessageQuery:
    """Filters and window for ``Store.list_messages`` / ``count_messages``.

    Filters (``role``, ``sender``, ``recipient``, ``message_type``, ``since``/``until`` on
    ``created_at`` inclusive, ``search`` full-text) are applied before the window.
    Window: ``after_seq``/``before_seq`` (exclusive keyset bounds) then either ``last`` (the most
    recent N matching, returned oldest first) or ``limit`` + ``offset`` (oldest first). ``None``
    limit means all matches (only when the caller asks for a whole history).
    """

    role: str | None = None
    sender: str | None = None
    recipient: str | None = None
    message_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None
    after_seq: int | None = None
    before_seq: int | None = None
    last: int | None = None
    limit: int | None = None
    offset: int = 0


@dataclass(frozen=True)
class Account:
    """An API account (the owner of conversations). ``name`` is the owner id."""

    name: str
    created_at: datetime


#: Hex digits of a key hash shown as an API key's id (``ApiKey.key_id``): 48 bits, so ids of one
#: ledger's keys do not collide in practice; a longer prefix is accepted wherever an id is.
KEY_ID_LENGTH = 12


@dataclass(frozen=True)
class ApiKey:
    """An issued API key as the store keeps it — never the token itself.

    ``key_hash``: hex SHA-256 of the token (``api.auth.hash_token``); ``account``: the account
    it authenticates as; ``label``: free text given when it was issued (``None`` for none);
    ``created_at``: when it was issued (aware UTC; ``None`` only for a key a JSON-files ledger
    recorded before issue 16, which kept no time).
    """

    key_hash: str
    account: str
    label: str | None
    created_at: datetime | None

    @property
    def key_id(self) -> str:
        """The short id shown for the key: the first ``KEY_ID_LENGTH`` hex digits of its hash.
        It identifies the key without revealing the token (a hash cannot be turned back)."""
        return self.key_hash[:KEY_ID_LENGTH]


@dataclass(frozen=True)
class OwnerStats:
    """Counts for one owner (``GET /api/stats``): conversations, active ones, messages (the sum
    of ``message_count``), conversations holding at least one message
    (``conversations_with_messages``, the agent-session seed's ``sessions_with_conversations``),
    and conversations per status and per kind (only values that occur are keys)."""

    conversations: int
    active_conversations: int
    messages: int
    by_status: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)
    conversations_with_messages: int = 0


class Store(abc.ABC):
    """The storage contract (async). Backends: ``MemoryStore``, ``JsonFilesStore``, ``SqlStore``.

    Errors: ``NotFound`` for anything missing or owned by someone else; ``Conflict`` for taken
    unique keys; ``ConversationNotActive`` for appends to a non-active conversation;
    ``InvalidTransition`` for illegal lifecycle moves; ``ValueError`` for bad input. No call
    leaves a partial write behind.
    """

    # -- lifetime -----------------------------------------------------------------------------
    async def open(self) -> None:  # noqa: B027 - optional hook
        """Prepare the backend (create or upgrade schema, directories). Idempotent."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and locks. The store must not be used afterwards."""

    # -- accounts -----------------------------------------------------------------------------
    @abc.abstractmethod
    async def ensure_account(self, name: str) -> Account:
        """Return account ``name``, creating it if missing. ``ValueError`` for an empty name."""

    @abc.abstractmethod
    async def add_api_key(self, account: str, key_hash: str, label: str | None = None) -> None:
        """Store an API key's hash (hex SHA-256) bound to ``account``. ``NotFound`` if no account."""

    @abc.abstractmethod
    async def account_for_key(self, key_hash: str) -> Account | None:
        """The account a key hash belongs to, or ``None``."""

    @abc.abstractmethod
    async def list_api_keys(self, account: str | None = None, *, key_hash_prefix: str = "") -> list[ApiKey]:
        """The API keys of ``account`` (every account's when ``None``) whose hash starts with
        ``key_hash_prefix`` (lowercase hex, ``""`` = any), oldest first (``created_at``, then
        ``key_hash``). An unknown account has none. ``ValueError`` for a prefix that is not
        lowercase hex (at most 64 digits)."""

    @abc.abstractmethod
    async def delete_api_key(self, key_hash: str) -> ApiKey:
        """Revoke the key with this exact hash: it no longer authenticates (``account_for_key``
        gives ``None`` at once, on every backend and through the Redis cache, which never
        caches keys). Returns the key as it was; ``NotFound`` if no key has this hash."""

    # -- conversations ------------------------------------------------------------------------
    @abc.abstractmethod
    async def create_conversation(
        self, owner_id: str, conversation: ConversationRecord
    ) -> ConversationRecord:
        """Store a new conversation for ``owner_id`` (its ``owner_id`` field is overwritten).

        ``message_count``/``last_seq`` start at 0. ``Conflict`` if its ``id`` exists, or if
        ``session_id`` / ``session_key`` is already used by another conversation of the owner.
        """

    @abc.abstractmethod
    async def get_conversation(self, owner_id: str, conversation_id: str) -> ConversationRecord:
        """The conversation with this id; ``NotFound`` if missing or not the owner's."""

    @abc.abstractmethod
    async def find_conversation(
        self, owner_id: str, *, session_id: str | None = None, session_key: str | None = None
    ) -> ConversationRecord | None:
        """Look up by external ``session_id`` or by ``session_key`` (exactly one given)."""

    @abc.abstractmethod
    async def list_conversations(self, owner_id: str, query: ConversationQuery) -> ConversationPage:
        """The owner's conversations matching ``query`` (see ``ConversationQuery``)."""

    @abc.abstractmethod
    async def update_conversation(
        self, owner_id: str, conversation_id: str, changes: dict[str, Any]
    ) -> ConversationRecord:
        """Apply ``changes`` (keys from ``UPDATABLE_CONVERSATION_FIELDS``; ``ValueError`` for
        others), set ``updated_at`` to now, return the new record. ``Conflict`` on a taken
        session_id. Status changes go through ``transition``."""

    @abc.abstractmethod
    async def delete_conversation(self, owner_id: str, conversation_id: str) -> None:
        """Delete a conversation with its messages, events, memory and provider calls.
        ``Conflict`` while it has branches (see "Forks")."""

    @abc.abstractmethod
    async def transition(
        self,
        owner_id: str,
        conversation_id: str,
        target: ConversationStatus,
        *,
        reason: str | None = None,
        actor: str | None = None,
    ) -> tuple[ConversationRecord, LifecycleEvent]:
        """Move the conversation to ``target`` atomically and record the ``LifecycleEvent``.

        The check against the status machine (``models.status.check_transition``) is made under
        the conversation's lock, so two racing moves cannot both succeed from the same status.
        """

    @abc.abstractmethod
    async def list_lifecycle_events(self, owner_id: str, conversation_id: str) -> list[LifecycleEvent]:
        """The conversation's lifecycle events, oldest first."""

    @abc.abstractmethod
    async def import_conversation(
        self,
        owner_id: str,
        conversation: ConversationRecord,
        messages: Sequence[MessageRecord],
        *,
        events: Sequence[LifecycleEvent] = (),
        memory: Sequence[MemoryEntry] = (),
        provider_calls: Sequence[ProviderCallRecord] = (),
    ) -> ConversationRecord:
        """Store a whole conversation exactly as given, in one transaction (restore of an export
        bundle, bulk import of real data): the record with its status and times, messages with
        their own ``seq`` (positive, strictly increasing; ``ValueError`` otherwise), events,
        memory and provider calls. The stored ``message_count`` is ``len(messages)`` and
        ``last_seq`` is ``max(conversation.last_seq, highest seq)``. ``Conflict`` when the id,
        session_id or session_key is taken by this owner; nothing is written then."""

    # -- messages -----------------------------------------------------------------------------
    @abc.abstractmethod
    async def append_messages(
        self,
        owner_id: str,
        conversation_id: str,
        messages: Sequence[MessageRecord],
        token_counts: Sequence[int | None] | None = None,
    ) -> list[MessageRecord]:
        """Append a batch atomically; return the stored messages (with ``seq`` and
        ``conversation_id`` set) in batch order. ``token_counts`` (one per message, or ``None``;
        ``ValueError`` for another length) fill in the ``token_count`` of the messages that have
        none, in the store's own validated copy of each (``querying.with_token_counts``: the
        ``Ledger`` counts at write time, and a message is copied once on its way, issue 15).
        Idempotent per message id (invariant 4): ids already stored return the stored message; a
        batch repeating one id twice is a ``ValueError``. ``ConversationNotActive`` unless the
        status is ``active``. Updates the conversation's ``message_count``, ``last_seq``,
        ``updated_at`` and ``last_activity_at`` (= the latest ``created_at`` among the
        conversation's messages), the two times in steps of at least 1 s
        (``querying.activity_after_append``)."""

    @abc.abstractmethod
    async def get_message(self, owner_id: str, conversation_id: str, message_id: str) -> MessageRecord:
        """One message by id; ``NotFound`` if missing."""

    @abc.abstractmethod
    async def list_messages(
        self, owner_id: str, conversation_id: str, query: MessageQuery
    ) -> list[MessageRecord]:
        """Messages matching ``query``, oldest first (see ``MessageQuery``)."""

    @abc.abstractmethod
    async def count_messages(self, owner_id: str, conversation_id: str, query: MessageQuery) -> int:
        """How many messages match the filters of ``query`` (its window is ignored)."""

    # -- one-trip paths by reference (issue 15) -------------------------------------------------
    # A reference is what ``Ledger.resolve`` accepts as a string: the conversation's id, else its
    # external session_id, else its session_key. These defaults resolve first (a trip of its
    # own); ``SqlStore`` resolves inside the statement or transaction that uses the conversation.

    async def append_to_ref(
        self,
        owner_id: str,
        ref: str,
        messages: Sequence[MessageRecord],
        token_counts: Sequence[int | None] | None = None,
    ) -> list[MessageRecord]:
        """``append_messages`` to the conversation named by reference ``ref``; ``NotFound``
        when it names none (same errors and idempotency as ``append_messages``).
        ``token_counts`` (one per message, or ``None``) fill in the ``token_count`` of the
        messages that have none."""
        from convoledger.errors import NotFound
        from convoledger.store.querying import check_token_counts  # querying imports this module

        check_token_counts(messages, token_counts)
        try:
            conversation_id = (await self.get_conversation(owner_id, ref)).id
        except NotFound:
            found = await self.find_conversation(owner_id, session_id=ref)
            if found is None:
                found = await self.find_conversation(owner_id, session_key=ref)
            if found is None:
                raise
            conversation_id = found.id
        return await self.append_messages(owner_id, conversation_id, messages, token_counts)

    async def list_messages_by_ref(
        self, owner_id: str, ref: str, query: MessageQuery
    ) -> list[MessageRecord] | None:
        """``list_messages`` of the conversation named by reference ``ref`` when that takes one
        trip; ``None`` means "resolve it and read the usual way" — always when the reference
        names a branch (its history includes its parent's) or nothing, or no message matches.
        This default always answers ``None``."""
        return None

    async def page_by_ref(
        self, owner_id: str, ref: str, window: MessageQuery, filters: MessageQuery
    ) -> tuple[list[MessageRecord], int] | None:
        """``(list_messages(window), count_messages(filters))`` of the conversation named by
        reference ``ref`` in one trip, or ``None`` as for ``list_messages_by_ref``. This default
        always answers ``None``."""
        return None

    async def count_messages_in(
        self,
        owner_id: str,
        conversation_id: str,
        query: MessageQuery,
        *,
        after_seq: int | None = None,
        before_seq: int | None = None,
    ) -> int:
        """How many of the conversation's own messages with ``after_seq < seq < before_seq``
        (either bound optional) match the filters of ``query`` (its window is ignored): the
        count of one segment of a branch's history (``convoledger.forks``). This default lists
        the matches; backends that can count in the database override it."""
        bounded = replace(query, after_seq=after_seq, before_seq=before_seq, last=None, limit=None, offset=0)
        return len(await self.list_messages(owner_id, conversation_id, bounded))

    @abc.abstractmethod
    async def list_branches(self, owner_id: str, conversation_id: str) -> list[ConversationRecord]:
        """The conversations forked directly from this one (``parent_id`` = its id), oldest
        first (``created_at``, then ``id``); ``NotFound`` if the conversation is missing."""

    @abc.abstractmethod
    async def edit_message(
        self,
        owner_id: str,
        conversation_id: str,
        message_id: str,
        changes: dict[str, Any],
    ) -> MessageRecord:
        """Change ``content``, ``extra_data``, ``metadata``, ``token_count`` or ``pinned`` of a
        message (``ValueError`` for other keys) and set its ``updated_at`` to now."""

    @abc.abstractmethod
    async def redact_message(
        self, owner_id: str, conversation_id: str, message_id: str, marker: str = "[redacted]"
    ) -> MessageRecord:
        """Replace content with ``marker``, drop ``extra_data``/``tool_calls`` arguments and
        metadata; keep the envelope (id, seq, role, sender, recipient, times); set ``redacted``."""

    @abc.abstractmethod
    async def delete_message(self, owner_id: str, conversation_id: str, message_id: str) -> None:
        """Delete one message (its seq is not reused). ``NotFound`` if missing; ``Conflict``
        when a branch shares it (see "Forks")."""

    @abc.abstractmethod
    async def pop_message(self, owner_id: str, conversation_id: str) -> MessageRecord | None:
        """Remove and return the message with the highest seq, or ``None`` if there is none
        (of its own, for a branch). ``Conflict`` when a branch shares it."""

    @abc.abstractmethod
    async def clear_messages(self, owner_id: str, conversation_id: str) -> int:
        """Delete every message of the conversation (its own, for a branch: the shared history
        belongs to the parent); return how many were deleted. ``Conflict`` when a branch shares
        any of them."""

    # -- session memory -----------------------------------------------------------------------
    @abc.abstractmethod
    async def get_memory(self, owner_id: str, conversation_id: str) -> list[MemoryEntry]:
        """All memory entries of the conversation, ordered by key."""

    @abc.abstractmethod
    async def set_memory(self, owner_id: str, conversation_id: str, key: str, value: Any) -> MemoryEntry:
        """Create or replace memory entry ``key`` (``value`` must be JSON-serialisable)."""

    @abc.abstractmethod
    async def delete_memory(self, owner_id: str, conversation_id: str, key: str) -> None:
        """Delete memory entry ``key``; ``NotFound`` if it does not exist."""

    # -- provider calls -----------------------------------------------------------------------
    @abc.abstractmethod
    async def record_provider_call(
        self,
        owner_id: str,
        conversation_id: str,
        call: ProviderCallRecord,
        server_state: dict[str, Any] | None = None,
    ) -> ProviderCallRecord:
        """Store a provider call and, in the same transaction, set the conversation's
        ``server_state`` when given. ``NotFound`` if ``call.message_id`` names no message of it."""

    @abc.abstractmethod
    async def list_provider_calls(self, owner_id: str, conversation_id: str) -> list[ProviderCallRecord]:
        """The conversation's provider calls, oldest first."""

    # -- analytics ----------------------------------------------------------------------------
    @abc.abstractmethod
    async def stats(self, owner_id: str) -> OwnerStats:
        """Counts of the owner's conversations and messages, per status and per kind, and how
        many conversations have at least one message (see ``OwnerStats``)."""

    @abc.abstractmethod
    async def conversations_idle_since(
        self,
        cutoff: datetime,
        limit: int = 1000,
        statuses: Collection[ConversationStatus] = (ConversationStatus.ACTIVE,),
        *,
        created_before: datetime | None = None,
        after: tuple[datetime, str] | None = None,
    ) -> list[ConversationRecord]:
        """Conversations of every owner whose status is in ``statuses`` and whose
        ``last_activity_at`` is before ``cutoff`` (and, when ``created_before`` is given, whose
        ``created_at`` is before it: the age policy ``max_session_age``), oldest activity first
        (``(last_activity_at, id)``), only those after the keyset ``after`` (the last item of the
        previous batch) when given, at most ``limit`` (for the lifecycle sweeper and maintenance
        passes, operator tasks; not owner-scoped). ``ValueError`` for a non-datetime cutoff or
        an unknown status."""

    # -- events (the outbox, issue 18) ---------------------------------------------------------
    @abc.abstractmethod
    async def append_event(
        self, owner_id: str, kind: str, payload: dict[str, Any], *, conversation_id: str | None = None
    ) -> EventRecord:
        """Record an event that is not part of another change (e.g. ``alert.raised``) in a
        transaction of its own and return it with its per-account id. ``kind``: dotted lower-case
        words (``models.events.check_kind``); ``payload``: a JSON object. ``ValueError`` for bad
        input. ``conversation_id`` is not checked: an event may outlive its conversation. Events
        that belong to a change are written by the change itself (see ``outbox.event_context``
        to annotate them)."""

    @abc.abstractmethod
    async def list_events(self, owner_id: str, query: EventQuery) -> list[EventRecord]:
        """The owner's events with ``id > query.after_id`` (only ``query.conversation_id``'s when
        given), oldest first, at most ``query.limit`` (``outbox.check_event_query``; ``ValueError``)."""

    @abc.abstractmethod
    async def last_event_id(self, owner_id: str) -> int:
        """The id of the owner's newest committed event (0 when there is none)."""

    def on_events(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call ``listener(owner_id)`` after each commit of this store object that wrote events
        of ``owner_id`` (possibly from a worker thread, so a listener must be thread-safe; it must
        not block). Returns a function that removes the listener. Only commits made through this
        object are reported: other processes are seen through ``events.hub`` (PostgreSQL
        LISTEN/NOTIFY, Redis pub/sub) or by reading ``list_events``."""
        listeners: list[Callable[[str], None]] = self.__dict__.setdefault("_event_listeners", [])
        listeners.append(listener)

        def remove() -> None:
            if listener in listeners:
                listeners.remove(listener)

        return remove

    def _events_committed(self, owner_id: str) -> None:
        """Tell the ``on_events`` listeners that ``owner_id`` has new events (backends call it
        after a commit that wrote events)."""
        for listener in list(self.__dict__.get("_event_listeners", ())):
            listener(owner_id)
