"""Ledger events: the durable outbox rows behind the live streams (issue 18). Pure, no I/O.

Every change a store commits also writes one or more ``EventRecord`` rows in the same
transaction (DESIGN.md "Services": a durable event table, woken by PostgreSQL LISTEN/NOTIFY or
Redis pub/sub, is the source of truth of live events). An event has:

- ``id``: per-account, strictly increasing in commit order (1, 2, 3, … within one account; a
  reader that has seen id N has seen every committed event of that account with a smaller id);
- ``kind``: a dotted name (``EventKind`` lists the ones the store writes; any other
  ``<word>.<word>`` is accepted so later pieces can add kinds, e.g. ``alert.raised``);
- ``conversation_id``: the conversation it is about (``None`` for account-level events);
- ``payload``: a small JSON object. Payloads carry references and envelopes (ids, seq, role,
  sender, token counts, cost), never message content or memory values: a later redaction or
  deletion must not leave the removed text behind in the outbox. Readers fetch the current
  content by id.

``EventDraft`` is an event before the store numbers it; the ``*_event`` builders below make the
drafts the store writes for each change, so every backend writes identical payloads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from convoledger.models.records import ConversationRecord, MessageRecord, ProviderCallRecord
from convoledger.models.status import LifecycleEvent
from convoledger.models.timeutil import UtcDatetime, utcnow

#: ``kind`` must be lower-case dotted words: ``message.appended``, ``alert.raised``.
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
#: Most events one ``list_events`` call returns (bounded reads, DESIGN.md invariant 6).
MAX_EVENT_PAGE = 1000


class EventKind(StrEnum):
    """The kinds of event the stores write (issue 18, Deliver 1)."""

    CONVERSATION_CREATED = "conversation.created"
    CONVERSATION_UPDATED = "conversation.updated"
    CONVERSATION_DELETED = "conversation.deleted"
    MESSAGE_APPENDED = "message.appended"
    MESSAGE_EDITED = "message.edited"
    MESSAGE_REDACTED = "message.redacted"
    MESSAGE_DELETED = "message.deleted"
    MESSAGES_CLEARED = "messages.cleared"
    LIFECYCLE_TRANSITION = "lifecycle.transition"
    PROVIDER_CALL_RECORDED = "provider_call.recorded"
    MEMORY_SET = "memory.set"
    MEMORY_DELETED = "memory.deleted"
    ALERT_RAISED = "alert.raised"


class EventRecord(BaseModel):
    """One stored event (see the module docstring). ``created_at`` is aware UTC."""

    model_config = ConfigDict(frozen=True)

    id: int = Field(ge=1, le=2**63 - 1)
    owner_id: str = Field(min_length=1)
    kind: str
    conversation_id: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    created_at: UtcDatetime = Field(default_factory=utcnow)


@dataclass(frozen=True)
class EventDraft:
    """An event before the store gives it an id: ``kind``, ``conversation_id``, ``payload``."""

    kind: str
    conversation_id: str | None
    payload: dict[str, Any] = field(default_factory=dict)

    def with_context(self, context: Mapping[str, Any]) -> EventDraft:
        """This draft with ``payload["context"]`` = ``context`` (unchanged when empty)."""
        if not context:
            return self
        return EventDraft(self.kind, self.conversation_id, {**self.payload, "context": dict(context)})

    def numbered(self, owner_id: str, event_id: int, at: Any) -> EventRecord:
        """The stored record: this draft with its ``id`` and ``created_at``."""
        return EventRecord(
            id=event_id,
            owner_id=owner_id,
            kind=self.kind,
            conversation_id=self.conversation_id,
            payload=self.payload,
            created_at=at,
        )


def check_kind(kind: str) -> str:
    """``kind`` if it is dotted lower-case words (``KIND_PATTERN``); ``ValueError`` otherwise."""
    if not isinstance(kind, str) or not KIND_PATTERN.match(kind):
        raise ValueError(f"event kind must be dotted lower-case words like 'alert.raised', got {kind!r}")
    return kind


# -- the drafts each change writes -----------------------------------------------------------


def conversation_created_event(record: ConversationRecord, *, imported: bool = False) -> EventDraft:
    """``conversation.created``: the new conversation's identifying fields."""
    return EventDraft(
        EventKind.CONVERSATION_CREATED,
        record.id,
        {
            "session_id": record.session_id,
            "session_key": record.session_key,
            "kind": record.kind.value,
            "name": record.name,
            "status": record.status.value,
            "imported": imported,
        },
    )


def conversation_updated_event(conversation_id: str, fields: Iterable[str]) -> EventDraft:
    """``conversation.updated``: which fields changed (sorted)."""
    return EventDraft(EventKind.CONVERSATION_UPDATED, conversation_id, {"fields": sorted(fields)})


def conversation_deleted_event(conversation_id: str) -> EventDraft:
    """``conversation.deleted``."""
    return EventDraft(EventKind.CONVERSATION_DELETED, conversation_id, {})


def message_envelope(msg: MessageRecord) -> dict[str, Any]:
    """A message's envelope (no content): id, seq, role, sender, recipient, type, tool link."""
    return {
        "message_id": msg.id,
        "seq": msg.seq,
        "role": msg.role,
        "sender": msg.sender,
        "recipient": msg.recipient,
        "message_type": msg.message_type,
        "tool_call_id": msg.tool_call_id,
        "tool_name": msg.tool_name,
    }


def message_appended_event(msg: MessageRecord) -> EventDraft:
    """``message.appended``: the stored message's envelope (``message_envelope``)."""
    return EventDraft(EventKind.MESSAGE_APPENDED, msg.conversation_id, message_envelope(msg))


def message_edited_event(msg: MessageRecord, fields: Iterable[str]) -> EventDraft:
    """``message.edited``: id, seq and which fields changed."""
    return EventDraft(
        EventKind.MESSAGE_EDITED,
        msg.conversation_id,
        {"message_id": msg.id, "seq": msg.seq, "fields": sorted(fields)},
    )


def message_redacted_event(msg: MessageRecord) -> EventDraft:
    """``message.redacted``: id and seq."""
    return EventDraft(EventKind.MESSAGE_REDACTED, msg.conversation_id, {"message_id": msg.id, "seq": msg.seq})


def message_deleted_event(
    conversation_id: str, message_id: str, seq: int, *, popped: bool = False
) -> EventDraft:
    """``message.deleted`` (``delete_message``, or ``pop_message`` with ``popped``)."""
    return EventDraft(
        EventKind.MESSAGE_DELETED,
        conversation_id,
        {"message_id": message_id, "seq": seq, "popped": popped},
    )


def messages_cleared_event(conversation_id: str, count: int) -> EventDraft:
    """``messages.cleared``: how many messages ``clear_messages`` deleted."""
    return EventDraft(EventKind.MESSAGES_CLEARED, conversation_id, {"count": count})


def lifecycle_event(event: LifecycleEvent) -> EventDraft:
    """``lifecycle.transition``: from, to, reason, actor, at (ISO 8601)."""
    return EventDraft(
        EventKind.LIFECYCLE_TRANSITION,
        event.conversation_id,
        {
            "from_status": event.from_status.value,
            "to_status": event.to_status.value,
            "reason": event.reason,
            "actor": event.actor,
            "at": event.at.isoformat(),
        },
    )


def provider_call_event(call: ProviderCallRecord) -> EventDraft:
    """``provider_call.recorded``: ids, model, usage (tokens), cost (``currency``), latency (ms)."""
    return EventDraft(
        EventKind.PROVIDER_CALL_RECORDED,
        call.conversation_id,
        {
            "call_id": call.id,
            "message_id": call.message_id,
            "provider": call.provider,
            "api": call.api,
            "model": call.model,
            "input_tokens": call.input_tokens,
            "output_tokens": call.output_tokens,
            "cache_read_tokens": call.cache_read_tokens,
            "cache_write_tokens": call.cache_write_tokens,
            "reasoning_tokens": call.reasoning_tokens,
            "total_tokens": call.total_tokens,
            "cost": call.cost,
            "currency": call.currency,
            "latency_ms": call.latency_ms,
        },
    )


def memory_set_event(conversation_id: str, key: str) -> EventDraft:
    """``memory.set``: the key (not the value)."""
    return EventDraft(EventKind.MEMORY_SET, conversation_id, {"key": key})


def memory_deleted_event(conversation_id: str, key: str) -> EventDraft:
    """``memory.deleted``: the key."""
    return EventDraft(EventKind.MEMORY_DELETED, conversation_id, {"key": key})
