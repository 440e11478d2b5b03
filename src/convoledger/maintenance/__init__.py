"""Lifecycle automation (issue 13): the maintenance scheduler and its pass (timeouts, the seed's
cleanup policies, backups, backup retention, alerts), the backup store, the journal (lease, pass
log, deletion records, alerts) and the monitoring series. See ``passes.py`` for what a pass does
and ``scheduler.py`` for when it runs."""

from convoledger.maintenance.backup_store import BackupInfo, BackupReason, BackupStore, default_backup_dir
from convoledger.maintenance.journal import MaintenanceJournal, journal_for_store
from convoledger.maintenance.passes import Maintenance, PassIncomplete, run_pass
from convoledger.maintenance.scheduler import MaintenanceScheduler, maintenance_for

__all__ = [
    "BackupInfo",
    "BackupReason",
    "BackupStore",
    "Maintenance",
    "MaintenanceJournal",
    "MaintenanceScheduler",
    "PassIncomplete",
    "default_backup_dir",
    "journal_for_store",
    "maintenance_for",
    "run_pass",
]
