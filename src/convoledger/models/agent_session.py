"""``AgentSession``, ``SessionMessage``, ``MessageRole`` and ``SessionState`` (agent sessions).

Source: the agent-session-management seed (a REST API over ``AgentSession`` / ``SessionMessage``
tables, "Agent Session Management" documentation: session attributes, message roles, the
``SessionState`` machine, ``/api/agent-sessions`` endpoints). Differences, on purpose:

- the session's life is ``status`` (``ConversationStatus``, the ledger's lifecycle);
  ``is_active`` is derived from it (and accepted as input: ``is_active=False`` = ``inactive``);
- ``SessionMessage.extra_data`` is the seed's JSON *text* (its ``Text`` column "Additional
  metadata as JSON"), so the seed's ``json.loads(message.extra_data)`` works: a string given on
  input must be JSON text (it is checked, and kept in the canonical ``json.dumps`` form); any
  other JSON value (a ``dict``, a list, a number, …) is accepted too and turned into its text.
  ``extra_data_value`` gives the parsed value. The stored ``MessageRecord`` holds the parsed
  value (so the API, search and export see JSON, not a quoted string);
- ``session_name`` is called ``name`` (both are accepted, and ``session_name`` stays readable).

Both are faces of the stored records: ``to_record`` / ``from_record``. Pure, no I/O.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from convoledger.models.records import (
    SCHEMA_VERSION,
    ConversationKind,
    ConversationRecord,
    MessageRecord,
    ParticipantRecord,
    new_id,
    new_message_id,
)
from convoledger.models.serialization import (
    IdText,
    JsonDict,
    UuidText,
    check_json_value,
    dump_datetime,
    migrate,
    parse_json_text,
    split_face_metadata,
    with_face_extras,
)
from convoledger.models.status import (
    ConversationStatus,
    InvalidTransition,
    LifecycleEvent,
    check_transition,
    make_transition,
    parse_status,
)
from convoledger.models.timeutil import UtcDatetime, utcnow

__all__ = ["AgentSession", "MessageRole", "SessionMessage", "SessionState"]

_S = ConversationStatus


class MessageRole(StrEnum):
    """Message roles of the seed (OpenAI chat format): ``user``, ``assistant``, ``system``, ``tool``."""

    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    TOOL = "tool"


class SessionState:
    """The seed's session state machine: ``active``, ``inactive``, ``terminated``.

    Seed table (``TRANSITIONS``): active → inactive | terminated; inactive → active | terminated;
    terminated → nothing. It is not kept as a second table here: each state maps onto a ledger
    status (``active``, ``inactive``, ``terminated`` = ``inactive_user_terminated``) and the
    allowed moves are derived from ``status.ALLOWED_TRANSITIONS`` — which gives exactly the
    seed's table. Use as in the seed: ``SessionState().can_transition("active", "inactive")``
    (also callable on the class).
    """

    ACTIVE = "active"
    INACTIVE = "inactive"
    TERMINATED = "terminated"
    STATES: ClassVar[tuple[str, ...]] = (ACTIVE, INACTIVE, TERMINATED)
    TRANSITIONS: ClassVar[dict[str, list[str]]]

    _TO_STATUS: ClassVar[dict[str, ConversationStatus]] = {
        ACTIVE: _S.ACTIVE,
        INACTIVE: _S.INACTIVE,
        TERMINATED: _S.INACTIVE_USER_TERMINATED,
    }

    @classmethod
    def to_status(cls, state: str) -> ConversationStatus:
        """The ledger status of a seed state (``terminated`` → ``inactive_user_terminated``).

        Raises ``ValueError`` for an unknown state.
        """
        try:
            return cls._TO_STATUS[state]
        except KeyError:
            raise ValueError(f"unknown session state {state!r}; expected one of {list(cls.STATES)}") from None

    @classmethod
    def from_status(cls, status: str | ConversationStatus) -> str:
        """The seed state of a ledger status: ``active``, ``inactive``, else ``terminated``
        (timeout, user/system termination and archived all end the session)."""
        st = parse_status(status)
        if st is _S.ACTIVE:
            return cls.ACTIVE
        if st is _S.INACTIVE:
            return cls.INACTIVE
        return cls.TERMINATED

    @classmethod
    def can_transition(cls, from_state: str, to_state: str) -> bool:
        """True if the seed allows ``from_state`` → ``to_state`` (unknown states: False)."""
        if from_state not in cls._TO_STATUS or to_state not in cls._TO_STATUS:
            return False
        try:
            check_transition(cls._TO_STATUS[from_state], cls._TO_STATUS[to_state])
        except InvalidTransition:
            return False
        return True


SessionState.TRANSITIONS = {
    s: [t for t in SessionState.STATES if SessionState.can_transition(s, t)] for s in SessionState.STATES
}


def guard_status_assignment(model: BaseModel, name: str, value: Any) -> None:
    """Refuse a direct ``status`` assignment that the lifecycle does not allow.

    Called from the faces' ``__setattr__``: assigning a different ``status`` runs
    ``check_transition`` (``InvalidTransition``); other names pass through.
    """
    if name == "status":
        current = getattr(model, "status", None)
        if current is not None and parse_status(value) is not current:
            check_transition(current, value)


class AgentSession(BaseModel):
    """A per-user agent session (seed: ``AgentSession``; the API's session resource).

    Fields: ``id`` (UUID text, used in API paths; default new), ``session_id`` (the caller's
    external id, 1–255 chars), ``name`` (≤ 255; alias ``session_name``), ``description``
    (≤ 1000), ``agent_name`` (≤ 255), ``agent_instructions``, ``status`` (default ``active``),
    ``user_id``, ``metadata`` (JSON object), ``message_count`` (≥ 0, kept by the store),
    ``created_at`` / ``updated_at`` / ``last_activity_at`` (aware UTC). Length limits are the
    seed's ``AgentSessionCreate`` schema. ``is_active`` is ``status == active``; passing
    ``is_active`` (seed) sets the status, and a contradicting ``status`` raises ``ValueError``.
    Assigning ``status`` directly is checked against the lifecycle (``InvalidTransition``).
    """

    model_config = ConfigDict(validate_assignment=True, populate_by_name=True)

    id: UuidText = Field(default_factory=new_id)
    session_id: str = Field(min_length=1, max_length=255)
    name: str | None = Field(
        default=None, max_length=255, validation_alias=AliasChoices("name", "session_name")
    )
    description: str | None = Field(default=None, max_length=1000)
    agent_name: str | None = Field(default=None, max_length=255)
    agent_instructions: str | None = None
    status: ConversationStatus = ConversationStatus.ACTIVE
    user_id: IdText | None = None
    metadata: JsonDict = Field(default_factory=dict)
    message_count: int = Field(default=0, ge=0)
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)
    last_activity_at: UtcDatetime = Field(default_factory=utcnow)

    @model_validator(mode="before")
    @classmethod
    def _is_active_input(cls, data: Any) -> Any:
        if isinstance(data, dict) and "is_active" in data:
            data = dict(data)
            flag = data.pop("is_active")
            if not isinstance(flag, bool):
                raise ValueError(f"is_active must be true or false, got {flag!r}")
            implied = ConversationStatus.ACTIVE if flag else ConversationStatus.INACTIVE
            given = data.get("status")
            if given is None:
                data["status"] = implied
            elif (parse_status(given) is ConversationStatus.ACTIVE) != flag:
                raise ValueError(f"is_active={flag} contradicts status={given!r}")
        return data

    def __setattr__(self, name: str, value: Any) -> None:
        guard_status_assignment(self, name, value)
        super().__setattr__(name, value)

    # -- seed names ----------------------------------------------------------------------------
    @property
    def is_active(self) -> bool:
        """True when ``status`` is ``active``. Setting it activates/deactivates (lifecycle-checked)."""
        return self.status is ConversationStatus.ACTIVE

    @is_active.setter
    def is_active(self, value: bool) -> None:
        if value != self.is_active:
            self.transition_to(ConversationStatus.ACTIVE if value else ConversationStatus.INACTIVE)

    @property
    def session_name(self) -> str | None:
        """The seed's name for ``name``."""
        return self.name

    @session_name.setter
    def session_name(self, value: str | None) -> None:
        self.name = value

    @property
    def state(self) -> str:
        """The seed's ``SessionState`` value of ``status``."""
        return SessionState.from_status(self.status)

    # -- lifecycle -----------------------------------------------------------------------------
    def transition_to(
        self,
        status: str | ConversationStatus,
        reason: str | None = None,
        *,
        actor: str | None = None,
        at: datetime | None = None,
    ) -> LifecycleEvent:
        """Move to ``status`` (DESIGN.md lifecycle) and return the ``LifecycleEvent``.

        Sets ``status`` and ``updated_at`` (= the event time). Raises ``InvalidTransition`` (a
        ``ValueError``) for an illegal move, e.g. ``active`` → ``archived``, and ``ValueError``
        for an unknown status.
        """
        event = make_transition(self.id, self.status, status, reason=reason, actor=actor, at=at)
        super().__setattr__("status", event.to_status)
        self.updated_at = event.at
        return event

    def activate(self, reason: str | None = None) -> LifecycleEvent | None:
        """``transition_to("active")``; None if already active (the seed's PUT …/activate)."""
        return None if self.is_active else self.transition_to(ConversationStatus.ACTIVE, reason)

    def deactivate(self, reason: str | None = None) -> LifecycleEvent | None:
        """``transition_to("inactive")``; None if already inactive (the seed's PUT …/deactivate)."""
        if self.status is ConversationStatus.INACTIVE:
            return None
        return self.transition_to(ConversationStatus.INACTIVE, reason)

    # -- the one stored model ------------------------------------------------------------------
    def to_record(self, owner_id: str = "local") -> ConversationRecord:
        """The stored ``ConversationRecord`` (kind ``agent_session``, ``id`` = ``id``).

        ``user_id`` also becomes a ``user`` participant.
        """
        participants = (
            [ParticipantRecord(participant_id=self.user_id, participant_type="user")] if self.user_id else []
        )
        return ConversationRecord(
            id=self.id,
            owner_id=owner_id,
            session_id=self.session_id,
            kind=ConversationKind.AGENT_SESSION,
            name=self.name,
            description=self.description,
            agent_name=self.agent_name,
            agent_instructions=self.agent_instructions,
            user_id=self.user_id,
            status=self.status,
            participants=participants,
            metadata=with_face_extras(self.metadata, "agent_session", {}),
            message_count=self.message_count,
            created_at=self.created_at,
            updated_at=self.updated_at,
            last_activity_at=self.last_activity_at,
        )

    @classmethod
    def from_record(cls, record: ConversationRecord) -> AgentSession:
        """The agent session stored in ``record`` (any kind: shared fields carry over;
        ``session_id`` falls back to the record ``id``). ``ValueError`` if ``id`` is not a UUID."""
        metadata, _ = split_face_metadata(record.metadata, "agent_session")
        return cls(
            id=record.id,
            session_id=record.session_id or record.id,
            name=record.name,
            description=record.description,
            agent_name=record.agent_name,
            agent_instructions=record.agent_instructions,
            status=record.status,
            user_id=record.user_id,
            metadata=metadata,
            message_count=record.message_count,
            created_at=record.created_at,
            updated_at=record.updated_at,
            last_activity_at=record.last_activity_at,
        )

    # -- plain JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The seed's export shape (``id``, ``session_id``, ``session_name``, ``description``,
        ``is_active``, ``agent_name``, ``agent_instructions``, ``created_at``, ``updated_at``)
        plus ``status``, ``user_id``, ``metadata``, ``message_count``, ``last_activity_at`` and
        ``schema_version``; times ISO 8601 UTC."""
        return {
            "id": self.id,
            "session_id": self.session_id,
            "session_name": self.name,
            "description": self.description,
            "is_active": self.is_active,
            "agent_name": self.agent_name,
            "agent_instructions": self.agent_instructions,
            "created_at": dump_datetime(self.created_at),
            "updated_at": dump_datetime(self.updated_at),
            "status": self.status.value,
            "user_id": self.user_id,
            "metadata": copy.deepcopy(self.metadata),
            "message_count": self.message_count,
            "last_activity_at": dump_datetime(self.last_activity_at),
            "schema_version": SCHEMA_VERSION,
        }

    @classmethod
    def from_dict(cls, data: Any) -> AgentSession:
        """Load a session dict of any supported version, including the seed's export ``session``
        object (``session_name`` / ``is_active``, no ``status``). ``ValueError`` for bad input."""
        d = migrate(data)
        d.pop("schema_version", None)
        return cls.model_validate(d)


def extra_data_text(value: Any, where: str = "extra_data") -> str | None:
    """The seed's JSON text for an ``extra_data`` input, or ``None``.

    ``None`` and the empty string (the seed reads ``json.loads(x) if x else None``) give
    ``None``; any other string must be JSON text (``ValueError`` naming ``where`` otherwise) and
    is returned in the canonical ``json.dumps`` form; any other value must be a plain JSON value
    (``ValueError`` otherwise) and is returned as its ``json.dumps`` text. The JSON text
    ``"null"`` gives ``None``.
    """
    parsed = extra_data_value(value, where)
    return None if parsed is None else json.dumps(parsed)


def extra_data_value(value: Any, where: str = "extra_data") -> Any:
    """The JSON value of an ``extra_data`` input: a string is JSON text and is parsed (``""`` →
    ``None``), anything else must be a plain JSON value. ``ValueError`` naming ``where``."""
    if isinstance(value, str):
        return parse_json_text(value, where) if value else None
    return check_json_value(value, where)


def _validate_extra_data(value: Any) -> str | None:
    return extra_data_text(value)


#: ``extra_data``: the seed's JSON text (``str | None``); a JSON value given on input becomes its text.
ExtraDataText = Annotated[str | None, BeforeValidator(_validate_extra_data)]

_ROLE_FROM_PARTICIPANT_TYPE = {"master_controller": MessageRole.ASSISTANT, "agent": MessageRole.ASSISTANT}


def chat_role(role: str) -> MessageRole:
    """The chat role of a stored message role: a ``MessageRole`` value as is; an agent face's
    sender type (``master_controller`` / ``agent``) → ``assistant``. ``ValueError`` otherwise."""
    if role in _ROLE_FROM_PARTICIPANT_TYPE:
        return _ROLE_FROM_PARTICIPANT_TYPE[role]
    try:
        return MessageRole(role)
    except ValueError:
        raise ValueError(
            f"message role {role!r} is not a chat role ({', '.join(r.value for r in MessageRole)})"
        ) from None


def check_message_content(role: MessageRole, content: str, tool_calls: list[dict[str, Any]] | None) -> None:
    """The seed's ``content`` rule (``min_length=1``), relaxed where chat APIs send no text.

    Empty content is allowed for an ``assistant`` message that makes ``tool_calls`` and for a
    ``tool`` result; otherwise ``ValueError``.
    """
    if not content and not (role is MessageRole.TOOL or (role is MessageRole.ASSISTANT and tool_calls)):
        raise ValueError(f"content cannot be empty for a message with role {role.value!r}")


class SessionMessage(BaseModel):
    """A message of an agent session (seed: ``SessionMessage``; the API's message resource).

    Fields: ``id`` (default new UUID; a client-supplied id makes appends idempotent),
    ``session_id`` (the ``AgentSession.id`` it belongs to, as in the seed), ``role``
    (:class:`MessageRole`), ``content``, ``tool_call_id`` / ``tool_name`` (≤ 255),
    ``tool_calls`` (OpenAI-style list of JSON objects), ``extra_data`` (the seed's JSON *text*,
    ``str | None``: ``json.loads(message.extra_data)`` gives the value, as in the seed's
    ``load_conversation_context``; a string input must be valid JSON text, ``ValueError``
    otherwise; a ``dict`` or other JSON value is accepted and becomes its ``json.dumps`` text),
    ``metadata``, ``seq`` (assigned by the store, 0 before), ``created_at`` / ``updated_at``
    (aware UTC). ``extra_data_value`` is the parsed value (``None`` when there is none).
    Rule: ``content`` is non-empty except for ``tool`` results and assistant tool calls.
    ``to_dict`` writes ``extra_data`` as the JSON value (the seed's export shape).
    """

    model_config = ConfigDict(validate_assignment=True)

    id: str = Field(default_factory=new_message_id, min_length=1)
    session_id: IdText = Field(min_length=1)
    role: MessageRole
    content: str = ""
    tool_call_id: str | None = Field(default=None, max_length=255)
    tool_name: str | None = Field(default=None, max_length=255)
    tool_calls: list[JsonDict] | None = None
    extra_data: ExtraDataText = None
    metadata: JsonDict = Field(default_factory=dict)
    seq: int = Field(default=0, ge=0)
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime | None = None

    @model_validator(mode="after")
    def _content_rule(self) -> SessionMessage:
        check_message_content(self.role, self.content, self.tool_calls)
        return self

    @property
    def extra_data_value(self) -> Any:
        """``extra_data`` parsed: the JSON value (``dict``, list, …) or ``None``."""
        return None if self.extra_data is None else json.loads(self.extra_data)

    # -- the one stored model ------------------------------------------------------------------
    def to_record(self) -> MessageRecord:
        """The stored ``MessageRecord`` (``conversation_id`` = ``session_id``, ``role`` value)."""
        return MessageRecord(
            id=self.id,
            conversation_id=self.session_id,
            seq=self.seq,
            role=self.role.value,
            content=self.content,
            tool_call_id=self.tool_call_id,
            tool_name=self.tool_name,
            tool_calls=copy.deepcopy(self.tool_calls),
            extra_data=self.extra_data_value,
            metadata=with_face_extras(self.metadata, "session_message", {}),
            created_at=self.created_at,
            updated_at=self.updated_at,
        )

    @classmethod
    def from_record(cls, msg: MessageRecord, session_id: str | None = None) -> SessionMessage:
        """The session message stored in ``msg``.

        ``session_id`` defaults to ``msg.conversation_id``. A record written by an agent face
        (role ``master_controller`` / ``agent``) becomes an ``assistant`` message; any other
        role that is not a :class:`MessageRole` raises ``ValueError``.
        """
        metadata, _ = split_face_metadata(msg.metadata, "session_message")
        return cls(
            id=msg.id,
            session_id=session_id or msg.conversation_id,
            role=chat_role(msg.role),
            content=msg.content,
            tool_call_id=msg.tool_call_id,
            tool_name=msg.tool_name,
            tool_calls=copy.deepcopy(msg.tool_calls),
            extra_data=None if msg.extra_data is None else json.dumps(msg.extra_data),
            metadata=metadata,
            seq=msg.seq,
            created_at=msg.created_at,
            updated_at=msg.updated_at,
        )

    # -- plain JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The seed's export shape (``id``, ``role``, ``content``, ``tool_call_id``,
        ``tool_name``, ``extra_data`` as a JSON value, ``created_at``, ``updated_at``) plus
        ``session_id``, ``tool_calls``, ``metadata``, ``seq`` and ``schema_version``."""
        return {
            "id": self.id,
            "role": self.role.value,
            "content": self.content,
            "tool_call_id": self.tool_call_id,
            "tool_name": self.tool_name,
            "extra_data": self.extra_data_value,
            "created_at": dump_datetime(self.created_at),
            "updated_at": dump_datetime(self.updated_at) if self.updated_at else None,
            "session_id": self.session_id,
            "tool_calls": copy.deepcopy(self.tool_calls),
            "metadata": copy.deepcopy(self.metadata),
            "seq": self.seq,
            "schema_version": SCHEMA_VERSION,
        }

    @classmethod
    def from_dict(cls, data: Any, session_id: str | None = None) -> SessionMessage:
        """Load a message dict of any supported version (``extra_data`` is the JSON value, as
        ``to_dict`` and the seed's export write it — a string there is a JSON string value, not
        JSON text). ``session_id`` fills a dict without one (the
        seed's export keeps it on the session). ``ValueError`` for bad input."""
        d = migrate(data)
        d.pop("schema_version", None)
        if session_id is not None and not d.get("session_id"):
            d["session_id"] = session_id
        if d.get("extra_data") is not None:
            d["extra_data"] = json.dumps(check_json_value(d["extra_data"], "extra_data"))
        return cls.model_validate(d)
