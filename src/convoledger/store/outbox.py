"""The event outbox rules every backend shares (issue 18): the query, annotations, selection.

Each store writes the ``models.events`` drafts of a change in the same transaction as the change
(see each backend's docstring for how), numbering them per account in commit order. What is
backend-neutral lives here:

- ``EventQuery`` and ``check_event_query``: owner-scoped keyset reads (``after_id``), bounded
  (``limit`` at most ``MAX_EVENT_PAGE``);
- ``event_context(**fields)``: annotations a caller attaches to every event the store writes
  inside the ``with`` block, as ``payload["context"]``. This is the general way for a use case to
  say *why* a change happened in the same transaction as the change, e.g. a retention policy
  deleting conversations (``with event_context(actor="retention", policy="max_session_age"):
  await store.delete_conversation(...)``) — the ``conversation.deleted`` events then carry it;
- ``annotate``: the drafts with the current context applied (called by the backends);
- ``select_events``: the keyset window over an id-ordered list (memory and JSON-files);
- ``PG_CHANNEL`` and ``owner_key``: how a commit names its account on a notification channel
  (PostgreSQL ``NOTIFY``, Redis pub/sub).
"""

from __future__ import annotations

import bisect
import contextlib
import contextvars
import functools
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import orjson

from convoledger.models.events import MAX_EVENT_PAGE, EventDraft, EventRecord, check_kind

#: The PostgreSQL channel every commit that writes events notifies (``NOTIFY convoledger_events``,
#: payload ``owner_key``); ``events.hub`` listens on it.
PG_CHANNEL = "convoledger_events"


@functools.lru_cache(maxsize=1024)
def owner_key(owner_id: str) -> str:
    """The account as named on notification channels: the hex SHA-256 of its UTF-8 id (64
    characters, well under NOTIFY's 8,000-byte payload limit, and no account id on the wire)."""
    return hashlib.sha256(owner_id.encode("utf-8")).hexdigest()


_EMPTY: Mapping[str, Any] = MappingProxyType({})
_CONTEXT: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "convoledger_event_context", default=_EMPTY
)


@dataclass(frozen=True)
class EventQuery:
    """Which events ``Store.list_events`` returns: those of the owner with ``id > after_id``
    (keyset; ``Last-Event-ID`` of a stream), only ``conversation_id``'s when given, oldest first,
    at most ``limit`` (1 … ``MAX_EVENT_PAGE``)."""

    after_id: int = 0
    conversation_id: str | None = None
    limit: int = 100


def check_event_query(query: EventQuery) -> None:
    """``ValueError`` naming the field when ``after_id`` is negative / not an int, or ``limit``
    is outside 1 … ``MAX_EVENT_PAGE``."""
    if isinstance(query.after_id, bool) or not isinstance(query.after_id, int) or query.after_id < 0:
        raise ValueError(f"after_id must be a non-negative integer, got {query.after_id!r}")
    limit = query.limit
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_EVENT_PAGE:
        raise ValueError(f"limit must be an integer from 1 to {MAX_EVENT_PAGE}, got {query.limit!r}")
    cid = query.conversation_id
    if cid is not None and (not isinstance(cid, str) or not cid):
        raise ValueError(f"conversation_id must be a non-empty string, got {query.conversation_id!r}")


@contextlib.contextmanager
def event_context(**fields: Any) -> Iterator[None]:
    """Attach ``fields`` (JSON values) as ``payload["context"]`` to every event written inside
    the block (nested blocks merge, inner keys win). ``ValueError`` for a non-JSON value."""
    try:
        orjson.dumps(fields)
    except TypeError as exc:
        raise ValueError(f"event context must hold JSON values: {exc}") from None
    token = _CONTEXT.set({**_CONTEXT.get(), **fields})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current_context() -> Mapping[str, Any]:
    """The annotations of the innermost ``event_context`` block (empty outside any)."""
    return _CONTEXT.get()


def annotate(drafts: Sequence[EventDraft]) -> list[EventDraft]:
    """``drafts`` with the current ``event_context`` applied."""
    context = _CONTEXT.get()
    return [d.with_context(context) for d in drafts] if context else list(drafts)


def standalone_draft(kind: str, payload: Any, conversation_id: str | None) -> EventDraft:
    """The draft of ``Store.append_event``: ``ValueError`` for a bad kind, a payload that is not
    a JSON object, or an empty conversation id."""
    check_kind(kind)
    if not isinstance(payload, dict):
        raise ValueError(f"event payload must be a JSON object, got {type(payload).__name__}")
    try:
        clean = orjson.loads(orjson.dumps(payload))
    except TypeError as exc:
        raise ValueError(f"event payload must hold JSON values: {exc}") from None
    if conversation_id is not None and (not isinstance(conversation_id, str) or not conversation_id):
        raise ValueError(f"conversation_id must be a non-empty string, got {conversation_id!r}")
    return EventDraft(kind, conversation_id, clean)


def select_events(events: Sequence[EventRecord], ids: Sequence[int], query: EventQuery) -> list[EventRecord]:
    """The window of ``query`` over ``events`` (sorted by id; ``ids`` mirrors their ids)."""
    start = bisect.bisect_right(ids, query.after_id)
    out: list[EventRecord] = []
    for event in events[start:]:
        if query.conversation_id is None or event.conversation_id == query.conversation_id:
            out.append(event)
            if len(out) >= query.limit:
                break
    return out
