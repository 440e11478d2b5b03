"""``SessionAnalyticsService``: session statistics (agent-session seed, section 9)."""

from __future__ import annotations

from typing import Any

from convoledger.ledger import Ledger
from convoledger.session_services._common import all_sessions, user_key

__all__ = ["SessionAnalyticsService"]


class SessionAnalyticsService:
    """Service for collecting and analyzing session metrics (seed §9), over a ``Ledger``."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def get_session_statistics(self, user_id: Any = None) -> dict[str, Any]:
        """Get comprehensive session statistics (seed §9): ``total_sessions``,
        ``active_sessions``, ``total_messages``, ``average_messages_per_session``
        (``total_messages / total_sessions``, 0 without sessions) and
        ``sessions_with_conversations``.

        Without ``user_id``: every session of the ledger's owner (one store query, as
        ``GET /api/stats``); with it: the sessions whose ``user_id`` is that user.
        ``sessions_with_conversations`` counts sessions holding at least one message — the
        seed's expression (``len([s for s in sessions if total_messages > 0])``) counts every
        session as soon as any has a message, which is not what its name says.
        """
        if user_id is None:
            stats = await self.ledger.stats()
            total, active, messages, with_messages = (
                stats.conversations,
                stats.active_conversations,
                stats.messages,
                stats.conversations_with_messages,
            )
        else:
            key = user_key(user_id)
            total = active = messages = with_messages = 0
            async for record in all_sessions(self.ledger):
                if record.user_id != key:
                    continue
                total += 1
                active += record.is_active
                messages += record.message_count
                with_messages += record.message_count > 0
        return {
            "total_sessions": total,
            "active_sessions": active,
            "total_messages": messages,
            "average_messages_per_session": messages / total if total else 0,
            "sessions_with_conversations": with_messages,
        }
