"""``SessionMessageService``: the seed's message service (agent-session seed, section 4)."""

from __future__ import annotations

from typing import Any

from convoledger.ledger import Ledger
from convoledger.models.agent_session import MessageRole, SessionMessage
from convoledger.models.seed_backup import parse_message_role
from convoledger.session_services._common import ref_text
from convoledger.store.base import MessageQuery

__all__ = ["SessionMessageService"]


class SessionMessageService:
    """Messages of agent sessions, thin over a ``Ledger`` (one owner).

    ``session_id`` arguments are the session's id (``uuid.UUID`` or text, as in the seed) or its
    external ``session_id``. Messages come back as ``SessionMessage`` faces whose ``session_id``
    is the session's id and whose ``extra_data`` is the seed's JSON text. Order is the ledger's
    ``seq`` (commit order) where the seed sorts by ``created_at``: equal timestamps cannot
    reorder history. Errors: ``NotFound`` for an unknown session, ``ConversationNotActive`` when
    appending to a session that is not active, ``ValueError`` for bad input.
    """

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def create_message(
        self,
        session_id: Any,
        role: MessageRole | str,
        content: str,
        tool_call_id: str | None = None,
        tool_name: str | None = None,
        extra_data: str | None = None,
    ) -> SessionMessage:
        """Store a new message in the session (seed §4 ``create_message``) and return it as
        stored (with its ``seq``). ``role`` is a ``MessageRole`` or its value / name in any case;
        ``extra_data`` is JSON text (a ``dict`` is accepted too)."""
        record = await self.ledger.resolve(ref_text(session_id))
        message = SessionMessage(
            session_id=record.id,
            role=parse_message_role(role),
            content=content,
            tool_call_id=tool_call_id,
            tool_name=tool_name,
            extra_data=extra_data,
        )
        return SessionMessage.from_record(await self.ledger.append(record, message))

    async def get_recent_messages(self, session_id: Any, limit: int = 10) -> list[SessionMessage]:
        """The ``limit`` most recent messages, oldest first (seed §4 ``get_recent_messages``).
        Reads only those messages."""
        found = await self.ledger.recent(ref_text(session_id), limit)
        return [SessionMessage.from_record(m) for m in found]

    async def get_session_message_count(self, session_id: Any) -> int:
        """The total number of messages in the session (seed §4)."""
        return await self.ledger.count(ref_text(session_id))

    async def get_by_session(self, session_id: Any) -> list[SessionMessage]:
        """Every message of the session, oldest first (the seed's ``get_by_session``, used by its
        context window and export)."""
        found = await self.ledger.messages(ref_text(session_id), MessageQuery())
        return [SessionMessage.from_record(m) for m in found]
