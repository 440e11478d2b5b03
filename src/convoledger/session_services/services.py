"""``SessionServices``: the seed's services wired to one ledger, and its section-13 functions.

The agent-session seed's section 13 code examples use module-level services
(``agent_session_service``, ``message_service``, ``memory_manager``, ``cache_manager``). Here
they are attributes of one ``SessionServices(ledger)`` under those names, and the examples'
functions are its methods with the seed's signatures:

    services = SessionServices(ledger)
    session = await services.create_session_with_context(current_user, session_data, {"goal": "plan"})
    health = await services.monitor_session_health(session.id)
"""

from __future__ import annotations

from typing import Any

from convoledger.ledger import Ledger
from convoledger.models.agent_session import AgentSession, SessionMessage
from convoledger.models.session_health import (
    calculate_health_score,
    generate_recommendations,
    hours_inactive,
    last_activity,
)
from convoledger.session_services._common import ref_text
from convoledger.session_services.access import SessionAccessController
from convoledger.session_services.analytics import SessionAnalyticsService
from convoledger.session_services.backup import SessionBackupService, SessionRecoveryService
from convoledger.session_services.context import ContextWindowManager
from convoledger.session_services.memory import SessionMemoryManager
from convoledger.session_services.schemas import AgentSessionCreate
from convoledger.session_services.sessions import AgentSessionService

__all__ = ["SessionServices"]

#: How many recent messages ``monitor_session_health`` reads (the seed's 5).
HEALTH_RECENT = 5


class SessionServices:
    """Every seed-002 service over one ``Ledger``: ``agent_session_service``,
    ``message_service``, ``memory_manager``, ``context_window_manager`` (``max_tokens`` 4000),
    ``analytics_service``, ``backup_service``, ``recovery_service``, ``access_controller``.

    There is no ``cache_manager``: open the ledger with a Redis URL and the store caches
    sessions and recent messages itself, invalidated on every write (``store.redis_cache``).
    """

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.agent_session_service = AgentSessionService(ledger)
        self.message_service = self.agent_session_service.message_service
        self.memory_manager = SessionMemoryManager(ledger)
        self.context_window_manager = ContextWindowManager(ledger)
        self.analytics_service = SessionAnalyticsService(ledger)
        self.backup_service = SessionBackupService(ledger)
        self.recovery_service = SessionRecoveryService(ledger)
        self.access_controller = SessionAccessController(ledger)

    async def create_session_with_context(
        self,
        current_user: Any,
        session_data: AgentSessionCreate | dict[str, Any],
        initial_context: dict[str, Any] | None = None,
    ) -> AgentSession:
        """Create session with initial context and memory (seed §13): the session
        (``create_session``), then ``initial_context`` saved as its session memory when given.
        ``ValueError`` for a non-dict ``initial_context`` before anything is written."""
        if initial_context is not None and not isinstance(initial_context, dict):
            raise ValueError(f"initial_context must be a dict, got {type(initial_context).__name__}")
        session = await self.agent_session_service.create_session(current_user, session_data)
        if initial_context:
            await self.memory_manager.save_session_memory(session.id, initial_context)
        return session

    async def get_session_messages_optimized(
        self, session_id: Any, limit: int = 50, use_cache: bool = True
    ) -> list[SessionMessage]:
        """Get session messages (seed §13): the ``limit`` most recent, oldest first. ``use_cache``
        is accepted for the seed's signature; caching is the store's (see the class doc)."""
        return await self.message_service.get_recent_messages(session_id, limit)

    async def monitor_session_health(self, session_id: Any) -> dict[str, Any]:
        """Monitor session health and provide recommendations (seed §13): ``session_id`` (as
        given), ``is_active``, ``message_count``, ``hours_inactive`` (since the newest of the 5
        most recent messages' ``created_at``, else the session's ``updated_at``),
        ``health_score`` (``calculate_health_score``) and ``recommendations``
        (``generate_recommendations``). ``NotFound`` for an unknown session."""
        session = await self.ledger.resolve(ref_text(session_id))
        message_count = await self.message_service.get_session_message_count(session.id)

        # Get recent activity
        recent_messages = await self.message_service.get_recent_messages(session.id, HEALTH_RECENT)
        since = last_activity(session.updated_at, sorted(m.created_at for m in recent_messages))

        # Health metrics
        inactive_hours = hours_inactive(since)

        return {
            "session_id": session_id,
            "is_active": session.is_active,
            "message_count": message_count,
            "hours_inactive": inactive_hours,
            "health_score": calculate_health_score(session, message_count, inactive_hours),
            "recommendations": generate_recommendations(session, message_count, inactive_hours),
        }
