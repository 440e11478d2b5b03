"""Shared pieces of the importers: result types, deterministic ids, and the per-record guard.

Every importer turns a stream of ``(line, record)`` pairs (see ``importers.reader``) into a
stream of ``ImportResult``: either an ``ImportedConversation`` (one whole conversation with all
of its messages) or a ``RecordError`` (that record was skipped, with its line number and why).
A record is converted completely before anything is yielded for it, so a bad record never
produces a half-built conversation.

Ids are deterministic, so importing the same file twice adds nothing:

- ``conversation.session_id`` is a stable external id, ``"{format}:{source id}"`` (see each
  importer; weak source ids such as ``identity_0`` or SGD's per-split ``1_00000`` get a short
  content hash appended so that two different records never share one);
- ``conversation.id`` = ``uuid5(IMPORT_NAMESPACE, owner_id + "\\x1f" + session_id)``. The owner
  is part of the name because conversation ids are global in the store (two accounts importing
  the same file must not collide);
- message ``id`` = ``uuid5(UUID(conversation.id), str(index))`` with ``index`` the 0-based
  position of the message in the conversation.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from convoledger.importers.reader import UnreadableRecord
from convoledger.models.records import ConversationRecord, MessageRecord, ParticipantRecord

#: Namespace of every id the importers derive (a fixed, arbitrary UUID; never change it).
IMPORT_NAMESPACE = uuid.UUID("6c1f3f2e-9a57-5d4b-8e1c-0d3b7f2a9c41")

#: Owner used when the caller gives none (the CLI always passes ``--owner``).
DEFAULT_OWNER = "local"


@dataclass(frozen=True)
class ImportedConversation:
    """One converted conversation: the record, all its messages in order, and its source line.

    ``source_line`` is the 1-based line number (JSONL) or item position (JSON array) of the
    record it came from; one ChatDev log yields several conversations with the same line.
    ``messages`` have ``conversation_id`` set and ``seq`` 0 (the store assigns seq).
    """

    conversation: ConversationRecord
    messages: list[MessageRecord]
    source_line: int


@dataclass(frozen=True)
class RecordError:
    """A record that was skipped: its 1-based line number (or item position) and the reason."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class RestoredBundle:
    """A convoledger export bundle read from a file (format ``bundle``): restored as it was by
    ``Ledger.restore_bundle`` (ids, seqs, statuses, times, events, memory, provider calls)."""

    bundle: dict[str, Any]
    source_line: int


@dataclass(frozen=True)
class ReferenceData:
    """A record that is reference data, not a conversation (SGD service schemas, BFCL function
    docs): recognised, counted, nothing stored. ``what`` names it for the report."""

    what: str
    source_line: int


ImportResult = ImportedConversation | RecordError | RestoredBundle | ReferenceData


class RecordShapeError(ValueError):
    """Raised inside an importer when a record does not have the shape of its format."""


@dataclass
class ImportContext:
    """What every importer needs besides the record: the owner and the import time.

    ``imported_at`` (aware UTC) is the timestamp given to messages whose source has no time of
    its own (SGD, ShareGPT, OASST trees, tau-bench); it is fixed once per ``parse`` call.
    ``ValueError`` (raised by ``parse_*`` before any record is read) for an empty ``owner_id``.
    """

    owner_id: str
    imported_at: datetime
    format: str

    def __post_init__(self) -> None:
        if not isinstance(self.owner_id, str) or not self.owner_id.strip():
            raise ValueError(f"owner_id must be a non-empty account name, got {self.owner_id!r}")


def conversation_uuid(owner_id: str, session_id: str) -> str:
    """The deterministic conversation id for ``session_id`` of ``owner_id`` (UUID5 text)."""
    return str(uuid.uuid5(IMPORT_NAMESPACE, f"{owner_id}\x1f{session_id}"))


def message_uuid(conversation_id: str, index: int) -> str:
    """The deterministic id of the ``index``-th (0-based) message of a conversation (UUID5 text)."""
    return str(uuid.uuid5(uuid.UUID(conversation_id), str(index)))


def content_hash(record: Any, length: int = 12) -> str:
    """A short hex SHA-256 of ``record`` serialised canonically (sorted keys, compact JSON)."""
    try:
        data = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson refuses e.g. integers beyond 64 bits; the stdlib does not
        data = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(data).hexdigest()[:length]


_SLUG_RE = re.compile(r"[^0-9a-z]+")


def slugify(name: str) -> str:
    """``"Chief Executive Officer"`` → ``"chief_executive_officer"`` (lowercase, ``_``-joined)."""
    slug = _SLUG_RE.sub("_", name.strip().lower()).strip("_")
    if not slug:
        raise RecordShapeError(f"cannot make a role name from {name!r}")
    return slug


def require_dict(value: Any, what: str) -> dict[str, Any]:
    """``value`` if it is a JSON object, else ``RecordShapeError`` naming ``what``."""
    if not isinstance(value, dict):
        raise RecordShapeError(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def require_list(value: Any, what: str, *, non_empty: bool = True) -> list[Any]:
    """``value`` if it is a JSON array (non-empty unless told), else ``RecordShapeError``."""
    if not isinstance(value, list):
        raise RecordShapeError(f"{what} must be a JSON array, got {type(value).__name__}")
    if non_empty and not value:
        raise RecordShapeError(f"{what} is empty")
    return value


def require_str(value: Any, what: str, *, allow_empty: bool = True) -> str:
    """``value`` if it is a string (non-empty unless allowed), else ``RecordShapeError``."""
    if not isinstance(value, str):
        raise RecordShapeError(f"{what} must be a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise RecordShapeError(f"{what} is empty")
    return value


def finish(
    conversation: ConversationRecord, messages: list[MessageRecord], line: int
) -> ImportedConversation:
    """Set message ids/conversation ids and the conversation's times; wrap as a result.

    Each message gets ``id = message_uuid(conversation.id, index)`` and the conversation id.
    The conversation's ``created_at`` becomes the earliest of its own and its messages' times;
    ``updated_at`` and ``last_activity_at`` the latest message time (the store recomputes these
    on append; setting them here keeps the record self-consistent for renderers and tests).
    """
    if not messages and conversation.parent_id is None:
        raise RecordShapeError("the conversation has no messages")
    for index, message in enumerate(messages):
        message.id = message_uuid(conversation.id, index)
        message.conversation_id = conversation.id
    times = [m.created_at for m in messages] or [conversation.created_at]
    conversation.created_at = min([conversation.created_at, *times])
    conversation.updated_at = max(times)
    conversation.last_activity_at = max(times)
    return ImportedConversation(conversation=conversation, messages=messages, source_line=line)


Converter = Callable[[Any, int, ImportContext], Sequence[ImportResult]]


def run_importer(
    records: Iterable[tuple[int, Any]], convert: Converter, context: ImportContext
) -> Iterator[ImportResult]:
    """Apply ``convert`` to every ``(line, record)``; yield its conversations or one ``RecordError``.

    ``convert`` returns all conversations of one record (usually one). Shape problems
    (``RecordShapeError``), invalid values (``ValueError``, including pydantic's
    ``ValidationError``), and wrong types met while reading the record (``TypeError``,
    ``KeyError``, ``AttributeError``) become a ``RecordError`` for that line; the other records
    are still imported. A record the reader could not decode (``UnreadableRecord``) is reported
    the same way.
    """
    for line, record in records:
        if isinstance(record, UnreadableRecord):
            yield RecordError(line, record.reason)
            continue
        try:
            results = convert(record, line, context)
        except RecordShapeError as exc:
            yield RecordError(line, str(exc))
            continue
        except ValidationError as exc:
            yield RecordError(line, f"invalid value: {_short_validation(exc)}")
            continue
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            yield RecordError(line, f"{type(exc).__name__}: {exc}")
            continue
        yield from results


def _short_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{loc}: {err.get('msg')}" if loc else str(err.get("msg")))
    return "; ".join(parts)


def text_of(content: Any, what: str) -> tuple[str, Any]:
    """Message text from an OpenAI-style ``content``: a string, ``None`` or a list of parts.

    Returns ``(text, parts)``: for a list of parts the text parts are joined with newlines and
    other parts are shown as ``[<type>]``; ``parts`` is the original list (kept in metadata),
    ``None`` otherwise. ``RecordShapeError`` for any other type.
    """
    if content is None:
        return "", None
    if isinstance(content, str):
        return content, None
    if isinstance(content, list):
        pieces = []
        for part in content:
            if isinstance(part, str):
                pieces.append(part)
            elif isinstance(part, dict):
                if isinstance(part.get("text"), str):
                    pieces.append(part["text"])
                else:
                    pieces.append(f"[{part.get('type', 'part')}]")
            else:
                raise RecordShapeError(f"{what}: a content part must be an object or a string")
        return "\n".join(pieces), content
    raise RecordShapeError(f"{what} must be a string, null or a list of parts, got {type(content).__name__}")


def chat_participants() -> list[ParticipantRecord]:
    """The two participants of a user/assistant chat: ``user`` (user) and ``assistant`` (agent)."""
    return [
        ParticipantRecord(participant_id=USER_ID, participant_type="user"),
        ParticipantRecord(
            participant_id=ASSISTANT_ID, participant_type="agent", participant_role="assistant"
        ),
    ]


#: Participant ids used by the user/assistant chat formats (openai, sharegpt, sgd, oasst).
USER_ID = "user"
ASSISTANT_ID = "assistant"


def chat_sender(role: str) -> str | None:
    """The participant id that sends a message of chat ``role`` (``None`` for system/tool)."""
    return {"user": USER_ID, "assistant": ASSISTANT_ID}.get(role)


def short_title(text: str, limit: int = 72) -> str:
    """The first line of ``text`` cut to ``limit`` characters (``…`` when cut)."""
    first = " ".join(text.strip().split("\n", 1)[0].split())
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def function_call(call_id: str, name: str, arguments: Any) -> dict[str, Any]:
    """An OpenAI-style tool call ``{"id", "type": "function", "function": {"name",
    "arguments"}}``; ``arguments`` given as a string is kept as it is, anything else becomes its
    JSON text (OpenAI API reference, Chat Completions, ``tool_calls``)."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": text}}


def json_text(value: Any) -> str:
    """``value`` as compact JSON text (a tool result's content), non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False)


def source_id_of(value: Any) -> str | None:
    """A usable source id (non-empty string or integer, not a bool) as text, else ``None``."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text or None


def fork_record(
    parent: ConversationRecord, session_id: str, at_seq: int, **changes: Any
) -> ConversationRecord:
    """A branch record of ``parent`` for an importer (deterministic id from ``session_id``,
    forked at ``at_seq``), with ``changes`` applied (name, metadata, …)."""
    data = parent.model_dump()
    data.update(
        id=conversation_uuid(parent.owner_id, session_id),
        session_id=session_id,
        session_key=None,
        parent_id=parent.id,
        forked_at_seq=at_seq,
        message_count=0,
        last_seq=0,
        **changes,
    )
    return ConversationRecord.model_validate(data)


def common_prefix(a: list[Any], b: list[Any]) -> int:
    """How many leading items ``a`` and ``b`` share (compared as JSON values)."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
