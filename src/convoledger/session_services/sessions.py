"""``AgentSessionService``: the seed's session service (agent-session seed, sections 3, 5, 7, 8)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from convoledger.ledger import Ledger
from convoledger.models.agent_session import AgentSession, SessionState
from convoledger.session_services._common import all_sessions, owned_or_none, ref_text, user_key
from convoledger.session_services.messages import SessionMessageService
from convoledger.session_services.schemas import AgentSessionCreate

__all__ = ["AgentSessionService"]


def session_fields(data: AgentSessionCreate | Mapping[str, Any] | Any) -> dict[str, Any]:
    """The seed's session fields of ``data``: an ``AgentSessionCreate`` (or anything with the
    seed's ``to_dict()``) or a plain dict such as the seed's ``session_data`` example."""
    if isinstance(data, Mapping):
        return dict(data)
    to_dict = getattr(data, "to_dict", None)
    if callable(to_dict):
        fields = to_dict()
        if isinstance(fields, Mapping):
            return dict(fields)
    raise ValueError(f"session data must be a dict or an AgentSessionCreate, got {type(data).__name__}")


class AgentSessionService:
    """Agent sessions, thin over a ``Ledger`` (one owner; the ledger's owner is the tenant).

    The seed's ``user_id`` (the owning user, ``current_user.id``) is the session's ``user_id``
    field: ownership checks compare it, as the seed's queries do. ``session_id`` arguments are
    the session's id (``uuid.UUID`` or text) or its external ``session_id``. Sessions come back
    as ``AgentSession`` faces (``session_name``, ``is_active``, …).
    ``self.state_machine`` is the seed's ``SessionState``; ``self.message_service`` the
    ``SessionMessageService`` of the same ledger.
    """

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.state_machine = SessionState()
        self.message_service = SessionMessageService(ledger)

    # -- section 3 ----------------------------------------------------------------------------
    async def create_session(
        self, current_user: Any, data: AgentSessionCreate | Mapping[str, Any]
    ) -> AgentSession:
        """Create a new agent session with automatic user assignment (seed §3): ``user_id`` =
        ``current_user.id``. ``is_active: False`` creates it ``inactive`` with the lifecycle event.
        ``Conflict`` when its ``session_id`` exists; ``ValueError`` for bad fields."""
        session = AgentSession(**{**session_fields(data), "user_id": user_key(current_user)})
        record = await self.ledger.create_conversation(session, reason="created with is_active=false")
        return AgentSession.from_record(record)

    async def get(self, session_id: Any) -> AgentSession:
        """The session; ``NotFound`` when this owner has none with that id or session_id."""
        return AgentSession.from_record(await self.ledger.resolve(ref_text(session_id)))

    async def get_by_session_id(self, session_id: str, user_id: Any) -> AgentSession | None:
        """The user's session with this external ``session_id``, or ``None`` (used by the seed's
        ``restore_session_from_backup``)."""
        record = await self.ledger.find_conversation(session_id=session_id)
        if record is None or record.user_id != user_key(user_id):
            return None
        return AgentSession.from_record(record)

    async def activate_session(self, session_id: Any, user_id: Any) -> AgentSession | None:
        """Activate an agent session (seed §3): ``None`` when it is not the user's; unchanged
        when already active; else the move inactive → active, recorded as an event.
        ``InvalidTransition`` for a terminated or archived session (the seed's state machine
        ends there; its ``update`` would have revived it)."""
        record = await owned_or_none(self.ledger, session_id, user_id)
        if record is None:
            return None
        if not record.is_active:
            record = await self.ledger.activate(record)
        return AgentSession.from_record(record)

    async def deactivate_session(self, session_id: Any, user_id: Any) -> AgentSession | None:
        """Deactivate an agent session (the seed's ``PUT …/deactivate``): ``None`` when it is not
        the user's; unchanged when not active; else active → inactive, recorded as an event."""
        record = await owned_or_none(self.ledger, session_id, user_id)
        if record is None:
            return None
        if record.is_active:
            record = await self.ledger.deactivate(record)
        return AgentSession.from_record(record)

    async def delete_session(self, session_id: Any, user_id: Any) -> None:
        """Delete an agent session with its messages (seed §3, hard delete). ``NotFound`` when
        it does not exist; ``ValueError("Session not found")`` when it is another user's (the
        seed's ownership check)."""
        record = await self.ledger.resolve(ref_text(session_id))
        if record.user_id != user_key(user_id):
            raise ValueError("Session not found")
        await self.ledger.delete_conversation(record)

    # -- section 5 ----------------------------------------------------------------------------
    async def validate_session_state_transition(self, session: Any, new_state: bool) -> bool:
        """Validate session state transition (seed §5, verbatim): ``True``, or ``ValueError``
        ("Invalid state transition: active -> active") when ``SessionState`` forbids it — which
        includes "moving" to the state the session is already in. ``session`` needs
        ``is_active``."""
        current_state = "active" if session.is_active else "inactive"
        desired_state = "active" if new_state else "inactive"

        if not self.state_machine.can_transition(current_state, desired_state):
            raise ValueError(f"Invalid state transition: {current_state} -> {desired_state}")

        return True

    # -- section 7 ----------------------------------------------------------------------------
    async def load_conversation_context(
        self, session_id: Any, context_window: int = 20
    ) -> list[dict[str, Any]]:
        """Load conversation context for AI agent (seed §7): the ``context_window`` most recent
        messages as ``{"role", "content", "timestamp", "tool_call_id", "tool_name",
        "extra_data"}`` dicts, oldest first (``timestamp`` ISO 8601, ``extra_data`` parsed)."""
        messages = await self.message_service.get_recent_messages(session_id, limit=context_window)

        context = []
        for message in messages:
            context.append(
                {
                    "role": message.role.value.lower(),
                    "content": message.content,
                    "timestamp": message.created_at.isoformat(),
                    "tool_call_id": message.tool_call_id,
                    "tool_name": message.tool_name,
                    "extra_data": json.loads(message.extra_data) if message.extra_data else None,
                }
            )

        return context

    # -- section 8 ----------------------------------------------------------------------------
    async def verify_session_ownership(self, session_id: Any, user_id: Any) -> bool:
        """Verify that a session belongs to the specified user (seed §8)."""
        return await owned_or_none(self.ledger, session_id, user_id) is not None

    async def get_by_user(self, user_id: Any) -> list[AgentSession]:
        """All agent sessions of a user (seed §8 ``get_by_user``), most recently updated first.
        Walks the owner's sessions page by page."""
        key = user_key(user_id)
        return [AgentSession.from_record(r) async for r in all_sessions(self.ledger) if r.user_id == key]
