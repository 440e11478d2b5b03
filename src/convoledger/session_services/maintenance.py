"""The agent-session seed's maintenance services (seed 002 §6, §9, §10, §11), thin over
``convoledger.maintenance``: code written against the seed keeps its calls.

- ``SessionCleanupService`` [6] — ``cleanup_inactive_sessions()`` / ``cleanup_old_sessions()``
  return ``{"deleted_sessions": n}`` (plus ``archived_sessions`` and ``skipped_sessions``);
  deletions are backed up first and recorded (``maintenance/passes.py``);
- ``SessionMaintenanceScheduler`` [6] — ``await start()`` runs full maintenance passes every
  ``cleanup_interval`` s until ``await stop()``; a failed pass is retried after 60 s;
- ``SessionMonitoringService`` [9] — ``track_session_activity`` / ``check_session_alerts`` with
  the seed's in-memory tracking and alert rules (``models.maintenance``); ``send_alert`` logs and
  keeps the alert in ``alerts``;
- ``SessionPerformanceTracker`` [9] — ``track_operation(name)`` context manager,
  ``operation_times``, ``error_rates``;
- ``SessionPerformanceMonitor`` [11] — ``monitor_session_operation(name, func, *args)`` and
  ``get_performance_summary(name)`` (``maintenance.monitoring.PerformanceMonitor``);
- ``AutomatedBackupManager`` [10] — ``backup_interval`` (86400 s), ``retention_period`` (30
  days), ``perform_daily_backups()``, ``cleanup_old_backups()``, ``schedule_daily_backups()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

from convoledger.maintenance.backup_store import BackupReason
from convoledger.maintenance.monitoring import PerformanceMonitor
from convoledger.maintenance.passes import (
    Maintenance,
    backup_active_sessions,
    cleanup_inactive_sessions,
    cleanup_old_sessions,
)
from convoledger.maintenance.scheduler import MaintenanceScheduler
from convoledger.models.maintenance import (
    BACKUP_INTERVAL,
    BACKUP_RETENTION_DAYS,
    HIGH_MESSAGE_RATE_THRESHOLD,
    LONG_INACTIVE_THRESHOLD,
    RETRY_DELAY,
    PassCounts,
)
from convoledger.models.timeutil import utcnow

__all__ = [
    "AutomatedBackupManager",
    "SessionCleanupService",
    "SessionMaintenanceScheduler",
    "SessionMonitoringService",
    "SessionPerformanceMonitor",
    "SessionPerformanceTracker",
]

log = logging.getLogger("convoledger.maintenance")


def _result(deleted: int, archived: int, counts: PassCounts) -> dict[str, int]:
    return {
        "deleted_sessions": deleted,
        "archived_sessions": archived,
        "skipped_sessions": counts.skipped_branches + counts.backup_failures,
    }


class SessionCleanupService:
    """Background service for session maintenance (seed §6), over a ``Maintenance``
    (``convoledger.maintenance.maintenance_for(ledger, settings, url)``)."""

    def __init__(self, maintenance: Maintenance) -> None:
        self.maintenance = maintenance

    async def cleanup_inactive_sessions(self) -> dict[str, int]:
        """Clean up inactive sessions older than threshold (``max_inactive_time``): back up,
        delete and record each (or archive it). ``{"deleted_sessions": n, …}``."""
        counts = PassCounts()
        await cleanup_inactive_sessions(self.maintenance, counts, utcnow())
        return _result(counts.deleted_inactive, counts.archived_inactive, counts)

    async def cleanup_old_sessions(self) -> dict[str, int]:
        """Clean up sessions older than maximum age (``max_session_age``). Same result keys."""
        counts = PassCounts()
        await cleanup_old_sessions(self.maintenance, counts, utcnow())
        return _result(counts.deleted_old, counts.archived_old, counts)


class SessionMaintenanceScheduler:
    """Scheduler for periodic session maintenance tasks (seed §6). ``await start()`` runs until
    ``await stop()`` (from another task); each round is a full maintenance pass under the
    database lease."""

    def __init__(self, cleanup_service: SessionCleanupService) -> None:
        self.cleanup_service = cleanup_service
        self.running = False
        self._scheduler = MaintenanceScheduler(cleanup_service.maintenance)

    async def start(self) -> None:
        """Start the maintenance scheduler: a pass, then ``cleanup_interval`` s (60 s after a
        failure), until ``stop()``."""
        self.running = True
        while self.running:
            delay = await self._scheduler.run_once()
            if self.running:
                await asyncio.sleep(delay)

    async def stop(self) -> None:
        """Stop the maintenance scheduler (after the current pass or sleep)."""
        self.running = False


class SessionMonitoringService:
    """Real-time session monitoring and alerting (seed §9), in memory as in the seed. The
    server's own alerts come from the maintenance passes (``GET /api/alerts``)."""

    def __init__(
        self,
        high_message_rate_threshold: int = HIGH_MESSAGE_RATE_THRESHOLD,
        long_inactive_threshold: float = LONG_INACTIVE_THRESHOLD,
    ) -> None:
        self.active_sessions: dict[Any, dict[str, Any]] = {}
        self.message_buffers: dict[Any, list[dict[str, Any]]] = {}
        self.alerts: list[dict[str, Any]] = []
        self.high_message_rate_threshold = high_message_rate_threshold
        self.long_inactive_threshold = long_inactive_threshold

    async def track_session_activity(
        self, session_id: Any, activity_type: str, metadata: dict[str, Any] | None = None
    ) -> None:
        """Track session activity in real-time (``activity_type`` ``"message"`` counts one)."""
        timestamp = utcnow()
        data = self.active_sessions.setdefault(
            session_id, {"last_activity": timestamp, "message_count": 0, "activity_types": set()}
        )
        data["last_activity"] = timestamp
        data["activity_types"].add(activity_type)
        if activity_type == "message":
            data["message_count"] += 1
        await self.check_session_alerts(session_id, data)

    async def check_session_alerts(self, session_id: Any, session_data: dict[str, Any]) -> None:
        """The seed's two rules: more than 100 messages, inactive for over 2 hours."""
        if session_data["message_count"] > self.high_message_rate_threshold:
            await self.send_alert(
                "high_message_rate", f"Session {session_id} has {session_data['message_count']} messages"
            )
        if utcnow() - session_data["last_activity"] > timedelta(seconds=self.long_inactive_threshold):
            await self.send_alert("long_inactive_session", f"Session {session_id} inactive for over 2 hours")

    async def send_alert(self, kind: str, message: str) -> None:
        """Log the alert and keep it in ``alerts``."""
        log.warning("session alert %s: %s", kind, message)
        self.alerts.append({"kind": kind, "message": message, "at": utcnow()})


class SessionPerformanceTracker:
    """Tracks performance metrics for session operations (seed §9)."""

    def __init__(self) -> None:
        self.operation_times: dict[str, list[float]] = defaultdict(list)
        self.error_rates: dict[str, dict[str, float]] = defaultdict(dict)

    @contextlib.contextmanager
    def track_operation(self, operation_name: str) -> Iterator[None]:
        """Time the block (seconds); an exception counts as an error and propagates."""
        start = time.perf_counter()
        error = False
        try:
            yield
        except Exception:
            error = True
            raise
        finally:
            durations = self.operation_times[operation_name]
            durations.append(time.perf_counter() - start)
            errors = self.error_rates[operation_name].get("errors", 0) + (1 if error else 0)
            self.error_rates[operation_name] = {
                "errors": errors,
                "error_rate": errors / len(durations),
                "avg_duration": sum(durations) / len(durations),
            }


class SessionPerformanceMonitor:
    """Monitor and optimize session performance (seed §11): the last 1000 durations per
    operation, slow ones (over ``slow_query_threshold`` = 1.0 s) logged."""

    def __init__(self, monitor: PerformanceMonitor | None = None) -> None:
        self.monitor = monitor or PerformanceMonitor()
        self.slow_query_threshold = self.monitor.slow_threshold

    async def monitor_session_operation(
        self, operation_name: str, operation_func: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> Any:
        """Await ``operation_func(*args, **kwargs)``, recording its duration (and an error when it
        raises, which propagates)."""
        start = time.perf_counter()
        error = False
        try:
            return await operation_func(*args, **kwargs)
        except Exception:
            error = True
            raise
        finally:
            self.monitor.track(operation_name, time.perf_counter() - start, error)

    def get_performance_summary(self, operation_name: str) -> dict[str, float]:
        """The seed's summary (``count``, ``avg_duration``, ``min_duration``, ``max_duration``,
        ``p95_duration``, ``slow_operations``) plus ``errors``, ``error_rate``; ``{}`` if unseen."""
        return self.monitor.summary(operation_name)


class AutomatedBackupManager:
    """Manages automated session backups (seed §10) into the ``Maintenance``'s backup store."""

    def __init__(self, maintenance: Maintenance) -> None:
        self.maintenance = maintenance
        self.backup_interval = BACKUP_INTERVAL  # Daily backups
        self.retention_period = BACKUP_RETENTION_DAYS  # Keep backups for 30 days

    async def schedule_daily_backups(self) -> None:
        """Back up, then sleep ``backup_interval``; after a failure retry in an hour (seed)."""
        while True:
            try:
                await self.perform_daily_backups()
                await asyncio.sleep(self.backup_interval)
            except OSError as exc:
                log.error("Daily backup failed: %s", exc)
                await asyncio.sleep(max(RETRY_DELAY, 3600.0))

    async def perform_daily_backups(self) -> int:
        """Perform backup of all active sessions; return how many were written (failures are
        logged and skipped, as in the seed)."""
        done, _failed = await backup_active_sessions(self.maintenance, reason=BackupReason.PERIODIC)
        log.info("Daily backup completed: %d sessions", done)
        return done

    async def cleanup_old_backups(self) -> int:
        """Clean up backups older than ``retention_period`` days; return how many."""
        deleted = await self.maintenance.backups.expire(utcnow() - timedelta(days=self.retention_period))
        log.info("Backup cleanup completed: %d removed", deleted)
        return deleted
