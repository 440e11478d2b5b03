"""``MemoryStore``: the in-process backend (tests, embedding, ``memory://``).

Data lives in Python dicts and lists of this process and is gone when it exits, so invariant 5
(durability) does not apply; every other invariant of ``store/base.py`` holds.

Concurrency model (asyncio tasks of one event loop, like the OpenAI Agents SDK's in-memory
sessions):

- Every conversation has its own ``asyncio.Lock``. Each write to a conversation (append, edit,
  transition, memory, provider calls, delete) runs inside it, so ``seq`` is read, incremented and
  stored as one step: ``last_seq + 1, + 2, …`` with no gap and no duplicate, in commit order
  (invariant 9). Writes to different conversations do not wait for each other.
- The critical sections contain no ``await``; on one event loop they already cannot interleave.
  The lock states the rule explicitly and keeps it true if an ``await`` (a hook, a cache
  invalidation) is ever added inside. A lock is bound to the loop that first waits on it: use a
  store from one event loop at a time.
- Owner-level uniqueness checks (conversation id, ``session_id``, ``session_key``) and the insert
  they guard are likewise done with no ``await`` in between.
- Reads take no lock: each read runs to completion without yielding, so it sees the state
  between two writes, never half of one.
- Nothing internal escapes: inputs are copied on the way in and results on the way out (a JSON
  round trip through the pydantic models, which also gives the values exactly the shapes a JSON
  or SQL backend would return), so callers cannot mutate stored state by accident.
- Not thread-safe: share it between threads only through one event loop.
- Events (the outbox, issue 18): each write appends its event drafts to the owner's event list,
  numbered from the owner's counter, in the same step as the change (no ``await`` in between), so
  ids follow commit order and a change is never visible without its events.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel

from convoledger.errors import Conflict, ConversationNotActive, NotFound
from convoledger.models import events as ev
from convoledger.models.events import EventDraft, EventRecord
from convoledger.models.records import (
    ConversationRecord,
    MemoryEntry,
    MessageRecord,
    ProviderCallRecord,
)
from convoledger.models.status import ConversationStatus, LifecycleEvent, make_transition
from convoledger.models.timeutil import utcnow
from convoledger.store import lineage, outbox
from convoledger.store import querying as q
from convoledger.store.base import (
    Account,
    ApiKey,
    ConversationPage,
    ConversationQuery,
    MessageQuery,
    OwnerStats,
    Store,
)

M = TypeVar("M", bound=BaseModel)


def _clone(model: M) -> M:
    """An independent copy of a record (JSON round trip: faster than ``deepcopy`` for these)."""
    return type(model).model_validate_json(model.model_dump_json())


@dataclass
class _Conversation:
    """Everything stored for one conversation. ``messages`` is sorted by seq, ``seqs`` mirrors
    it for bisection, ``by_id`` indexes it by message id."""

    record: ConversationRecord
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    messages: list[MessageRecord] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)
    by_id: dict[str, MessageRecord] = field(default_factory=dict)
    events: list[LifecycleEvent] = field(default_factory=list)
    memory: dict[str, MemoryEntry] = field(default_factory=dict)
    calls: list[ProviderCallRecord] = field(default_factory=list)

    def remove_at(self, index: int) -> MessageRecord:
        msg = self.messages.pop(index)
        self.seqs.pop(index)
        del self.by_id[msg.id]
        return msg


class MemoryStore(Store):
    """The in-process ``Store`` (see the module docstring for its concurrency model).

    ``MemoryStore()`` takes no arguments; ``open``/``close`` are no-ops. Conversation ids are
    unique per owner; message ids per conversation.
    """

    def __init__(self) -> None:
        self._owners: dict[str, dict[str, _Conversation]] = {}
        self._accounts: dict[str, Account] = {}
        self._keys: dict[str, ApiKey] = {}
        self._events: dict[str, list[EventRecord]] = {}
        self._event_ids: dict[str, list[int]] = {}

    def _record(self, owner_id: str, *drafts: EventDraft) -> list[EventRecord]:
        """Number and store ``drafts`` for ``owner_id`` (call with no ``await`` between the
        change and this, so the change and its events commit as one step)."""
        events = self._events.setdefault(owner_id, [])
        ids = self._event_ids.setdefault(owner_id, [])
        now = utcnow()
        out: list[EventRecord] = []
        for draft in outbox.annotate(drafts):
            record = draft.numbered(owner_id, (ids[-1] if ids else 0) + 1, now)
            events.append(record)
            ids.append(record.id)
            out.append(record)
        if out:
            self._events_committed(owner_id)
        return out

    # -- helpers --------------------------------------------------------------------------------
    def _conv(self, owner_id: str, conversation_id: str) -> _Conversation:
        state = self._owners.get(owner_id, {}).get(conversation_id)
        if state is None:
            raise NotFound(f"conversation {conversation_id!r} not found")
        return state

    @contextlib.asynccontextmanager
    async def _locked(self, owner_id: str, conversation_id: str) -> AsyncIterator[_Conversation]:
        """Hold the conversation's lock; ``NotFound`` if it was deleted while we waited."""
        state = self._conv(owner_id, conversation_id)
        async with state.lock:
            if self._owners.get(owner_id, {}).get(conversation_id) is not state:
                raise NotFound(f"conversation {conversation_id!r} not found")
            yield state

    def _message_index(self, state: _Conversation, message_id: str) -> int:
        msg = state.by_id.get(message_id)
        if msg is None:
            raise NotFound(f"message {message_id!r} not found in conversation {state.record.id!r}")
        return bisect.bisect_left(state.seqs, msg.seq)

    def _taken(self, owner_id: str, field_name: str, value: str | None, except_id: str | None) -> bool:
        if value is None:
            return False
        return any(
            getattr(s.record, field_name) == value and cid != except_id
            for cid, s in self._owners.get(owner_id, {}).items()
        )

    # -- accounts -------------------------------------------------------------------------------
    async def ensure_account(self, name: str) -> Account:
        """See ``Store.ensure_account``."""
        q.check_owner(name)
        if name not in self._accounts:
            self._accounts[name] = Account(name=name, created_at=utcnow())
        return self._accounts[name]

    async def add_api_key(self, account: str, key_hash: str, label: str | None = None) -> None:
        """See ``Store.add_api_key``. ``Conflict`` if the hash is bound to another account."""
        if account not in self._accounts:
            raise NotFound(f"account {account!r} not found")
        if not isinstance(key_hash, str) or not key_hash:
            raise ValueError("key_hash must be a non-empty string")
        bound = self._keys.get(key_hash)
        if bound is not None and bound.account != account:
            raise Conflict("this API key is already bound to another account")
        created_at = bound.created_at if bound is not None else utcnow()
        self._keys[key_hash] = ApiKey(key_hash=key_hash, account=account, label=label, created_at=created_at)

    async def account_for_key(self, key_hash: str) -> Account | None:
        """See ``Store.account_for_key``."""
        bound = self._keys.get(key_hash)
        return self._accounts.get(bound.account) if bound else None

    async def list_api_keys(self, account: str | None = None, *, key_hash_prefix: str = "") -> list[ApiKey]:
        """See ``Store.list_api_keys``."""
        q.check_key_hash_prefix(key_hash_prefix)
        found = [
            key
            for key in self._keys.values()
            if (account is None or key.account == account) and key.key_hash.startswith(key_hash_prefix)
        ]
        return sorted(found, key=q.api_key_order)

    async def delete_api_key(self, key_hash: str) -> ApiKey:
        """See ``Store.delete_api_key``."""
        key = self._keys.pop(key_hash, None)
        if key is None:
            raise NotFound("no API key has this hash")
        return key

    # -- conversations --------------------------------------------------------------------------
    async def create_conversation(
        self, owner_id: str, conversation: ConversationRecord
    ) -> ConversationRecord:
        """See ``Store.create_conversation`` (a record with ``parent_id`` is a fork: see
        ``import_conversation``)."""
        if conversation.parent_id is not None:
            return await self.import_conversation(owner_id, conversation, [])
        record = q.prepare_conversation(owner_id, conversation)
        self._check_new(owner_id, record)
        self._owners.setdefault(owner_id, {})[record.id] = _Conversation(record=record)
        self._record(owner_id, ev.conversation_created_event(record))
        return _clone(record)

    def _check_new(self, owner_id: str, record: ConversationRecord) -> None:
        """``Conflict`` if the owner already has this id, session_id or session_key."""
        if record.id in self._owners.get(owner_id, {}):
            raise Conflict(f"conversation {record.id!r} already exists")
        if self._taken(owner_id, "session_id", record.session_id, None):
            raise Conflict(f"session_id {record.session_id!r} is already used by another conversation")
        if self._taken(owner_id, "session_key", record.session_key, None):
            raise Conflict(f"session_key {record.session_key!r} is already used by another conversation")

    def _as_branch(
        self, owner_id: str, record: ConversationRecord, own: Sequence[MessageRecord]
    ) -> ConversationRecord:
        """The branch ``record`` checked against its parent and counted (``store/lineage.py``);
        runs with no ``await``, so no removal can slip between the check and the insert."""
        assert record.parent_id is not None and record.forked_at_seq is not None
        lineage.check_own_seqs(record, own)
        parent = self._conv(owner_id, record.parent_id).record

        def get(cid: str) -> ConversationRecord:
            return self._conv(owner_id, cid).record

        def own_above(conv: ConversationRecord, seq: int) -> int:
            seqs = self._conv(owner_id, conv.id).seqs
            return len(seqs) - bisect.bisect_right(seqs, seq)

        lineage.check_chain_depth(parent, get)
        lineage.check_fork_point(parent, record.forked_at_seq)
        inherited = lineage.visible_upto(parent, record.forked_at_seq, get, own_above)
        return lineage.branch_record(record, parent, inherited, own)

    def _branch_points(self, owner_id: str, conversation_id: str) -> list[tuple[str, int]]:
        """``(branch id, forked_at_seq)`` of the conversation's direct branches."""
        return [
            (s.record.id, s.record.forked_at_seq)
            for s in self._owners.get(owner_id, {}).values()
            if s.record.parent_id == conversation_id and s.record.forked_at_seq is not None
        ]

    async def list_branches(self, owner_id: str, conversation_id: str) -> list[ConversationRecord]:
        """See ``Store.list_branches``."""
        self._conv(owner_id, conversation_id)
        found = [s.record for s in self._owners[owner_id].values() if s.record.parent_id == conversation_id]
        found.sort(key=lambda r: (r.created_at, r.id))
        return [_clone(r) for r in found]

    async def get_conversation(self, owner_id: str, conversation_id: str) -> ConversationRecord:
        """See ``Store.get_conversation``."""
        return _clone(self._conv(owner_id, conversation_id).record)

    async def find_conversation(
        self, owner_id: str, *, session_id: str | None = None, session_key: str | None = None
    ) -> ConversationRecord | None:
        """See ``Store.find_conversation``. ``ValueError`` unless exactly one key is given."""
        if (session_id is None) == (session_key is None):
            raise ValueError("give exactly one of session_id or session_key")
        field_name, value = (
            ("session_id", session_id) if session_id is not None else ("session_key", session_key)
        )
        for state in self._owners.get(owner_id, {}).values():
            if getattr(state.record, field_name) == value:
                return _clone(state.record)
        return None

    async def list_conversations(self, owner_id: str, query: ConversationQuery) -> ConversationPage:
        """See ``Store.list_conversations``."""
        records = [s.record for s in self._owners.get(owner_id, {}).values()]
        page = q.page_conversations(records, query)
        return ConversationPage(items=[_clone(r) for r in page.items], total=page.total)

    async def update_conversation(
        self, owner_id: str, conversation_id: str, changes: dict[str, Any]
    ) -> ConversationRecord:
        """See ``Store.update_conversation``."""
        async with self._locked(owner_id, conversation_id) as state:
            updated = q.apply_conversation_changes(state.record, changes, utcnow())
            if "session_id" in changes and self._taken(
                owner_id, "session_id", updated.session_id, conversation_id
            ):
                raise Conflict(f"session_id {updated.session_id!r} is already used by another conversation")
            state.record = updated
            self._record(owner_id, ev.conversation_updated_event(conversation_id, changes))
            return _clone(updated)

    async def delete_conversation(self, owner_id: str, conversation_id: str) -> None:
        """See ``Store.delete_conversation`` (messages, events, memory and calls go with it)."""
        async with self._locked(owner_id, conversation_id):
            lineage.check_deletable(conversation_id, self._branch_points(owner_id, conversation_id))
            self._owners[owner_id].pop(conversation_id, None)
            self._record(owner_id, ev.conversation_deleted_event(conversation_id))

    async def transition(
        self,
        owner_id: str,
        conversation_id: str,
        target: ConversationStatus,
        *,
        reason: str | None = None,
        actor: str | None = None,
    ) -> tuple[ConversationRecord, LifecycleEvent]:
        """See ``Store.transition``: checked and applied under the conversation's lock."""
        async with self._locked(owner_id, conversation_id) as state:
            now = utcnow()
            event = make_transition(
                conversation_id, state.record.status, target, reason=reason, actor=actor, at=now
            )
            state.record = state.record.model_copy(update={"status": event.to_status, "updated_at": now})
            state.events.append(event)
            self._record(owner_id, ev.lifecycle_event(event))
            return _clone(state.record), _clone(event)

    async def list_lifecycle_events(self, owner_id: str, conversation_id: str) -> list[LifecycleEvent]:
        """See ``Store.list_lifecycle_events``."""
        return [_clone(e) for e in self._conv(owner_id, conversation_id).events]

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
        """See ``Store.import_conversation``: validated whole, then inserted with no ``await``
        in between (all or nothing)."""
        bundle = q.prepare_import(owner_id, conversation, messages, events, memory, provider_calls)
        record = bundle.conversation
        self._check_new(owner_id, record)
        if record.parent_id is not None:
            record = self._as_branch(owner_id, record, bundle.messages)
        state = _Conversation(record=record, events=list(bundle.events), calls=list(bundle.provider_calls))
        for m in bundle.messages:
            state.messages.append(m)
            state.seqs.append(m.seq)
            state.by_id[m.id] = m
        state.memory = {e.key: e for e in bundle.memory}
        self._owners.setdefault(owner_id, {})[record.id] = state
        self._record(owner_id, ev.conversation_created_event(record, imported=True))
        return _clone(record)

    # -- messages -------------------------------------------------------------------------------
    async def append_messages(
        self,
        owner_id: str,
        conversation_id: str,
        messages: Sequence[MessageRecord],
        token_counts: Sequence[int | None] | None = None,
    ) -> list[MessageRecord]:
        """See ``Store.append_messages``: validated first, then seq assigned under the lock."""
        batch = q.prepare_batch(conversation_id, q.with_token_counts(messages, token_counts))
        async with self._locked(owner_id, conversation_id) as state:
            # Everything below runs without yielding: the batch is committed whole or not at all.
            if not state.record.is_active:
                raise ConversationNotActive(
                    f"conversation {conversation_id!r} is {state.record.status.value}; appends need 'active'"
                )
            result: list[MessageRecord] = []
            new: list[MessageRecord] = []
            seq = state.record.last_seq
            for msg in batch:
                existing = state.by_id.get(msg.id)
                if existing is not None:
                    result.append(existing)
                    continue
                seq += 1
                stored = msg.model_copy(update={"seq": seq})
                new.append(stored)
                result.append(stored)
            if new:
                now = utcnow()
                for stored in new:
                    state.messages.append(stored)
                    state.seqs.append(stored.seq)
                    state.by_id[stored.id] = stored
                state.record = q.conversation_after_append(state.record, new, now)
                self._record(owner_id, *(ev.message_appended_event(m) for m in new))
            return [_clone(m) for m in result]

    async def get_message(self, owner_id: str, conversation_id: str, message_id: str) -> MessageRecord:
        """See ``Store.get_message``."""
        state = self._conv(owner_id, conversation_id)
        return _clone(state.messages[self._message_index(state, message_id)])

    async def list_messages(
        self, owner_id: str, conversation_id: str, query: MessageQuery
    ) -> list[MessageRecord]:
        """See ``Store.list_messages``."""
        state = self._conv(owner_id, conversation_id)
        return [_clone(m) for m in q.select_messages(state.seqs, state.messages.__getitem__, query)]

    async def count_messages(self, owner_id: str, conversation_id: str, query: MessageQuery) -> int:
        """See ``Store.count_messages`` (filters only; the window is ignored)."""
        state = self._conv(owner_id, conversation_id)
        matches = q.message_filter(query)
        return sum(1 for m in state.messages if matches(m))

    async def edit_message(
        self, owner_id: str, conversation_id: str, message_id: str, changes: dict[str, Any]
    ) -> MessageRecord:
        """See ``Store.edit_message``."""
        async with self._locked(owner_id, conversation_id) as state:
            index = self._message_index(state, message_id)
            edited = q.apply_message_changes(state.messages[index], changes, utcnow())
            self._replace(state, index, edited)
            self._record(owner_id, ev.message_edited_event(edited, changes))
            return _clone(edited)

    async def redact_message(
        self, owner_id: str, conversation_id: str, message_id: str, marker: str = "[redacted]"
    ) -> MessageRecord:
        """See ``Store.redact_message``."""
        async with self._locked(owner_id, conversation_id) as state:
            index = self._message_index(state, message_id)
            redacted = q.redacted_copy(state.messages[index], marker, utcnow())
            self._replace(state, index, redacted)
            self._record(owner_id, ev.message_redacted_event(redacted))
            return _clone(redacted)

    @staticmethod
    def _replace(state: _Conversation, index: int, msg: MessageRecord) -> None:
        state.messages[index] = msg
        state.by_id[msg.id] = msg

    async def delete_message(self, owner_id: str, conversation_id: str, message_id: str) -> None:
        """See ``Store.delete_message`` (``last_seq`` stays: seq is never reused)."""
        async with self._locked(owner_id, conversation_id) as state:
            index = self._message_index(state, message_id)
            lineage.check_removal(
                conversation_id, self._branch_points(owner_id, conversation_id), state.seqs[index]
            )
            gone = state.remove_at(index)
            self._counted(state, -1)
            self._record(owner_id, ev.message_deleted_event(conversation_id, gone.id, gone.seq))

    async def pop_message(self, owner_id: str, conversation_id: str) -> MessageRecord | None:
        """See ``Store.pop_message``."""
        async with self._locked(owner_id, conversation_id) as state:
            if not state.messages:
                return None
            lineage.check_removal(
                conversation_id, self._branch_points(owner_id, conversation_id), state.seqs[-1]
            )
            msg = state.remove_at(len(state.messages) - 1)
            self._counted(state, -1)
            self._record(owner_id, ev.message_deleted_event(conversation_id, msg.id, msg.seq, popped=True))
            return _clone(msg)

    async def clear_messages(self, owner_id: str, conversation_id: str) -> int:
        """See ``Store.clear_messages``."""
        async with self._locked(owner_id, conversation_id) as state:
            n = len(state.messages)
            lineage.check_removal(
                conversation_id,
                self._branch_points(owner_id, conversation_id),
                state.seqs[0] if state.seqs else None,
            )
            state.messages.clear()
            state.seqs.clear()
            state.by_id.clear()
            self._counted(state, -n)
            self._record(owner_id, ev.messages_cleared_event(conversation_id, n))
            return n

    @staticmethod
    def _counted(state: _Conversation, delta: int) -> None:
        state.record = state.record.model_copy(
            update={"message_count": state.record.message_count + delta, "updated_at": utcnow()}
        )

    # -- session memory -------------------------------------------------------------------------
    async def get_memory(self, owner_id: str, conversation_id: str) -> list[MemoryEntry]:
        """See ``Store.get_memory``."""
        state = self._conv(owner_id, conversation_id)
        return [_clone(state.memory[k]) for k in sorted(state.memory)]

    async def set_memory(self, owner_id: str, conversation_id: str, key: str, value: Any) -> MemoryEntry:
        """See ``Store.set_memory``. ``ValueError`` for an empty key or a non-JSON value."""
        q.check_json_value(value, f"memory[{key!r}]")
        entry = _clone(MemoryEntry(conversation_id=conversation_id, key=key, value=value))
        async with self._locked(owner_id, conversation_id) as state:
            state.memory[key] = entry
            self._record(owner_id, ev.memory_set_event(conversation_id, key))
            return _clone(entry)

    async def delete_memory(self, owner_id: str, conversation_id: str, key: str) -> None:
        """See ``Store.delete_memory``."""
        async with self._locked(owner_id, conversation_id) as state:
            if key not in state.memory:
                raise NotFound(f"memory key {key!r} not found")
            del state.memory[key]
            self._record(owner_id, ev.memory_deleted_event(conversation_id, key))

    # -- provider calls -------------------------------------------------------------------------
    async def record_provider_call(
        self,
        owner_id: str,
        conversation_id: str,
        call: ProviderCallRecord,
        server_state: dict[str, Any] | None = None,
    ) -> ProviderCallRecord:
        """See ``Store.record_provider_call``. ``Conflict`` if the call id is already recorded."""
        stored = q.prepare_provider_call(conversation_id, call, server_state)
        async with self._locked(owner_id, conversation_id) as state:
            if stored.message_id is not None and stored.message_id not in state.by_id:
                raise NotFound(f"message {stored.message_id!r} not found in conversation {conversation_id!r}")
            if any(c.id == stored.id for c in state.calls):
                raise Conflict(f"provider call {stored.id!r} already recorded")
            state.calls.append(stored)
            if server_state is not None:
                state.record = state.record.model_copy(
                    update={"server_state": _clone_json(server_state), "updated_at": utcnow()}
                )
            self._record(owner_id, ev.provider_call_event(stored))
            return _clone(stored)

    async def list_provider_calls(self, owner_id: str, conversation_id: str) -> list[ProviderCallRecord]:
        """See ``Store.list_provider_calls``."""
        return [_clone(c) for c in self._conv(owner_id, conversation_id).calls]

    # -- analytics ------------------------------------------------------------------------------
    async def stats(self, owner_id: str) -> OwnerStats:
        """See ``Store.stats``."""
        return q.owner_stats(s.record for s in self._owners.get(owner_id, {}).values())

    async def conversations_idle_since(
        self,
        cutoff: datetime,
        limit: int = 1000,
        statuses: Collection[ConversationStatus] = (ConversationStatus.ACTIVE,),
        *,
        created_before: datetime | None = None,
        after: tuple[datetime, str] | None = None,
    ) -> list[ConversationRecord]:
        """See ``Store.conversations_idle_since`` (oldest activity first)."""
        matches = q.idle_filter(cutoff, statuses, created_before, after)
        limit = q.checked_limit(limit)
        idle = [s.record for convs in self._owners.values() for s in convs.values() if matches(s.record)]
        idle.sort(key=q.idle_order)
        return [_clone(r) for r in idle[:limit]]


    # -- events -----------------------------------------------------------------------------------
    async def append_event(
        self, owner_id: str, kind: str, payload: dict[str, Any], *, conversation_id: str | None = None
    ) -> EventRecord:
        """See ``Store.append_event``."""
        q.check_owner(owner_id)
        draft = outbox.standalone_draft(kind, payload, conversation_id)
        return _clone(self._record(owner_id, draft)[0])

    async def list_events(self, owner_id: str, query: outbox.EventQuery) -> list[EventRecord]:
        """See ``Store.list_events``."""
        outbox.check_event_query(query)
        events = self._events.get(owner_id, [])
        return [_clone(e) for e in outbox.select_events(events, self._event_ids.get(owner_id, []), query)]

    async def last_event_id(self, owner_id: str) -> int:
        """See ``Store.last_event_id``."""
        ids = self._event_ids.get(owner_id)
        return ids[-1] if ids else 0


def _clone_json(value: Any) -> Any:
    """An independent copy of a (validated) JSON value."""
    return orjson.loads(orjson.dumps(value))
