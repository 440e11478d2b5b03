"""``Conversation`` and ``ConversationTurn``: the virtual-assistant seed's dialogue records.

Source: the virtual-assistant seed "Data Model: Conversation" (conversation_id UUID, user_id,
device_id nullable, start/last-activity timestamps, status with default ``active``, topic,
current_goal JSON, metadata; "an ``active`` conversation doesn't directly jump to ``archived``
without an ``inactive_`` state"). That seed only names ``ConversationTurn`` ("one for each user
input and VA response"); its fields here are ours: speaker, text, time, the NLU ``intent`` and
``slots``, tool-call fields, metadata. Faces of ``ConversationRecord`` / ``MessageRecord``.
Pure, no I/O.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from convoledger.models.agent_session import (
    MessageRole,
    chat_role,
    check_message_content,
    guard_status_assignment,
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
    JsonValue,
    UuidText,
    dump_datetime,
    migrate,
    split_face_metadata,
    with_face_extras,
)
from convoledger.models.status import ConversationStatus, LifecycleEvent, make_transition
from convoledger.models.timeutil import UtcDatetime, utcnow

__all__ = ["Conversation", "ConversationTurn"]


class Conversation(BaseModel):
    """One dialogue session between a user and the virtual assistant (seed "Data Model: Conversation").

    Fields: ``conversation_id`` (UUID text; ``uuid.UUID`` accepted; default new),
    ``user_id`` (required, non-empty), ``device_id`` (nullable: a VA-initiated conversation has
    none), ``start_timestamp`` / ``last_activity_timestamp`` (aware UTC; naive = UTC; default
    now), ``status`` (``ConversationStatus``, default ``active``), ``topic``, ``current_goal``
    (any JSON value, e.g. ``{"name": "book_flight", "status": "slot_filling"}``), ``metadata``
    (JSON object). Status changes go through :meth:`transition_to`; assigning ``status``
    directly is checked the same way (``InvalidTransition``, a ``ValueError``).
    """

    model_config = ConfigDict(validate_assignment=True)

    conversation_id: UuidText = Field(default_factory=new_id)
    user_id: IdText = Field(min_length=1)
    device_id: IdText | None = None
    start_timestamp: UtcDatetime = Field(default_factory=utcnow)
    last_activity_timestamp: UtcDatetime = Field(default_factory=utcnow)
    status: ConversationStatus = ConversationStatus.ACTIVE
    topic: str | None = None
    current_goal: JsonValue = None
    metadata: JsonDict = Field(default_factory=dict)

    def __setattr__(self, name: str, value: Any) -> None:
        guard_status_assignment(self, name, value)
        super().__setattr__(name, value)

    @property
    def is_active(self) -> bool:
        """True when ``status`` is ``active``."""
        return self.status is ConversationStatus.ACTIVE

    def transition_to(
        self,
        status: str | ConversationStatus,
        reason: str | None = None,
        *,
        actor: str | None = None,
        at: datetime | None = None,
    ) -> LifecycleEvent:
        """Move to ``status`` and return the ``LifecycleEvent`` (from, to, reason, actor, time).

        Enforces the lifecycle of DESIGN.md (``status.ALLOWED_TRANSITIONS``): e.g. ``active`` →
        ``archived`` raises ``InvalidTransition`` (a ``ValueError``) and changes nothing; an
        unknown status raises ``ValueError``. On success sets ``status`` and
        ``last_activity_timestamp`` (= the event time, ``at`` or now).
        """
        event = make_transition(self.conversation_id, self.status, status, reason=reason, actor=actor, at=at)
        super().__setattr__("status", event.to_status)
        self.last_activity_timestamp = event.at
        return event

    def touch(self, at: datetime | None = None) -> None:
        """Record activity: ``last_activity_timestamp`` = ``at`` (default now)."""
        self.last_activity_timestamp = at if at is not None else utcnow()

    # -- the one stored model ------------------------------------------------------------------
    def to_record(self, owner_id: str = "local") -> ConversationRecord:
        """The stored ``ConversationRecord`` (kind ``conversation``, ``id`` = ``conversation_id``,
        ``created_at`` = ``start_timestamp``, ``last_activity_at`` / ``updated_at`` =
        ``last_activity_timestamp``); the user is also a ``user`` participant."""
        return ConversationRecord(
            id=self.conversation_id,
            owner_id=owner_id,
            kind=ConversationKind.CONVERSATION,
            user_id=self.user_id,
            device_id=self.device_id,
            topic=self.topic,
            current_goal=copy.deepcopy(self.current_goal),
            metadata=with_face_extras(self.metadata, "conversation", {}),
            status=self.status,
            participants=[ParticipantRecord(participant_id=self.user_id, participant_type="user")],
            created_at=self.start_timestamp,
            updated_at=self.last_activity_timestamp,
            last_activity_at=self.last_activity_timestamp,
        )

    @classmethod
    def from_record(cls, record: ConversationRecord) -> Conversation:
        """The conversation stored in ``record`` (any kind; shared fields carry over).

        ``user_id`` is the record's ``user_id``, else its first ``user`` participant, else its
        owner. Raises ``ValueError`` if the record ``id`` is not a UUID.
        """
        user_id = record.user_id or next(
            (p.participant_id for p in record.participants if p.participant_type == "user"), record.owner_id
        )
        metadata, _ = split_face_metadata(record.metadata, "conversation")
        return cls(
            conversation_id=record.id,
            user_id=user_id,
            device_id=record.device_id,
            start_timestamp=record.created_at,
            last_activity_timestamp=record.last_activity_at,
            status=record.status,
            topic=record.topic,
            current_goal=copy.deepcopy(record.current_goal),
            metadata=metadata,
        )

    # -- plain JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """All seed fields (times ISO 8601 UTC, ``status`` as text) plus ``schema_version``."""
        return {
            "conversation_id": self.conversation_id,
            "user_id": self.user_id,
            "device_id": self.device_id,
            "start_timestamp": dump_datetime(self.start_timestamp),
            "last_activity_timestamp": dump_datetime(self.last_activity_timestamp),
            "status": self.status.value,
            "topic": self.topic,
            "current_goal": copy.deepcopy(self.current_goal),
            "metadata": copy.deepcopy(self.metadata),
            "schema_version": SCHEMA_VERSION,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Conversation:
        """Load a conversation dict of any supported version (``ValueError`` for bad input)."""
        d = migrate(data)
        d.pop("schema_version", None)
        return cls.model_validate(d)


class ConversationTurn(BaseModel):
    """One turn of a ``Conversation``: a user input, a VA response, or a tool call/result.

    Fields: ``conversation_id`` (the ``Conversation``'s id), ``speaker`` (``MessageRole``:
    ``user`` | ``assistant`` | ``system`` | ``tool``; also readable as ``role``), ``text``
    (also ``content``), ``turn_id`` (default new UUID), ``timestamp`` (aware UTC), ``sender``
    (participant id, e.g. the user's), ``intent`` and ``slots`` (the NLU reading of a user
    turn, e.g. ``"FindRestaurants"``, ``{"city": ["San Jose"]}``), ``tool_call_id`` /
    ``tool_name`` / ``tool_calls`` (as in ``MessageRecord``), ``metadata``.
    Rule: ``text`` is non-empty except for tool results and assistant tool calls (``ValueError``).
    Stored as a ``MessageRecord``: ``intent``/``slots`` go to ``extra_data``.
    """

    model_config = ConfigDict(validate_assignment=True)

    conversation_id: IdText = Field(min_length=1)
    speaker: MessageRole
    text: str = ""
    turn_id: str = Field(default_factory=new_message_id, min_length=1)
    timestamp: UtcDatetime = Field(default_factory=utcnow)
    sender: str | None = None
    intent: str | None = None
    slots: JsonDict = Field(default_factory=dict)
    tool_call_id: str | None = None
    tool_name: str | None = None
    tool_calls: list[JsonDict] | None = None
    metadata: JsonDict = Field(default_factory=dict)

    @model_validator(mode="after")
    def _text_rule(self) -> ConversationTurn:
        check_message_content(self.speaker, self.text, self.tool_calls)
        return self

    @property
    def role(self) -> MessageRole:
        """The chat-format name of ``speaker``."""
        return self.speaker

    @property
    def content(self) -> str:
        """The chat-format name of ``text``."""
        return self.text

    # -- the one stored model ------------------------------------------------------------------
    def to_record(self) -> MessageRecord:
        """The stored ``MessageRecord`` (``id`` = ``turn_id``, ``role`` = speaker, ``content`` =
        text, ``created_at`` = timestamp, ``extra_data`` = ``{"intent", "slots"}`` when either
        is set, else None)."""
        extra = (
            {"intent": self.intent, "slots": copy.deepcopy(self.slots)} if self.intent or self.slots else None
        )
        return MessageRecord(
            id=self.turn_id,
            conversation_id=self.conversation_id,
            role=self.speaker.value,
            content=self.text,
            sender=self.sender,
            tool_call_id=self.tool_call_id,
            tool_name=self.tool_name,
            tool_calls=copy.deepcopy(self.tool_calls),
            extra_data=extra,
            metadata=with_face_extras(self.metadata, "conversation_turn", {}),
            created_at=self.timestamp,
        )

    @classmethod
    def from_record(cls, msg: MessageRecord, conversation_id: str | None = None) -> ConversationTurn:
        """The turn stored in ``msg`` (``conversation_id`` defaults to the record's).

        ``intent``/``slots`` are read from a dict ``extra_data`` when well-typed. Agent-face
        roles (``master_controller`` / ``agent``) become ``assistant``; other non-chat roles
        raise ``ValueError``.
        """
        extra = msg.extra_data if isinstance(msg.extra_data, dict) else {}
        intent = extra.get("intent") if isinstance(extra.get("intent"), str) else None
        slots = extra.get("slots") if isinstance(extra.get("slots"), dict) else {}
        metadata, _ = split_face_metadata(msg.metadata, "conversation_turn")
        return cls(
            conversation_id=conversation_id or msg.conversation_id,
            speaker=chat_role(msg.role),
            text=msg.content,
            turn_id=msg.id,
            timestamp=msg.created_at,
            sender=msg.sender,
            intent=intent,
            slots=copy.deepcopy(slots),
            tool_call_id=msg.tool_call_id,
            tool_name=msg.tool_name,
            tool_calls=copy.deepcopy(msg.tool_calls),
            metadata=metadata,
        )

    # -- plain JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """All fields (``timestamp`` ISO 8601 UTC, ``speaker`` as text) plus ``schema_version``."""
        return {
            "turn_id": self.turn_id,
            "conversation_id": self.conversation_id,
            "speaker": self.speaker.value,
            "text": self.text,
            "timestamp": dump_datetime(self.timestamp),
            "sender": self.sender,
            "intent": self.intent,
            "slots": copy.deepcopy(self.slots),
            "tool_call_id": self.tool_call_id,
            "tool_name": self.tool_name,
            "tool_calls": copy.deepcopy(self.tool_calls),
            "metadata": copy.deepcopy(self.metadata),
            "schema_version": SCHEMA_VERSION,
        }

    @classmethod
    def from_dict(cls, data: Any) -> ConversationTurn:
        """Load a turn dict of any supported version (``ValueError`` for bad input)."""
        d = migrate(data)
        d.pop("schema_version", None)
        return cls.model_validate(d)
