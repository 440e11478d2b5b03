"""``SessionMemoryManager``: session memory (agent-session seed, section 7)."""

from __future__ import annotations

from typing import Any

from convoledger.ledger import Ledger
from convoledger.session_services._common import ref_text

__all__ = ["SESSION_CONTEXT_KEY", "SessionMemoryManager"]

#: The memory key the seed's ``save_session_memory`` writes.
SESSION_CONTEXT_KEY = "session_context"


class SessionMemoryManager:
    """Manages persistent memory for agent sessions (seed §7), over the ledger's session memory
    (key → JSON value per session).

    ``save_session_memory`` writes key ``"session_context"``; saving again replaces it (the seed
    appends a row per save and its ``load`` keeps the last one read — the same visible result,
    without a growing table). ``load_session_memory`` returns every key of the session's memory
    as ``{key: value}``, so entries written through ``PUT …/memory/{key}`` are there too.
    """

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def save_session_memory(self, session_id: Any, memory_data: dict[str, Any]) -> None:
        """Save session memory metadata (seed §7). ``ValueError`` when ``memory_data`` is not a
        JSON object; ``NotFound`` for an unknown session."""
        if not isinstance(memory_data, dict):
            raise ValueError(f"memory_data must be a dict, got {type(memory_data).__name__}")
        await self.ledger.set_memory(ref_text(session_id), SESSION_CONTEXT_KEY, memory_data)

    async def load_session_memory(self, session_id: Any) -> dict[str, Any]:
        """Load session memory metadata (seed §7): ``{memory_key: data}``."""
        return await self.ledger.memory(ref_text(session_id))
