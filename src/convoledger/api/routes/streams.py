"""Live events as Server-Sent Events (issue 18): ``GET /api/stream`` (every session of the
caller's account) and ``GET /api/agent-sessions/{session}/stream`` (one session).

Each SSE event is one row of the event outbox (``models/events.py``)::

    id: 42
    event: message.appended
    data: {"id": 42, "kind": "message.appended", "conversation_id": "…", "payload": {…}, "created_at": "…"}

``id`` is the account's event id: increasing in commit order, the same numbering on both
routes. Where a stream starts: after ``Last-Event-ID`` (the header a browser's ``EventSource``
sends when it reconnects) if given, else after the ``after`` query parameter, else after the
newest event at connection time (only what happens from now on). A reconnecting client thus gets
exactly the events it missed, none twice, in commit order, from any ``serve`` process of the
same database. ``: keep-alive`` comments are sent after ``CONVOLEDGER_STREAM_HEARTBEAT`` seconds
of silence; ``retry:`` tells browsers how long to wait before reconnecting. A session's stream
ends after its ``conversation.deleted`` event. Another account's session is a 404 like a missing
one, and another account's events are never read (the outbox is keyed by account).
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from convoledger.api.deps import MAX_SEQ, OwnerLedger
from convoledger.api.errors import PROBLEM_RESPONSES
from convoledger.api.routes.agent_sessions import SessionPath
from convoledger.events.hub import EventHub
from convoledger.events.streaming import StreamSettings, follow_events
from convoledger.ledger import Ledger
from convoledger.models.events import EventRecord
from convoledger.models.records import ConversationRecord

router = APIRouter(tags=["live events"], responses=PROBLEM_RESPONSES)


@dataclass(frozen=True)
class StreamStart:
    """Who is streaming, from where: the owner ledger and the last event id already seen."""

    ledger: Ledger
    after_id: int


def _parse_event_id(value: str, where: str) -> int:
    text = value.strip()
    if not text.isdigit() or len(text) > 19 or int(text) > MAX_SEQ:
        raise ValueError(f"{where} must be a non-negative event id (an integer), got {value!r}")
    return int(text)


async def stream_start(
    ledger: OwnerLedger,
    last_event_id: Annotated[
        str | None,
        Header(alias="Last-Event-ID", description="resume after this event id (EventSource sends it)"),
    ] = None,
    after: Annotated[
        int | None,
        Query(ge=0, le=MAX_SEQ, description="start after this event id (0: the account's whole history)"),
    ] = None,
) -> StreamStart:
    """Where the stream starts (module docstring); 422 for a ``Last-Event-ID`` that is not an
    event id. Resolved before the response starts, so errors are plain problem responses."""
    if last_event_id is not None and last_event_id.strip():
        start = _parse_event_id(last_event_id, "Last-Event-ID")
    elif after is not None:
        start = after
    else:
        start = await ledger.store.last_event_id(ledger.owner)
    return StreamStart(ledger, start)


async def stream_session(ledger: OwnerLedger, session: SessionPath) -> ConversationRecord:
    """The streamed session, resolved before the response starts (404 as a problem response,
    never a broken stream)."""
    return await ledger.resolve(session)


def _hub(request: Request) -> EventHub:
    hub: EventHub | None = getattr(request.app.state, "event_hub", None)
    if hub is None:
        raise RuntimeError("the app's event hub is not running (was the lifespan run?)")
    return hub


def _settings(request: Request) -> StreamSettings:
    settings = request.app.state.settings
    return StreamSettings(heartbeat=settings.stream_heartbeat, poll=settings.stream_poll)


def _opening(start: StreamStart, settings: StreamSettings) -> ServerSentEvent:
    """The first block: ``retry`` and ``id`` = the id the stream starts after (no data, so no
    event is dispatched, but ``EventSource`` remembers the id and resumes from it even when it
    reconnects before any event arrived)."""
    return ServerSentEvent(id=str(start.after_id), retry=settings.retry_ms, comment="convoledger events")


def _sse(event: EventRecord | None) -> ServerSentEvent:
    if event is None:
        return ServerSentEvent(comment="keep-alive")
    return ServerSentEvent(
        id=str(event.id),
        event=event.kind,
        data=event.model_dump(mode="json", exclude={"owner_id"}),
    )


@router.get(
    "/api/stream",
    response_class=EventSourceResponse,
    summary="Live events of every session of the account (SSE)",
)
async def account_stream(
    request: Request, start: Annotated[StreamStart, Depends(stream_start)]
) -> AsyncIterable[ServerSentEvent]:
    """Server-Sent Events of the caller's account: messages appended / edited / redacted /
    deleted, lifecycle transitions, provider calls, memory changes, sessions created / updated
    / deleted, alerts. Resume with ``Last-Event-ID``."""
    settings = _settings(request)
    yield _opening(start, settings)
    ledger = start.ledger
    async for event in follow_events(
        ledger.store, _hub(request), ledger.owner, after_id=start.after_id, settings=settings
    ):
        yield _sse(event)


@router.get(
    "/api/agent-sessions/{session}/stream",
    response_class=EventSourceResponse,
    summary="Live events of one session (SSE)",
)
async def session_stream(
    request: Request,
    conversation: Annotated[ConversationRecord, Depends(stream_session)],
    start: Annotated[StreamStart, Depends(stream_start)],
) -> AsyncIterable[ServerSentEvent]:
    """Server-Sent Events of one session (``{session}``: id, session_id or session_key); ids
    are the account's event ids. 404 for a session that is not the caller's. Ends after the
    session's ``conversation.deleted``."""
    settings = _settings(request)
    ledger = start.ledger
    yield _opening(start, settings)
    async for event in follow_events(
        ledger.store,
        _hub(request),
        ledger.owner,
        after_id=start.after_id,
        conversation_id=conversation.id,
        settings=settings,
    ):
        yield _sse(event)
