"""The seed's request and response schema names (agent-session seed, sections 3 and 12).

``AgentSessionCreate`` is the body of ``create_session`` (``data.to_dict()`` as in the seed);
``AgentSessionSchema`` and ``SessionMessageSchema`` — what the seed's services return — are the
``AgentSession`` and ``SessionMessage`` faces themselves (they carry every seed field).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from convoledger.models.agent_session import AgentSession, SessionMessage

__all__ = ["AgentSessionCreate", "AgentSessionSchema", "SessionMessageSchema"]

AgentSessionSchema = AgentSession
SessionMessageSchema = SessionMessage


class AgentSessionCreate(BaseModel):
    """The seed's ``AgentSessionCreate``: ``session_id`` (1–255 chars), ``session_name``,
    ``description``, ``agent_name``, ``agent_instructions``, ``is_active`` (default true).
    Limits are ``AgentSession``'s. Unknown keys raise ``ValueError``."""

    model_config = ConfigDict(extra="forbid")

    session_id: str = Field(min_length=1, max_length=255)
    session_name: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=1000)
    agent_name: str | None = Field(default=None, max_length=255)
    agent_instructions: str | None = None
    is_active: StrictBool = True

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (the seed's ``data.to_dict()``)."""
        return self.model_dump()
