"""An async iterator over a ledger's live events, for Python users of the HTTP API (issue 18).

::

    async with httpx.AsyncClient(base_url="http://127.0.0.1:8000",
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        events = stream_events(http, session="hello-1")
        async with contextlib.aclosing(events):   # closes the connection if you stop early
            async for event in events:
                print(event.id, event.kind, event.payload)

``stream_events`` reads ``GET /api/stream`` (or ``GET /api/agent-sessions/{session}/stream``)
with httpx and ``httpx-sse`` and yields ``EventRecord``s (``owner_id`` is the ``account``
argument). When the connection drops it reconnects after the server's ``retry`` (or
``reconnect_delay``) with ``Last-Event-ID`` set to the last id it saw (the opening block of
every stream carries the id it starts after, so this holds even before the first event): the
caller sees every event exactly once, in commit order, across reconnects. Keep-alive comments are skipped.
HTTP errors (401, 404, 422) are raised as ``httpx.HTTPStatusError`` and not retried; a session
stream ends after the session's ``conversation.deleted`` event.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
from httpx_sse import aconnect_sse

from convoledger.models.events import EventKind, EventRecord

#: Errors after which the stream reconnects (the connection dropped or never opened).
RECONNECT_ERRORS = (httpx.TransportError, httpx.RemoteProtocolError)


async def stream_events(
    client: httpx.AsyncClient,
    *,
    session: str | None = None,
    after: int | None = None,
    reconnect_delay: float = 1.0,
    max_reconnects: int | None = None,
    account: str = "",
) -> AsyncIterator[EventRecord]:
    """Yield the live events of the client's account (of ``session`` only, when given: its id,
    session_id or session_key). ``client``: an ``httpx.AsyncClient`` whose ``base_url`` is the
    service and whose headers carry the bearer token (read timeout ``None`` or above the
    server's heartbeat, 15 s by default). ``after``: start after this event id (``0``: the
    account's whole history; ``None``: only new events). ``reconnect_delay`` (seconds) is used
    until the server sends its own ``retry``; ``max_reconnects`` bounds reconnections (``None``:
    unbounded) before the last transport error is raised. ``account`` fills ``owner_id``."""
    path = "/api/stream" if session is None else f"/api/agent-sessions/{quote(session, safe='')}/stream"
    last_id = after
    delay = reconnect_delay
    reconnects = 0
    while True:
        headers = {"Accept": "text/event-stream"}
        if last_id is not None:
            headers["Last-Event-ID"] = str(last_id)
        try:
            async with aconnect_sse(client, "GET", path, headers=headers) as source:
                source.response.raise_for_status()
                async for sse in source.aiter_sse():
                    if sse.retry is not None:
                        delay = sse.retry / 1000
                    if sse.id and not sse.data:  # the opening block: where the server started
                        last_id = int(sse.id)
                    if not sse.id or not sse.data:
                        continue
                    data = sse.json()
                    event = EventRecord(owner_id=account or "-", **data)
                    last_id = event.id
                    reconnects = 0
                    yield event
                    if session is not None and event.kind == EventKind.CONVERSATION_DELETED:
                        return
        except RECONNECT_ERRORS:
            reconnects += 1
            if max_reconnects is not None and reconnects > max_reconnects:
                raise
        await asyncio.sleep(delay)
