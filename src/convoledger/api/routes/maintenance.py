"""Lifecycle automation routes (issue 13), all scoped to the caller's account:

- ``GET /api/backups`` — the account's session backups, newest first (seed 002 §10);
- ``POST /api/backups/{backup_id}/restore`` — restore one of them (lossless, same ids);
- ``GET /api/deletions`` — sessions removed or archived by a cleanup policy, with the backup id;
- ``GET /api/alerts`` — alerts raised about the account's sessions (seed 002 §9);
- ``GET /api/performance`` — per-operation durations of this server process (seed 002 §11
  ``get_performance_summary``); process-wide, not per account (it holds no account data).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from convoledger.api.deps import OwnerLedger
from convoledger.api.errors import PROBLEM_RESPONSES
from convoledger.errors import NotFound
from convoledger.maintenance.backup_store import BackupInfo
from convoledger.maintenance.monitoring import PerformanceMonitor
from convoledger.maintenance.passes import Maintenance
from convoledger.models.maintenance import Alert, DeletionRecord

router = APIRouter(tags=["maintenance"])

Limit = Annotated[int, Query(ge=1, le=1000, description="Most items returned (newest first).")]


def app_maintenance(request: Request) -> Maintenance:
    """The app's ``Maintenance`` (journal, backup store, policy), built by the lifespan."""
    maintenance: Maintenance | None = getattr(request.app.state, "maintenance", None)
    if maintenance is None:
        raise RuntimeError("the app's maintenance is not set up (was the lifespan run?)")
    return maintenance


def app_performance(request: Request) -> PerformanceMonitor:
    """The app's ``PerformanceMonitor`` (fed by the metrics middleware)."""
    monitor: PerformanceMonitor = request.app.state.metrics.performance
    return monitor


AppMaintenance = Annotated[Maintenance, Depends(app_maintenance)]


@router.get(
    "/api/backups",
    response_model=list[BackupInfo],
    summary="Backups of the caller's sessions",
    responses={401: PROBLEM_RESPONSES[401], 422: PROBLEM_RESPONSES[422]},
)
async def list_backups(ledger: OwnerLedger, m: AppMaintenance, limit: Limit = 100) -> list[BackupInfo]:
    """The account's backups, newest first: ``backup_id``, the session (``conversation_id``,
    ``session_id``), ``reason`` (``periodic``, ``before_delete``, ``manual``), the deleting
    ``policy`` of a ``before_delete`` backup, ``created_at`` and ``size_bytes``."""
    return await m.backups.list_backups(ledger.owner, limit)


@router.post(
    "/api/backups/{backup_id}/restore",
    status_code=201,
    summary="Restore one of the caller's backups",
    responses={401: PROBLEM_RESPONSES[401], 404: PROBLEM_RESPONSES[404], 409: PROBLEM_RESPONSES[409]},
)
async def restore_backup(backup_id: str, ledger: OwnerLedger, m: AppMaintenance) -> dict[str, Any]:
    """Restore the session of ``backup_id`` exactly as it was backed up (same ids, seqs, times,
    statuses). 404 for an unknown id or one of another account, 409 when the session exists."""
    try:
        document = await m.backups.read(backup_id, ledger.owner)
    except ValueError:
        raise NotFound(f"backup {backup_id!r} not found") from None
    record = await ledger.restore_bundle(document["bundle"])
    return {"backup_id": backup_id, "conversation_id": record.id, "session_id": record.session_id}


@router.get(
    "/api/deletions",
    response_model=list[DeletionRecord],
    summary="Sessions removed or archived by a cleanup policy",
    responses={401: PROBLEM_RESPONSES[401], 422: PROBLEM_RESPONSES[422]},
)
async def list_deletions(ledger: OwnerLedger, m: AppMaintenance, limit: Limit = 100) -> list[DeletionRecord]:
    """The account's deletion records, newest first: the session, the ``policy``
    (``max_inactive_time`` or ``max_session_age``), the ``action`` (``delete``/``archive``), the
    ``actor``, when (``at``) and the ``backup_id`` written before a delete."""
    return await m.journal.list_deletions(ledger.owner, limit)


@router.get(
    "/api/alerts",
    response_model=list[Alert],
    summary="Alerts about the caller's sessions",
    responses={401: PROBLEM_RESPONSES[401], 422: PROBLEM_RESPONSES[422]},
)
async def list_alerts(ledger: OwnerLedger, m: AppMaintenance, limit: Limit = 100) -> list[Alert]:
    """The account's alerts, newest first: ``kind`` (``high_message_rate``,
    ``long_inactive_session``), the session, the seed's ``message``, the measured ``value`` and
    the ``threshold``. Each is also an ``alert.raised`` event of the live streams."""
    return await m.journal.list_alerts(ledger.owner, limit)


@router.get(
    "/api/performance",
    summary="Per-operation performance of this server process",
    responses={401: PROBLEM_RESPONSES[401]},
)
async def performance(
    ledger: OwnerLedger,
    monitor: Annotated[PerformanceMonitor, Depends(app_performance)],
    operation: Annotated[
        str | None, Query(description="One operation, e.g. 'GET /api/agent-sessions' or 'maintenance.pass'.")
    ] = None,
) -> dict[str, Any]:
    """Without ``operation``: ``{"slow_query_threshold", "window", "operations": {name: summary}}``
    for every operation seen (HTTP routes as ``"<METHOD> <route template>"``, and
    ``maintenance.pass``). With it: that operation's summary alone, in the seed's
    ``get_performance_summary`` shape (``count``, ``avg_duration``, ``min_duration``,
    ``max_duration``, ``p95_duration``, ``slow_operations``; seconds) plus ``errors`` and
    ``error_rate``; ``{}`` for an operation not seen yet (as the seed)."""
    if operation is not None:
        return monitor.summary(operation)
    return {
        "slow_query_threshold": monitor.slow_threshold,
        "window": monitor.window,
        "operations": monitor.summaries(),
    }
