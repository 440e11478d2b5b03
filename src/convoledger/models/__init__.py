"""Pure domain types and rules (no I/O): the stored records and the seed faces over them.

The seed faces (``ConversationParticipant``, ``ConversationSession``,
``AgentCommunicationMessage``, ``Conversation``, ``ConversationTurn``, ``AgentSession``,
``SessionMessage``, ``ChatSession``, ``ChatMessage``) are views of the one stored model in
``records``: each has ``to_record`` / ``from_record`` and ``to_dict`` / ``from_dict``.
Converting one face into another goes through a record, e.g.
``AgentSession.from_record(conversation.to_record())``.
"""

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

__all__ = [
    "BROADCAST_RECIPIENT",
    "FACE_KEY",
    "MESSAGE_TYPES",
    "PARTICIPANT_TYPES",
    "SCHEMA_VERSION",
    "SESSION_TYPES",
    "AgentCommunicationMessage",
    "AgentSession",
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
    "InvalidTransition",
    "LifecycleEvent",
    "MemoryEntry",
    "MessageRecord",
    "MessageRole",
    "MessageType",
    "ParticipantRecord",
    "ParticipantType",
    "ProviderCallRecord",
    "ProviderMetadata",
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
