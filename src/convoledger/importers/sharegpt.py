"""Importer for ShareGPT conversations (format ``sharegpt``).

Record shape (as used by lm-sys/FastChat ``data/dummy_conversation.json`` and most ShareGPT
dumps): ``{"id", "conversations": [{"from", "value"}], "system"?}``. Speaker mapping:
``human``/``user`` → ``user``; ``gpt``/``assistant``/``chatgpt``/``bard``/``bing``/``model`` →
``assistant``; ``system`` → ``system``; ``observation``/``tool``/``function_response`` → ``tool``;
``function_call`` → ``assistant`` (the call text stays the content). The original speaker is
kept in ``metadata["from"]``. A top-level ``system`` string becomes a leading system message.
Unknown speakers, a non-string ``value`` or an empty ``conversations`` list → ``RecordError``.

``session_id`` = ``"sharegpt:{id}:{hash}"`` (ShareGPT ids such as ``identity_0`` repeat
across dumps, so 12 hex digits of the record's SHA-256 are appended). Kind ``agent_session``;
messages get the import time (the format has no timestamps).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from convoledger.importers.common import (
    DEFAULT_OWNER,
    ImportContext,
    ImportedConversation,
    ImportResult,
    RecordShapeError,
    chat_participants,
    chat_sender,
    content_hash,
    conversation_uuid,
    finish,
    require_dict,
    require_list,
    require_str,
    run_importer,
    short_title,
)
from convoledger.models.records import ConversationKind, ConversationRecord, MessageRecord
from convoledger.models.timeutil import ensure_utc, utcnow

FORMAT = "sharegpt"

SPEAKER_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "model": "assistant",
    "function_call": "assistant",
    "system": "system",
    "observation": "tool",
    "tool": "tool",
    "function_response": "tool",
}


def parse_sharegpt(
    records: Iterable[tuple[int, Any]],
    *,
    owner_id: str = DEFAULT_OWNER,
    imported_at: datetime | None = None,
) -> Iterator[ImportResult]:
    """Convert ``(line, record)`` pairs of ShareGPT conversations; see the module docstring."""
    context = ImportContext(owner_id, ensure_utc(imported_at or utcnow()), FORMAT)
    return run_importer(records, _convert, context)


def _convert(record: Any, line: int, ctx: ImportContext) -> list[ImportedConversation]:
    rec = require_dict(record, "record")
    turns = require_list(rec.get("conversations"), "conversations")
    messages: list[MessageRecord] = []
    system = rec.get("system")
    if isinstance(system, str) and system.strip():
        messages.append(
            MessageRecord(
                role="system", content=system, metadata={"from": "system"}, created_at=ctx.imported_at
            )
        )
    for i, item in enumerate(turns):
        turn = require_dict(item, f"conversations[{i}]")
        speaker = turn.get("from")
        role = SPEAKER_ROLES.get(speaker.lower()) if isinstance(speaker, str) else None
        if role is None:
            raise RecordShapeError(
                f"conversations[{i}].from must be one of {sorted(SPEAKER_ROLES)}, got {speaker!r}"
            )
        text = require_str(turn.get("value"), f"conversations[{i}].value")
        messages.append(
            MessageRecord(
                role=role,
                content=text,
                sender=chat_sender(role),
                metadata={"from": speaker},
                created_at=ctx.imported_at,
            )
        )
    source_id = rec.get("id")
    digest = content_hash(rec)
    session_id = f"sharegpt:{source_id}:{digest}" if source_id not in (None, "") else f"sharegpt:{digest}"
    first_user = next((m.content for m in messages if m.role == "user" and m.content), "")
    conversation = ConversationRecord(
        id=conversation_uuid(ctx.owner_id, session_id),
        owner_id=ctx.owner_id,
        session_id=session_id,
        kind=ConversationKind.AGENT_SESSION,
        name=short_title(first_user) or session_id,
        participants=chat_participants(),
        metadata={
            "source_format": FORMAT,
            "source_id": source_id,
            **{k: v for k, v in rec.items() if k not in ("id", "conversations", "system")},
        },
        created_at=ctx.imported_at,
    )
    return [finish(conversation, messages, line)]
