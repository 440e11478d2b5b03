"""The agent-session seed's service layer (seed 002), thin over ``convoledger.Ledger``.

Code written against the seed's services keeps its calls: each class takes the ``Ledger`` it
works on as its first argument (the seed wires its services by dependency injection), and its
methods have the seed's names and signatures (section in brackets):

- ``AgentSessionService`` — ``create_session``, ``activate_session``, ``deactivate_session``,
  ``delete_session`` [3], ``validate_session_state_transition`` [5],
  ``load_conversation_context`` [7], ``verify_session_ownership``, ``get_by_user`` [8];
- ``SessionMessageService`` — ``create_message``, ``get_recent_messages``,
  ``get_session_message_count``, ``get_by_session`` [4];
- ``ContextWindowManager`` / ``TokenEstimator``, ``SessionMemoryManager`` [7];
- ``SessionAccessController`` [8]; ``SessionAnalyticsService`` [9];
- ``SessionBackupService`` (``export_session_data``, ``convert_to_csv``) and
  ``SessionRecoveryService`` (``restore_session_from_backup``) [10];
- ``SessionServices`` — all of them over one ledger, with ``create_session_with_context``,
  ``get_session_messages_optimized`` and ``monitor_session_health`` [13];
- ``calculate_health_score``, ``generate_recommendations`` [13] (pure, ``models.session_health``);
- ``AgentSessionCreate``, ``AgentSessionSchema``, ``SessionMessageSchema`` [3, 4];
  ``AgentSession``, ``SessionMessage``, ``MessageRole``, ``SessionState`` [1, 2, 5].

The maintenance services of sections 6, 9, 10 and 11 (``SessionCleanupService``,
``SessionMaintenanceScheduler``, ``SessionMonitoringService``, ``SessionPerformanceTracker``,
``SessionPerformanceMonitor``, ``AutomatedBackupManager``) are in
``convoledger.session_services.maintenance``, over ``convoledger.maintenance`` (issue 13).
docs/seed-compatibility.md maps every item of the seed.
"""

from __future__ import annotations

from convoledger.models.agent_session import AgentSession, MessageRole, SessionMessage, SessionState
from convoledger.models.session_health import calculate_health_score, generate_recommendations
from convoledger.session_services.access import SessionAccessController
from convoledger.session_services.analytics import SessionAnalyticsService
from convoledger.session_services.backup import SessionBackupService, SessionRecoveryService
from convoledger.session_services.context import ContextWindowManager, TokenEstimator
from convoledger.session_services.memory import SessionMemoryManager
from convoledger.session_services.messages import SessionMessageService
from convoledger.session_services.schemas import AgentSessionCreate, AgentSessionSchema, SessionMessageSchema
from convoledger.session_services.services import SessionServices
from convoledger.session_services.sessions import AgentSessionService

__all__ = [
    "AgentSession",
    "AgentSessionCreate",
    "AgentSessionSchema",
    "AgentSessionService",
    "ContextWindowManager",
    "MessageRole",
    "SessionAccessController",
    "SessionAnalyticsService",
    "SessionBackupService",
    "SessionMemoryManager",
    "SessionMessage",
    "SessionMessageSchema",
    "SessionMessageService",
    "SessionRecoveryService",
    "SessionServices",
    "SessionState",
    "TokenEstimator",
    "calculate_health_score",
    "generate_recommendations",
]
