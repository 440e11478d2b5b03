"""The resumable reader behind every live stream: the event table, read by keyset, woken by the
``EventHub``.

``follow_events`` yields the account's events with ``id > after_id`` in id order (= commit
order, see ``store/sql/outbox_sql.py``), then waits for a wake-up and reads again, forever:

- none twice, none missed: the next read always starts after the last id yielded, and the
  table is the source of truth (a lost notification only delays an event until the next
  ``poll``);
- bounded memory per client: at most one page (``page`` events) is held at a time, and the next
  page is read only after the consumer took the previous one. Behind an HTTP response the
  consumer is the socket: a slow client slows its own reads, and nothing accumulates for it;
- heartbeats: ``None`` is yielded when ``heartbeat`` seconds passed without an event, so the
  caller can send a keep-alive.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from convoledger.events.hub import EventHub
from convoledger.models.events import MAX_EVENT_PAGE, EventKind, EventRecord
from convoledger.store.base import Store
from convoledger.store.outbox import EventQuery


@dataclass(frozen=True)
class StreamSettings:
    """Timings of a stream, in seconds: ``heartbeat`` (keep-alive after this much silence),
    ``poll`` (re-read the table after this long without a wake-up), ``page`` (events per read,
    1 … ``MAX_EVENT_PAGE``), ``retry_ms`` (the SSE ``retry`` a client waits before reconnecting,
    milliseconds). ``ValueError`` for non-positive values."""

    heartbeat: float = 15.0
    poll: float = 5.0
    page: int = 100
    retry_ms: int = 2000

    def __post_init__(self) -> None:
        if not self.heartbeat > 0 or not self.poll > 0:
            raise ValueError(f"heartbeat and poll must be > 0 seconds, got {self.heartbeat}, {self.poll}")
        if not 1 <= self.page <= MAX_EVENT_PAGE:
            raise ValueError(f"page must be from 1 to {MAX_EVENT_PAGE}, got {self.page}")
        if self.retry_ms < 0:
            raise ValueError(f"retry_ms must be >= 0, got {self.retry_ms}")


async def follow_events(
    store: Store,
    hub: EventHub,
    owner_id: str,
    *,
    after_id: int,
    conversation_id: str | None = None,
    settings: StreamSettings | None = None,
) -> AsyncIterator[EventRecord | None]:
    """Yield ``owner_id``'s events after ``after_id`` (only ``conversation_id``'s when given)
    as they commit, and ``None`` as a heartbeat tick (see the module docstring). A conversation
    stream ends after that conversation's ``conversation.deleted`` event."""
    settings = settings or StreamSettings()
    sub = hub.subscribe(owner_id)
    last = after_id
    quiet_since = time.monotonic()
    try:
        while True:
            sub.clear()
            while True:
                query = EventQuery(after_id=last, conversation_id=conversation_id, limit=settings.page)
                page = await store.list_events(owner_id, query)
                for event in page:
                    last = event.id
                    yield event
                    if conversation_id is not None and event.kind == EventKind.CONVERSATION_DELETED:
                        return
                if page:
                    quiet_since = time.monotonic()
                if len(page) < settings.page:
                    break
            until_heartbeat = quiet_since + settings.heartbeat - time.monotonic()
            if until_heartbeat <= 0:
                yield None
                quiet_since = time.monotonic()
                continue
            await sub.wait(min(settings.poll, until_heartbeat))
    finally:
        sub.close()
