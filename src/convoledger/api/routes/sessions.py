"""``/api/sessions``: multi-participant sessions of the conversation-models seed.

A ``ConversationSession`` (participants, ``session_type``) is created here; the seed's rules
validate it and its ``session_key`` is derived from it (``generate_session_key()``, or the
collision-free ``resolve_key()`` with ``key_style=structured``). It is then looked up by that
key, and ``AgentCommunicationMessage``s are posted to it by key. It is the same stored session
as every other: lifecycle, memory, export, health and message editing are the
``/api/agent-sessions/{session}`` routes, where ``{session}`` may be its id or its key.
Keys containing ``/`` cannot be used in these paths; use the session's id there.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from convoledger.api.deps import OwnerLedger, Paging, app_metrics, message_filters, paging
from convoledger.api.errors import PROBLEM_RESPONSES
from convoledger.api.metrics import ApiMetrics
from convoledger.api.routes.messages import list_page
from convoledger.api.schemas import (
    AgentMessageIn,
    ConversationSessionIn,
    ConversationSessionOut,
    ConversationSessionsPage,
    MessageOut,
    MessagesPage,
)
from convoledger.errors import NotFound
from convoledger.ledger import Ledger
from convoledger.models.agent_messages import AgentCommunicationMessage
from convoledger.models.records import ConversationKind, ConversationRecord
from convoledger.models.sessions import ConversationSession
from convoledger.models.status import ConversationStatus
from convoledger.store.base import ConversationQuery, MessageQuery

router = APIRouter(prefix="/api/sessions", tags=["multi-participant sessions"], responses=PROBLEM_RESPONSES)

KeyPath = Annotated[str, Path(min_length=1, max_length=500, description="the session's session_key")]


async def _by_key(ledger: Ledger, session_key: str) -> ConversationRecord:
    record = await ledger.find_conversation(session_key=session_key)
    if record is None:
        raise NotFound(f"session with session_key {session_key!r} not found")
    return record


@router.post(
    "", response_model=ConversationSessionOut, status_code=201, summary="Create a multi-participant session"
)
async def create_conversation_session(
    ledger: OwnerLedger, body: ConversationSessionIn
) -> ConversationSessionOut:
    """Create a ``ConversationSession``; 422 when the participants do not fit the session type
    (seed rules), 409 when its session_key or session_id is already used in this account."""
    face = ConversationSession(
        session_id=body.session_id,
        participants=[p.model_dump() for p in body.participants],  # type: ignore[misc]
        session_type=body.session_type.value,
        metadata=body.metadata,
    )
    record = face.to_record(ledger.owner, key_style=body.key_style).model_copy(
        update={
            "name": body.name,
            "description": body.description,
            "topic": body.topic,
            "current_goal": body.current_goal,
        }
    )
    return ConversationSessionOut.of(await ledger.create_conversation(record))


@router.get("", response_model=ConversationSessionsPage, summary="List multi-participant sessions")
async def list_conversation_sessions(
    ledger: OwnerLedger,
    page: Annotated[Paging, Depends(paging)],
    participant_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    status: ConversationStatus | None = None,
    search: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> ConversationSessionsPage:
    """The account's multi-participant sessions, most recently updated first; optionally only
    those with participant ``participant_id``."""
    result = await ledger.list_conversations(
        ConversationQuery(
            kind=ConversationKind.CONVERSATION_SESSION,
            participant_id=participant_id,
            status=status,
            name_contains=search,
            limit=page.size,
            offset=page.offset,
        )
    )
    return ConversationSessionsPage(
        items=[ConversationSessionOut.of(r) for r in result.items],
        total=result.total,
        page=page.page,
        size=page.size,
    )


@router.get("/{session_key}", response_model=ConversationSessionOut, summary="Get a session by key")
async def get_conversation_session(ledger: OwnerLedger, session_key: KeyPath) -> ConversationSessionOut:
    """The session with this ``session_key``."""
    return ConversationSessionOut.of(await _by_key(ledger, session_key))


@router.post(
    "/{session_key}/messages", response_model=MessageOut, status_code=201, summary="Post an agent message"
)
async def post_agent_message(
    ledger: OwnerLedger,
    session_key: KeyPath,
    body: AgentMessageIn,
    metrics: Annotated[ApiMetrics, Depends(app_metrics)],
) -> MessageOut:
    """Append an ``AgentCommunicationMessage`` (stored with ``role`` = the sender's participant
    type). 422 when the sender or recipient is not a participant; 409 when the session is not
    active."""
    record = await _by_key(ledger, session_key)
    members = {p.participant_id: p for p in record.participants}
    for field_name, pid in (("sender_id", body.sender_id), ("recipient_id", body.recipient_id)):
        if pid not in members:
            raise ValueError(
                f"{field_name} {pid!r} is not a participant of session {session_key!r}; "
                f"participants: {', '.join(sorted(members)) or 'none'}"
            )
    sender, recipient = members[body.sender_id], members[body.recipient_id]
    message = AgentCommunicationMessage(
        message_id=body.message_id or "",
        session_key=session_key,
        sender_id=sender.participant_id,
        sender_type=sender.participant_type,
        sender_role=sender.participant_role,
        recipient_id=recipient.participant_id,
        recipient_type=recipient.participant_type,
        recipient_role=recipient.participant_role,
        content=body.content,
        message_type=body.message_type.value,
        **({"timestamp": body.timestamp} if body.timestamp is not None else {}),
        metadata=body.metadata,
    )
    stored = await ledger.append(record, message)
    metrics.appended.labels("/api/sessions/{session_key}/messages").inc()
    return MessageOut.of(stored)


@router.get("/{session_key}/messages", response_model=MessagesPage, summary="List a session's messages")
async def list_agent_messages(
    ledger: OwnerLedger,
    session_key: KeyPath,
    filters: Annotated[MessageQuery, Depends(message_filters)],
    page: Annotated[Paging, Depends(paging)],
) -> MessagesPage:
    """Messages in ``seq`` order with the same filters and paging as
    ``GET /api/agent-sessions/{session}/messages``."""
    record = await _by_key(ledger, session_key)
    return await list_page(ledger, record.id, filters, page)
