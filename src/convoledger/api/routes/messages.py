"""``/api/agent-sessions/{session}/messages``: append (one or an atomic batch), list with
filters and keyset paging, read, edit, redact, delete, pop (the newest, atomically), clear.

Appends to a session that is not active are refused with 409. Message order is ``seq`` (1, 2,
3, … per session, assigned by the store), never a timestamp.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import BaseModel

from convoledger.api.deps import OwnerLedger, Paging, app_metrics, message_filters, paging
from convoledger.api.errors import PROBLEM_RESPONSES
from convoledger.api.metrics import ApiMetrics
from convoledger.api.routes.agent_sessions import SessionPath
from convoledger.api.schemas import (
    MAX_PAGE_SIZE,
    DeletedCount,
    MessageBatchIn,
    MessageIn,
    MessageOut,
    MessagePatch,
    MessagesPage,
    RedactIn,
)
from convoledger.store.base import MessageQuery

router = APIRouter(prefix="/api/agent-sessions/{session}", tags=["messages"], responses=PROBLEM_RESPONSES)

MessagePath = Annotated[str, Path(min_length=1, max_length=200, description="the message's id")]


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    """``model`` as the JSON response, serialised once by pydantic (what FastAPI would send for
    the route's ``response_model``, without validating the model a second time: issue 15)."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


async def list_page(
    ledger: OwnerLedger, session: str, filters: MessageQuery, page: Paging, last: int | None = None
) -> MessagesPage:
    """A page of the session's messages matching ``filters``, oldest first. ``total`` counts
    every message matching the filters (``after_seq`` is a window bound and does not change
    it); ``page``/``size`` apply after ``after_seq``. ``last``: instead of a page, the ``last``
    most recent matching messages (``page`` must be 1; ``size`` is reported as ``last``).

    One trip to the database for a session that is not a branch (``Ledger.messages_page``)."""
    if last is not None:
        if page.page != 1:
            raise ValueError(
                f"last={last} reads the most recent messages; it cannot be combined with page={page.page}"
            )
        window = replace(filters, last=last)
        page = Paging(1, last)
    else:
        window = replace(filters, limit=page.size, offset=page.offset)
    items, total = await ledger.messages_page(session, window, filters)
    return MessagesPage(items=[MessageOut.of(m) for m in items], total=total, page=page.page, size=page.size)


@router.get("/messages", response_model=MessagesPage, summary="List messages")
async def list_messages(
    ledger: OwnerLedger,
    session: SessionPath,
    filters: Annotated[MessageQuery, Depends(message_filters)],
    page: Annotated[Paging, Depends(paging)],
    last: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_PAGE_SIZE,
            description="the most recent N matching messages (oldest first) instead of a page; "
            "not with page > 1",
        ),
    ] = None,
) -> Response:
    """Messages in ``seq`` order, 50 per page unless ``size`` says otherwise, filtered
    (full-text ``search``, ``role`` — a value or the seed's member name in any case, e.g.
    ``USER`` —, ``sender``, ``recipient``, ``message_type``, the seed's ``created_at`` range
    ``<from>,<to>`` and ``created_from``/``created_to``) before paging; for keyset paging pass
    the last ``seq`` you have as ``after_seq``. ``last=N``: the N most recent matching messages
    (what an agent reads before its next turn), still oldest first."""
    return json_response(await list_page(ledger, session, filters, page, last))


@router.post("/messages", response_model=MessageOut, status_code=201, summary="Append a message")
async def append_message(
    ledger: OwnerLedger,
    session: SessionPath,
    body: MessageIn,
    metrics: Annotated[ApiMetrics, Depends(app_metrics)],
) -> Response:
    """Append one message; the same ``id`` twice returns the first message (nothing new is
    stored). 409 when the session is not active."""
    stored = await ledger.append(session, body.to_record())
    metrics.appended.labels("/api/agent-sessions/{session}/messages").inc()
    return json_response(MessageOut.of(stored), 201)


@router.post(
    "/messages/batch", response_model=list[MessageOut], status_code=201, summary="Append messages atomically"
)
async def append_batch(
    ledger: OwnerLedger,
    session: SessionPath,
    body: MessageBatchIn,
    metrics: Annotated[ApiMetrics, Depends(app_metrics)],
) -> list[MessageOut]:
    """Append up to 500 messages, all or none, in the given order; returns them as stored."""
    stored = await ledger.append_batch(session, [m.to_record() for m in body.messages])
    metrics.appended.labels("/api/agent-sessions/{session}/messages/batch").inc(len(stored))
    return [MessageOut.of(m) for m in stored]


@router.post(
    "/messages/pop",
    response_model=MessageOut,
    summary="Remove and return the last message",
    responses={204: {"description": "The session has no message (of its own, for a branch)"}},
)
async def pop_message(ledger: OwnerLedger, session: SessionPath) -> Response | MessageOut:
    """Delete the session's newest message (highest ``seq``) and return it, in one store
    transaction (the session's row is locked: two concurrent pops remove two different
    messages, never the same one twice). 204 when there is none; 409 when a branch shares it
    (forks: a branch removes only its own messages). The Agents SDK's ``Session.pop_item``."""
    popped = await ledger.pop_message(session)
    if popped is None:
        return Response(status_code=204)
    return MessageOut.of(popped)


@router.get("/messages/{message_id}", response_model=MessageOut, summary="Get a message")
async def get_message(ledger: OwnerLedger, session: SessionPath, message_id: MessagePath) -> MessageOut:
    """One message of the session."""
    return MessageOut.of(await ledger.get_message(session, message_id))


@router.patch("/messages/{message_id}", response_model=MessageOut, summary="Edit a message")
async def edit_message(
    ledger: OwnerLedger, session: SessionPath, message_id: MessagePath, body: MessagePatch
) -> MessageOut:
    """Change ``content`` and/or ``extra_data`` (the token count is recomputed; ``updated_at``
    is set). ``extra_data`` given as a string is the seed's JSON text (``"{\\"key\\":
    \\"value\\"}"``) and is stored as the value it holds. The message keeps its id and seq."""
    return MessageOut.of(await ledger.edit_message(session, message_id, **body.changes()))


@router.delete("/messages/{message_id}", status_code=204, summary="Delete a message")
async def delete_message(ledger: OwnerLedger, session: SessionPath, message_id: MessagePath) -> Response:
    """Delete one message; its seq is never reused."""
    await ledger.delete_message(session, message_id)
    return Response(status_code=204)


@router.post("/messages/{message_id}/redact", response_model=MessageOut, summary="Redact a message")
async def redact_message(
    ledger: OwnerLedger,
    session: SessionPath,
    message_id: MessagePath,
    body: Annotated[RedactIn | None, Body()] = None,
) -> MessageOut:
    """Replace the content with a marker (default ``[redacted]``) and drop extra data and tool
    arguments; the envelope (id, seq, role, sender, recipient, times) stays."""
    marker = body.marker if body is not None else RedactIn().marker
    return MessageOut.of(await ledger.redact_message(session, message_id, marker))


@router.delete("/clear-messages", response_model=DeletedCount, summary="Delete every message")
async def clear_messages(ledger: OwnerLedger, session: SessionPath) -> DeletedCount:
    """Delete all messages of the session (seqs are not reused); returns how many."""
    return DeletedCount(deleted_count=await ledger.clear_messages(session))
