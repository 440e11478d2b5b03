"""The one stored data model: conversations, participants, messages, memory, provider calls.

DESIGN.md: *Conversation* is the one container and *Message* the one entry; the seed classes
(``ConversationSession``, ``AgentSession``, ``Conversation``, ``ChatSession`` and their message
types) are faces of these records, converted by methods on the faces. Every store backend keeps
exactly these shapes. Pure types, no I/O.

Conventions: ids are strings (UUID4 text unless the caller supplies one); datetimes are aware UTC
(naive input = UTC); JSON fields hold plain JSON values (dict/list/str/int/float/bool/None).
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from convoledger.models.status import ConversationStatus
from convoledger.models.timeutil import UtcDatetime, utcnow

#: Version of the record shapes written by ``model_dump(mode="json")`` and export bundles.
SCHEMA_VERSION = "1.1"

PARTICIPANT_TYPES = frozenset({"user", "master_controller", "agent"})


def new_id() -> str:
    """A new random identifier (UUID4 text)."""
    return str(uuid.uuid4())


class ConversationKind(StrEnum):
    """Which seed face created a conversation (API filter ``kind``).

    - ``conversation``: the virtual-assistant ``Conversation`` (user, device, topic, goal);
    - ``conversation_session``: a multi-participant ``ConversationSession`` with a session_type;
    - ``agent_session``: a per-user ``AgentSession`` of the REST API;
    - ``chat_session``: a ``ChatSession`` of the multichat persistence seed.
    """

    CONVERSATION = "conversation"
    CONVERSATION_SESSION = "conversation_session"
    AGENT_SESSION = "agent_session"
    CHAT_SESSION = "chat_session"


class ParticipantRecord(BaseModel):
    """A participant of a conversation: id, type (user | master_controller | agent), role, metadata.

    Raises ``ValueError`` (pydantic ``ValidationError``) for an empty id, an unknown type, or an
    agent without a role (the conversation-models seed's rules).
    """

    model_config = ConfigDict(frozen=True)

    participant_id: str = Field(min_length=1)
    participant_type: str
    participant_role: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> ParticipantRecord:
        if self.participant_type not in PARTICIPANT_TYPES:
            raise ValueError(
                f"participant_type must be one of {sorted(PARTICIPANT_TYPES)}, got {self.participant_type!r}"
            )
        if self.participant_type == "agent" and not self.participant_role:
            raise ValueError("participant_role is required for agent participants")
        return self


class ConversationRecord(BaseModel):
    """The stored conversation (one row), whatever face created it.

    Fields: ``id`` (UUID text, used in API paths); ``owner_id`` (the account every read and write
    is scoped to); ``session_id`` (the caller's external id, unique per owner, optional);
    ``session_key`` (derived key of a multi-participant session, unique per owner, optional);
    ``kind`` and ``session_type``; descriptive fields; ``status``; ``participants``; JSON
    ``current_goal`` / ``metadata`` / ``server_state`` (the provider's latest server-side handle,
    e.g. ``{"provider": "openai", "previous_response_id": "resp_…"}``); ``message_count`` and
    ``last_seq`` maintained by the store; times in aware UTC (``last_activity_at`` = the latest
    message's own timestamp, else creation).
    """

    model_config = ConfigDict(validate_assignment=False)

    id: str = Field(default_factory=new_id, min_length=1)
    owner_id: str = Field(min_length=1)
    session_id: str | None = None
    session_key: str | None = None
    kind: ConversationKind = ConversationKind.AGENT_SESSION
    session_type: str | None = None
    name: str | None = None
    description: str | None = None
    agent_name: str | None = None
    agent_instructions: str | None = None
    user_id: str | None = None
    device_id: str | None = None
    topic: str | None = None
    current_goal: Any = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    server_state: dict[str, Any] | None = None
    status: ConversationStatus = ConversationStatus.ACTIVE
    participants: list[ParticipantRecord] = Field(default_factory=list)
    message_count: int = 0
    last_seq: int = 0
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)
    last_activity_at: UtcDatetime = Field(default_factory=utcnow)

    @property
    def is_active(self) -> bool:
        """True when ``status`` is ``active`` (appends are accepted)."""
        return self.status is ConversationStatus.ACTIVE


class MessageRecord(BaseModel):
    """The stored message (one row), whatever face wrote it.

    ``id`` may be supplied by the client (idempotent retries: the same id appended twice to the
    same conversation returns the first message). ``seq`` is assigned by the store: 1, 2, 3, …
    per conversation in commit order (0 until stored). ``role`` is ``user``/``assistant``/
    ``system``/``tool`` for chat faces, or the sender's participant type for agent messages.
    ``sender``/``recipient`` are participant ids (recipient ``None`` = broadcast).
    ``tool_calls`` is the OpenAI-style list of ``{"id", "type", "function": {"name",
    "arguments"}}``; a tool result names its call in ``tool_call_id``. ``token_count`` is
    computed once at write time (tokens, o200k_base). ``created_at`` is the caller's timestamp
    (imported history keeps its real times); ``redacted`` messages keep their envelope only.
    """

    id: str = Field(default_factory=new_id, min_length=1)
    conversation_id: str = ""
    seq: int = 0
    role: str = Field(min_length=1)
    content: str = ""
    sender: str | None = None
    recipient: str | None = None
    message_type: str | None = None
    tool_call_id: str | None = None
    tool_name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    extra_data: Any = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    token_count: int | None = None
    pinned: bool = False
    redacted: bool = False
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime | None = None

    @property
    def tool_call_ids(self) -> list[str]:
        """Ids of the tool calls this (assistant) message makes, in order."""
        return [str(c.get("id")) for c in (self.tool_calls or []) if c.get("id")]


class MemoryEntry(BaseModel):
    """A session-memory entry: ``key`` → JSON ``value`` for one conversation."""

    conversation_id: str
    key: str = Field(min_length=1)
    value: Any = None
    updated_at: UtcDatetime = Field(default_factory=utcnow)


class ProviderCallRecord(BaseModel):
    """One model call (seed: ProviderMetadata), a row of its own, linked to the message it produced.

    Usage in tokens; ``cost`` in ``currency`` (USD) as a decimal string-safe float, ``None`` when
    the model is unknown to the price data (``cost_note`` says why), ``provider_cost`` what the
    provider itself reported (OpenRouter ``usage.cost``). ``latency_ms`` in milliseconds.
    """

    id: str = Field(default_factory=new_id)
    conversation_id: str
    message_id: str | None = None
    provider: str
    api: str | None = None
    model: str | None = None
    identifiers: dict[str, Any] = Field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    total_tokens: int = 0
    usage_estimated: bool = False
    cost: float | None = None
    provider_cost: float | None = None
    currency: str = "USD"
    price_source: str | None = None
    cost_note: str | None = None
    latency_ms: float | None = None
    stop_reason: str | None = None
    error: Any = None
    raw_response: Any = None
    request: Any = None
    created_at: UtcDatetime = Field(default_factory=utcnow)
