"""``ChatSession`` and ``ChatMessage``: the multichat persistence seed's two data classes.

Source: the multichat session persistence seed (``multichat_session_persistence.py``, "V2
compliant"): ``ChatMessage(id, sender, recipient, content, timestamp, session_id)`` and
``ChatSession(session_id, participants, created_at, last_activity, message_count)``, where
times are float epoch seconds (``time.time()``) and participants plain ids (``"Agent-1"``), and a
message to everyone is shown as ``→ All``.

Times keep the seed's type: ``timestamp``, ``created_at`` and ``last_activity`` are POSIX epoch
seconds (``float``, UTC), so the seed's own code (``datetime.fromtimestamp(message.timestamp)``,
``sorted(..., key=lambda m: m.timestamp)``, ``session.last_activity < cutoff_time``) runs
unchanged. A ``datetime`` (naive = UTC) or ISO 8601 text is accepted as input and converted;
``timestamp_utc`` & co. give the aware UTC ``datetime``. A float round-trips exactly through the
stored record and ``to_dict``/``from_dict`` (the store keeps microseconds; a float with finer
digits is kept beside it in the face's metadata). Faces of ``ConversationRecord`` /
``MessageRecord``. Pure, no I/O.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import field
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic.dataclasses import dataclass

from convoledger.models.participants import FACE_CONFIG
from convoledger.models.records import (
    SCHEMA_VERSION,
    ConversationKind,
    ConversationRecord,
    MessageRecord,
    ParticipantRecord,
)
from convoledger.models.serialization import (
    face_extras,
    migrate,
    require_key,
    split_face_metadata,
    with_face_extras,
)
from convoledger.models.timeutil import ensure_utc, utcnow

__all__ = ["BROADCAST_RECIPIENT", "ChatMessage", "ChatSession", "EpochSeconds", "epoch_seconds"]


def epoch_seconds(value: Any) -> float:
    """POSIX epoch seconds (UTC) as a ``float``: a number is kept as it is (``int`` → ``float``);
    a ``datetime`` (naive = UTC) or ISO 8601 text is converted. ``ValueError`` for booleans,
    NaN/±inf, out-of-range numbers and anything else (``timeutil.ensure_utc`` rules)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError(f"epoch seconds must be finite, got {value!r}")
        ensure_utc(value)  # range check
        return float(value)
    return ensure_utc(value).timestamp()


#: A pydantic field type: epoch seconds as ``float`` (numbers, datetimes and ISO text accepted).
EpochSeconds = Annotated[float, BeforeValidator(epoch_seconds)]


def _utc(seconds: float) -> datetime:
    return ensure_utc(seconds)


def _exact(seconds: float) -> float | None:
    """``seconds`` when the stored datetime (microseconds) would not give it back exactly."""
    return None if _utc(seconds).timestamp() == seconds else seconds


def _stored(stored: datetime, kept: Any) -> float:
    """The float of a stored time: the exact float kept beside it when it still matches (within a
    microsecond), else the stored datetime's own."""
    if isinstance(kept, float) and abs(kept - stored.timestamp()) < 1e-6:
        return kept
    return stored.timestamp()

#: The seed's recipient for a message to everyone in the session (stored as recipient ``None``).
BROADCAST_RECIPIENT = "All"
_BROADCAST_NAMES = frozenset({"all", "*"})
_FACE = "chat_message"
_SESSION_FACE = "chat_session"


@dataclass(config=FACE_CONFIG)
class ChatMessage:
    """A chat message (seed field order, positional OK).

    Fields: ``id`` (non-empty), ``sender`` / ``recipient`` (non-empty participant ids;
    ``"All"`` — any case — or ``"*"`` means everyone), ``content`` (may be empty), ``timestamp``
    (epoch seconds, ``float``; a datetime — naive = UTC — or ISO text is converted),
    ``session_id`` (the ``ChatSession.session_id``, non-empty). Bad values raise ``ValueError``.
    """

    id: str
    sender: str
    recipient: str
    content: str
    timestamp: EpochSeconds
    session_id: str

    def __post_init__(self) -> None:
        for name in ("id", "sender", "recipient", "session_id"):
            if not getattr(self, name):
                raise ValueError(f"{name} cannot be empty")

    @property
    def timestamp_epoch(self) -> float:
        """``timestamp`` (already epoch seconds; kept for callers of earlier versions)."""
        return self.timestamp

    @property
    def timestamp_utc(self) -> datetime:
        """``timestamp`` as an aware UTC ``datetime`` (microsecond precision)."""
        return _utc(self.timestamp)

    @property
    def is_broadcast(self) -> bool:
        """True when the message goes to everyone (recipient ``All`` or ``*``)."""
        return self.recipient.lower() in _BROADCAST_NAMES

    # -- the one stored model ------------------------------------------------------------------
    def to_record(self, conversation_id: str = "") -> MessageRecord:
        """The stored ``MessageRecord``: ``role`` ``user``, ``sender``, ``recipient`` (None for a
        broadcast, DESIGN.md), ``content``, ``created_at`` = timestamp (aware UTC); the seed's
        ``session_id``, the broadcast spelling and a timestamp finer than a microsecond are kept
        in the reserved metadata key for :meth:`from_record`. ``conversation_id`` is the stored
        conversation's id if known (the store sets it)."""
        extras: dict[str, Any] = {"session_id": self.session_id}
        if self.is_broadcast:
            extras["recipient"] = self.recipient
        exact = _exact(self.timestamp)
        if exact is not None:
            extras["timestamp"] = exact
        return MessageRecord(
            id=self.id,
            conversation_id=conversation_id,
            role="user",
            content=self.content,
            sender=self.sender,
            recipient=None if self.is_broadcast else self.recipient,
            metadata=with_face_extras({}, _FACE, extras),
            created_at=self.timestamp_utc,
        )

    @classmethod
    def from_record(cls, msg: MessageRecord, session_id: str | None = None) -> ChatMessage:
        """The chat message stored in ``msg``.

        ``session_id``: the argument, else the one :meth:`to_record` kept, else the record's
        ``conversation_id``. A record without a sender (a chat-API message) uses its role as
        sender; without a recipient, ``"All"``. ``ValueError`` if no session id can be found.
        """
        extras = split_face_metadata(msg.metadata, _FACE)[1]
        return cls(
            id=msg.id,
            sender=msg.sender or msg.role,
            recipient=msg.recipient or extras.get("recipient") or BROADCAST_RECIPIENT,
            content=msg.content,
            timestamp=_stored(msg.created_at, extras.get("timestamp")),
            session_id=session_id or extras.get("session_id") or msg.conversation_id,
        )

    # -- plain JSON ----------------------------------------------------------------------------
    def to_seed_dict(self) -> dict[str, Any]:
        """Exactly the seed's ``asdict(message)``: six keys, ``timestamp`` as float epoch seconds
        (for the seed's JSON / SQLite files)."""
        return {
            "id": self.id,
            "sender": self.sender,
            "recipient": self.recipient,
            "content": self.content,
            "timestamp": self.timestamp,
            "session_id": self.session_id,
        }

    def to_dict(self) -> dict[str, Any]:
        """The seed's six keys (``timestamp`` as the seed's float epoch seconds, exact) plus
        ``schema_version``."""
        return {**self.to_seed_dict(), "schema_version": SCHEMA_VERSION}

    @classmethod
    def from_dict(cls, data: Any) -> ChatMessage:
        """Load a message dict: ours, or the seed's (``timestamp`` a float, or ISO text as
        earlier versions wrote it). ``ValueError`` for bad input."""
        d = migrate(data)
        return cls(**{k: require_key(d, k, "ChatMessage") for k in _MESSAGE_KEYS})


_MESSAGE_KEYS = ("id", "sender", "recipient", "content", "timestamp", "session_id")
_SESSION_KEYS = ("session_id", "participants", "created_at", "last_activity", "message_count")


@dataclass(config=FACE_CONFIG)
class ChatSession:
    """A multichat session (seed field order, positional OK).

    Fields: ``session_id`` (non-empty), ``participants`` (distinct non-empty ids, e.g.
    ``["Agent-1", "Agent-2"]``), ``created_at`` / ``last_activity`` (epoch seconds, as
    ``ChatMessage.timestamp``; default now), ``message_count`` (≥ 0). Bad values raise
    ``ValueError``.
    """

    session_id: str
    participants: list[str]
    created_at: EpochSeconds = field(default_factory=lambda: utcnow().timestamp())
    last_activity: EpochSeconds = field(default_factory=lambda: utcnow().timestamp())
    message_count: int = 0

    def __post_init__(self) -> None:
        if not self.session_id:
            raise ValueError("session_id cannot be empty")
        if self.message_count < 0:
            raise ValueError(f"message_count cannot be negative, got {self.message_count}")
        seen: set[str] = set()
        for pid in self.participants:
            if not pid:
                raise ValueError("participant ids cannot be empty")
            if pid in seen:
                raise ValueError(f"duplicate participant {pid!r} in chat session {self.session_id!r}")
            seen.add(pid)

    @property
    def created_at_epoch(self) -> float:
        """``created_at`` (already epoch seconds; kept for callers of earlier versions)."""
        return self.created_at

    @property
    def last_activity_epoch(self) -> float:
        """``last_activity`` (already epoch seconds; kept for callers of earlier versions)."""
        return self.last_activity

    @property
    def created_at_utc(self) -> datetime:
        """``created_at`` as an aware UTC ``datetime``."""
        return _utc(self.created_at)

    @property
    def last_activity_utc(self) -> datetime:
        """``last_activity`` as an aware UTC ``datetime``."""
        return _utc(self.last_activity)

    def add_message(self, message: ChatMessage) -> None:
        """Count ``message`` (the seed's ``add_message`` bookkeeping): ``message_count`` + 1 and
        ``last_activity`` = the later of itself and the message's timestamp.

        Raises ``ValueError`` if the message belongs to another session.
        """
        if message.session_id != self.session_id:
            raise ValueError(
                f"message {message.id!r} belongs to session {message.session_id!r}, not {self.session_id!r}"
            )
        self.message_count += 1
        self.last_activity = max(self.last_activity, message.timestamp)

    # -- the one stored model ------------------------------------------------------------------
    def to_record(self, owner_id: str = "local", *, record_id: str | None = None) -> ConversationRecord:
        """The stored ``ConversationRecord`` (kind ``chat_session``): each participant id becomes
        a ``user`` participant (the seed has no types), in order, so :meth:`from_record` gives
        them back; ``last_activity`` → ``last_activity_at`` / ``updated_at``; times finer than a
        microsecond are kept in the reserved metadata key."""
        exact = {"created_at": _exact(self.created_at), "last_activity": _exact(self.last_activity)}
        extras = {key: value for key, value in exact.items() if value is not None}
        return ConversationRecord(
            id=record_id or str(uuid.uuid4()),
            owner_id=owner_id,
            session_id=self.session_id,
            kind=ConversationKind.CHAT_SESSION,
            participants=[
                ParticipantRecord(participant_id=p, participant_type="user") for p in self.participants
            ],
            message_count=self.message_count,
            metadata=with_face_extras({}, _SESSION_FACE, extras),
            created_at=self.created_at_utc,
            updated_at=self.last_activity_utc,
            last_activity_at=self.last_activity_utc,
        )

    @classmethod
    def from_record(cls, record: ConversationRecord) -> ChatSession:
        """The chat session stored in ``record`` (any kind: participant ids, times — as epoch
        seconds — and count carry over; ``session_id`` falls back to the record ``id``)."""
        extras = face_extras(record.metadata, _SESSION_FACE)
        return cls(
            session_id=record.session_id or record.id,
            participants=[p.participant_id for p in record.participants],
            created_at=_stored(record.created_at, extras.get("created_at")),
            last_activity=_stored(record.last_activity_at, extras.get("last_activity")),
            message_count=record.message_count,
        )

    # -- plain JSON ----------------------------------------------------------------------------
    def to_seed_dict(self) -> dict[str, Any]:
        """Exactly the seed's ``asdict(session)``: five keys, times as float epoch seconds."""
        return {
            "session_id": self.session_id,
            "participants": list(self.participants),
            "created_at": self.created_at,
            "last_activity": self.last_activity,
            "message_count": self.message_count,
        }

    def to_dict(self) -> dict[str, Any]:
        """The seed's five keys (times as the seed's float epoch seconds) plus ``schema_version``."""
        return {**self.to_seed_dict(), "schema_version": SCHEMA_VERSION}

    @classmethod
    def from_dict(cls, data: Any) -> ChatSession:
        """Load a session dict: ours, or the seed's (float times, or ISO text as earlier versions
        wrote them). ``message_count`` may be missing (0). ``ValueError`` for bad input."""
        d = migrate(data)
        d.setdefault("message_count", 0)
        return cls(**{k: require_key(d, k, "ChatSession") for k in _SESSION_KEYS})
