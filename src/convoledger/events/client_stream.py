"""Iterators over a ledger's live events, for Python users of the HTTP API (issue 18).

::

    async with httpx.AsyncClient(base_url="http://127.0.0.1:8000",
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        events = stream_events(http, session="hello-1")
        async with contextlib.aclosing(events):   # closes the connection if you stop early
            async for event in events:
                print(event.id, event.kind, event.payload)

``stream_events`` (asyncio, ``httpx.AsyncClient``) and ``stream_events_sync`` (blocking,
``httpx.Client``) read ``GET /api/stream`` (or ``GET /api/agent-sessions/{session}/stream``)
with ``httpx-sse`` and yield ``EventRecord``s (``owner_id`` is the ``account`` argument). When
the connection drops they reconnect after the server's ``retry`` (or ``reconnect_delay``) with
``Last-Event-ID`` set to the last id seen (the opening block of every stream carries the id it
starts after, so this holds even before the first event): the caller sees every event exactly
once, in commit order, across reconnects. Keep-alive comments are skipped. HTTP errors (401,
404, 422) are raised as ``httpx.HTTPStatusError`` and not retried; a session stream ends after
the session's ``conversation.deleted`` event. Both loops share one pure resume state
(:class:`_Resume`); ``stream_position`` / ``astream_position`` read only a stream's opening
block: the newest event id now (where a reader that starts later should resume).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import quote

import httpx
from httpx_sse import ServerSentEvent, aconnect_sse, connect_sse

from convoledger.models.events import EventKind, EventRecord

#: Errors after which the stream reconnects (the connection dropped or never opened).
RECONNECT_ERRORS = (httpx.TransportError, httpx.RemoteProtocolError)


def stream_path(session: str | None) -> str:
    """``/api/stream`` or ``/api/agent-sessions/{session}/stream`` (percent-encoded)."""
    return "/api/stream" if session is None else f"/api/agent-sessions/{quote(session, safe='')}/stream"


class _Resume:
    """Where a stream is and what to do next (no I/O): the last event id seen, the reconnect
    delay (seconds, the server's ``retry`` once sent) and the reconnections in a row."""

    def __init__(
        self,
        session: str | None,
        after: int | None,
        reconnect_delay: float,
        max_reconnects: int | None,
        account: str,
    ) -> None:
        self.session = session
        self.last_id = after
        self.delay = reconnect_delay
        self.max_reconnects = max_reconnects
        self.reconnects = 0
        self.account = account
        self.done = False

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self.last_id is not None:
            headers["Last-Event-ID"] = str(self.last_id)
        return headers

    def read(self, sse: ServerSentEvent) -> EventRecord | None:
        """The event of one SSE block, or ``None`` (opening block, keep-alive); sets ``done``
        after the session's deletion."""
        if sse.retry is not None:
            self.delay = sse.retry / 1000
        if sse.id and not sse.data:  # the opening block: where the server started
            self.last_id = int(sse.id)
        if not sse.id or not sse.data:
            return None
        event = EventRecord(owner_id=self.account or "-", **sse.json())
        self.last_id = event.id
        self.reconnects = 0
        if self.session is not None and event.kind == EventKind.CONVERSATION_DELETED:
            self.done = True
        return event

    def dropped(self) -> bool:
        """A reconnectable failure happened: ``True`` to re-raise it (too many in a row)."""
        self.reconnects += 1
        return self.max_reconnects is not None and self.reconnects > self.max_reconnects


def _raise_for_status_sync(response: httpx.Response) -> None:
    if response.is_error:
        response.read()  # the problem+json body, for the caller's error
    response.raise_for_status()


async def _raise_for_status(response: httpx.Response) -> None:
    if response.is_error:
        await response.aread()
    response.raise_for_status()


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
    state = _Resume(session, after, reconnect_delay, max_reconnects, account)
    while True:
        try:
            async with aconnect_sse(client, "GET", stream_path(session), headers=state.headers()) as source:
                await _raise_for_status(source.response)
                async for sse in source.aiter_sse():
                    event = state.read(sse)
                    if event is not None:
                        yield event
                    if state.done:
                        return
        except RECONNECT_ERRORS:
            if state.dropped():
                raise
        await asyncio.sleep(state.delay)


def stream_events_sync(
    client: httpx.Client,
    *,
    session: str | None = None,
    after: int | None = None,
    reconnect_delay: float = 1.0,
    max_reconnects: int | None = None,
    account: str = "",
) -> Iterator[EventRecord]:
    """The blocking form of :func:`stream_events` over an ``httpx.Client`` (same arguments and
    guarantees); close the generator to disconnect."""
    state = _Resume(session, after, reconnect_delay, max_reconnects, account)
    while True:
        try:
            with connect_sse(client, "GET", stream_path(session), headers=state.headers()) as source:
                _raise_for_status_sync(source.response)
                for sse in source.iter_sse():
                    event = state.read(sse)
                    if event is not None:
                        yield event
                    if state.done:
                        return
        except RECONNECT_ERRORS:
            if state.dropped():
                raise
        time.sleep(state.delay)


def stream_position(client: httpx.Client, session: str | None = None) -> int:
    """The event id a stream opened now starts after (its opening block), then disconnect: a
    reader that passes it as ``after`` later misses nothing from this moment on."""
    with connect_sse(client, "GET", stream_path(session), headers={"Accept": "text/event-stream"}) as source:
        _raise_for_status_sync(source.response)
        for sse in source.iter_sse():
            if sse.id:
                return int(sse.id)
    raise httpx.RemoteProtocolError("the stream closed before its opening block")


async def astream_position(client: httpx.AsyncClient, session: str | None = None) -> int:
    """The asyncio form of :func:`stream_position`."""
    headers = {"Accept": "text/event-stream"}
    async with aconnect_sse(client, "GET", stream_path(session), headers=headers) as source:
        await _raise_for_status(source.response)
        async for sse in source.aiter_sse():
            if sse.id:
                return int(sse.id)
    raise httpx.RemoteProtocolError("the stream closed before its opening block")


__all__ = [
    "RECONNECT_ERRORS",
    "astream_position",
    "stream_events",
    "stream_events_sync",
    "stream_path",
    "stream_position",
]
