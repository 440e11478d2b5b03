"""convoledger — the conversation ledger for AI-agent applications.

Public API: the seed domain names (``ConversationParticipant``, ``ConversationSession``,
``AgentCommunicationMessage``, ``Conversation``, ``ConversationTurn``, ``AgentSession``,
``SessionMessage``, ``ChatSession``, ``ChatMessage``, ``ProviderMetadata``, …) from
``convoledger.models``, the conversation-models maintenance helpers (``validate_models_health``,
``check_data_consistency``, ``migrate_models_to_new_version``, ``ConversationModelsMonitor``,
``ConversationModelsLogger``), ``SessionPersistence``, plus the ``Ledger`` facade and
``open_ledger(url)``.
"""

from __future__ import annotations

from convoledger.backends import open_ledger
from convoledger.errors import Conflict, ConversationNotActive, LedgerError, NotFound
from convoledger.ledger import Ledger
from convoledger.models import *  # noqa: F403 - the seed names are the public API
from convoledger.models import __all__ as _model_names

__version__ = "0.1.0"

from convoledger.model_maintenance import (
    ConversationModelsLogger,
    ConversationModelsMonitor,
    check_data_consistency,
    migrate_models_to_new_version,
    validate_models_health,
)
from convoledger.session_persistence import SessionPersistence

__all__ = [
    *_model_names,
    "Conflict",
    "ConversationModelsLogger",
    "ConversationModelsMonitor",
    "ConversationNotActive",
    "Ledger",
    "LedgerError",
    "NotFound",
    "SessionPersistence",
    "__version__",
    "check_data_consistency",
    "migrate_models_to_new_version",
    "open_ledger",
    "validate_models_health",
]
