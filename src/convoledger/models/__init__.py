"""Pure domain types and rules (no I/O): the stored records and the seed faces over them.

The seed faces (``ConversationParticipant``, ``ConversationSession``,
``AgentCommunicationMessage``, ``Conversation``, ``ConversationTurn``, ``AgentSession``,
``SessionMessage``, ``ChatSession``, ``ChatMessage``) are views of the one stored model in
``records``: each has ``to_record`` / ``from_record`` and ``to_dict`` / ``from_dict``.
Converting one face into another goes through a record, e.g.
``AgentSession.from_record(conversation.to_record())``.

The names load on first use (PEP 562 ``__getattr__``), so importing one module of the package
(e.g. ``convoledger.models.status`` for the CLI) does not import every model (issue 15: CLI
start-up).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

#: Public name → the module defining it.
_EXPORTS: dict[str, str] = {
    "AgentCommunicationMessage": "convoledger.models.agent_messages",
    "AgentSession": "convoledger.models.agent_session",
    "BROADCAST_RECIPIENT": "convoledger.models.chat",
    "ChatMessage": "convoledger.models.chat",
    "ChatSession": "convoledger.models.chat",
    "Conversation": "convoledger.models.conversation",
    "ConversationKind": "convoledger.models.records",
    "ConversationParticipant": "convoledger.models.participants",
    "ConversationProviderViews": "convoledger.models.provider_views",
    "ConversationRecord": "convoledger.models.records",
    "ConversationSession": "convoledger.models.sessions",
    "ConversationStatus": "convoledger.models.status",
    "ConversationTurn": "convoledger.models.conversation",
    "FACE_KEY": "convoledger.models.serialization",
    "InvalidTransition": "convoledger.models.status",
    "LifecycleEvent": "convoledger.models.status",
    "MESSAGE_TYPES": "convoledger.models.agent_messages",
    "MemoryEntry": "convoledger.models.records",
    "MessageRecord": "convoledger.models.records",
    "MessageRole": "convoledger.models.agent_session",
    "MessageType": "convoledger.models.agent_messages",
    "PARTICIPANT_TYPES": "convoledger.models.records",
    "ParticipantRecord": "convoledger.models.records",
    "ParticipantType": "convoledger.models.participants",
    "ProviderCallRecord": "convoledger.models.records",
    "ProviderMetadata": "convoledger.models.provider_metadata",
    "SCHEMA_VERSION": "convoledger.models.records",
    "SESSION_TYPES": "convoledger.models.sessions",
    "SessionKey": "convoledger.models.sessions",
    "SessionMessage": "convoledger.models.agent_session",
    "SessionState": "convoledger.models.agent_session",
    "SessionType": "convoledger.models.sessions",
    "check_transition": "convoledger.models.status",
    "create_session_key": "convoledger.models.sessions",
    "make_transition": "convoledger.models.status",
    "resolve_session_key": "convoledger.models.sessions",
    "validate_conversation_isolation_pattern": "convoledger.models.sessions",
    "validate_session_key": "convoledger.models.sessions",
}

__all__ = [
    "AgentCommunicationMessage",
    "AgentSession",
    "BROADCAST_RECIPIENT",
    "ChatMessage",
    "ChatSession",
    "Conversation",
    "ConversationKind",
    "ConversationParticipant",
    "ConversationProviderViews",
    "ConversationRecord",
    "ConversationSession",
    "ConversationStatus",
    "ConversationTurn",
    "FACE_KEY",
    "InvalidTransition",
    "LifecycleEvent",
    "MESSAGE_TYPES",
    "MemoryEntry",
    "MessageRecord",
    "MessageRole",
    "MessageType",
    "PARTICIPANT_TYPES",
    "ParticipantRecord",
    "ParticipantType",
    "ProviderCallRecord",
    "ProviderMetadata",
    "SCHEMA_VERSION",
    "SESSION_TYPES",
    "SessionKey",
    "SessionMessage",
    "SessionState",
    "SessionType",
    "check_transition",
    "create_session_key",
    "make_transition",
    "resolve_session_key",
    "validate_conversation_isolation_pattern",
    "validate_session_key",
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
