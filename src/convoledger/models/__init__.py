"""Pure domain types and rules (no I/O): the stored records and the seed faces over them."""

from convoledger.models.records import (
    SCHEMA_VERSION,
    ConversationKind,
    ConversationRecord,
    MemoryEntry,
    MessageRecord,
    ParticipantRecord,
    ProviderCallRecord,
)
from convoledger.models.status import (
    ConversationStatus,
    InvalidTransition,
    LifecycleEvent,
    check_transition,
    make_transition,
)

__all__ = [
    "SCHEMA_VERSION",
    "ConversationKind",
    "ConversationRecord",
    "ConversationStatus",
    "InvalidTransition",
    "LifecycleEvent",
    "MemoryEntry",
    "MessageRecord",
    "ParticipantRecord",
    "ProviderCallRecord",
    "check_transition",
    "make_transition",
]
