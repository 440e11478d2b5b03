"""One maintenance pass (seed 002 §6 ``SessionCleanupService``, §9 ``SessionMonitoringService``,
§10 ``AutomatedBackupManager``; seed 001 inactivity timeout): ``run_pass(maintenance, holder)``.

Under the journal's lease (one pass at a time per database, across processes), in this order:

1. timeouts: ``active`` sessions idle longer than ``default_timeout`` → ``inactive_timeout``;
2. alerts (``check_session_alerts``): ``high_message_rate`` for active sessions holding more
   than ``high_message_rate_threshold`` messages; ``long_inactive_session`` for active sessions
   idle longer than ``long_inactive_threshold`` (after the timeouts, so it fires only when that
   threshold is below ``default_timeout``); each once per activity period (not again until the
   session has new activity). An alert is stored in the journal (``GET /api/alerts``), written
   to the event outbox as ``alert.raised`` (so it streams), counted in Prometheus and logged;
3. ``cleanup_inactive_sessions``: non-active sessions not changed (``updated_at``, as the seed)
   for ``max_inactive_time`` (a session that just timed out waits that long again);
4. ``cleanup_old_sessions``: sessions created longer than ``max_session_age`` ago, any status;
5. the periodic backup of active sessions, when ``backup_interval`` has passed since the last;
6. backup retention: backups older than ``backup_retention_days`` are removed.

Cleanup with ``cleanup_action`` ``delete`` writes the session's bundle to the backup store first
(a session whose backup fails is kept and counted in ``backup_failures``), deletes it with the
event context ``{actor: "maintenance", policy, backup_id}`` on its ``conversation.deleted`` event,
and stores a ``DeletionRecord``. With ``archive``: ``inactive_*`` → ``archived``; an old ``active``
session → ``inactive_system_terminated`` → ``archived``. A session that has fork branches is
never deleted (they share its history; ``store/lineage.py``): it is kept and counted in
``skipped_branches``.

Every selection reads ``batch_size`` sessions at a time in keyset order
(``Store.conversations_idle_since(..., after=…)``), so memory stays constant however much is due,
and the lease is renewed between batches. A pass with backup failures ends ``failed``
(``PassIncomplete``) after doing everything else, so the scheduler retries it after
``retry_delay`` seconds; any other error ends it ``failed`` at once. Either way the pass is
recorded in the pass log with the counts reached.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from convoledger.errors import Conflict, NotFound
from convoledger.ledger import Ledger
from convoledger.maintenance.backup_store import BackupReason, BackupStore
from convoledger.maintenance.journal import Lease, MaintenanceJournal
from convoledger.maintenance.monitoring import MaintenanceMetrics, PerformanceMonitor
from convoledger.models.events import EventKind
from convoledger.models.maintenance import (
    Alert,
    CleanupAction,
    CleanupPolicyName,
    DeletionRecord,
    MaintenancePolicy,
    PassCounts,
    PassRecord,
    PassStatus,
    high_message_rate_alert,
    long_inactive_alert,
)
from convoledger.models.records import ConversationRecord
from convoledger.models.status import ConversationStatus, InvalidTransition
from convoledger.models.timeutil import utcnow
from convoledger.store.outbox import event_context

log = logging.getLogger("convoledger.maintenance")

ACTOR = "maintenance"
_INACTIVE = tuple(s for s in ConversationStatus if s.value.startswith("inactive"))
_NOT_ACTIVE = (*_INACTIVE, ConversationStatus.ARCHIVED)
_ALL = tuple(ConversationStatus)
#: "Any activity time": the upper bound of selections by age (a margin for clock skew).
_FUTURE = timedelta(days=1)


class PassIncomplete(RuntimeError):
    """The pass finished but left work undone (some backups could not be written); the
    scheduler retries it."""


@dataclass
class Maintenance:
    """What a pass works with: the ledger (any owner view; passes act across owners), its
    journal, the backup store, the policy, and optional metrics."""

    ledger: Ledger
    journal: MaintenanceJournal
    backups: BackupStore
    policy: MaintenancePolicy
    metrics: MaintenanceMetrics | None = None
    performance: PerformanceMonitor | None = None


async def run_pass(m: Maintenance, holder: str, *, now: datetime | None = None) -> PassRecord | None:
    """Run one pass if this ``holder`` gets the lease; ``None`` when another process holds it.

    Returns the recorded ``PassRecord`` (status ``ok``). Raises ``PassIncomplete`` (backups
    failed) or the error that stopped the pass, after recording the pass as ``failed``.
    """
    async with m.journal.lease(holder) as lease:
        if lease is None:
            return None
        started = utcnow()
        clock = time.perf_counter()
        counts = PassCounts()
        try:
            await _work(m, lease, counts, now or started)
            if counts.backup_failures:
                raise PassIncomplete(
                    f"{counts.backup_failures} session backups could not be written to {m.backups.root}; "
                    "those sessions were kept and the pass will be retried"
                )
        except Exception as exc:
            record = await _finish(
                m, holder, started, clock, counts, PassStatus.FAILED, f"{type(exc).__name__}: {exc}"
            )
            log.error(
                "maintenance pass %s failed: %s (counts: %s)", record.id, record.error, counts.model_dump()
            )
            raise
        record = await _finish(m, holder, started, clock, counts, PassStatus.OK, None)
        log.info("maintenance pass %s completed: %s", record.id, counts.model_dump())
        return record


async def _finish(
    m: Maintenance,
    holder: str,
    started: datetime,
    clock: float,
    counts: PassCounts,
    status: PassStatus,
    error: str | None,
) -> PassRecord:
    duration = time.perf_counter() - clock
    if m.metrics is not None:
        m.metrics.record_pass(status.value, counts, duration)
    if m.performance is not None:
        m.performance.track("maintenance.pass", duration, error=status is PassStatus.FAILED)
    return await m.journal.record_pass(
        PassRecord(
            holder=holder, started_at=started, finished_at=utcnow(), status=status, counts=counts, error=error
        )
    )


async def _work(m: Maintenance, lease: Lease, counts: PassCounts, now: datetime) -> None:
    p = m.policy
    idle_since = now - timedelta(seconds=p.default_timeout)
    async for conv in _scan(m, lease, idle_since, (ConversationStatus.ACTIVE,)):
        if await _move(m, conv, ConversationStatus.INACTIVE_TIMEOUT, "inactivity timeout (default_timeout)"):
            counts.timed_out += 1
    await _alerts(m, lease, counts, now)
    await cleanup_inactive_sessions(m, counts, now, lease)
    await cleanup_old_sessions(m, counts, now, lease)
    await _periodic_backup(m, lease, counts, now)
    counts.backups_expired += await m.backups.expire(now - timedelta(days=p.backup_retention_days))


async def _scan(
    m: Maintenance,
    lease: Lease | None,
    cutoff: datetime,
    statuses: Collection[ConversationStatus],
    *,
    created_before: datetime | None = None,
    after: tuple[datetime, str] | None = None,
) -> AsyncIterator[ConversationRecord]:
    """Every session (all owners) in ``statuses`` idle since before ``cutoff``, in keyset batches
    of ``policy.batch_size``; the lease is renewed after each batch."""
    batch = m.policy.batch_size
    while True:
        rows = await m.ledger.store.conversations_idle_since(
            cutoff, batch, statuses, created_before=created_before, after=after
        )
        for conv in rows:
            yield conv
        if len(rows) < batch:
            return
        after = (rows[-1].last_activity_at, rows[-1].id)
        if lease is not None:
            await lease.renew()


async def _move(m: Maintenance, conv: ConversationRecord, target: ConversationStatus, reason: str) -> bool:
    """Transition ``conv`` to ``target``; ``False`` when another writer moved or removed it."""
    try:
        await m.ledger.store.transition(conv.owner_id, conv.id, target, reason=reason, actor=ACTOR)
    except (InvalidTransition, NotFound):
        return False
    return True


# -- alerts -----------------------------------------------------------------------------------


async def _alerts(m: Maintenance, lease: Lease, counts: PassCounts, now: datetime) -> None:
    """Seed ``check_session_alerts`` over every active session (keyset batches). An alert is
    raised once per activity period: not again while the journal holds one of the same kind for
    the session recorded since its last activity."""
    p = m.policy
    async for conv in _scan(m, lease, now + _FUTURE, (ConversationStatus.ACTIVE,)):
        for alert in (
            high_message_rate_alert(conv, p.high_message_rate_threshold),
            long_inactive_alert(conv, now, p.long_inactive_threshold),
        ):
            if alert is not None and not await m.journal.alerted_since(
                conv.owner_id, conv.id, alert.kind.value, conv.last_activity_at
            ):
                await _raise(m, alert, counts)


async def _raise(m: Maintenance, alert: Alert, counts: PassCounts) -> None:
    """Record ``alert``: journal, ``alert.raised`` event, Prometheus, log."""
    stored = await m.journal.record_alert(alert)
    await m.ledger.store.append_event(
        alert.owner_id,
        EventKind.ALERT_RAISED,
        {**stored.payload(), "alert_id": stored.id},
        conversation_id=alert.conversation_id,
    )
    if m.metrics is not None:
        m.metrics.record_alert(alert.kind.value)
    log.warning("session alert %s (account %s): %s", alert.kind.value, alert.owner_id, alert.message)
    counts.alerts += 1


# -- cleanup ----------------------------------------------------------------------------------


async def cleanup_inactive_sessions(
    m: Maintenance, counts: PassCounts, now: datetime, lease: Lease | None = None
) -> None:
    """Seed ``cleanup_inactive_sessions``: non-active sessions unchanged (``updated_at``, as the
    seed) for ``max_inactive_time``. ``updated_at`` is never before ``last_activity_at``, so the
    scan by activity finds every candidate; a session that just timed out (``updated_at`` = now)
    waits a full ``max_inactive_time`` before it is cleaned. Adds to ``counts``."""
    p = m.policy
    cutoff = now - timedelta(seconds=p.max_inactive_time)
    if p.cleanup_action is CleanupAction.ARCHIVE:
        async for conv in _scan(m, lease, cutoff, _INACTIVE):
            if conv.updated_at >= cutoff:
                continue
            if await _move(m, conv, ConversationStatus.ARCHIVED, "max_inactive_time reached"):
                await _record(m, conv, CleanupPolicyName.MAX_INACTIVE_TIME, CleanupAction.ARCHIVE, None)
                counts.archived_inactive += 1
        return
    async for conv in _scan(m, lease, cutoff, _NOT_ACTIVE):
        if conv.updated_at >= cutoff:
            continue
        if await delete_with_backup(m, conv, CleanupPolicyName.MAX_INACTIVE_TIME, counts):
            counts.deleted_inactive += 1


async def cleanup_old_sessions(
    m: Maintenance, counts: PassCounts, now: datetime, lease: Lease | None = None
) -> None:
    """Seed ``cleanup_old_sessions``: sessions created over ``max_session_age`` ago (adds to
    ``counts``; ``lease``, when given, is renewed between batches)."""
    p = m.policy
    born = now - timedelta(seconds=p.max_session_age)
    if p.cleanup_action is CleanupAction.ARCHIVE:
        statuses = tuple(s for s in _ALL if s is not ConversationStatus.ARCHIVED)
        async for conv in _scan(m, lease, now + _FUTURE, statuses, created_before=born):
            reason = "max_session_age reached"
            if conv.status is ConversationStatus.ACTIVE and not await _move(
                m, conv, ConversationStatus.INACTIVE_SYSTEM_TERMINATED, reason
            ):
                continue
            if await _move(m, conv, ConversationStatus.ARCHIVED, reason):
                await _record(m, conv, CleanupPolicyName.MAX_SESSION_AGE, CleanupAction.ARCHIVE, None)
                counts.archived_old += 1
        return
    async for conv in _scan(m, lease, now + _FUTURE, _ALL, created_before=born):
        if await delete_with_backup(m, conv, CleanupPolicyName.MAX_SESSION_AGE, counts):
            counts.deleted_old += 1


async def delete_with_backup(
    m: Maintenance, conv: ConversationRecord, policy: CleanupPolicyName, counts: PassCounts
) -> bool:
    """Back ``conv`` up, delete it and record the deletion; ``False`` when it was kept (branches,
    a failed backup: counted in ``counts``) or is already gone."""
    store, owner = m.ledger.store, conv.owner_id
    try:
        if await store.list_branches(owner, conv.id):
            counts.skipped_branches += 1
            return False
        bundle = await m.ledger.for_owner(owner).export_bundle(conv.id)
    except NotFound:
        return False
    try:
        info = await m.backups.write(owner, bundle, reason=BackupReason.BEFORE_DELETE, policy=policy.value)
    except OSError as exc:
        log.error("backup of session %s (account %s) failed, not deleted: %s", conv.id, owner, exc)
        counts.backup_failures += 1
        return False
    with event_context(actor=ACTOR, policy=policy.value, backup_id=info.backup_id):
        try:
            await store.delete_conversation(owner, conv.id)
        except NotFound:
            return False
        except Conflict:  # a branch appeared meanwhile: it shares this history
            counts.skipped_branches += 1
            return False
    await _record(m, conv, policy, CleanupAction.DELETE, info.backup_id)
    return True


async def _record(
    m: Maintenance,
    conv: ConversationRecord,
    policy: CleanupPolicyName,
    action: CleanupAction,
    backup_id: str | None,
) -> None:
    await m.journal.record_deletion(
        DeletionRecord(
            owner_id=conv.owner_id,
            conversation_id=conv.id,
            session_id=conv.session_id,
            policy=policy,
            action=action,
            actor=ACTOR,
            backup_id=backup_id,
        )
    )


# -- backups ----------------------------------------------------------------------------------


async def _periodic_backup(m: Maintenance, lease: Lease, counts: PassCounts, now: datetime) -> None:
    """Seed ``perform_daily_backups``: every active session, once per ``backup_interval``."""
    last = await m.backups.last_periodic_backup()
    if last is not None and (now - last).total_seconds() < m.policy.backup_interval:
        return
    done, failures = await backup_active_sessions(m, lease, BackupReason.PERIODIC, now=now)
    counts.backed_up += done
    if not failures:
        try:
            await m.backups.mark_periodic_backup(now)
        except OSError as exc:
            log.error("could not record the periodic backup in %s: %s", m.backups.root, exc)
            failures += 1
    counts.backup_failures += failures


async def backup_active_sessions(
    m: Maintenance,
    lease: Lease | None = None,
    reason: BackupReason = BackupReason.MANUAL,
    *,
    owner_id: str | None = None,
    now: datetime | None = None,
) -> tuple[int, int]:
    """Back up every active session (of ``owner_id`` when given) to ``m.backups``; return
    ``(backed up, failed)``. A failure is logged and the next session tried (seed
    ``perform_daily_backups``). ``convoledger backup run`` calls it with ``reason`` ``manual``."""
    done = failures = 0
    async for conv in _scan(m, lease, (now or utcnow()) + _FUTURE, (ConversationStatus.ACTIVE,)):
        if owner_id is not None and conv.owner_id != owner_id:
            continue
        try:
            bundle = await m.ledger.for_owner(conv.owner_id).export_bundle(conv.id)
        except NotFound:
            continue
        try:
            await m.backups.write(conv.owner_id, bundle, reason=reason)
        except OSError as exc:
            log.error("Backup failed for session %s (account %s): %s", conv.id, conv.owner_id, exc)
            failures += 1
            continue
        done += 1
    return done, failures
