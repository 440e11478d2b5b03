"""``ConversationSession``, session keys and the conversation-isolation helpers.

Source: the conversation-models seed (aiecs ``conversation_models.py`` + its technical
documentation). The seed's string keys and checks are reproduced exactly, quirks included, for
compatibility:

- ``create_session_key("session_001", "user_to_agent", [user, analyst])`` →
  ``"session_001_user_to_data_analyst"``; ``mc_to_agent`` → ``"session_002_mc_to_data_analyst"``;
  ``user_to_mc`` → the bare ``session_id``; ``agent_to_agent`` →
  ``"{session_id}_{role1}_to_{role2}"`` (first two agents, in list order);
- ``validate_conversation_isolation_pattern(key, pattern)`` looks for ``_mc_to_`` / ``_to_`` /
  ``_user_to_`` substrings.

**The flaw of the string format.** Keys are built from the session id and agent *roles*, joined
with ``_``, with nothing escaped, so the mapping is neither injective nor parseable:

1. two different agents with the same role get the same key (``s1_mc_to_writer`` for both
   ``agent_001`` and ``agent_002``) — their conversations would be merged;
2. a ``session_id`` or role that contains ``_to_`` collides with another session type: the
   ``user_to_mc`` key of session ``"a_mc_to_b"`` equals the ``mc_to_agent`` key of session
   ``"a"`` with role ``"b"``;
3. the validator is fooled by the same substrings: ``"plan_to_do"`` (a ``user_to_mc`` key) is
   reported as *not* ``user_to_mc`` and as ``agent_to_agent``.

The collision-free alternative is :class:`SessionKey` (``ConversationSession.resolve_key()``,
:func:`resolve_session_key`, :func:`validate_session_key`): session id, session type and the
*ids* of the participants that make the channel, each percent-escaped, in a canonical order.
Different sessions never share a structured key, and its type is read back exactly.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass as std_dataclass
from dataclasses import field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import quote, unquote

from pydantic.dataclasses import dataclass

from convoledger.models.participants import FACE_CONFIG, ConversationParticipant, ParticipantLike
from convoledger.models.records import (
    PARTICIPANT_TYPES,
    SCHEMA_VERSION,
    ConversationKind,
    ConversationRecord,
)
from convoledger.models.serialization import (
    JsonDict,
    dump_datetime,
    migrate,
    require_key,
    split_face_metadata,
    with_face_extras,
)
from convoledger.models.timeutil import UtcDatetime, utcnow

__all__ = [
    "SESSION_TYPES",
    "ConversationSession",
    "SessionKey",
    "SessionType",
    "create_session_key",
    "resolve_session_key",
    "validate_conversation_isolation_pattern",
    "validate_session_key",
]


class SessionType(StrEnum):
    """The four session types of the seed."""

    USER_TO_MC = "user_to_mc"
    MC_TO_AGENT = "mc_to_agent"
    AGENT_TO_AGENT = "agent_to_agent"
    USER_TO_AGENT = "user_to_agent"


SESSION_TYPES = frozenset(t.value for t in SessionType)

#: Which participant types form the channel of each session type (the seed's requirements).
_CHANNEL_TYPES: dict[str, frozenset[str]] = {
    "user_to_mc": frozenset({"user", "master_controller"}),
    "mc_to_agent": frozenset({"master_controller", "agent"}),
    "agent_to_agent": frozenset({"agent"}),
    "user_to_agent": frozenset({"user", "agent"}),
}


def _first_agent_role(participants: Iterable[ParticipantLike]) -> str | None:
    return next((p.participant_role for p in participants if p.participant_type == "agent"), "unknown")


def create_session_key(session_id: str, session_type: str, participants: Sequence[ParticipantLike]) -> str:
    """The seed's session key string (kept exactly, for compatibility — see the module docstring).

    - ``user_to_mc`` (and any unknown type): ``session_id``;
    - ``mc_to_agent``: ``f"{session_id}_mc_to_{role}"`` (first agent's role, else ``unknown``);
    - ``agent_to_agent``: ``f"{session_id}_{role1}_to_{role2}"`` (first two agents), else
      ``f"{session_id}_agent_to_agent"``;
    - ``user_to_agent``: ``f"{session_id}_user_to_{role}"``.

    Not collision-free: prefer :func:`resolve_session_key` for new code. Never raises for a
    string id and participant objects.
    """
    if session_type == "mc_to_agent":
        return f"{session_id}_mc_to_{_first_agent_role(participants)}"
    if session_type == "agent_to_agent":
        roles = [p.participant_role for p in participants if p.participant_type == "agent"]
        if len(roles) >= 2:
            return f"{session_id}_{roles[0]}_to_{roles[1]}"
        return f"{session_id}_agent_to_agent"
    if session_type == "user_to_agent":
        return f"{session_id}_user_to_{_first_agent_role(participants)}"
    return session_id


def validate_conversation_isolation_pattern(session_key: str, expected_pattern: str) -> bool:
    """The seed's substring check of a key against a session type (kept exactly, quirks included).

    - ``user_to_mc``: True unless the key contains ``_to_`` (so a session id like
      ``"plan_to_do"`` fails it);
    - ``mc_to_agent``: ``"_mc_to_" in key``; ``user_to_agent``: ``"_user_to_" in key``;
    - ``agent_to_agent``: ``_to_`` present and neither ``_mc_to_`` nor ``_user_to_``;
    - any other pattern: False.

    It can be fooled by ids containing ``_to_``; use :func:`validate_session_key` with a
    :class:`SessionKey` for an exact answer. Never raises for string arguments.
    """
    if expected_pattern == "user_to_mc":
        return "_" not in session_key or not any(
            marker in session_key for marker in ("_mc_to_", "_to_", "_user_to_")
        )
    if expected_pattern == "mc_to_agent":
        return "_mc_to_" in session_key
    if expected_pattern == "agent_to_agent":
        return "_to_" in session_key and "_mc_to_" not in session_key and "_user_to_" not in session_key
    if expected_pattern == "user_to_agent":
        return "_user_to_" in session_key
    return False


@std_dataclass(frozen=True, order=True)
class SessionKey:
    """A collision-free, parseable session key: session id, session type, channel participants.

    ``participants`` is the sorted, de-duplicated tuple of ``(participant_type, participant_id)``
    of the participants whose type is part of the session type (user and master controller for
    ``user_to_mc``, master controller and agents for ``mc_to_agent``, agents for
    ``agent_to_agent``, user and agents for ``user_to_agent``); other participants (observers)
    do not change the key, and neither does their list order.

    ``str(key)`` is ``"sk1:<session_id>:<session_type>:<type>=<id>,<type>=<id>..."`` with every
    id percent-escaped (RFC 3986, nothing left unescaped but ``A-Za-z0-9_.-~``), so the string
    is injective: two different keys never give the same text, whatever ``_``, ``:``, ``,`` or
    ``_to_`` the ids contain. :meth:`parse` reads it back.
    """

    session_id: str
    session_type: str
    participants: tuple[tuple[str, str], ...]

    PREFIX = "sk1"

    def __post_init__(self) -> None:
        if not self.session_id:
            raise ValueError("session_id cannot be empty")
        if self.session_type not in SESSION_TYPES:
            raise ValueError(
                f"session_type must be one of {sorted(SESSION_TYPES)}, got {self.session_type!r}"
            )
        for ptype, pid in self.participants:
            if ptype not in PARTICIPANT_TYPES or not pid:
                raise ValueError(f"bad session-key participant {(ptype, pid)!r}")
        canonical = tuple(sorted(set(self.participants)))
        if canonical != self.participants:
            object.__setattr__(self, "participants", canonical)

    def __str__(self) -> str:
        parts = ",".join(f"{ptype}={quote(pid, safe='')}" for ptype, pid in self.participants)
        return f"{self.PREFIX}:{quote(self.session_id, safe='')}:{self.session_type}:{parts}"

    @classmethod
    def parse(cls, text: str) -> SessionKey:
        """Read back ``str(key)``. Raises ``ValueError`` for anything else: a seed key, a bad
        escape, or a non-canonical spelling (unsorted participants, needless escapes) — so each
        key has exactly one text."""
        if not isinstance(text, str):
            raise ValueError(f"a session key is a string, got {type(text).__name__}")
        pieces = text.split(":")
        if len(pieces) != 4 or pieces[0] != cls.PREFIX:
            raise ValueError(f"not a structured session key ('sk1:<id>:<type>:<participants>'): {text!r}")
        _, sid, stype, parts = pieces
        participants: list[tuple[str, str]] = []
        for part in parts.split(",") if parts else []:
            ptype, sep, pid = part.partition("=")
            if not sep:
                raise ValueError(f"bad participant {part!r} in session key {text!r}")
            participants.append((ptype, unquote(pid, errors="strict")))
        key = cls(unquote(sid, errors="strict"), stype, tuple(participants))
        if str(key) != text:
            raise ValueError(f"session key {text!r} is not in canonical form (expected {str(key)!r})")
        return key


def resolve_session_key(
    session_id: str, session_type: str, participants: Iterable[ParticipantLike]
) -> SessionKey:
    """The collision-free :class:`SessionKey` of a session (``ValueError`` for an unknown type
    or an empty session id)."""
    channel = _CHANNEL_TYPES.get(session_type, frozenset())
    members = tuple(
        (p.participant_type, p.participant_id) for p in participants if p.participant_type in channel
    )
    return SessionKey(session_id, session_type, members)


def validate_session_key(session_key: str | SessionKey, expected_pattern: str) -> bool:
    """Exact check: is ``session_key`` a structured key of session type ``expected_pattern``?

    Returns False for a string that is not a structured key (e.g. a seed key); never raises.
    """
    if isinstance(session_key, str):
        try:
            session_key = SessionKey.parse(session_key)
        except ValueError:
            return False
    return session_key.session_type == expected_pattern


@dataclass(config=FACE_CONFIG)
class ConversationSession:
    """An isolated conversation between participants (seed: ``ConversationSession``).

    Fields as in the seed: ``session_id``, ``participants`` (``ConversationParticipant`` or
    participant dicts), ``session_type`` (``user_to_mc`` | ``mc_to_agent`` | ``agent_to_agent`` |
    ``user_to_agent``), ``created_at``, ``last_activity`` (aware UTC; naive = UTC, epoch seconds
    and ISO text accepted; default now), ``metadata`` (JSON object).

    Rules (seed messages, raised as ``ValueError``): ``session_id cannot be empty``;
    ``participants list cannot be empty``; ``session_type must be one of …``;
    ``user_to_mc session requires user and master_controller participants``;
    ``mc_to_agent session requires master_controller and agent participants``;
    ``agent_to_agent session requires at least 2 agent participants``;
    ``user_to_agent session requires user and agent participants``. Added here: the same
    ``participant_id`` twice raises ``ValueError`` (one participant is one row).
    """

    session_id: str
    participants: list[ConversationParticipant]
    session_type: str
    created_at: UtcDatetime = field(default_factory=utcnow)
    last_activity: UtcDatetime = field(default_factory=utcnow)
    metadata: JsonDict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.session_id:
            raise ValueError("session_id cannot be empty")
        if not self.participants:
            raise ValueError("participants list cannot be empty")
        if self.session_type not in SESSION_TYPES:
            raise ValueError(
                f"session_type must be one of {sorted(SESSION_TYPES)}, got {self.session_type!r}"
            )
        if type(self.session_type) is not str:
            self.session_type = str(self.session_type)
        self._validate_participants_for_session_type()
        seen: set[str] = set()
        for p in self.participants:
            if p.participant_id in seen:
                raise ValueError(
                    f"duplicate participant_id {p.participant_id!r} in session {self.session_id!r}"
                )
            seen.add(p.participant_id)

    def _validate_participants_for_session_type(self) -> None:
        types = {p.participant_type for p in self.participants}
        if self.session_type == "agent_to_agent":
            if sum(1 for p in self.participants if p.participant_type == "agent") < 2:
                raise ValueError("agent_to_agent session requires at least 2 agent participants")
            return
        needed = _CHANNEL_TYPES[self.session_type]
        if not needed <= types:
            first, second = sorted(needed, key=["user", "master_controller", "agent"].index)
            raise ValueError(f"{self.session_type} session requires {first} and {second} participants")

    # -- the seed's methods --------------------------------------------------------------------
    def generate_session_key(self) -> str:
        """The seed's session key string (see :func:`create_session_key`; not collision-free)."""
        return create_session_key(self.session_id, self.session_type, self.participants)

    def resolve_key(self) -> SessionKey:
        """The collision-free :class:`SessionKey` of this session (``str()`` it to store it)."""
        return resolve_session_key(self.session_id, self.session_type, self.participants)

    def get_participant_by_type_and_role(
        self, participant_type: str, participant_role: str | None = None
    ) -> ConversationParticipant | None:
        """The first participant of ``participant_type`` (and ``participant_role`` if given), or None."""
        for p in self.participants:
            if p.participant_type == participant_type and (
                participant_role is None or p.participant_role == participant_role
            ):
                return p
        return None

    def update_activity(self, at: datetime | None = None) -> None:
        """Set ``last_activity`` to ``at`` (default: now), aware UTC."""
        self.last_activity = at if at is not None else utcnow()

    # -- the one stored model ------------------------------------------------------------------
    def to_record(
        self,
        owner_id: str = "local",
        *,
        record_id: str | None = None,
        key_style: Literal["seed", "structured"] = "seed",
    ) -> ConversationRecord:
        """The stored ``ConversationRecord`` (kind ``conversation_session``).

        ``session_key`` is :meth:`generate_session_key` (the seed's string, what
        ``AgentCommunicationMessage.session_key`` carries) or, with ``key_style="structured"``,
        ``str(self.resolve_key())``. ``record_id`` defaults to a new UUID.
        ``last_activity`` → ``last_activity_at`` and ``updated_at``.

        The record's external ``session_id`` is the session *key*, because the seed uses one
        base ``session_id`` for several isolated channels (``session_002`` with a writer and with
        an analyst are two conversations); the base id is kept in the face's metadata and comes
        back from :meth:`from_record`.
        """
        key = self.generate_session_key() if key_style == "seed" else str(self.resolve_key())
        return ConversationRecord(
            id=record_id or str(uuid.uuid4()),
            owner_id=owner_id,
            session_id=key,
            session_key=key,
            kind=ConversationKind.CONVERSATION_SESSION,
            session_type=self.session_type,
            participants=[p.to_record() for p in self.participants],
            metadata=with_face_extras(self.metadata, "conversation_session", {"session_id": self.session_id}),
            created_at=self.created_at,
            updated_at=self.last_activity,
            last_activity_at=self.last_activity,
        )

    @classmethod
    def from_record(cls, record: ConversationRecord) -> ConversationSession:
        """The session stored in ``record``.

        ``session_id`` is the base id recorded by :meth:`to_record`, else the record's
        ``session_id`` (else its ``id``); the record must have a
        ``session_type`` and participants that satisfy the seed's rules, else ``ValueError``.
        """
        if not record.session_type:
            raise ValueError(
                f"conversation {record.id!r} (kind {record.kind.value}) has no session_type; "
                "a ConversationSession needs one of " + ", ".join(sorted(SESSION_TYPES))
            )
        metadata, extras = split_face_metadata(record.metadata, "conversation_session")
        base = extras.get("session_id")
        return cls(
            session_id=base if isinstance(base, str) and base else (record.session_id or record.id),
            participants=[ConversationParticipant.from_record(p) for p in record.participants],
            session_type=record.session_type,
            created_at=record.created_at,
            last_activity=record.last_activity_at,
            metadata=metadata,
        )

    # -- plain JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The seed's shape (``session_id``, ``participants`` [4 keys each], ``session_type``,
        ``created_at``/``last_activity`` as ISO 8601 UTC, ``metadata``) plus ``schema_version``."""
        return {
            "session_id": self.session_id,
            "participants": [p.as_seed_dict() for p in self.participants],
            "session_type": self.session_type,
            "created_at": dump_datetime(self.created_at),
            "last_activity": dump_datetime(self.last_activity),
            "metadata": copy.deepcopy(self.metadata),
            "schema_version": SCHEMA_VERSION,
        }

    @classmethod
    def from_dict(cls, data: Any) -> ConversationSession:
        """Load a session dict of any supported version (1.0 participants without ``metadata``
        are migrated). Missing keys or bad values raise ``ValueError``; naive times are UTC."""
        d = migrate(data)
        participants = require_key(d, "participants", "ConversationSession")
        if not isinstance(participants, list):
            raise ValueError("participants must be a list of participant dicts")
        return cls(
            session_id=require_key(d, "session_id", "ConversationSession"),
            participants=[ConversationParticipant.from_dict(p) for p in participants],
            session_type=require_key(d, "session_type", "ConversationSession"),
            created_at=require_key(d, "created_at", "ConversationSession"),
            last_activity=require_key(d, "last_activity", "ConversationSession"),
            metadata=d.get("metadata", {}),
        )
