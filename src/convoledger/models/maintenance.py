"""Lifecycle automation, the pure part (issue 13): the maintenance policy, what a pass did, the
deletion records, the alert rules and the performance summary. No I/O.

Sources:

- seed 002 §6 ``SESSION_SETTINGS`` (names and defaults, seconds) and ``SessionCleanupService``
  (``cleanup_inactive_sessions``: delete non-active sessions idle longer than
  ``max_inactive_time``; ``cleanup_old_sessions``: delete sessions created longer than
  ``max_session_age`` ago) and ``SessionMaintenanceScheduler`` (a failed run is retried after
  60 s);
- seed 002 §10 ``AutomatedBackupManager`` (``backup_interval`` 86400 s, ``retention_period`` 30
  days);
- seed 002 §9 ``SessionMonitoringService.check_session_alerts`` (``high_message_rate``: a
  session with more than 100 messages, counted over the session's tracked life, i.e. its whole
  message count; ``long_inactive_session``: no activity for more than 2 hours) and
  ``SessionPerformanceMonitor.get_performance_summary`` (count, avg/min/max/p95 duration,
  ``slow_operations`` over ``slow_query_threshold`` = 1.0 s);
- seed 001 (virtual assistant): an idle conversation becomes ``inactive_timeout`` and is later
  archived by "Data Lifecycle Management".

Deliberate difference from the seed: the seed deletes; a ledger must not lose data by surprise,
so every policy deletion is preceded by a backup of the session's bundle (skipped when the
backup fails) and recorded as a ``DeletionRecord``; ``CleanupAction.ARCHIVE`` keeps the session
and archives it instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from convoledger.models.records import ConversationRecord
from convoledger.models.status import ConversationStatus
from convoledger.models.timeutil import UtcDatetime, utcnow

#: Seed 002 §6, verbatim: seconds.
SESSION_SETTINGS: dict[str, int] = {
    "default_timeout": 3600,  # 1 hour
    "max_inactive_time": 86400,  # 24 hours
    "cleanup_interval": 3600,  # 1 hour
    "max_session_age": 604800,  # 7 days
}
#: Seed 002 §6 ``SessionMaintenanceScheduler``: seconds before a failed pass is tried again.
RETRY_DELAY = 60.0
#: Seed 002 §10 ``AutomatedBackupManager``: seconds between backups of active sessions, and days
#: a backup is kept.
BACKUP_INTERVAL = 86400.0
BACKUP_RETENTION_DAYS = 30
#: Seed 002 §9 ``check_session_alerts`` thresholds: messages, and seconds (2 hours).
HIGH_MESSAGE_RATE_THRESHOLD = 100
LONG_INACTIVE_THRESHOLD = 7200.0
#: Seed 002 §11 ``SessionPerformanceMonitor.slow_query_threshold`` (seconds) and the number of
#: recent durations it keeps per operation.
SLOW_OPERATION_THRESHOLD = 1.0
PERFORMANCE_WINDOW = 1000


class CleanupAction(StrEnum):
    """What a cleanup policy does to a session it selects: ``delete`` (the seed; after a backup)
    or ``archive`` (keep it, status ``archived``)."""

    DELETE = "delete"
    ARCHIVE = "archive"


class CleanupPolicyName(StrEnum):
    """The seed's two cleanup tasks, named by the setting that drives each (seed 002 §6)."""

    MAX_INACTIVE_TIME = "max_inactive_time"  # cleanup_inactive_sessions
    MAX_SESSION_AGE = "max_session_age"  # cleanup_old_sessions


class MaintenancePolicy(BaseModel):
    """Everything a maintenance pass needs to decide, in seconds unless named otherwise.

    ``default_timeout``: active → ``inactive_timeout`` after this long without activity.
    ``max_inactive_time``: a non-active session idle this long is cleaned (deleted or archived).
    ``cleanup_interval``: seconds between passes. ``max_session_age``: a session created this
    long ago is cleaned, whatever its status. ``cleanup_action``: ``delete`` or ``archive``.
    ``backup_interval``: seconds between backups of active sessions. ``backup_retention_days``:
    backups older than this many days are removed. ``high_message_rate_threshold`` (messages) and
    ``long_inactive_threshold`` (seconds): the alert rules. ``retry_delay``: seconds before a
    failed pass is retried. ``batch_size``: sessions read per query (memory stays bounded).
    """

    model_config = ConfigDict(frozen=True)

    default_timeout: float = Field(default=SESSION_SETTINGS["default_timeout"], gt=0)
    max_inactive_time: float = Field(default=SESSION_SETTINGS["max_inactive_time"], gt=0)
    cleanup_interval: float = Field(default=SESSION_SETTINGS["cleanup_interval"], gt=0)
    max_session_age: float = Field(default=SESSION_SETTINGS["max_session_age"], gt=0)
    cleanup_action: CleanupAction = CleanupAction.DELETE
    backup_interval: float = Field(default=BACKUP_INTERVAL, gt=0)
    backup_retention_days: float = Field(default=BACKUP_RETENTION_DAYS, gt=0)
    high_message_rate_threshold: int = Field(default=HIGH_MESSAGE_RATE_THRESHOLD, ge=1)
    long_inactive_threshold: float = Field(default=LONG_INACTIVE_THRESHOLD, gt=0)
    retry_delay: float = Field(default=RETRY_DELAY, gt=0)
    batch_size: int = Field(default=500, ge=1, le=10_000)


class PassCounts(BaseModel):
    """How many items one pass handled, per kind (the output of ``convoledger maintenance run``).

    ``timed_out``: active → ``inactive_timeout``. ``deleted_inactive`` / ``archived_inactive``:
    ``cleanup_inactive_sessions``. ``deleted_old`` / ``archived_old``: ``cleanup_old_sessions``.
    ``skipped_branches``: sessions a policy selected but kept because branches share their history.
    ``backup_failures``: backups that could not be written (a session a policy selected is then
    kept; the pass ends ``failed`` and is retried). ``backed_up``: active sessions backed up by
    the periodic backup (policy backups are counted in ``deleted_*``). ``backups_expired``:
    backups removed by retention. ``alerts``: alerts raised.
    """

    timed_out: int = 0
    deleted_inactive: int = 0
    archived_inactive: int = 0
    deleted_old: int = 0
    archived_old: int = 0
    skipped_branches: int = 0
    backup_failures: int = 0
    backed_up: int = 0
    backups_expired: int = 0
    alerts: int = 0

    def total(self) -> int:
        """The sum of every count."""
        return sum(self.model_dump().values())


class PassStatus(StrEnum):
    """How a pass ended."""

    OK = "ok"
    FAILED = "failed"


class PassRecord(BaseModel):
    """One maintenance pass as recorded in the pass log: who ran it (``holder``: host and process
    of the scheduler, or ``cli``), when (aware UTC), how it ended, its counts, and the error text
    of a failed pass."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    holder: str
    started_at: UtcDatetime
    finished_at: UtcDatetime
    status: PassStatus
    counts: PassCounts = Field(default_factory=PassCounts)
    error: str | None = None


class DeletionRecord(BaseModel):
    """A session removed (or archived) by a policy: the account (``owner_id``), the session
    (``conversation_id`` and its external ``session_id``), the ``policy`` that selected it, the
    ``action`` taken, the ``actor`` (``maintenance`` plus the pass holder), when (aware UTC),
    and the ``backup_id`` of the bundle written just before (``None`` for an archive)."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    owner_id: str
    conversation_id: str
    session_id: str | None = None
    policy: CleanupPolicyName
    action: CleanupAction
    actor: str
    backup_id: str | None = None
    at: UtcDatetime = Field(default_factory=utcnow)


# -- alerts (seed 002 §9 check_session_alerts) ------------------------------------------------


class AlertKind(StrEnum):
    """The seed's two alert kinds."""

    HIGH_MESSAGE_RATE = "high_message_rate"
    LONG_INACTIVE_SESSION = "long_inactive_session"


class Alert(BaseModel):
    """An alert about one session: ``kind``, the seed's ``message`` text, the measured ``value``
    (messages, or seconds idle) and the ``threshold`` it exceeded."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    kind: AlertKind
    owner_id: str
    conversation_id: str
    message: str
    value: float
    threshold: float
    at: UtcDatetime = Field(default_factory=utcnow)

    def payload(self) -> dict[str, Any]:
        """The ``alert.raised`` event payload (no message content, see ``models.events``)."""
        return {
            "kind": self.kind.value,
            "message": self.message,
            "value": self.value,
            "threshold": self.threshold,
        }


def high_message_rate_alert(conv: ConversationRecord, threshold: int) -> Alert | None:
    """Seed 002 §9: ``high_message_rate`` when the session holds more than ``threshold``
    messages (the seed counts every message of the tracked session, so the window is the
    session's life), else ``None``."""
    if conv.message_count <= threshold:
        return None
    return Alert(
        kind=AlertKind.HIGH_MESSAGE_RATE,
        owner_id=conv.owner_id,
        conversation_id=conv.id,
        message=f"Session {conv.id} has {conv.message_count} messages",
        value=conv.message_count,
        threshold=threshold,
    )


def long_inactive_alert(conv: ConversationRecord, now: datetime, threshold: float) -> Alert | None:
    """Seed 002 §9: ``long_inactive_session`` when an active session has had no activity for
    more than ``threshold`` seconds (2 h), else ``None``. Only ``active`` sessions: a closed
    one is expected to be idle."""
    idle = (now - conv.last_activity_at).total_seconds()
    if conv.status is not ConversationStatus.ACTIVE or idle <= threshold:
        return None
    hours = timedelta(seconds=threshold).total_seconds() / 3600
    return Alert(
        kind=AlertKind.LONG_INACTIVE_SESSION,
        owner_id=conv.owner_id,
        conversation_id=conv.id,
        message=f"Session {conv.id} inactive for over {hours:g} hours",
        value=round(idle, 3),
        threshold=threshold,
    )


# -- performance (seed 002 §11 get_performance_summary) ---------------------------------------


def performance_summary(
    durations: Sequence[float], slow_threshold: float = SLOW_OPERATION_THRESHOLD
) -> dict[str, float]:
    """Seed 002 §11 ``get_performance_summary`` of ``durations`` (seconds): ``count``,
    ``avg_duration``, ``min_duration``, ``max_duration``, ``p95_duration`` (the seed's index
    ``int(n * 0.95)`` into the sorted list) and ``slow_operations`` (durations over
    ``slow_threshold``). ``{}`` when there is none, as in the seed."""
    if not durations:
        return {}
    ordered = sorted(durations)
    n = len(ordered)
    return {
        "count": n,
        "avg_duration": sum(ordered) / n,
        "min_duration": ordered[0],
        "max_duration": ordered[-1],
        "p95_duration": ordered[min(int(n * 0.95), n - 1)],
        "slow_operations": sum(1 for d in ordered if d > slow_threshold),
    }
