"""``TokenEstimator`` and ``ContextWindowManager`` (agent-session seed, section 7)."""

from __future__ import annotations

from typing import Any

from convoledger.context import build_token_window
from convoledger.ledger import Ledger
from convoledger.models.agent_session import SessionMessage
from convoledger.session_services._common import ref_text
from convoledger.store.base import MessageQuery
from convoledger.tokens import count_tokens

__all__ = ["ContextWindowManager", "TokenEstimator"]


class TokenEstimator:
    """The seed's ``TokenEstimator``: ``estimate_tokens(text)`` counts tokens with tiktoken's
    ``o200k_base`` encoding (``convoledger.tokens.count_tokens``, the GPT-4o family's)."""

    def estimate_tokens(self, text: str) -> int:
        """Tokens in ``text`` (o200k_base)."""
        return count_tokens(text)


class ContextWindowManager:
    """Manages conversation context window for efficient AI interaction (seed §7).

    ``ContextWindowManager(ledger, max_tokens=4000)``: the seed's constructor with the ledger the
    manager reads first (the seed injects its message service). ``get_optimal_context`` keeps the
    seed's rule — the most recent messages whose ``estimate_tokens(content)`` sum, plus
    ``additional_tokens``, stays within ``max_tokens``, stopping at the first that does not fit —
    and fixes one unsafe case: an assistant message with tool calls and its tool results are
    kept or left out together (DESIGN.md invariant 7; a provider rejects a tool result without
    its call), using ``convoledger.context.build_token_window``. Pinned messages are always kept.
    """

    def __init__(self, ledger: Ledger, max_tokens: int = 4000) -> None:
        if max_tokens < 0:
            raise ValueError(f"max_tokens must be >= 0, got {max_tokens}")
        self.ledger = ledger
        self.max_tokens = max_tokens
        self.token_estimator = TokenEstimator()

    async def get_optimal_context(self, session_id: Any, additional_tokens: int = 0) -> list[SessionMessage]:
        """Get optimal context within token limit (seed §7): ``SessionMessage`` faces, oldest
        first. A budget exhausted by ``additional_tokens`` gives ``[]``, as in the seed."""
        records = await self.ledger.messages(ref_text(session_id), MessageQuery())
        estimated = [
            m.model_copy(update={"token_count": self.token_estimator.estimate_tokens(m.content)})
            for m in records
        ]
        budget = max(0, self.max_tokens - additional_tokens)
        window = build_token_window(estimated, budget, keep_system=False)
        by_id = {m.id: m for m in records}
        return [SessionMessage.from_record(by_id[m.id]) for m in window.messages]
