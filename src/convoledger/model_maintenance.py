"""The conversation-models seed's maintenance guide: health check, consistency check, version
migration, monitoring and logging.

Seed 000 ("Conversation Models Technical Documentation", sections "Maintenance Guide" and
"Monitoring and Logging") gives these as code; each has its home here, under the seed's name:

- :func:`validate_models_health` ("Daily Maintenance / Model Validation");
- :func:`check_data_consistency` ("Data Consistency Check");
- :func:`migrate_models_to_new_version` ("Data Migration / Model Version Upgrade", 1.0 → 1.1);
- :class:`ConversationModelsMonitor` ("Model Usage Monitoring");
- :class:`ConversationModelsLogger` ("Logging").

The guide's other items need no code of their own: "Data Format Conversion" (an old ``{"id",
"type", "role"}`` participant) is ``ConversationParticipant.from_dict``; the troubleshooting
examples ("diagnose_*") are the models' own ``ValueError`` messages; "Batch Operation" and
"Memory Usage" optimisation are plain construction of the models.

Where the seed's code is wrong, the interface is kept and the behaviour fixed (each function says
how). The checks report through the ``convoledger.models`` logger (the seed ``print``s) and return
``True``/``False`` as the seed's do.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from convoledger.models.agent_messages import AgentCommunicationMessage
from convoledger.models.participants import ConversationParticipant
from convoledger.models.serialization import migrate
from convoledger.models.sessions import (
    ConversationSession,
    create_session_key,
    validate_conversation_isolation_pattern,
    validate_session_key,
)
from convoledger.models.timeutil import utcnow

#: The logger the checks and :class:`ConversationModelsLogger` write to.
LOGGER_NAME = "convoledger.models"
log = logging.getLogger(LOGGER_NAME)


def validate_models_health() -> bool:
    """Build one valid participant, session and agent message and report whether all three
    construct (seed: ``validate_models_health``); ``True`` when they do.

    Fixed: the seed's version builds a ``user_to_agent`` session whose only participant is an
    agent, which its own rule ("user_to_agent session requires user and agent participants")
    refuses — so it always reported "❌ Model validation failed". Here the session has the user
    the rule asks for. Each step logs the seed's line (``✅ ConversationParticipant validation
    passed``, …) at INFO, a failure ``❌ Model validation failed: …`` at ERROR.
    """
    try:
        participant = ConversationParticipant(
            participant_id="test_001", participant_type="agent", participant_role="test_role"
        )
        log.info("✅ ConversationParticipant validation passed")
        ConversationSession(
            session_id="test_session",
            participants=[ConversationParticipant("test_user", "user"), participant],
            session_type="user_to_agent",
            created_at=utcnow(),
            last_activity=utcnow(),
        )
        log.info("✅ ConversationSession validation passed")
        AgentCommunicationMessage(
            message_id=str(uuid.uuid4()),
            session_key="test_key",
            sender_id="sender_001",
            sender_type="agent",
            sender_role="test_role",
            recipient_id="recipient_001",
            recipient_type="agent",
            recipient_role="test_role",
            content="Test message",
            message_type="communication",
            timestamp=utcnow(),
        )
        log.info("✅ AgentCommunicationMessage validation passed")
    except ValueError as exc:
        log.error("❌ Model validation failed: %s", exc)
        return False
    return True


def check_data_consistency(session: ConversationSession) -> bool:
    """Is ``session`` still consistent? (seed: ``check_data_consistency``). ``True`` when:

    1. ``session.generate_session_key()`` equals ``create_session_key(session_id, session_type,
       participants)`` (the seed's first check);
    2. no participant has an empty ``participant_id`` (the seed's second);
    3. the key matches the session type (the seed's third), and — added — the session's fields
       still satisfy every construction rule (an assignment after construction, e.g. a new
       ``session_type``, is re-checked).

    Fixed: the seed checks 3 with ``validate_conversation_isolation_pattern``, whose substring
    test is fooled by ids containing ``_to_`` (the ``user_to_mc`` key ``"plan_to_do"`` "fails");
    when it says no, the exact structured key (``session.resolve_key()``) decides. Problems are
    logged at ERROR with the seed's texts; success logs "✅ Data consistency check passed".
    """
    generated = session.generate_session_key()
    expected = create_session_key(session.session_id, session.session_type, session.participants)
    if generated != expected:
        log.error("❌ Session key mismatch: %s vs %s", generated, expected)
        return False
    if any(not p.participant_id for p in session.participants):
        log.error("❌ Empty participant_id found")
        return False
    try:
        rebuilt = ConversationSession(**{k: getattr(session, k) for k in _SESSION_FIELDS})
    except ValueError as exc:
        log.error("❌ Data consistency check failed: %s", exc)
        return False
    if not validate_conversation_isolation_pattern(generated, session.session_type) and not (
        validate_session_key(rebuilt.resolve_key(), session.session_type)
    ):
        log.error("❌ Session type validation failed")
        return False
    log.info("✅ Data consistency check passed")
    return True


_SESSION_FIELDS = ("session_id", "participants", "session_type", "created_at", "last_activity", "metadata")


def migrate_models_to_new_version(old_data: dict[str, Any]) -> dict[str, Any]:
    """Bring a model dict of version 1.0 up to 1.1 (seed: ``migrate_models_to_new_version``).

    As in the seed: the version is ``old_data["version"]`` (default ``"1.0"``); 1.0 → 1.1 gives
    every participant without ``metadata`` an empty one, and the result says ``"version":
    "1.1"``. Also done (``serialization.migrate``): participants in the seed's older
    ``{"id", "type", "role"}`` form are renamed, and ``schema_version`` is set as every
    convoledger ``to_dict`` writes it.

    Fixed: the seed changes ``old_data`` in place; this returns a new dict and leaves the input
    as it was. A version this code does not know raises ``ValueError`` (the seed returned it
    unchanged, which would let a newer dict be read as if it were current).
    """
    return {**migrate(old_data), "version": "1.1"}


class ConversationModelsMonitor:
    """Counts of created models and how long their creation took (seed: ``ConversationModelsMonitor``).

    Same attributes and methods as the seed: ``creation_metrics`` (``{"participants",
    "sessions", "messages"}`` counts), ``performance_metrics`` (``{"participant_creation_time",
    "session_creation_time", "message_creation_time"}`` samples, in seconds),
    ``record_participant_creation(t)`` / ``record_session_creation(t)`` /
    ``record_message_creation(t)`` and ``get_performance_report()`` (per kind with samples:
    ``count``, ``avg_time``, ``min_time``, ``max_time``, seconds).

    Fixed: the seed keeps every sample in an ever-growing list (memory grows for as long as the
    process runs). ``performance_metrics`` here keeps the most recent ``max_samples`` per kind,
    while the report's count, average, minimum and maximum cover every sample ever recorded.
    A negative or non-finite time raises ``ValueError``.
    """

    def __init__(self, max_samples: int = 10_000) -> None:
        if max_samples < 1:
            raise ValueError(f"max_samples must be >= 1, got {max_samples}")
        self.creation_metrics: dict[str, int] = {"participants": 0, "sessions": 0, "messages": 0}
        self.performance_metrics: dict[str, deque[float]] = {
            name: deque(maxlen=max_samples) for name in _TIMES.values()
        }
        self._totals: dict[str, _Totals] = {}

    def _record(self, kind: str, creation_time: float) -> None:
        if isinstance(creation_time, bool) or not isinstance(creation_time, int | float):
            raise ValueError(f"creation_time must be seconds (a number), got {creation_time!r}")
        if not math.isfinite(creation_time) or creation_time < 0:
            raise ValueError(f"creation_time must be finite seconds >= 0, got {creation_time!r}")
        name, seconds = _TIMES[kind], float(creation_time)
        self.creation_metrics[kind] += 1
        self.performance_metrics[name].append(seconds)
        totals = self._totals.setdefault(name, _Totals(low=seconds, high=seconds))
        totals.count += 1
        totals.total += seconds
        totals.low, totals.high = min(totals.low, seconds), max(totals.high, seconds)

    def record_participant_creation(self, creation_time: float) -> None:
        """Count one participant created in ``creation_time`` seconds."""
        self._record("participants", creation_time)

    def record_session_creation(self, creation_time: float) -> None:
        """Count one session created in ``creation_time`` seconds."""
        self._record("sessions", creation_time)

    def record_message_creation(self, creation_time: float) -> None:
        """Count one message created in ``creation_time`` seconds."""
        self._record("messages", creation_time)

    def get_performance_report(self) -> dict[str, Any]:
        """``{metric name: {"count", "avg_time", "min_time", "max_time"}}`` for each kind with at
        least one sample (seconds), as the seed's report."""
        report: dict[str, Any] = {}
        for name in _TIMES.values():
            t = self._totals.get(name)
            if t is not None:
                report[name] = {
                    "count": t.count,
                    "avg_time": t.total / t.count,
                    "min_time": t.low,
                    "max_time": t.high,
                }
        return report


@dataclass
class _Totals:
    """Running count, sum, minimum and maximum of one kind's creation times (seconds)."""

    low: float
    high: float
    count: int = 0
    total: float = 0.0


_TIMES = {
    "participants": "participant_creation_time",
    "sessions": "session_creation_time",
    "messages": "message_creation_time",
}


class ConversationModelsLogger:
    """Log lines for model creation and validation errors (seed: ``ConversationModelsLogger``).

    Same methods and texts as the seed, on the ``convoledger.models`` logger (``logger`` may name
    another): ``log_participant_creation(p)`` → INFO ``Participant created: <id> - <type>``,
    ``log_session_creation(s)`` → INFO ``Session created: <id> - <type>``,
    ``log_message_creation(m)`` → INFO ``Message created: <id> - <message type>``,
    ``log_validation_error(error, context)`` → ERROR ``Validation error in <context>: <error>``.
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger(LOGGER_NAME)

    def log_participant_creation(self, participant: ConversationParticipant) -> None:
        """Log a created participant."""
        self.logger.info(
            "Participant created: %s - %s", participant.participant_id, participant.participant_type
        )

    def log_session_creation(self, session: ConversationSession) -> None:
        """Log a created session."""
        self.logger.info("Session created: %s - %s", session.session_id, session.session_type)

    def log_message_creation(self, message: AgentCommunicationMessage) -> None:
        """Log a created agent message."""
        self.logger.info("Message created: %s - %s", message.message_id, message.message_type)

    def log_validation_error(self, error: Exception, context: str) -> None:
        """Log a validation error met in ``context``."""
        self.logger.error("Validation error in %s: %s", context, error)


__all__ = [
    "LOGGER_NAME",
    "ConversationModelsLogger",
    "ConversationModelsMonitor",
    "check_data_consistency",
    "migrate_models_to_new_version",
    "validate_models_health",
]
