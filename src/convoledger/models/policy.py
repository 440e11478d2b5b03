"""Lifecycle policy: inactivity timeouts, retention and cleanup intervals (pure values).

Defaults are the agent-session seed's ``SESSION_SETTINGS`` (002 §6): ``default_timeout`` 3600 s
(an active conversation with no message for this long moves to ``inactive_timeout``),
``max_inactive_time`` 86400 s, ``cleanup_interval`` 3600 s (how often the maintenance scheduler
runs a pass), ``max_session_age`` 604800 s. All in seconds. The ``Ledger``'s own ``sweep``
archives ``inactive_*`` conversations idle ``max_inactive_time`` and ``cleanup`` deletes archived
ones idle ``max_session_age``; the scheduled maintenance pass applies the seed's cleanup policies
instead (``models.maintenance.MaintenancePolicy``, ``convoledger.maintenance``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LifecyclePolicy(BaseModel):
    """Timeouts and retention, in seconds (all must be positive)."""

    model_config = ConfigDict(frozen=True)

    default_timeout: float = Field(default=3600, gt=0)
    max_inactive_time: float = Field(default=86400, gt=0)
    cleanup_interval: float = Field(default=3600, gt=0)
    max_session_age: float = Field(default=604800, gt=0)
