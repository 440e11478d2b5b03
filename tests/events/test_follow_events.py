"""``follow_events``, the reader behind every stream, on the in-process store: pages are read
only as the consumer takes them (bounded memory per slow client), wake-ups deliver new events
without waiting for the poll, and heartbeats tick when nothing happens."""

from __future__ import annotations

import asyncio
import contextlib
import time

from convoledger.events.hub import EventHub
from convoledger.events.streaming import StreamSettings, follow_events
from convoledger.models.events import EventRecord
from convoledger.store.memory import MemoryStore
from convoledger.store.outbox import EventQuery


class CountingStore(MemoryStore):
    """A memory store that counts ``list_events`` reads and the events they returned."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.returned = 0

    async def list_events(self, owner_id: str, query: EventQuery) -> list[EventRecord]:
        page = await super().list_events(owner_id, query)
        self.reads += 1
        self.returned += len(page)
        return page


async def test_a_slow_consumer_holds_one_page_at_a_time() -> None:
    store = CountingStore()
    for i in range(1000):
        await store.append_event("acme", "alert.raised", {"n": i})
    hub = EventHub(store)
    await hub.start()
    try:
        stream = follow_events(store, hub, "acme", after_id=0, settings=StreamSettings(page=10, poll=0.05))
        async with contextlib.aclosing(stream):
            taken = [await anext(stream) for _ in range(25)]
            assert [e.id for e in taken if e is not None] == list(range(1, 26))
            # 25 events taken → 3 pages of 10 read, not the 1000 waiting in the table.
            assert store.reads == 3 and store.returned == 30
    finally:
        await hub.stop()


async def test_wake_ups_deliver_at_once_and_heartbeats_tick() -> None:
    store = CountingStore()
    hub = EventHub(store)
    await hub.start()
    try:
        settings = StreamSettings(heartbeat=0.2, poll=30)
        stream = follow_events(store, hub, "acme", after_id=0, settings=settings)
        async with contextlib.aclosing(stream):
            assert await asyncio.wait_for(anext(stream), 5) is None  # a heartbeat after 0.2 s
            started = time.monotonic()
            pending = asyncio.ensure_future(anext(stream))
            await asyncio.sleep(0.05)
            await store.append_event("acme", "alert.raised", {"rule": "cost"})
            event = await asyncio.wait_for(pending, 5)
            assert isinstance(event, EventRecord) and event.kind == "alert.raised"
            assert time.monotonic() - started < 2  # woken by the commit, not the 30 s poll
            await store.append_event("other", "alert.raised", {})
            assert await asyncio.wait_for(anext(stream), 5) is None  # other accounts: silence
    finally:
        await hub.stop()
