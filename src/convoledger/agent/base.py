"""The agent protocol behind ``POST /api/agent-sessions/conversation`` and its offline default.

An ``Agent`` is called once per conversation turn, after the caller's messages are stored. It
receives the owner's ``Ledger`` (to read more history, memory or usage if it wants), the
``ConversationRecord`` and the most recent messages (oldest first, the new ones last), and
returns an ``AgentReply``: the assistant's text plus optional provider metadata (a
``ProviderCallRecord``, stored linked to the reply message, and the provider's new server-side
state handle). The route stores the reply as an ``assistant`` message; agents never write.

``EchoAgent`` (``CONVOLEDGER_AGENT=echo``, the default) is deterministic and offline. Real model
clients (``convoledger.agent.openai_compatible``) implement the same protocol and are registered
in ``convoledger.agent.registry.AGENT_FACTORIES``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from convoledger.models.records import ConversationRecord, MessageRecord, ProviderCallRecord

if TYPE_CHECKING:
    from convoledger.ledger import Ledger


@dataclass(frozen=True)
class AgentReply:
    """What an agent answered.

    ``content``: the assistant text (stored as the reply message's content). ``provider_call``:
    the model call that produced it, if any (its ``conversation_id``/``message_id`` are filled in
    by the route). ``server_state``: the provider's new server-side handle (e.g.
    ``{"provider": "openai", "previous_response_id": "resp_…"}``), stored atomically with the
    call. ``metadata``: JSON extra data stored on the reply message (``extra_data``).
    """

    content: str
    provider_call: ProviderCallRecord | None = None
    server_state: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Agent(Protocol):
    """Answers one turn of a conversation. ``name`` is the reply's ``sender`` when the session
    names no ``agent_name``. Errors it raises propagate to the caller (a ``ValueError`` → 422)."""

    name: str

    async def respond(
        self, ledger: Ledger, conversation: ConversationRecord, history: Sequence[MessageRecord]
    ) -> AgentReply:
        """The reply to the conversation whose recent messages are ``history`` (oldest first)."""
        ...


class EchoAgent:
    """Deterministic offline agent: replies ``"Echo: <text of the latest user message>"``.

    With no user message in ``history`` the reply is ``"Echo: (no user message)"``. It records
    no provider call. Useful for demos and tests; same input, same output, no network.
    """

    name = "echo"

    async def respond(
        self, ledger: Ledger, conversation: ConversationRecord, history: Sequence[MessageRecord]
    ) -> AgentReply:
        """Echo the latest user message's content (see the class docstring)."""
        last_user = next((m for m in reversed(history) if m.role == "user"), None)
        text = last_user.content if last_user is not None else "(no user message)"
        return AgentReply(content=f"Echo: {text}", metadata={"agent": self.name})
