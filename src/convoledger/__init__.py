"""convoledger — the conversation ledger for AI-agent applications.

Public API: the seed domain names (``ConversationParticipant``, ``ConversationSession``,
``AgentCommunicationMessage``, ``Conversation``, ``ConversationTurn``, ``AgentSession``,
``SessionMessage``, ``ChatSession``, ``ChatMessage``, …) from ``convoledger.models``, plus the
``Ledger`` facade and ``open_ledger(url)``.
"""

from __future__ import annotations

from convoledger.backends import open_ledger
from convoledger.errors import Conflict, ConversationNotActive, LedgerError, NotFound
from convoledger.ledger import Ledger
from convoledger.models import *  # noqa: F403 - the seed names are the public API
from convoledger.models import __all__ as _model_names

__version__ = "0.1.0"

from convoledger.session_persistence import SessionPersistence

__all__ = [
    *_model_names,
    "Conflict",
    "ConversationNotActive",
    "Ledger",
    "LedgerError",
    "NotFound",
    "SessionPersistence",
    "__version__",
    "open_ledger",
]
