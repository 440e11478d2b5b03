"""The API's wire format: pydantic request and response models.

Requests forbid unknown fields (a typo is a 422 naming the field, not silently ignored).
Datetimes are ISO 8601 in aware UTC on the way out; naive input is taken as UTC (DESIGN.md
invariant 8). Message roles are the chat roles of the agent-session seed
(``models.agent_session.MessageRole``: user, assistant, system, tool; the enum's member names,
``USER`` …, are accepted in any case); ``message_type`` is one of the ten
``AgentCommunicationMessage`` types of the conversation-models seed
(``models.agent_messages.MessageType``), or null; session types are ``models.sessions.SessionType``.

The agent-session seed's names are accepted beside convoledger's and both are returned
(section 12 of the seed): ``session_name`` = ``name``; ``is_active`` ↔ ``status`` (writing
``is_active`` is an activate/deactivate lifecycle move). A message's ``extra_data`` given as a
string is the seed's JSON text (``"{\"key\": \"value\"}"``) and is stored as the JSON value
it holds; the API returns the value, as the seed's export does. Text limits follow the seed's
columns (``String(255)``) where it gives them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from convoledger.models.agent_messages import MessageType
from convoledger.models.agent_session import MessageRole, check_message_content, extra_data_value
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
ANY_ROLES: tuple[str, ...] = ("user", "assistant", "system", "tool", "master_controller", "agent")

MAX_PAGE_SIZE = 100
MAX_BATCH = 500
MAX_CONTENT_CHARS = 1_000_000


def _ident() -> Any:
    return Field(default=None, min_length=1, max_length=200)


def _text200() -> Any:
    return Field(default=None, max_length=200)


def _seed_ident() -> Any:
    """An identifier the seed stores in a ``String(255)`` column (session_id)."""
    return Field(default=None, min_length=1, max_length=255)


def _seed_text() -> Any:
    """Text the seed stores in a ``String(255)`` column (session_name, agent_name, tool names)."""
    return Field(default=None, max_length=255)


def _role_any_case(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


#: A message role: a ``MessageRole`` value or member name in any case (``user``, ``USER``).
RoleIn = Annotated[MessageRole, BeforeValidator(_role_any_case)]


def _one_name(name: str | None, session_name: str | None, given: set[str]) -> str | None:
    """``name`` and the seed's ``session_name`` are one field: either may be given, both only
    when equal (``ValueError`` otherwise)."""
    if "name" in given and "session_name" in given and name != session_name:
        raise ValueError(f"name ({name!r}) and session_name ({session_name!r}) disagree: give one of them")
    return session_name if "session_name" in given else name


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- sessions ----------------------------------------------------------------------------------
class SessionCreate(_Request):
    """Body of ``POST /api/agent-sessions``. ``session_id`` is the caller's external id (unique
    per account; ``409`` when taken). Multi-participant sessions (``kind`` conversation_session)
    are created through ``POST /api/sessions``, which derives their session_key.

    The seed's body (section 12: ``session_id``, ``session_name``, ``description``,
    ``agent_name``, ``agent_instructions``, ``is_active``) is accepted as is: ``session_name`` is
    ``name``; ``is_active: false`` creates the session ``inactive`` with the lifecycle event of
    that move (``Ledger.create_conversation``)."""

    session_id: str | None = _seed_ident()
    name: str | None = _seed_text()
    session_name: str | None = _seed_text()
    is_active: StrictBool = True
    description: str | None = Field(default=None, max_length=10_000)
    agent_name: str | None = _seed_text()
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
        _one_name(self.name, self.session_name, self.model_fields_set)
        return self

    def to_record(self, owner: str) -> ConversationRecord:
        """The ``ConversationRecord`` to store for ``owner`` (status from ``is_active``, times
        now). ``ValueError`` when ``name`` and ``session_name`` disagree."""
        data = self.model_dump(exclude={"session_name", "is_active"})
        data["name"] = _one_name(self.name, self.session_name, self.model_fields_set)
        status = ConversationStatus.ACTIVE if self.is_active else ConversationStatus.INACTIVE
        return ConversationRecord(owner_id=owner, status=status, **data)


class SessionUpdate(_Request):
    """Body of ``PATCH /api/agent-sessions/{session}``: only the fields given change (null clears
    a field). The seed's body (``session_name``, ``description``, ``is_active``) is accepted:
    ``is_active`` is an activate/deactivate lifecycle move (409 when the status machine forbids
    it; nothing when it already holds); any other status change goes through ``POST
    …/transition``."""

    session_id: str | None = _seed_ident()
    name: str | None = _seed_text()
    session_name: str | None = _seed_text()
    is_active: StrictBool | None = None
    description: str | None = Field(default=None, max_length=10_000)
    agent_name: str | None = _seed_text()
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
            if "status" in data:
                raise ValueError(
                    "'status' cannot be patched: use is_active, PUT …/activate, PUT …/deactivate "
                    "or POST …/transition"
                )
            if "is_active" in data and data["is_active"] is None:
                raise ValueError("is_active must be true or false, not null")
        return data

    @model_validator(mode="after")
    def _names(self) -> SessionUpdate:
        _one_name(self.name, self.session_name, self.model_fields_set)
        return self

    def changes(self) -> dict[str, Any]:
        """The descriptive fields the caller set, ready for ``Ledger.update_conversation``
        (``session_name`` as ``name``; ``is_active`` is not among them). ``ValueError`` when
        nothing at all was given, or ``name`` and ``session_name`` disagree."""
        data = self.model_dump(exclude_unset=True, exclude={"session_name", "is_active"})
        if "session_name" in self.model_fields_set:
            data["name"] = _one_name(self.name, self.session_name, self.model_fields_set)
        if "participants" in data:
            data["participants"] = self.participants or []
        if data.get("metadata", {}) is None:
            data["metadata"] = {}
        if not data and self.is_active is None:
            raise ValueError("nothing to update: give at least one field")
        return data


class SessionOut(BaseModel):
    """An agent session (any conversation of the account) as the API shows it: convoledger's
    fields plus the seed's names (``session_name`` = ``name``, ``is_active`` = status active)."""

    id: str
    session_id: str | None
    name: str | None
    session_name: str | None
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
    parent_id: str | None = Field(
        default=None, description="a branch: the session it was forked from (issue 17); else null"
    )
    forked_at_seq: int | None = Field(
        default=None, description="a branch: the parent's seq its shared history ends at; else null"
    )

    @classmethod
    def of(cls, record: ConversationRecord) -> SessionOut:
        """The resource for a stored conversation (the faces' internal metadata key hidden)."""
        data = record.model_dump(include=set(cls.model_fields) - {"is_active", "session_name"})
        data["metadata"] = {k: v for k, v in data["metadata"].items() if k != FACE_KEY}
        return cls(**data, is_active=record.is_active, session_name=record.name)


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
    """A message to append (the seed's body: ``role``, ``content``, ``tool_call_id``,
    ``tool_name``, ``extra_data``; ``extra_data`` may be the seed's JSON text).

    ``id`` is optional: give one to make retries idempotent (the same id twice in one session
    stores one message and returns it). Rules: ``tool`` messages name the call they answer in
    ``tool_call_id``; only ``assistant`` messages carry ``tool_calls``; ``content`` may be empty
    only for a tool result or an assistant message with tool calls. ``created_at`` defaults to
    now (give the real time when recording history).
    """

    # The rule "a tool message names its call" as JSON Schema (OpenAPI 3.1): role tool →
    # tool_call_id required. The other rules (tool_calls only on assistant messages, when content
    # may be empty) are checked by ``_rules`` and documented above.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "if": {"properties": {"role": {"const": "tool"}}, "required": ["role"]},
            "then": {"required": ["tool_call_id"], "properties": {"tool_call_id": {"type": "string"}}},
        },
    )

    id: str | None = _ident()
    role: RoleIn
    content: str = Field(default="", max_length=MAX_CONTENT_CHARS)
    sender: str | None = _text200()
    recipient: str | None = _text200()
    message_type: MessageType | None = None
    tool_call_id: str | None = _seed_text()
    tool_name: str | None = _seed_text()
    tool_calls: list[ToolCall] | None = Field(default=None, max_length=128)
    extra_data: Any = None
    created_at: UtcDatetime | None = None

    @field_validator("extra_data", mode="before")
    @classmethod
    def _extra_data(cls, value: Any) -> Any:
        return extra_data_value(value)

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
    """Body of ``PATCH …/messages/{message_id}``: new ``content`` and/or ``extra_data`` (the
    seed's ``{"content": "…", "extra_data": "{\"key\": \"value\"}"}``: a string is JSON text,
    stored as the value it holds; 422 when it is not valid JSON)."""

    content: str | None = Field(default=None, max_length=MAX_CONTENT_CHARS)
    extra_data: Any = None

    @field_validator("extra_data", mode="before")
    @classmethod
    def _extra_data(cls, value: Any) -> Any:
        return extra_data_value(value)

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
        """The resource for a stored message (read from the record's attributes in one
        validation, without an intermediate dict)."""
        return cls.model_validate(record, from_attributes=True)


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
    the configured agent answers. The seed's body (``messages``, ``session_id``,
    ``session_name``) is accepted as is; ``is_active`` may be given as ``true`` only (a turn
    needs an active session; an existing inactive one is a 409)."""

    session_id: str = Field(min_length=1, max_length=255)
    messages: list[MessageIn] = Field(min_length=1, max_length=100)
    agent_name: str | None = _seed_text()
    agent_instructions: str | None = Field(default=None, max_length=100_000)
    name: str | None = _seed_text()
    session_name: str | None = _seed_text()
    is_active: StrictBool = True
    description: str | None = Field(default=None, max_length=10_000)
    user_id: str | None = _text200()
    device_id: str | None = _text200()
    topic: str | None = Field(default=None, max_length=1000)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("is_active")
    @classmethod
    def _only_active(cls, value: bool) -> bool:
        if not value:
            raise ValueError("is_active must be true: a conversation turn needs an active session")
        return value

    @model_validator(mode="after")
    def _names(self) -> ConversationIn:
        _one_name(self.name, self.session_name, self.model_fields_set)
        return self

    def to_record(self, owner: str) -> ConversationRecord:
        """The session to create when ``session_id`` is new (``session_name`` as ``name``)."""
        data = self.model_dump(exclude={"messages", "session_name", "is_active"})
        data["name"] = _one_name(self.name, self.session_name, self.model_fields_set)
        return ConversationRecord(owner_id=owner, **data)


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
    """``GET /api/stats``: the account's sessions and messages.

    The seed's keys (section 9 ``get_session_statistics``, scoped to the caller's account as the
    seed scopes to ``user_id``): ``total_sessions``, ``active_sessions``, ``total_messages``,
    ``average_messages_per_session`` (``total_messages / total_sessions``, 0.0 without
    sessions) and ``sessions_with_conversations`` — the sessions holding at least one message.
    (The seed's own expression counts *every* session as soon as any session has a message; the
    meaningful count is given instead.) convoledger's keys: ``sessions`` and ``messages`` (the
    same counts under their earlier names), ``by_status``, ``by_kind``.
    """

    total_sessions: int
    active_sessions: int
    total_messages: int
    average_messages_per_session: float
    sessions_with_conversations: int
    sessions: int
    messages: int
    by_status: dict[str, int]
    by_kind: dict[str, int]


class HealthFactor(BaseModel):
    """One deduction from the health score: ``name``, ``penalty`` (points), ``detail``."""

    name: str
    penalty: int
    detail: str


class HealthOut(BaseModel):
    """``GET …/{session}/health``.

    The seed's keys (section 13 ``monitor_session_health``, computed by the seed's
    ``calculate_health_score`` / ``generate_recommendations`` in ``models.session_health``):
    ``session_id`` (the session's id, the UUID the seed's path carries), ``is_active``,
    ``message_count``, ``hours_inactive`` (hours since the newest message's ``created_at``,
    else the session's ``updated_at``), ``health_score`` (0–100) and ``recommendations`` (the
    seed's texts).

    convoledger's own report (``api.health``): ``score`` 0–100, ``grade`` (healthy ≥ 80,
    warning ≥ 50, else critical), the ``factors`` that lowered it, ``actions`` (what to do about
    them), ``metrics``; plus ``id``, ``external_session_id`` (the caller's ``session_id``),
    ``status`` and ``computed_at``.
    """

    session_id: str
    is_active: bool
    message_count: int
    hours_inactive: float
    health_score: float
    recommendations: list[str]
    id: str
    external_session_id: str | None
    status: ConversationStatus
    score: int
    grade: Literal["healthy", "warning", "critical"]
    factors: list[HealthFactor]
    actions: list[str]
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
        data = record.model_dump(include=set(cls.model_fields) - {"is_active", "session_name"})
        data["metadata"] = {k: v for k, v in data["metadata"].items() if k != FACE_KEY}
        base = face_extras(record.metadata, "conversation_session").get("session_id")
        if isinstance(base, str) and base:
            data["session_id"] = base
        return cls(**data, is_active=record.is_active, session_name=record.name)


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


# -- forks (issue 17) ----------------------------------------------------------------------------
class ForkIn(_Request):
    """Body of ``POST /api/agent-sessions/{session}/fork``: the parent's seq to fork at
    (default: its last seq), and optionally the branch's external ``session_id`` and ``name``
    (default: the parent's name)."""

    at_seq: int | None = Field(
        default=None, ge=1, le=2**63 - 1, description="fork point: a seq of the parent, 1..last_seq"
    )
    session_id: str | None = _ident()
    name: str | None = _text200()


class BranchesOut(BaseModel):
    """The sessions forked directly from one session, oldest first."""

    items: list[SessionOut]
    total: int
