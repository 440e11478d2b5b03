"""``/api/agent-sessions``: sessions of the caller's account — list, create, read, update,
delete, lifecycle moves, one agent turn, export/import and the health score.

``{session}`` in a path is the session's ``id`` (UUID); the caller's external ``session_id``
and a multi-participant ``session_key`` are accepted too (resolved in that order). A session
of another account is a 404, exactly like a missing one.

Every request of the agent-session seed's API reference (section 12) works unchanged: its
bodies (``session_name``, ``is_active``), its list parameters (``page``, ``size`` default 20,
``search``, ``created_at`` / ``updated_at`` ranges), ``PUT …/activate|deactivate``, the
export/import shapes of section 10 and the health keys of section 13.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from fastapi.responses import JSONResponse

from convoledger.agent import Agent, ModelCallReply
from convoledger.api.deps import (
    RANGE_HELP,
    OwnerLedger,
    Paging,
    app_agent,
    app_metrics,
    check_range,
    combine_ranges,
    parse_range,
    session_paging,
)
from convoledger.api.errors import PROBLEM_RESPONSES
from convoledger.api.health import HEALTH_WINDOW, HealthInputs, compute_health
from convoledger.api.metrics import ApiMetrics
from convoledger.api.schemas import (
    ConversationIn,
    ConversationOut,
    EventsOut,
    HealthFactor,
    HealthOut,
    LifecycleEventOut,
    ReasonIn,
    SessionCreate,
    SessionOut,
    SessionsPage,
    SessionUpdate,
    TransitionIn,
)
from convoledger.errors import NotFound
from convoledger.integrations.a2a import export_a2a
from convoledger.models.records import ConversationKind, MessageRecord
from convoledger.models.session_health import (
    calculate_health_score,
    generate_recommendations,
    hours_inactive,
    last_activity,
)
from convoledger.models.status import ConversationStatus
from convoledger.models.timeutil import UtcDatetime, utcnow
from convoledger.store.base import ConversationQuery, MessageQuery

router = APIRouter(prefix="/api/agent-sessions", tags=["agent sessions"], responses=PROBLEM_RESPONSES)

#: Namespace of the reply ids of conversation turns (uuid5 of ``<session id>/<last input id>``).
REPLY_NAMESPACE = uuid.UUID("6f1d2c1e-3b0e-4c52-9a57-2f4d8f1f0a11")
#: How many recent messages the agent sees.
AGENT_HISTORY = 50

SessionPath = Annotated[
    str, Path(min_length=1, max_length=300, description="the session's id (or its session_id / session_key)")
]


@router.get("", response_model=SessionsPage, summary="List sessions")
async def list_sessions(
    ledger: OwnerLedger,
    page: Annotated[Paging, Depends(session_paging)],
    search: Annotated[
        str | None, Query(min_length=1, max_length=200, description="substring of name/session_id")
    ] = None,
    status: ConversationStatus | None = None,
    kind: ConversationKind | None = None,
    participant_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    created_from: UtcDatetime | None = None,
    created_to: UtcDatetime | None = None,
    updated_from: UtcDatetime | None = None,
    updated_to: UtcDatetime | None = None,
    created_at: Annotated[list[str] | None, Query(description=f"the seed's filter: {RANGE_HELP}")] = None,
    updated_at: Annotated[list[str] | None, Query(description=f"the seed's filter: {RANGE_HELP}")] = None,
) -> SessionsPage:
    """The account's sessions, most recently updated first, 20 per page unless ``size`` says
    otherwise. ``search`` matches ``name`` (the seed's ``session_name``) or ``session_id``
    case-insensitively; time ranges are inclusive: the seed's ``created_at`` / ``updated_at``
    (``<from>,<to>``, either side may be empty, or the parameter twice) and convoledger's
    ``created_from`` … ``updated_to`` combine (both must hold)."""
    c_from, c_to = combine_ranges(
        "created_at", check_range("created", created_from, created_to), parse_range("created_at", created_at)
    )
    u_from, u_to = combine_ranges(
        "updated_at", check_range("updated", updated_from, updated_to), parse_range("updated_at", updated_at)
    )
    result = await ledger.list_conversations(
        ConversationQuery(
            status=status,
            kind=kind,
            participant_id=participant_id,
            name_contains=search,
            created_from=c_from,
            created_to=c_to,
            updated_from=u_from,
            updated_to=u_to,
            limit=page.size,
            offset=page.offset,
        )
    )
    return SessionsPage(
        items=[SessionOut.of(r) for r in result.items], total=result.total, page=page.page, size=page.size
    )


@router.post("", response_model=SessionOut, status_code=201, summary="Create a session")
async def create_session(ledger: OwnerLedger, body: SessionCreate) -> SessionOut:
    """Create a session: ``active``, or ``inactive`` when the body says ``is_active: false``
    (stored with the lifecycle event of that move, in one transaction). 409 when
    ``session_id`` is taken in this account."""
    record = body.to_record(ledger.owner)
    return SessionOut.of(await ledger.create_conversation(record, reason="created with is_active=false"))


@router.post("/conversation", response_model=ConversationOut, summary="Run one agent turn")
async def conversation_turn(
    ledger: OwnerLedger,
    body: ConversationIn,
    agent: Annotated[Agent, Depends(app_agent)],
    metrics: Annotated[ApiMetrics, Depends(app_metrics)],
) -> ConversationOut:
    """Append ``messages`` to session ``session_id`` (created when new), run the configured
    agent on the recent history and append its reply as an ``assistant`` message.

    409 when the session is not active. The reply's id is derived from the session and the last
    input message (uuid5), so a retry with the same message ids returns the stored reply
    without running the agent again.
    """
    record, _created = await ledger.get_or_create_conversation(body.to_record(ledger.owner))
    stored = await ledger.append_batch(record, [m.to_record() for m in body.messages])
    metrics.appended.labels("/api/agent-sessions/conversation").inc(len(stored))
    reply_id = str(uuid.uuid5(REPLY_NAMESPACE, f"{record.id}/{stored[-1].id}"))
    try:
        reply = await ledger.get_message(record, reply_id)
    except NotFound:
        history = await ledger.recent(record, AGENT_HISTORY)
        answer = await agent.respond(ledger, record, history)
        last_sender = next((m.sender for m in reversed(stored) if m.sender), None)
        reply = await ledger.append(
            record,
            MessageRecord(
                id=reply_id,
                role="assistant",
                content=answer.content,
                sender=record.agent_name or agent.name,
                recipient=last_sender,
                tool_calls=getattr(answer, "tool_calls", None) or None,
                extra_data=answer.metadata or None,
            ),
        )
        metrics.appended.labels("/api/agent-sessions/conversation").inc()
        if isinstance(answer, ModelCallReply):
            # Parse, price and store the model call, and move the provider's server-side handle
            # (e.g. the Responses id) to this reply, in one store transaction.
            await answer.record(ledger, record, reply)
        elif answer.provider_call is not None:
            await ledger.add_provider_call(
                record, answer.provider_call.model_copy(update={"message_id": reply.id}), answer.server_state
            )
    current = await ledger.get_conversation(record.id)
    return ConversationOut(
        session_id=body.session_id,
        session_uuid=current.id,
        response=reply.content,
        messages_count=current.message_count,
        session_active=current.is_active,
    )


@router.post("/import", response_model=SessionOut, status_code=201, summary="Restore an export or a backup")
async def import_bundle(
    ledger: OwnerLedger,
    bundle: Annotated[
        dict[str, Any],
        Body(
            description="a document from GET …/export?format=json, a bare convoledger bundle, or a "
            "backup in the seed's shape {'session': {...}, 'messages': [...]}"
        ),
    ],
) -> SessionOut:
    """Restore an export into this account (``Ledger.import_document``): a document from
    ``GET …/{session}/export`` or a bare bundle is restored exactly as it was (ids, seqs,
    statuses, times); a backup in the seed's shape (section 10 ``restore_session_from_backup``)
    becomes a new session with its messages. 409 when the session (its id or session_id)
    already exists here; 422 for a malformed body (nothing is written)."""
    return SessionOut.of(await ledger.import_document(bundle))


@router.get("/{session}", response_model=SessionOut, summary="Get a session")
async def get_session(ledger: OwnerLedger, session: SessionPath) -> SessionOut:
    """One session."""
    return SessionOut.of(await ledger.resolve(session))


@router.patch("/{session}", response_model=SessionOut, summary="Update a session")
async def update_session(ledger: OwnerLedger, session: SessionPath, body: SessionUpdate) -> SessionOut:
    """Change descriptive fields (only those given; the seed's ``session_name`` is ``name``) and,
    with ``is_active``, activate or deactivate (a lifecycle move recorded as an event; nothing
    when the session already has that value). 409 when a new ``session_id`` is taken or the
    status machine forbids the move (e.g. reactivating a terminated session); then nothing
    changes."""
    changes = body.changes()
    return SessionOut.of(await ledger.update_conversation(session, is_active=body.is_active, **changes))


@router.delete("/{session}", status_code=204, summary="Delete a session")
async def delete_session(ledger: OwnerLedger, session: SessionPath) -> Response:
    """Delete the session with its messages, memory, events and provider calls."""
    await ledger.delete_conversation(session)
    return Response(status_code=204)


@router.put("/{session}/activate", response_model=SessionOut, summary="Activate a session")
async def activate_session(
    ledger: OwnerLedger, session: SessionPath, body: Annotated[ReasonIn | None, Body()] = None
) -> SessionOut:
    """inactive → active (409 from any other status)."""
    return SessionOut.of(await ledger.activate(session, reason=body.reason if body else None))


@router.put("/{session}/deactivate", response_model=SessionOut, summary="Deactivate a session")
async def deactivate_session(
    ledger: OwnerLedger, session: SessionPath, body: Annotated[ReasonIn | None, Body()] = None
) -> SessionOut:
    """active → inactive (409 from any other status)."""
    return SessionOut.of(await ledger.deactivate(session, reason=body.reason if body else None))


@router.post("/{session}/transition", response_model=SessionOut, summary="Move a session to any status")
async def transition_session(ledger: OwnerLedger, session: SessionPath, body: TransitionIn) -> SessionOut:
    """Any lifecycle move the status machine allows (DESIGN.md "Lifecycle"); 409 for an illegal
    move (e.g. active → archived), 422 for an unknown status."""
    record, _event = await ledger.transition(session, body.status, reason=body.reason)
    return SessionOut.of(record)


@router.get("/{session}/events", response_model=EventsOut, summary="Lifecycle events of a session")
async def session_events(ledger: OwnerLedger, session: SessionPath) -> EventsOut:
    """Every status change of the session, oldest first."""
    events = await ledger.lifecycle_events(session)
    return EventsOut(items=[LifecycleEventOut.of(e) for e in events], total=len(events))


@router.get("/{session}/export", summary="Export a session (JSON document, CSV or A2A)")
async def export_session(
    ledger: OwnerLedger, session: SessionPath, format: Literal["json", "csv", "a2a"] = "json"
) -> Response:
    """``format=json``: the seed's document (``session`` and ``messages`` with the seed's keys,
    section 10) with the lossless bundle under ``convoledger_bundle``; ``POST
    /api/agent-sessions/import`` restores it exactly. ``format=csv``: the messages, one row
    each: the seed's seven columns first, then convoledger's (``convoledger.ledger.CSV_COLUMNS``).
    ``format=a2a``: the session as an A2A v1.0 message history (``convoledger.integrations.a2a``)."""
    record = await ledger.resolve(session)
    stem = _filename_stem(record.session_id or record.id)
    if format == "a2a":
        return JSONResponse(
            await export_a2a(ledger, record),
            headers={"Content-Disposition": f'attachment; filename="{stem}.a2a.json"'},
        )
    if format == "csv":
        return Response(
            await ledger.export_csv(record),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'},
        )
    return JSONResponse(
        await ledger.export_document(record),
        headers={"Content-Disposition": f'attachment; filename="{stem}.json"'},
    )


def _filename_stem(name: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return safe[:100] or "session"


@router.get("/{session}/health", response_model=HealthOut, summary="Health score of a session")
async def session_health(ledger: OwnerLedger, session: SessionPath) -> HealthOut:
    """The seed's health status (section 13 ``monitor_session_health``: ``health_score`` and
    ``recommendations`` by its formula and texts, ``models.session_health``) and convoledger's
    own report (``score``, ``grade``, ``factors``, ``actions``; ``convoledger.api.health``).

    ``hours_inactive`` counts from the newest message's ``created_at`` (among the latest 200 by
    seq), else from the session's ``updated_at``.
    """
    record = await ledger.resolve(session)
    recent = await ledger.messages(record, MessageQuery(last=HEALTH_WINDOW))
    errors = await ledger.count(record, MessageQuery(message_type="error_report"))
    now = utcnow()
    report = compute_health(
        record,
        HealthInputs(message_count=record.message_count, error_reports=errors, recent=recent),
        policy=ledger.policy,
        now=now,
    )
    newest = sorted(m.created_at for m in recent)
    hours = hours_inactive(last_activity(record.updated_at, newest), now)
    count = record.message_count
    return HealthOut(
        session_id=record.id,
        is_active=record.is_active,
        message_count=count,
        hours_inactive=hours,
        health_score=calculate_health_score(record, count, hours),
        recommendations=generate_recommendations(record, count, hours),
        id=record.id,
        external_session_id=record.session_id,
        status=record.status,
        score=report.score,
        grade=report.grade,
        factors=[HealthFactor(name=n, penalty=p, detail=d) for n, p, d in report.factors],
        actions=report.recommendations,
        metrics=report.metrics,
        computed_at=now,
    )
