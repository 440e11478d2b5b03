"""The health score of one session (``GET /api/agent-sessions/{session}/health``).

The agent-session-management seed names a health score with recommendations but its formula
was not available to us, so this is our own, transparent one. A session starts at 100 and
loses points for each factor below (the response lists every deduction with its reason); the
score never goes below 0. Grade: ``healthy`` ≥ 80, ``warning`` ≥ 50, else ``critical``.

=====================  =========================================================  ==========
factor                 rule                                                       penalty
=====================  =========================================================  ==========
status                 inactive / inactive_timeout / *_terminated / archived      10/25/30/40
idle                   active and idle > policy.default_timeout (> half of it)    30 (15)
empty                  no messages                                                20
long_history           more than 500 messages                                     10
unanswered             active and the latest message is a user message            10
tool_calls             per assistant tool call without a result, and per tool     5 each,
                       result whose call is missing (latest 200 messages)         max 20
errors                 ``error_report`` messages ≥ 20 % (≥ 5 %) of all            20 (10)
=====================  =========================================================  ==========

Idle time is measured from ``last_activity_at`` (the latest message's own time, else creation),
in seconds, against the lifecycle policy's ``default_timeout`` (seed default 3600 s). Pure
function, no I/O: the route gathers the inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from convoledger.models.policy import LifecyclePolicy
from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.models.status import ConversationStatus

#: How many of the latest messages the tool-call check examines.
HEALTH_WINDOW = 200
LONG_HISTORY = 500

_STATUS_PENALTY: dict[ConversationStatus, tuple[int, str, str]] = {
    ConversationStatus.INACTIVE: (
        10,
        "the session is paused (inactive)",
        "Activate it (PUT …/activate) to continue, or terminate it when the work is done.",
    ),
    ConversationStatus.INACTIVE_TIMEOUT: (
        25,
        "the session timed out after its inactivity timeout",
        "Start a new session for new work, or archive this one (POST …/transition, status archived).",
    ),
    ConversationStatus.INACTIVE_USER_TERMINATED: (
        30,
        "the session was terminated by the user",
        "Archive it (POST …/transition, status archived) once it is no longer needed.",
    ),
    ConversationStatus.INACTIVE_SYSTEM_TERMINATED: (
        30,
        "the session was terminated by the system",
        "Check why it was terminated (GET …/events), then archive it.",
    ),
    ConversationStatus.ARCHIVED: (
        40,
        "the session is archived",
        "Export it (GET …/export) if you need it: cleanup deletes archived sessions after max_session_age.",
    ),
}


@dataclass(frozen=True)
class HealthInputs:
    """What the score is computed from: counts over the whole session and the latest messages
    (oldest first, at most ``HEALTH_WINDOW``)."""

    message_count: int
    error_reports: int
    recent: Sequence[MessageRecord]


@dataclass(frozen=True)
class HealthReport:
    """The score (0–100), grade, deductions ``(name, penalty, detail)``, recommendations and
    the measured metrics."""

    score: int
    grade: str
    factors: list[tuple[str, int, str]]
    recommendations: list[str]
    metrics: dict[str, Any]


def _tool_integrity(recent: Sequence[MessageRecord], whole_history: bool) -> tuple[int, int]:
    """(calls without a result, results without their call) among ``recent``. Results whose call
    may lie before the window are only counted when ``recent`` is the whole history."""
    called: set[str] = set()
    answered: set[str] = set()
    orphan_results = 0
    for m in recent:
        called.update(m.tool_call_ids)
        if m.role == "tool" and m.tool_call_id:
            if m.tool_call_id in called:
                answered.add(m.tool_call_id)
            elif whole_history:
                orphan_results += 1
    return len(called - answered), orphan_results


def compute_health(
    conversation: ConversationRecord, inputs: HealthInputs, *, policy: LifecyclePolicy, now: datetime
) -> HealthReport:
    """Score ``conversation`` at ``now`` (aware UTC) under ``policy`` (see the module table)."""
    factors: list[tuple[str, int, str]] = []
    recs: list[str] = []
    status = conversation.status
    active = status is ConversationStatus.ACTIVE
    if status in _STATUS_PENALTY:
        penalty, detail, rec = _STATUS_PENALTY[status]
        factors.append(("status", penalty, detail))
        recs.append(rec)

    idle = max(0.0, (now - conversation.last_activity_at).total_seconds())
    timeout = policy.default_timeout
    if active and idle > timeout:
        factors.append(("idle", 30, f"idle for {idle:.0f} s, over the inactivity timeout of {timeout:.0f} s"))
        recs.append(
            "Continue the conversation or deactivate it: the sweeper will move it to inactive_timeout."
        )
    elif active and idle > timeout / 2:
        factors.append(
            ("idle", 15, f"idle for {idle:.0f} s, over half the inactivity timeout of {timeout:.0f} s")
        )
        recs.append("The session will time out soon without a new message.")

    count = inputs.message_count
    if count == 0:
        factors.append(("empty", 20, "the session has no messages"))
        recs.append("Post the first turn (POST …/messages or POST /api/agent-sessions/conversation).")
    elif count > LONG_HISTORY:
        factors.append(("long_history", 10, f"{count} messages (more than {LONG_HISTORY})"))
        recs.append("Read recent history with after_seq paging and keep a summary in session memory.")

    last = inputs.recent[-1] if inputs.recent else None
    unanswered = active and last is not None and last.role == "user"
    if unanswered:
        factors.append(("unanswered", 10, "the latest message is a user message with no reply"))
        recs.append("Answer the pending user message.")

    whole = len(inputs.recent) >= count
    pending_calls, orphan_results = _tool_integrity(inputs.recent, whole)
    broken = pending_calls + orphan_results
    if broken:
        penalty = min(20, 5 * broken)
        detail = f"{pending_calls} tool call(s) without a result, {orphan_results} result(s) without a call"
        factors.append(("tool_calls", penalty, detail))
        recs.append("Store a tool message (with tool_call_id) for every assistant tool call.")

    ratio = inputs.error_reports / count if count else 0.0
    if ratio >= 0.2:
        factors.append(("errors", 20, f"{inputs.error_reports} error_report message(s), {ratio:.0%} of all"))
        recs.append("Investigate the error reports before continuing.")
    elif ratio >= 0.05:
        factors.append(("errors", 10, f"{inputs.error_reports} error_report message(s), {ratio:.0%} of all"))
        recs.append("Review the error reports.")

    score = max(0, 100 - sum(p for _, p, _ in factors))
    grade = "healthy" if score >= 80 else "warning" if score >= 50 else "critical"
    if not recs:
        recs.append("No action needed.")
    metrics = {
        "message_count": count,
        "idle_seconds": round(idle, 3),
        "inactivity_timeout_seconds": timeout,
        "unanswered_user_message": unanswered,
        "tool_calls_without_result": pending_calls,
        "tool_results_without_call": orphan_results,
        "error_reports": inputs.error_reports,
        "error_ratio": round(ratio, 4),
        "messages_examined": len(inputs.recent),
    }
    return HealthReport(score, grade, factors, recs, metrics)
