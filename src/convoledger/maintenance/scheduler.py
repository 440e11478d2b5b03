"""The maintenance scheduler (seed 002 §6 ``SessionMaintenanceScheduler``): an asyncio task that
runs a pass (``passes.run_pass``) every ``cleanup_interval`` seconds while the service runs.

``serve`` and ``quickstart`` start it in the app's lifespan (``api/app.py``) unless maintenance
is turned off (``--no-maintenance`` / ``CONVOLEDGER_MAINTENANCE=false``). As in the seed, a
failing pass is logged and retried after ``retry_delay`` (60 s) instead of the interval; the loop
never ends on an error, so a failing pass never takes the server down. Several processes on one
database each run the loop; the journal's lease lets exactly one of them run a given pass (the
others find it held and wait for their next tick).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from convoledger.ledger import Ledger
from convoledger.maintenance.backup_store import BackupStore, default_backup_dir
from convoledger.maintenance.journal import journal_for_store, new_holder
from convoledger.maintenance.monitoring import MaintenanceMetrics, PerformanceMonitor
from convoledger.maintenance.passes import Maintenance, PassIncomplete, run_pass
from convoledger.settings import Settings

log = logging.getLogger("convoledger.maintenance")


def maintenance_for(
    ledger: Ledger,
    settings: Settings,
    database_url: str,
    *,
    metrics: MaintenanceMetrics | None = None,
    performance: PerformanceMonitor | None = None,
) -> Maintenance:
    """The ``Maintenance`` of ``ledger`` as ``settings`` describe it: the journal beside its
    store, the backup store at ``settings.backup_dir`` (default: ``default_backup_dir`` of
    ``database_url``) and ``settings.maintenance_policy()``."""
    root = settings.backup_dir or default_backup_dir(database_url)
    return Maintenance(
        ledger=ledger,
        journal=journal_for_store(ledger.store),
        backups=BackupStore(root),
        policy=settings.maintenance_policy(),
        metrics=metrics,
        performance=performance,
    )


class MaintenanceScheduler:
    """Runs ``run_pass`` every ``policy.cleanup_interval`` seconds (``policy.retry_delay`` after a
    failure) in a background task; ``start()`` / ``stop()`` (both idempotent)."""

    def __init__(self, maintenance: Maintenance, *, holder: str | None = None) -> None:
        self.maintenance = maintenance
        self.holder = holder or new_holder("serve")
        self.running = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the loop in a task of the running event loop (the first pass runs at once)."""
        if self._task is not None:
            return
        self.running = True
        self._task = asyncio.create_task(self._loop(), name="convoledger-maintenance")

    async def stop(self) -> None:
        """Stop the loop; a pass in progress is cancelled (its work so far stays committed)."""
        self.running = False
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run_once(self) -> float:
        """Run one pass and return the seconds to wait before the next: ``cleanup_interval``
        after a pass (or when another process held the lease), ``retry_delay`` after a failure
        (logged with its traceback)."""
        policy = self.maintenance.policy
        try:
            await run_pass(self.maintenance, self.holder)
        except PassIncomplete:  # already logged with its counts; no traceback for it
            log.error("Session cleanup failed; retrying in %g s", policy.retry_delay)
            return policy.retry_delay
        except Exception:
            log.exception("Session cleanup failed; retrying in %g s", policy.retry_delay)
            return policy.retry_delay
        return policy.cleanup_interval

    async def _loop(self) -> None:
        while self.running:
            delay = await self.run_once()
            await asyncio.sleep(delay)
