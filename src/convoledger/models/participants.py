"""``ConversationParticipant``: a user, the master controller or a role agent in a conversation.

Source: the conversation-models seed (aiecs ``conversation_models.py`` and its technical
documentation). Positional construction works as there:
``ConversationParticipant("agent_001", "agent", "data_analyst")``. The stored shape is
``records.ParticipantRecord``; ``to_record`` / ``from_record`` convert. Pure, no I/O.
"""

from __future__ import annotations

import copy
from dataclasses import field
from enum import StrEnum
from typing import Any, Protocol

from pydantic import ConfigDict
from pydantic.dataclasses import dataclass

from convoledger.models.records import PARTICIPANT_TYPES, SCHEMA_VERSION, ParticipantRecord
from convoledger.models.serialization import JsonDict, migrate_participant, require_key

__all__ = ["PARTICIPANT_TYPES", "ConversationParticipant", "ParticipantLike", "ParticipantType"]

#: Config shared by the seed's dataclass faces: assignments are validated too.
FACE_CONFIG = ConfigDict(validate_assignment=True)


class ParticipantType(StrEnum):
    """The three participant types of the seed (``participant_type`` values)."""

    USER = "user"
    MASTER_CONTROLLER = "master_controller"
    AGENT = "agent"


class ParticipantLike(Protocol):
    """Anything with the participant fields: ``ConversationParticipant`` or ``ParticipantRecord``."""

    @property
    def participant_id(self) -> str: ...

    @property
    def participant_type(self) -> str: ...

    @property
    def participant_role(self) -> str | None: ...


def _check_participant_type(participant_type: str) -> None:
    if participant_type not in PARTICIPANT_TYPES:
        raise ValueError(
            f"participant_type must be one of {sorted(PARTICIPANT_TYPES)}, got {participant_type!r}"
        )


@dataclass(config=FACE_CONFIG)
class ConversationParticipant:
    """A participant: ``participant_id``, ``participant_type``, ``participant_role``, ``metadata``.

    Rules (seed, in this order; each raises ``ValueError`` — pydantic's ``ValidationError`` is
    one — whose text contains the seed's message):

    - ``participant_id cannot be empty``; ``participant_type cannot be empty``;
    - ``participant_type must be one of ['agent', 'master_controller', 'user']``;
    - ``participant_role is required for agent participants``.

    ``participant_role`` is free text (``"writer"``, ``"data_analyst"``); for non-agents it may
    be set but is not required. ``metadata`` must be a JSON object. A ``ParticipantType`` member
    is accepted for the type and stored as its plain string value.
    """

    participant_id: str
    participant_type: str
    participant_role: str | None = None
    metadata: JsonDict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.participant_id:
            raise ValueError("participant_id cannot be empty")
        if not self.participant_type:
            raise ValueError("participant_type cannot be empty")
        _check_participant_type(self.participant_type)
        if type(self.participant_type) is not str:  # a ParticipantType member → its plain value
            self.participant_type = str(self.participant_type)
        if self.participant_type == "agent" and not self.participant_role:
            raise ValueError("participant_role is required for agent participants")

    # -- the one stored model ------------------------------------------------------------------
    def to_record(self) -> ParticipantRecord:
        """The stored ``ParticipantRecord`` with the same four fields."""
        return ParticipantRecord(
            participant_id=self.participant_id,
            participant_type=self.participant_type,
            participant_role=self.participant_role,
            metadata=dict(self.metadata),
        )

    @classmethod
    def from_record(cls, record: ParticipantRecord) -> ConversationParticipant:
        """The participant stored in ``record`` (``ValueError`` if it breaks a seed rule)."""
        return cls(
            record.participant_id,
            record.participant_type,
            record.participant_role,
            dict(record.metadata),
        )

    # -- plain JSON ----------------------------------------------------------------------------
    def as_seed_dict(self) -> dict[str, Any]:
        """The seed's participant shape (inside ``ConversationSession.to_dict``): four keys."""
        return {
            "participant_id": self.participant_id,
            "participant_type": self.participant_type,
            "participant_role": self.participant_role,
            "metadata": copy.deepcopy(self.metadata),
        }

    def to_dict(self) -> dict[str, Any]:
        """The seed's four keys plus ``schema_version``; plain JSON types only."""
        return {**self.as_seed_dict(), "schema_version": SCHEMA_VERSION}

    @classmethod
    def from_dict(cls, data: Any) -> ConversationParticipant:
        """Load a participant dict of any supported version (1.0: no ``metadata``, or the seed's
        old ``{"id", "type", "role"}`` form). Missing keys or bad values raise ``ValueError``."""
        d = migrate_participant(data)
        return cls(
            participant_id=require_key(d, "participant_id", "participant"),
            participant_type=require_key(d, "participant_type", "participant"),
            participant_role=d.get("participant_role"),
            metadata=d.get("metadata", {}),
        )
