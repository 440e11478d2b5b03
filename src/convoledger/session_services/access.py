"""``SessionAccessController``: per-user access checks (agent-session seed, section 8)."""

from __future__ import annotations

from typing import Any

from convoledger.errors import NotFound
from convoledger.ledger import Ledger
from convoledger.models.records import MessageRecord
from convoledger.session_services._common import all_sessions, ref_text, user_key

__all__ = ["SessionAccessController"]


class SessionAccessController:
    """Controls session access and permissions (seed §8) within the ledger's owner: a user may
    use a session whose ``user_id`` is theirs; ``"write"`` also needs the session active.
    (Across owners, isolation is the store's: another owner's session does not exist.)"""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def can_access_session(self, user: Any, session_id: Any, operation: str = "read") -> bool:
        """Check if user can perform operation on session (seed §8). ``NotFound`` when the
        session does not exist (the seed's ``get`` raises too)."""
        session = await self.ledger.resolve(ref_text(session_id))

        # Verify ownership
        if session.user_id != user_key(user):
            return False

        # Check session-specific permissions
        if operation == "write" and not session.is_active:
            return False

        return True

    async def can_access_message(
        self, user: Any, message_id: Any, operation: str = "read", *, session_id: Any = None
    ) -> bool:
        """Check if user can access specific message (seed §8). Messages are stored per session:
        give ``session_id`` when known (one lookup); without it the owner's sessions are
        searched one by one. ``NotFound`` when no session of the owner has the message."""
        mid = ref_text(message_id)
        if session_id is not None:
            message = await self.ledger.get_message(ref_text(session_id), mid)
        else:
            message = await self._find_message(mid)
        return await self.can_access_session(user, message.conversation_id, operation)

    async def _find_message(self, message_id: str) -> MessageRecord:
        async for record in all_sessions(self.ledger):
            try:
                return await self.ledger.get_message(record, message_id)
            except NotFound:
                continue  # not in this session: look in the next one
        raise NotFound(f"message {message_id!r} not found")
