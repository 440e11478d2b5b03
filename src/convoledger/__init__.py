"""convoledger — the conversation ledger for AI-agent applications.

Public API: the seed domain names (``ConversationParticipant``, ``ConversationSession``,
``AgentCommunicationMessage``, ``Conversation``, ``ConversationTurn``, ``AgentSession``,
``SessionMessage``, ``ChatSession``, ``ChatMessage``, ``ProviderMetadata``, …) from
``convoledger.models``, the conversation-models maintenance helpers (``validate_models_health``,
``check_data_consistency``, ``migrate_models_to_new_version``, ``ConversationModelsMonitor``,
``ConversationModelsLogger``), ``SessionPersistence``, plus the ``Ledger`` facade and
``open_ledger(url)``.

The names load on first use (PEP 562 ``__getattr__``): ``import convoledger.cli`` or any
submodule does not import the whole library (issue 15: CLI start-up).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from convoledger.backends import open_ledger
    from convoledger.errors import Conflict, ConversationNotActive, LedgerError, NotFound
    from convoledger.ledger import Ledger
    from convoledger.model_maintenance import (
        ConversationModelsLogger,
        ConversationModelsMonitor,
        check_data_consistency,
        migrate_models_to_new_version,
        validate_models_health,
    )
    from convoledger.models.agent_messages import MESSAGE_TYPES, AgentCommunicationMessage, MessageType
    from convoledger.models.agent_session import AgentSession, MessageRole, SessionMessage, SessionState
    from convoledger.models.chat import BROADCAST_RECIPIENT, ChatMessage, ChatSession
    from convoledger.models.conversation import Conversation, ConversationTurn
    from convoledger.models.participants import ConversationParticipant, ParticipantType
    from convoledger.models.provider_metadata import ProviderMetadata
    from convoledger.models.provider_views import ConversationProviderViews
    from convoledger.models.records import (
        PARTICIPANT_TYPES,
        SCHEMA_VERSION,
        ConversationKind,
        ConversationRecord,
        MemoryEntry,
        MessageRecord,
        ParticipantRecord,
        ProviderCallRecord,
    )
    from convoledger.models.serialization import FACE_KEY
    from convoledger.models.sessions import (
        SESSION_TYPES,
        ConversationSession,
        SessionKey,
        SessionType,
        create_session_key,
        resolve_session_key,
        validate_conversation_isolation_pattern,
        validate_session_key,
    )
    from convoledger.models.status import (
        ConversationStatus,
        InvalidTransition,
        LifecycleEvent,
        check_transition,
        make_transition,
    )
    from convoledger.session_persistence import SessionPersistence

#: Public name → the module defining it.
_EXPORTS: dict[str, str] = {
    "AgentCommunicationMessage": "convoledger.models.agent_messages",
    "AgentSession": "convoledger.models.agent_session",
    "BROADCAST_RECIPIENT": "convoledger.models.chat",
    "ChatMessage": "convoledger.models.chat",
    "ChatSession": "convoledger.models.chat",
    "Conflict": "convoledger.errors",
    "Conversation": "convoledger.models.conversation",
    "ConversationKind": "convoledger.models.records",
    "ConversationModelsLogger": "convoledger.model_maintenance",
    "ConversationModelsMonitor": "convoledger.model_maintenance",
    "ConversationNotActive": "convoledger.errors",
    "ConversationParticipant": "convoledger.models.participants",
    "ConversationProviderViews": "convoledger.models.provider_views",
    "ConversationRecord": "convoledger.models.records",
    "ConversationSession": "convoledger.models.sessions",
    "ConversationStatus": "convoledger.models.status",
    "ConversationTurn": "convoledger.models.conversation",
    "FACE_KEY": "convoledger.models.serialization",
    "InvalidTransition": "convoledger.models.status",
    "Ledger": "convoledger.ledger",
    "LedgerError": "convoledger.errors",
    "LifecycleEvent": "convoledger.models.status",
    "MESSAGE_TYPES": "convoledger.models.agent_messages",
    "MemoryEntry": "convoledger.models.records",
    "MessageRecord": "convoledger.models.records",
    "MessageRole": "convoledger.models.agent_session",
    "MessageType": "convoledger.models.agent_messages",
    "NotFound": "convoledger.errors",
    "PARTICIPANT_TYPES": "convoledger.models.records",
    "ParticipantRecord": "convoledger.models.records",
    "ParticipantType": "convoledger.models.participants",
    "ProviderCallRecord": "convoledger.models.records",
    "ProviderMetadata": "convoledger.models.provider_metadata",
    "SCHEMA_VERSION": "convoledger.models.records",
    "SESSION_TYPES": "convoledger.models.sessions",
    "SessionKey": "convoledger.models.sessions",
    "SessionMessage": "convoledger.models.agent_session",
    "SessionPersistence": "convoledger.session_persistence",
    "SessionState": "convoledger.models.agent_session",
    "SessionType": "convoledger.models.sessions",
    "check_data_consistency": "convoledger.model_maintenance",
    "check_transition": "convoledger.models.status",
    "create_session_key": "convoledger.models.sessions",
    "make_transition": "convoledger.models.status",
    "migrate_models_to_new_version": "convoledger.model_maintenance",
    "open_ledger": "convoledger.backends",
    "resolve_session_key": "convoledger.models.sessions",
    "validate_conversation_isolation_pattern": "convoledger.models.sessions",
    "validate_models_health": "convoledger.model_maintenance",
    "validate_session_key": "convoledger.models.sessions",
}

__all__ = [
    "AgentCommunicationMessage",
    "AgentSession",
    "BROADCAST_RECIPIENT",
    "ChatMessage",
    "ChatSession",
    "Conflict",
    "Conversation",
    "ConversationKind",
    "ConversationModelsLogger",
    "ConversationModelsMonitor",
    "ConversationNotActive",
    "ConversationParticipant",
    "ConversationProviderViews",
    "ConversationRecord",
    "ConversationSession",
    "ConversationStatus",
    "ConversationTurn",
    "FACE_KEY",
    "InvalidTransition",
    "Ledger",
    "LedgerError",
    "LifecycleEvent",
    "MESSAGE_TYPES",
    "MemoryEntry",
    "MessageRecord",
    "MessageRole",
    "MessageType",
    "NotFound",
    "PARTICIPANT_TYPES",
    "ParticipantRecord",
    "ParticipantType",
    "ProviderCallRecord",
    "ProviderMetadata",
    "SCHEMA_VERSION",
    "SESSION_TYPES",
    "SessionKey",
    "SessionMessage",
    "SessionPersistence",
    "SessionState",
    "SessionType",
    "check_data_consistency",
    "check_transition",
    "create_session_key",
    "make_transition",
    "migrate_models_to_new_version",
    "open_ledger",
    "resolve_session_key",
    "validate_conversation_isolation_pattern",
    "validate_models_health",
    "validate_session_key",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
