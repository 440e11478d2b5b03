"""The seed's maintenance services (seed 002 §6, §9, §10, §11) keep the seed's calls and shapes."""

from __future__ import annotations

import asyncio

import pytest

from convoledger.ledger import Ledger
from convoledger.models.maintenance import performance_summary
from convoledger.models.status import ConversationStatus as S
from convoledger.session_services.maintenance import (
    AutomatedBackupManager,
    SessionCleanupService,
    SessionMaintenanceScheduler,
    SessionMonitoringService,
    SessionPerformanceMonitor,
    SessionPerformanceTracker,
)
from maintenance.conftest import MakeMaintenance, make_session

HOUR, DAY = 3600.0, 86400.0


async def test_cleanup_service_returns_the_seeds_counts(
    ledger: Ledger, make_maintenance: MakeMaintenance
) -> None:
    m = await make_maintenance()
    service = SessionCleanupService(m)
    inactive = await make_session(ledger, created=2 * DAY, idle=25 * HOUR, status=S.INACTIVE)
    old = await make_session(ledger, created=8 * DAY, idle=60)
    first = await service.cleanup_inactive_sessions()
    assert first["deleted_sessions"] >= 1 and set(first) >= {"deleted_sessions"}
    second = await service.cleanup_old_sessions()
    assert second["deleted_sessions"] >= 1
    gone = {d.conversation_id for d in await m.journal.list_deletions(ledger.owner)}
    assert gone == {inactive.id, old.id}


async def test_scheduler_runs_passes_until_stopped(ledger: Ledger, make_maintenance: MakeMaintenance) -> None:
    m = await make_maintenance(cleanup_interval=0.05)
    scheduler = SessionMaintenanceScheduler(SessionCleanupService(m))
    task = asyncio.create_task(scheduler.start())
    idle = await make_session(ledger, created=3 * HOUR, idle=2 * HOUR)
    for _ in range(200):
        timed_out = (await ledger.store.get_conversation(ledger.owner, idle.id)).status is S.INACTIVE_TIMEOUT
        if timed_out and len(await m.journal.list_passes(100)) >= 2:
            break
        await asyncio.sleep(0.05)
    await scheduler.stop()
    await asyncio.wait_for(task, 5)
    assert not scheduler.running
    assert (await ledger.store.get_conversation(ledger.owner, idle.id)).status is S.INACTIVE_TIMEOUT
    assert len(await m.journal.list_passes(100)) >= 2


async def test_backup_manager_backs_up_active_sessions_and_expires_old_ones(
    ledger: Ledger, make_maintenance: MakeMaintenance
) -> None:
    m = await make_maintenance()
    manager = AutomatedBackupManager(m)
    assert (manager.backup_interval, manager.retention_period) == (86400, 30)
    active = await make_session(ledger, created=HOUR, idle=60, messages=1)
    assert await manager.perform_daily_backups() >= 1
    assert active.id in {b.conversation_id for b in await m.backups.list_backups(ledger.owner)}
    manager.retention_period = -1  # everything is "older than the retention period" now
    assert await manager.cleanup_old_backups() >= 1
    assert await m.backups.list_backups(ledger.owner) == []


async def test_monitoring_service_applies_the_seeds_alert_rules() -> None:
    service = SessionMonitoringService()
    for _ in range(100):
        await service.track_session_activity("s1", "message")
    assert service.alerts == []
    await service.track_session_activity("s1", "message")
    assert [a["kind"] for a in service.alerts] == ["high_message_rate"]
    assert service.alerts[0]["message"] == "Session s1 has 101 messages"
    assert service.active_sessions["s1"]["activity_types"] == {"message"}


async def test_performance_tracker_and_monitor_keep_the_seeds_shapes() -> None:
    tracker = SessionPerformanceTracker()
    with tracker.track_operation("op"):
        pass
    with pytest.raises(RuntimeError), tracker.track_operation("op"):
        raise RuntimeError("boom")
    assert len(tracker.operation_times["op"]) == 2
    assert tracker.error_rates["op"]["errors"] == 1 and tracker.error_rates["op"]["error_rate"] == 0.5

    monitor = SessionPerformanceMonitor()
    assert monitor.slow_query_threshold == 1.0 and monitor.get_performance_summary("op") == {}

    async def work(x: int) -> int:
        return x * 2

    assert await monitor.monitor_session_operation("double", work, 21) == 42
    summary = monitor.get_performance_summary("double")
    assert {k: summary[k] for k in ("count", "slow_operations", "errors")} == {
        "count": 1,
        "slow_operations": 0,
        "errors": 0,
    }


def test_performance_summary_is_the_seeds_formula() -> None:
    durations = [0.1 * i for i in range(1, 21)] + [1.5]
    summary = performance_summary(durations)
    assert summary["count"] == 21 and summary["slow_operations"] == 11  # 1.1 … 2.0 and 1.5
    assert summary["p95_duration"] == sorted(durations)[int(21 * 0.95)]
    assert summary["min_duration"] == pytest.approx(0.1) and summary["max_duration"] == pytest.approx(2.0)
    assert summary["avg_duration"] == pytest.approx(sum(durations) / 21)
    assert performance_summary([]) == {}
