"""The agent-session seed's backup shapes (section 10): export document, CSV, restore input.

Source: the agent-session seed, section 10 "Session Backup and Recovery":
``export_session_data`` builds ``{"session": {...}, "messages": [...]}`` with the keys below,
``convert_to_csv`` writes the seven seed columns, ``restore_session_from_backup`` reads such a
document back. This module turns stored records into those shapes and back; the ``Ledger``
does the reading and writing. Pure, no I/O.

Deliberate differences from the seed's code, where it would lose data:

- a message's ``updated_at`` is written as its ``created_at`` when it was never edited (the
  seed's column is always set; convoledger leaves it empty until an edit);
- a message's ``role`` is its chat role (``MessageRole``): messages written by the
  multi-participant faces (role ``master_controller`` / ``agent``) appear as ``assistant``;
- restoring keeps the backup's message ids, ``created_at`` / ``updated_at`` and the session's
  times and id (the seed gives everything new ids and the restore time), and keeps a falsy
  ``extra_data`` such as ``{}`` (the seed's ``if message_data["extra_data"]`` drops it);
- only ``session.session_id`` and each message's ``role`` / ``content`` are required; the other
  keys default to ``None`` (``is_active`` to ``True``); role names are accepted in any case
  (``"USER"`` = ``"user"``);
- ``content`` may be empty, as the seed's column allows: the seed's export has no
  ``tool_calls``, so an assistant message that only called tools comes back with empty content
  (and its tool results without their call — restore convoledger's bundle to keep them).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from convoledger.models.agent_session import (
    MessageRole,
    chat_role,
)
from convoledger.models.records import ConversationKind, ConversationRecord, MessageRecord, new_message_id
from convoledger.models.serialization import check_json_value
from convoledger.models.status import ConversationStatus, LifecycleEvent
from convoledger.models.timeutil import ensure_utc, isoformat, utcnow

__all__ = [
    "SEED_CSV_COLUMNS",
    "SEED_MESSAGE_KEYS",
    "SEED_SESSION_KEYS",
    "SeedRestore",
    "parse_message_role",
    "parse_seed_backup",
    "seed_csv",
    "seed_export_document",
    "seed_message_dict",
    "seed_session_dict",
]

#: Keys of the seed's exported ``session`` object, in the seed's order.
SEED_SESSION_KEYS: tuple[str, ...] = (
    "id",
    "session_id",
    "session_name",
    "description",
    "is_active",
    "agent_name",
    "agent_instructions",
    "created_at",
    "updated_at",
)
#: Keys of each exported message, in the seed's order.
SEED_MESSAGE_KEYS: tuple[str, ...] = (
    "id",
    "role",
    "content",
    "tool_call_id",
    "tool_name",
    "extra_data",
    "created_at",
    "updated_at",
)
#: The seed's CSV header (``convert_to_csv``), in its order.
SEED_CSV_COLUMNS: tuple[str, ...] = (
    "message_id",
    "role",
    "content",
    "tool_call_id",
    "tool_name",
    "created_at",
    "updated_at",
)


def parse_message_role(value: Any) -> MessageRole:
    """A ``MessageRole`` from its value or member name in any case (``"user"``, ``"USER"``,
    ``"User"``); ``ValueError`` naming the four roles otherwise."""
    if isinstance(value, MessageRole):
        return value
    if isinstance(value, str):
        try:
            return MessageRole(value.strip().lower())
        except ValueError:
            pass
    roles = ", ".join(r.name for r in MessageRole)
    raise ValueError(f"role must be one of {roles} (any case), got {value!r}")


def _seed_role(role: str) -> str:
    try:
        return chat_role(role).value
    except ValueError:
        return role  # a role no face knows: shown as stored rather than guessed


def seed_session_dict(record: ConversationRecord) -> dict[str, Any]:
    """The seed's exported ``session`` object for a stored conversation (keys
    :data:`SEED_SESSION_KEYS`; ``session_id`` falls back to the id, as ``AgentSession`` does;
    ``session_name`` is ``name``; times ISO 8601 UTC)."""
    return {
        "id": record.id,
        "session_id": record.session_id or record.id,
        "session_name": record.name,
        "description": record.description,
        "is_active": record.is_active,
        "agent_name": record.agent_name,
        "agent_instructions": record.agent_instructions,
        "created_at": isoformat(record.created_at),
        "updated_at": isoformat(record.updated_at),
    }


def seed_message_dict(message: MessageRecord) -> dict[str, Any]:
    """The seed's exported message object (keys :data:`SEED_MESSAGE_KEYS`; ``extra_data`` is the
    parsed JSON value; ``updated_at`` falls back to ``created_at``)."""
    return {
        "id": message.id,
        "role": _seed_role(message.role),
        "content": message.content,
        "tool_call_id": message.tool_call_id,
        "tool_name": message.tool_name,
        "extra_data": message.extra_data,
        "created_at": isoformat(message.created_at),
        "updated_at": isoformat(message.updated_at or message.created_at),
    }


def seed_export_document(record: ConversationRecord, messages: Sequence[MessageRecord]) -> dict[str, Any]:
    """``{"session": seed_session_dict(record), "messages": [seed_message_dict(m), ...]}`` — the
    seed's ``export_session_data(..., format="json")`` result, messages in ``seq`` order."""
    return {"session": seed_session_dict(record), "messages": [seed_message_dict(m) for m in messages]}


def seed_csv(export_data: Mapping[str, Any]) -> str:
    """The seed's ``convert_to_csv``: a header of :data:`SEED_CSV_COLUMNS`, then one row per
    message of ``export_data["messages"]`` (``None`` written as an empty field, as Python's csv
    module does). ``ValueError`` when ``messages`` is missing or a message lacks a seed key."""
    messages = export_data.get("messages") if isinstance(export_data, Mapping) else None
    if not isinstance(messages, list):
        raise ValueError("export_data must be a dict with a 'messages' list (the seed's export shape)")
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(SEED_CSV_COLUMNS)
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise ValueError(f"messages[{i}] must be an object")
        missing = [k for k in SEED_MESSAGE_KEYS if k != "extra_data" and k not in message]
        if missing:
            raise ValueError(f"messages[{i}] lacks the seed keys {missing}")
        writer.writerow(
            [
                message["id"],
                message["role"],
                message["content"],
                message["tool_call_id"],
                message["tool_name"],
                message["created_at"],
                message["updated_at"],
            ]
        )
    return output.getvalue()


@dataclass(frozen=True)
class SeedRestore:
    """What restoring a seed-shaped backup writes: the ``conversation`` record, its ``messages``
    (``seq`` 1..n in the backup's order) and the ``events`` (one ``active → inactive`` move
    when the backup says ``is_active: false``)."""

    conversation: ConversationRecord
    messages: list[MessageRecord]
    events: list[LifecycleEvent]


def _optional_text(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{where}.{key} must be a string or null, got {type(value).__name__}")
    return value


def _time(data: Mapping[str, Any], key: str, where: str, default: datetime | None) -> datetime | None:
    value = data.get(key)
    if value is None:
        return default
    try:
        return ensure_utc(value)
    except ValueError as exc:
        raise ValueError(f"{where}.{key}: {exc}") from None


def _restore_message(raw: Any, i: int, conversation_id: str, now: datetime) -> MessageRecord:
    where = f"messages[{i}]"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where} must be an object")
    for key in ("role", "content"):
        if key not in raw:
            raise ValueError(f"{where} lacks the required key {key!r}")
    try:
        role = parse_message_role(raw["role"])
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    content = raw["content"]
    if not isinstance(content, str):
        raise ValueError(f"{where}.content must be a string")
    message_id = raw.get("id")
    if message_id is not None and (not isinstance(message_id, str) or not message_id):
        raise ValueError(f"{where}.id must be a non-empty string")
    created = _time(raw, "created_at", where, now)
    updated = _time(raw, "updated_at", where, None)
    return MessageRecord(
        id=message_id or new_message_id(),
        conversation_id=conversation_id,
        seq=i + 1,
        role=role.value,
        content=content,
        tool_call_id=_optional_text(raw, "tool_call_id", where),
        tool_name=_optional_text(raw, "tool_name", where),
        extra_data=check_json_value(raw.get("extra_data"), f"{where}.extra_data"),
        created_at=created,
        updated_at=None if updated is None or updated == created else updated,
    )


def parse_seed_backup(
    backup: Any, *, owner_id: str, conversation_id: str, user_id: str | None = None, actor: str | None = None
) -> SeedRestore:
    """Validate a seed-shaped backup (``{"session": {...}, "messages": [...]}``) and build what
    restoring it writes, under ``conversation_id`` (the caller decides whether the backup's own
    ``session.id`` can be kept) for ``owner_id``; ``user_id`` becomes the session's ``user_id``
    (the seed's restoring user). ``extra_data`` is the JSON value as the seed's export writes it
    (a string there is a JSON string value). Raises ``ValueError`` naming the first bad key;
    nothing is written by this function.
    """
    if not isinstance(backup, Mapping):
        raise ValueError(f"a seed backup must be an object, got {type(backup).__name__}")
    session = backup.get("session")
    messages = backup.get("messages", [])
    if not isinstance(session, Mapping):
        raise ValueError("a seed backup needs a 'session' object (the seed's export_session_data shape)")
    if not isinstance(messages, list):
        raise ValueError("a seed backup's 'messages' must be a list")
    session_id = session.get("session_id")
    if not isinstance(session_id, str) or not session_id or len(session_id) > 255:
        raise ValueError("session.session_id must be a non-empty string of at most 255 characters")
    is_active = session.get("is_active", True)
    if not isinstance(is_active, bool):
        raise ValueError(f"session.is_active must be true or false, got {is_active!r}")
    now = utcnow()
    created = _time(session, "created_at", "session", now)
    updated = _time(session, "updated_at", "session", created)
    restored = [_restore_message(m, i, conversation_id, now) for i, m in enumerate(messages)]
    status = ConversationStatus.ACTIVE if is_active else ConversationStatus.INACTIVE
    record = ConversationRecord(
        id=conversation_id,
        owner_id=owner_id,
        session_id=session_id,
        kind=ConversationKind.AGENT_SESSION,
        name=_optional_text(session, "session_name", "session"),
        description=_optional_text(session, "description", "session"),
        agent_name=_optional_text(session, "agent_name", "session"),
        agent_instructions=_optional_text(session, "agent_instructions", "session"),
        user_id=user_id,
        status=status,
        created_at=created,
        updated_at=updated,
        last_activity_at=max((m.created_at for m in restored), default=created),
    )
    events = (
        []
        if is_active
        else [
            LifecycleEvent(
                conversation_id=conversation_id,
                from_status=ConversationStatus.ACTIVE,
                to_status=ConversationStatus.INACTIVE,
                reason="restored from a seed backup with is_active=false",
                actor=actor or owner_id,
                at=now,
            )
        ]
    )
    return SeedRestore(record, restored, events)
