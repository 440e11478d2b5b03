"""Session health as the agent-session seed writes it (section 13, "Session Health Monitoring").

``calculate_health_score`` and ``generate_recommendations`` are the seed's two functions, with
the seed's names, signatures, formula and texts, unchanged. ``session`` is any object with
``is_active`` and ``agent_instructions`` attributes: an ``AgentSession`` face, a
``ConversationRecord``, or the seed's own ORM object. ``last_activity`` and ``hours_inactive``
compute the seed's inputs (``monitor_session_health``): the newest message's ``created_at``,
else the session's ``updated_at``; hours since then.

Kept as written, on purpose (the seed is the specification and callers compare numbers): the
inactivity deduction is not monotonic — just over 1 h to 24 h idle loses ``2 × hours`` points
(up to 48), while over 24 h loses ``min(30, hours / 24 × 10)`` (10 at 24.1 h). The lowest
reachable score is 7 (100 − 48 − 20 − 25), so the ``max(0, …)`` floor never applies.
convoledger's own, factor-by-factor report is ``convoledger.api.health``. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from convoledger.models.timeutil import ensure_utc, utcnow

__all__ = [
    "MINIMAL_ACTIVITY_RECOMMENDATION",
    "LONG_INSTRUCTIONS_RECOMMENDATION",
    "REACTIVATE_RECOMMENDATION",
    "STALE_SESSION_RECOMMENDATION",
    "calculate_health_score",
    "generate_recommendations",
    "hours_inactive",
    "last_activity",
]

#: The seed's recommendation texts (section 13), verbatim.
STALE_SESSION_RECOMMENDATION = "Consider deactivating or archiving this inactive session"
REACTIVATE_RECOMMENDATION = "Consider reactivating this recently active session"
MINIMAL_ACTIVITY_RECOMMENDATION = "Session has minimal activity - consider engaging the agent"
LONG_INSTRUCTIONS_RECOMMENDATION = "Consider shortening agent instructions for better performance"


def calculate_health_score(session: Any, message_count: int, hours_inactive: float) -> float:
    """Calculate session health score (0-100) — the seed's formula (section 13), verbatim.

    Start at 100.0; inactivity (hours): over 24 loses ``min(30, hours / 24 * 10)``, else over 1
    loses ``hours * 2``; fewer than 3 messages lose 20, else fewer than 10 lose 10;
    ``not session.is_active`` loses 25; floor 0. E.g. an inactive session with no messages,
    just touched: ``100 - 20 - 25 = 55``. ``session`` needs only ``is_active``.
    """
    score = 100.0

    # Deduct for inactivity
    if hours_inactive > 24:
        score -= min(30, hours_inactive / 24 * 10)
    elif hours_inactive > 1:
        score -= hours_inactive * 2

    # Deduct for low activity
    if message_count < 3:
        score -= 20
    elif message_count < 10:
        score -= 10

    # Deduct for inactive status
    if not session.is_active:
        score -= 25

    return max(0, score)


def generate_recommendations(session: Any, message_count: int, hours_inactive: float) -> list[str]:
    """Generate health recommendations for session — the seed's rules and texts (section 13).

    In this order: over 24 h inactive → :data:`STALE_SESSION_RECOMMENDATION`; not active and
    under 1 h inactive → :data:`REACTIVATE_RECOMMENDATION`; fewer than 3 messages →
    :data:`MINIMAL_ACTIVITY_RECOMMENDATION`; ``agent_instructions`` longer than 10 000
    characters → :data:`LONG_INSTRUCTIONS_RECOMMENDATION`. ``session`` needs ``is_active`` and
    ``agent_instructions``.
    """
    recommendations = []

    if hours_inactive > 24:
        recommendations.append(STALE_SESSION_RECOMMENDATION)

    if not session.is_active and hours_inactive < 1:
        recommendations.append(REACTIVATE_RECOMMENDATION)

    if message_count < 3:
        recommendations.append(MINIMAL_ACTIVITY_RECOMMENDATION)

    if session.agent_instructions and len(session.agent_instructions) > 10000:
        recommendations.append(LONG_INSTRUCTIONS_RECOMMENDATION)

    return recommendations


def last_activity(session_updated_at: datetime, recent_message_times: Sequence[datetime]) -> datetime:
    """The seed's ``last_activity``: the newest of the recent messages' ``created_at`` (the seed
    takes ``recent_messages[-1]``, the last of the recent messages in chronological order), else
    the session's ``updated_at``; aware UTC (naive = UTC)."""
    if recent_message_times:
        return ensure_utc(recent_message_times[-1])
    return ensure_utc(session_updated_at)


def hours_inactive(since: datetime, now: datetime | None = None) -> float:
    """Hours (float) from ``since`` to ``now`` (default: the current time), as the seed computes
    ``(datetime.utcnow() - last_activity).total_seconds() / 3600``; aware UTC, naive = UTC."""
    return ((ensure_utc(now) if now is not None else utcnow()) - ensure_utc(since)).total_seconds() / 3600
