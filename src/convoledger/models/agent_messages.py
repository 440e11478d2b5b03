"""``AgentCommunicationMessage``: a message between the master controller, agents and users.

Source: the conversation-models seed (aiecs ``conversation_models.py`` + technical
documentation). Stored as a ``records.MessageRecord``: ``to_record`` / ``from_record`` convert
without loss. Pure, no I/O.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import field
from enum import StrEnum
from typing import Any

from pydantic.dataclasses import dataclass

from convoledger.models.participants import FACE_CONFIG, ParticipantLike
from convoledger.models.records import SCHEMA_VERSION, MessageRecord, new_message_id
from convoledger.models.serialization import (
    JsonDict,
    dump_datetime,
    migrate,
    require_key,
    split_face_metadata,
    with_face_extras,
)
from convoledger.models.timeutil import UtcDatetime, utcnow

__all__ = ["MESSAGE_TYPES", "AgentCommunicationMessage", "MessageType"]

_FACE = "agent_communication_message"


class MessageType(StrEnum):
    """The ten message types of the seed."""

    TASK_ASSIGNMENT = "task_assignment"
    RESULT_REPORT = "result_report"
    COLLABORATION_REQUEST = "collaboration_request"
    FEEDBACK = "feedback"
    COMMUNICATION = "communication"
    STATUS_UPDATE = "status_update"
    ERROR_REPORT = "error_report"
    TASK_COMPLETION = "task_completion"
    PROGRESS_UPDATE = "progress_update"
    CLARIFICATION_REQUEST = "clarification_request"


MESSAGE_TYPES = frozenset(t.value for t in MessageType)


@dataclass(config=FACE_CONFIG)
class AgentCommunicationMessage:
    """A controller↔agent, agent↔agent or user↔agent message (seed field order, positional OK).

    Fields: ``message_id``, ``session_key`` (the seed's key of the session, e.g.
    ``"session_002_mc_to_data_analyst"``), ``sender_id``/``sender_type``/``sender_role``,
    ``recipient_id``/``recipient_type``/``recipient_role``, ``content``, ``message_type`` (one of
    the ten :class:`MessageType` values), ``timestamp`` (aware UTC; naive = UTC; default now),
    ``metadata`` (JSON object).

    Rules (seed, in this order): an empty ``message_id`` is replaced by a new id (the seed uses UUID4;
    convoledger a time-ordered UUIDv7, ``records.new_message_id``);
    ``session_key cannot be empty``; ``sender_id cannot be empty``; ``recipient_id cannot be
    empty``; ``content cannot be empty``; ``message_type must be one of …`` — each a
    ``ValueError``. Added here: ``sender_type`` / ``recipient_type`` must not be empty (the
    stored message's ``role`` is the sender type). Types and roles are otherwise free text, as
    in the seed.
    """

    message_id: str
    session_key: str
    sender_id: str
    sender_type: str
    sender_role: str | None
    recipient_id: str
    recipient_type: str
    recipient_role: str | None
    content: str
    message_type: str
    timestamp: UtcDatetime = field(default_factory=utcnow)
    metadata: JsonDict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.message_id:
            self.message_id = new_message_id()
        if not self.session_key:
            raise ValueError("session_key cannot be empty")
        if not self.sender_id:
            raise ValueError("sender_id cannot be empty")
        if not self.recipient_id:
            raise ValueError("recipient_id cannot be empty")
        if not self.content:
            raise ValueError("content cannot be empty")
        if self.message_type not in MESSAGE_TYPES:
            raise ValueError(
                f"message_type must be one of {sorted(MESSAGE_TYPES)}, got {self.message_type!r}"
            )
        if type(self.message_type) is not str:
            self.message_type = str(self.message_type)
        if not self.sender_type:
            raise ValueError("sender_type cannot be empty")
        if not self.recipient_type:
            raise ValueError("recipient_type cannot be empty")

    def to_conversation_message_dict(self) -> dict[str, Any]:
        """The seed's ContextEngine message shape, exactly::

            {"role": "<sender_type>_<sender_role>" (or sender_type without a role),
             "content": ..., "timestamp": ISO 8601,
             "metadata": {**metadata, "message_id", "sender_id", "sender_type", "sender_role",
                          "recipient_id", "recipient_type", "recipient_role", "message_type"}}

        (the message's own keys win over same-named caller metadata keys, as in the seed).
        """
        role = f"{self.sender_type}_{self.sender_role}" if self.sender_role else self.sender_type
        return {
            "role": role,
            "content": self.content,
            "timestamp": dump_datetime(self.timestamp),
            "metadata": {
                **copy.deepcopy(self.metadata),
                "message_id": self.message_id,
                "sender_id": self.sender_id,
                "sender_type": self.sender_type,
                "sender_role": self.sender_role,
                "recipient_id": self.recipient_id,
                "recipient_type": self.recipient_type,
                "recipient_role": self.recipient_role,
                "message_type": self.message_type,
            },
        }

    # -- the one stored model ------------------------------------------------------------------
    def to_record(self, conversation_id: str = "") -> MessageRecord:
        """The stored ``MessageRecord``.

        ``id`` = ``message_id``, ``role`` = ``sender_type``, ``sender`` = ``sender_id``,
        ``recipient`` = ``recipient_id``, ``message_type``, ``content``, ``created_at`` =
        ``timestamp``; ``metadata`` = the caller's metadata plus, under the reserved key
        ``serialization.FACE_KEY``, the sender/recipient types and roles and the
        ``session_key`` — so :meth:`from_record` gives back an equal message.
        ``conversation_id`` is the stored conversation's id if known (the store sets it).
        Raises ``ValueError`` if the caller's metadata uses the reserved key.
        """
        extras = {
            "sender_type": self.sender_type,
            "sender_role": self.sender_role,
            "recipient_type": self.recipient_type,
            "recipient_role": self.recipient_role,
            "session_key": self.session_key,
        }
        return MessageRecord(
            id=self.message_id,
            conversation_id=conversation_id,
            role=self.sender_type,
            content=self.content,
            sender=self.sender_id,
            recipient=self.recipient_id,
            message_type=self.message_type,
            metadata=with_face_extras(self.metadata, _FACE, extras),
            created_at=self.timestamp,
        )

    @classmethod
    def from_record(
        cls,
        msg: MessageRecord,
        session_key: str | None = None,
        participants: Iterable[ParticipantLike] = (),
    ) -> AgentCommunicationMessage:
        """The agent message stored in ``msg``.

        ``session_key`` defaults to the one recorded by :meth:`to_record`. For a record written
        by another face (e.g. a ``SessionMessage``), sender/recipient types and roles come from
        ``participants`` (the conversation's participants, matched by id), else the sender type
        is the record's ``role``; ``message_type`` defaults to ``communication``. Raises
        ``ValueError`` when a required field cannot be found (no session key, no sender, no
        recipient — a broadcast has none — or an empty content).
        """
        metadata, extras = split_face_metadata(msg.metadata, _FACE)
        by_id = {p.participant_id: p for p in participants}
        key = session_key or extras.get("session_key")
        if not key:
            raise ValueError(f"message {msg.id!r}: no session_key given and none recorded")
        if not msg.sender:
            raise ValueError(
                f"message {msg.id!r} has no sender; an AgentCommunicationMessage needs sender_id"
            )
        if not msg.recipient:
            raise ValueError(
                f"message {msg.id!r} has no recipient (a broadcast); an AgentCommunicationMessage needs one"
            )
        sender, recipient = by_id.get(msg.sender), by_id.get(msg.recipient)
        if extras:
            sender_type, sender_role = str(extras.get("sender_type") or msg.role), extras.get("sender_role")
            recipient_type, recipient_role = extras.get("recipient_type"), extras.get("recipient_role")
        else:
            sender_type = sender.participant_type if sender else msg.role
            sender_role = sender.participant_role if sender else None
            recipient_type = recipient.participant_type if recipient else None
            recipient_role = recipient.participant_role if recipient else None
        if not recipient_type:
            raise ValueError(
                f"message {msg.id!r}: recipient {msg.recipient!r} is not among the given participants, "
                "so its recipient_type is unknown"
            )
        return cls(
            message_id=msg.id,
            session_key=key,
            sender_id=msg.sender,
            sender_type=sender_type,
            sender_role=sender_role,
            recipient_id=msg.recipient,
            recipient_type=recipient_type,
            recipient_role=recipient_role,
            content=msg.content,
            message_type=msg.message_type or "communication",
            timestamp=msg.created_at,
            metadata=metadata,
        )

    # -- plain JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The seed's twelve keys (``timestamp`` as ISO 8601 UTC) plus ``schema_version``."""
        return {
            "message_id": self.message_id,
            "session_key": self.session_key,
            "sender_id": self.sender_id,
            "sender_type": self.sender_type,
            "sender_role": self.sender_role,
            "recipient_id": self.recipient_id,
            "recipient_type": self.recipient_type,
            "recipient_role": self.recipient_role,
            "content": self.content,
            "message_type": self.message_type,
            "timestamp": dump_datetime(self.timestamp),
            "metadata": copy.deepcopy(self.metadata),
            "schema_version": SCHEMA_VERSION,
        }

    @classmethod
    def from_dict(cls, data: Any) -> AgentCommunicationMessage:
        """Load a message dict of any supported version; ``sender_role``, ``recipient_role`` and
        ``metadata`` may be missing (seed). Missing keys or bad values raise ``ValueError``."""
        d = migrate(data)
        what = "AgentCommunicationMessage"
        return cls(
            message_id=require_key(d, "message_id", what),
            session_key=require_key(d, "session_key", what),
            sender_id=require_key(d, "sender_id", what),
            sender_type=require_key(d, "sender_type", what),
            sender_role=d.get("sender_role"),
            recipient_id=require_key(d, "recipient_id", what),
            recipient_type=require_key(d, "recipient_type", what),
            recipient_role=d.get("recipient_role"),
            content=require_key(d, "content", what),
            message_type=require_key(d, "message_type", what),
            timestamp=require_key(d, "timestamp", what),
            metadata=d.get("metadata", {}),
        )
