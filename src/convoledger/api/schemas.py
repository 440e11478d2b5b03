"""The API's wire format: pydantic request and response models.

Requests forbid unknown fields (a typo is a 422 naming the field, not silently ignored).
Datetimes are ISO 8601 in aware UTC on the way out; naive input is taken as UTC (DESIGN.md
invariant 8). Message roles are the chat roles of the agent-session seed
(``models.agent_session.MessageRole``: user, assistant, system, tool); ``message_type`` is one
of the ten ``AgentCommunicationMessage`` types of the conversation-models seed
(``models.agent_messages.MessageType``), or null; session types are ``models.sessions.SessionType``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from convoledger.models.agent_messages import MessageType
from convoledger.models.agent_session import MessageRole, check_message_content
from convoledger.models.records import (
    ConversationKind,
    ConversationRecord,
    MemoryEntry,
    MessageRecord,
    ParticipantRecord,
    new_message_id,
)
from convoledger.models.serialization import FACE_KEY, face_extras
from convoledger.models.sessions import SessionType
from convoledger.models.status import ConversationStatus, LifecycleEvent
from convoledger.models.timeutil import UtcDatetime, utcnow

#: Participant types, used as the role of multi-participant messages (conversation-models seed).
PARTICIPANT_ROLES: tuple[str, ...] = ("user", "master_controller", "agent")
#: Roles a message list may be filtered by: chat roles and participant types.
AnyRole = Literal["user", "assistant", "system", "tool", "master_controller", "agent"]

MAX_PAGE_SIZE = 100
MAX_BATCH = 500
MAX_CONTENT_CHARS = 1_000_000


def _ident() -> Any:
    return Field(default=None, min_length=1, max_length=200)


def _text200() -> Any:
    return Field(default=None, max_length=200)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- sessions ----------------------------------------------------------------------------------
class SessionCreate(_Request):
    """Body of ``POST /api/agent-sessions``. ``session_id`` is the caller's external id (unique
    per account; ``409`` when taken). Multi-participant sessions (``kind`` conversation_session)
    are created through ``POST /api/sessions``, which derives their session_key."""

    session_id: str | None = _ident()
    name: str | None = _text200()
    description: str | None = Field(default=None, max_length=10_000)
    agent_name: str | None = _text200()
    agent_instructions: str | None = Field(default=None, max_length=100_000)
    kind: ConversationKind = ConversationKind.AGENT_SESSION
    participants: list[ParticipantRecord] = Field(default_factory=list, max_length=100)
    user_id: str | None = _text200()
    device_id: str | None = _text200()
    topic: str | None = Field(default=None, max_length=1000)
    current_goal: Any = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _kind(self) -> SessionCreate:
        if self.kind is ConversationKind.CONVERSATION_SESSION:
            raise ValueError(
                "multi-participant sessions (kind 'conversation_session') are created with POST /api/sessions"
            )
        return self

    def to_record(self, owner: str) -> ConversationRecord:
        """The ``ConversationRecord`` to store for ``owner`` (status active, times now)."""
        return ConversationRecord(owner_id=owner, **self.model_dump())


class SessionUpdate(_Request):
    """Body of ``PATCH /api/agent-sessions/{session}``: only the fields given change (null clears
    a field). Status changes go through ``activate``/``deactivate``/``transition``."""

    session_id: str | None = _ident()
    name: str | None = _text200()
    description: str | None = Field(default=None, max_length=10_000)
    agent_name: str | None = _text200()
    agent_instructions: str | None = Field(default=None, max_length=100_000)
    participants: list[ParticipantRecord] | None = Field(default=None, max_length=100)
    user_id: str | None = _text200()
    device_id: str | None = _text200()
    topic: str | None = Field(default=None, max_length=1000)
    current_goal: Any = None
    metadata: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_status(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in ("status", "is_active"):
                if key in data:
                    raise ValueError(
                        f"{key!r} cannot be patched: use PUT …/activate, PUT …/deactivate "
                        "or POST …/transition"
                    )
        return data

    def changes(self) -> dict[str, Any]:
        """The fields the caller set, ready for ``Ledger.update_conversation``; ``ValueError``
        when none was given."""
        data = self.model_dump(exclude_unset=True)
        if "participants" in data:
            data["participants"] = self.participants or []
        if data.get("metadata", {}) is None:
            data["metadata"] = {}
        if not data:
            raise ValueError("nothing to update: give at least one field")
        return data


class SessionOut(BaseModel):
    """An agent session (any conversation of the account) as the API shows it."""

    id: str
    session_id: str | None
    name: str | None
    description: str | None
    agent_name: str | None
    agent_instructions: str | None
    status: ConversationStatus
    is_active: bool
    kind: ConversationKind
    participants: list[ParticipantRecord]
    user_id: str | None
    device_id: str | None
    topic: str | None
    current_goal: Any
    metadata: dict[str, Any]
    message_count: int
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime

    @classmethod
    def of(cls, record: ConversationRecord) -> SessionOut:
        """The resource for a stored conversation (the faces' internal metadata key hidden)."""
        data = record.model_dump(include=set(cls.model_fields) - {"is_active"})
        data["metadata"] = {k: v for k, v in data["metadata"].items() if k != FACE_KEY}
        return cls(**data, is_active=record.is_active)


class SessionsPage(BaseModel):
    """A page of sessions."""

    items: list[SessionOut]
    total: int
    page: int
    size: int


class ReasonIn(_Request):
    """Optional body of ``activate``/``deactivate``: why (kept in the lifecycle event)."""

    reason: str | None = Field(default=None, max_length=1000)


class TransitionIn(_Request):
    """Body of ``POST …/transition``: the target ``status`` and an optional ``reason``."""

    status: ConversationStatus
    reason: str | None = Field(default=None, max_length=1000)


class LifecycleEventOut(BaseModel):
    """One recorded status change."""

    from_status: ConversationStatus
    to_status: ConversationStatus
    reason: str | None
    actor: str | None
    at: datetime

    @classmethod
    def of(cls, event: LifecycleEvent) -> LifecycleEventOut:
        """The resource for a stored lifecycle event."""
        return cls(**event.model_dump(exclude={"conversation_id"}))


class EventsOut(BaseModel):
    """The lifecycle events of a session, oldest first (not paged: one per status change)."""

    items: list[LifecycleEventOut]
    total: int


# -- messages ----------------------------------------------------------------------------------
class ToolFunction(BaseModel):
    """``function`` of an OpenAI-style tool call: its ``name`` and JSON ``arguments`` text."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)
    arguments: str = "{}"


class ToolCall(BaseModel):
    """An OpenAI-style tool call ``{"id", "type": "function", "function": {...}}``."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    type: str = "function"
    function: ToolFunction


class MessageIn(_Request):
    """A message to append.

    ``id`` is optional: give one to make retries idempotent (the same id twice in one session
    stores one message and returns it). Rules: ``tool`` messages name the call they answer in
    ``tool_call_id``; only ``assistant`` messages carry ``tool_calls``; ``content`` may be empty
    only for a tool result or an assistant message with tool calls. ``created_at`` defaults to
    now (give the real time when recording history).
    """

    id: str | None = _ident()
    role: MessageRole
    content: str = Field(default="", max_length=MAX_CONTENT_CHARS)
    sender: str | None = _text200()
    recipient: str | None = _text200()
    message_type: MessageType | None = None
    tool_call_id: str | None = _text200()
    tool_name: str | None = _text200()
    tool_calls: list[ToolCall] | None = Field(default=None, max_length=128)
    extra_data: Any = None
    created_at: UtcDatetime | None = None

    @model_validator(mode="after")
    def _rules(self) -> MessageIn:
        if self.role is MessageRole.TOOL and not self.tool_call_id:
            raise ValueError("a 'tool' message needs tool_call_id (the id of the call it answers)")
        if self.tool_calls and self.role is not MessageRole.ASSISTANT:
            raise ValueError(f"only 'assistant' messages may carry tool_calls, not {self.role.value!r}")
        check_message_content(self.role, self.content, [c.model_dump() for c in self.tool_calls or []])
        return self

    def to_record(self) -> MessageRecord:
        """The ``MessageRecord`` to append (new id when none was given)."""
        data = self.model_dump(exclude={"tool_calls", "created_at", "id", "role"})
        return MessageRecord(
            id=self.id or new_message_id(),
            role=self.role.value,
            tool_calls=None
            if self.tool_calls is None
            else [c.model_dump(mode="json") for c in self.tool_calls],
            created_at=self.created_at or utcnow(),
            **data,
        )


class MessageBatchIn(_Request):
    """Body of ``POST …/messages/batch``: up to 500 messages, stored all or none."""

    messages: list[MessageIn] = Field(min_length=1, max_length=MAX_BATCH)


class MessagePatch(_Request):
    """Body of ``PATCH …/messages/{message_id}``: new ``content`` and/or ``extra_data``."""

    content: str | None = Field(default=None, max_length=MAX_CONTENT_CHARS)
    extra_data: Any = None

    def changes(self) -> dict[str, Any]:
        """The fields given; ``ValueError`` when none, or when ``content`` is null."""
        data = self.model_dump(exclude_unset=True)
        if not data:
            raise ValueError("nothing to update: give content and/or extra_data")
        if "content" in data and data["content"] is None:
            raise ValueError("content cannot be null (use an empty string, or redact the message)")
        return data


class RedactIn(_Request):
    """Optional body of ``POST …/messages/{message_id}/redact``: the replacement ``marker``."""

    marker: str = Field(default="[redacted]", min_length=1, max_length=200)


class MessageOut(BaseModel):
    """A stored message."""

    id: str
    seq: int
    role: str
    content: str
    sender: str | None
    recipient: str | None
    message_type: str | None
    tool_call_id: str | None
    tool_name: str | None
    tool_calls: list[dict[str, Any]] | None
    extra_data: Any
    token_count: int | None
    redacted: bool = False
    created_at: datetime
    updated_at: datetime | None

    @classmethod
    def of(cls, record: MessageRecord) -> MessageOut:
        """The resource for a stored message."""
        return cls(**record.model_dump(include=set(cls.model_fields)))


class MessagesPage(BaseModel):
    """A page of messages, oldest first."""

    items: list[MessageOut]
    total: int
    page: int
    size: int


class DeletedCount(BaseModel):
    """How many messages ``clear-messages`` deleted."""

    deleted_count: int


# -- conversation turn -------------------------------------------------------------------------
class ConversationIn(_Request):
    """Body of ``POST /api/agent-sessions/conversation``: the caller's ``session_id`` (created
    when new, with the descriptive fields given here), the ``messages`` to append (1–100), then
    the configured agent answers."""

    session_id: str = Field(min_length=1, max_length=200)
    messages: list[MessageIn] = Field(min_length=1, max_length=100)
    agent_name: str | None = _text200()
    agent_instructions: str | None = Field(default=None, max_length=100_000)
    name: str | None = _text200()
    description: str | None = Field(default=None, max_length=10_000)
    user_id: str | None = _text200()
    device_id: str | None = _text200()
    topic: str | None = Field(default=None, max_length=1000)
    metadata: dict[str, Any] = Field(default_factory=dict)

    def to_record(self, owner: str) -> ConversationRecord:
        """The session to create when ``session_id`` is new."""
        return ConversationRecord(owner_id=owner, **self.model_dump(exclude={"messages"}))


class ConversationOut(BaseModel):
    """Result of a conversation turn: ``session_uuid`` is the session's ``id`` (for paths),
    ``response`` the agent's reply text, ``messages_count`` the session's message count after it."""

    session_id: str
    session_uuid: str
    response: str
    messages_count: int
    session_active: bool


# -- memory ------------------------------------------------------------------------------------
class MemoryValueIn(_Request):
    """Body of ``PUT …/memory/{key}``: any JSON ``value`` (null included)."""

    value: Any


class MemoryEntryOut(BaseModel):
    """One session-memory entry."""

    key: str
    value: Any
    updated_at: datetime

    @classmethod
    def of(cls, entry: MemoryEntry) -> MemoryEntryOut:
        """The resource for a stored memory entry."""
        return cls(key=entry.key, value=entry.value, updated_at=entry.updated_at)


class MemoryPage(BaseModel):
    """A page of memory entries, ordered by key."""

    items: list[MemoryEntryOut]
    total: int
    page: int
    size: int


# -- stats and health --------------------------------------------------------------------------
class StatsOut(BaseModel):
    """``GET /api/stats``: the account's sessions and messages. ``average_messages_per_session``
    is ``messages / sessions`` (0.0 without sessions)."""

    sessions: int
    active_sessions: int
    messages: int
    average_messages_per_session: float
    by_status: dict[str, int]
    by_kind: dict[str, int]


class HealthFactor(BaseModel):
    """One deduction from the health score: ``name``, ``penalty`` (points), ``detail``."""

    name: str
    penalty: int
    detail: str


class HealthOut(BaseModel):
    """``GET …/{session}/health``: ``score`` 0–100, ``grade`` (healthy ≥ 80, warning ≥ 50,
    else critical), the factors that lowered it, recommendations, and the measured metrics."""

    id: str
    session_id: str | None
    status: ConversationStatus
    score: int
    grade: Literal["healthy", "warning", "critical"]
    factors: list[HealthFactor]
    recommendations: list[str]
    metrics: dict[str, Any]
    computed_at: datetime


# -- multi-participant sessions ----------------------------------------------------------------
class ConversationSessionIn(_Request):
    """Body of ``POST /api/sessions``: a multi-participant ``ConversationSession`` (seed rules:
    non-empty ``session_id`` and ``participants``; the ``session_type`` decides which
    participant types must be present). Its ``session_key`` is derived from these."""

    session_id: str = Field(min_length=1, max_length=200)
    participants: list[ParticipantRecord] = Field(min_length=1, max_length=100)
    session_type: SessionType
    key_style: Literal["seed", "structured"] = Field(
        default="seed",
        description="'seed': the seed's key string (e.g. session_002_mc_to_data_analyst); 'structured': "
        "the collision-free SessionKey text (sk1:…), for sessions whose agents share a role",
    )
    metadata: dict[str, Any] = Field(default_factory=dict)
    name: str | None = _text200()
    description: str | None = Field(default=None, max_length=10_000)
    topic: str | None = Field(default=None, max_length=1000)
    current_goal: Any = None


class ConversationSessionOut(SessionOut):
    """A multi-participant session: the session fields plus ``session_type`` and ``session_key``."""

    session_type: str | None
    session_key: str | None

    @classmethod
    def of(cls, record: ConversationRecord) -> ConversationSessionOut:
        """The resource for a stored conversation; ``session_id`` is the seed's base session id
        (several channels share it), ``session_key`` the channel's own key."""
        data = record.model_dump(include=set(cls.model_fields) - {"is_active"})
        data["metadata"] = {k: v for k, v in data["metadata"].items() if k != FACE_KEY}
        base = face_extras(record.metadata, "conversation_session").get("session_id")
        if isinstance(base, str) and base:
            data["session_id"] = base
        return cls(**data, is_active=record.is_active)


class ConversationSessionsPage(BaseModel):
    """A page of multi-participant sessions."""

    items: list[ConversationSessionOut]
    total: int
    page: int
    size: int


class AgentMessageIn(_Request):
    """Body of ``POST /api/sessions/{session_key}/messages``: an ``AgentCommunicationMessage``
    (seed fields; the sender's and recipient's types and roles come from the session's
    participants). ``sender_id`` and ``recipient_id`` must both be participants of the session;
    ``content`` non-empty; ``message_type`` one of the ten seed types. A given ``message_id``
    makes retries idempotent."""

    message_id: str | None = _ident()
    sender_id: str = Field(min_length=1, max_length=200)
    recipient_id: str = Field(min_length=1, max_length=200)
    content: str = Field(min_length=1, max_length=MAX_CONTENT_CHARS)
    message_type: MessageType
    metadata: dict[str, Any] = Field(default_factory=dict)
    timestamp: UtcDatetime | None = None
