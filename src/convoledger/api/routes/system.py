"""System routes: ``GET /healthz`` and ``GET /metrics`` (no auth), ``GET /api/stats``."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from convoledger.api.auth import hash_token
from convoledger.api.deps import OwnerLedger, app_metrics, root_ledger
from convoledger.api.errors import PROBLEM_RESPONSES, Problem, problem
from convoledger.api.metrics import ApiMetrics
from convoledger.api.schemas import StatsOut
from convoledger.ledger import Ledger

router = APIRouter(tags=["system"])
log = logging.getLogger("convoledger.api")

#: A key hash no token can have (the SHA-256 of the empty string is never issued).
_PROBE_HASH = hash_token("")


@router.get(
    "/healthz",
    summary="Liveness and store check (no auth)",
    responses={503: {"model": Problem, "description": "The store did not answer"}},
)
async def healthz(request: Request, ledger: Annotated[Ledger, Depends(root_ledger)]) -> Response:
    """200 ``{"status": "ok"}`` when the store answers a query; 503 problem+json otherwise."""
    try:
        await ledger.store.account_for_key(_PROBE_HASH)
    except Exception as exc:  # noqa: BLE001 - any store failure means "unhealthy"; logged below
        log.exception("health check: the store did not answer")
        return problem(request, 503, "store-unavailable", f"the store did not answer: {type(exc).__name__}")
    return JSONResponse({"status": "ok", "store": type(ledger.store).__name__})


@router.get("/metrics", summary="Prometheus metrics (no auth)", response_class=PlainTextResponse)
async def metrics(m: Annotated[ApiMetrics, Depends(app_metrics)]) -> Response:
    """The API's metrics in the Prometheus text exposition format."""
    body, content_type = m.render()
    return Response(body, media_type=content_type)


@router.get(
    "/api/stats",
    response_model=StatsOut,
    summary="Statistics of the caller's account",
    responses={401: PROBLEM_RESPONSES[401]},
)
async def stats(ledger: OwnerLedger) -> StatsOut:
    """The seed's statistics of the caller's account (section 9 ``get_session_statistics``:
    ``total_sessions``, ``active_sessions``, ``total_messages``, ``average_messages_per_session``,
    ``sessions_with_conversations`` = sessions with at least one message) and convoledger's
    (``sessions``, ``messages``, per status and kind); see ``StatsOut``."""
    s = await ledger.stats()
    average = s.messages / s.conversations if s.conversations else 0.0
    return StatsOut(
        total_sessions=s.conversations,
        active_sessions=s.active_conversations,
        total_messages=s.messages,
        average_messages_per_session=average,
        sessions_with_conversations=s.conversations_with_messages,
        sessions=s.conversations,
        messages=s.messages,
        by_status=dict(s.by_status),
        by_kind=dict(s.by_kind),
    )
