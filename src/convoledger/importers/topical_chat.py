"""Importer for Topical-Chat conversations (format ``topical-chat``).

Source: alexa/Topical-Chat (CDLA-Sharing-1.0) ``conversations/{train,valid_freq,…}.json``: a
JSON object keyed by conversation id, each value ``{article_url, config, conversation_rating
{agent_1, agent_2}, content[{message, agent: agent_1|agent_2, sentiment, knowledge_source[],
turn_rating}]}``. Accepted records: one such conversation (``conversation_id`` and ``split``
added, as in the shared collection), or the whole keyed object (every value imported, its key
as the id).

Each conversation becomes one conversation of kind ``chat_session`` between two people:
participants ``agent_1`` and ``agent_2`` (type ``user``: Topical-Chat's "agents" are crowd
workers), every message role ``user`` with ``sender`` its agent and ``recipient`` the other one;
the per-turn annotations (``sentiment``, ``knowledge_source``, ``turn_rating`` and any other
key) in the message's metadata; ``conversation_rating``, ``article_url``, ``config``, ``split``
in the conversation's. ``session_id`` = ``"topical-chat:{conversation_id}"``. Messages get the
import time (no timestamps in the source).
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
    content_hash,
    conversation_uuid,
    finish,
    require_dict,
    require_list,
    require_str,
    run_importer,
    short_title,
    source_id_of,
)
from convoledger.models.records import ConversationKind, ConversationRecord, MessageRecord, ParticipantRecord
from convoledger.models.timeutil import ensure_utc, utcnow

FORMAT = "topical-chat"
AGENTS = ("agent_1", "agent_2")


def parse_topical_chat(
    records: Iterable[tuple[int, Any]],
    *,
    owner_id: str = DEFAULT_OWNER,
    imported_at: datetime | None = None,
) -> Iterator[ImportResult]:
    """Convert ``(line, record)`` pairs of Topical-Chat conversations; see the module docstring."""
    context = ImportContext(owner_id, ensure_utc(imported_at or utcnow()), FORMAT)
    return run_importer(records, _convert, context)


def is_keyed_file(record: Any) -> bool:
    """True for the upstream file shape: an object whose values are all conversations."""
    return (
        isinstance(record, dict)
        and bool(record)
        and "content" not in record
        and all(isinstance(v, dict) and isinstance(v.get("content"), list) for v in record.values())
    )


def _convert(record: Any, line: int, ctx: ImportContext) -> list[ImportedConversation]:
    rec = require_dict(record, "record")
    if is_keyed_file(rec):
        return [_one({"conversation_id": key, **value}, line, ctx) for key, value in rec.items()]
    return [_one(rec, line, ctx)]


def _one(rec: dict[str, Any], line: int, ctx: ImportContext) -> ImportedConversation:
    turns = require_list(rec.get("content"), "content")
    messages = []
    for i, item in enumerate(turns):
        turn = require_dict(item, f"content[{i}]")
        agent = turn.get("agent")
        if agent not in AGENTS:
            raise RecordShapeError(f"content[{i}].agent must be 'agent_1' or 'agent_2', got {agent!r}")
        text = require_str(turn.get("message"), f"content[{i}].message")
        messages.append(
            MessageRecord(
                role="user",
                content=text,
                sender=agent,
                recipient=AGENTS[1] if agent == AGENTS[0] else AGENTS[0],
                metadata={"turn": i, **{k: v for k, v in turn.items() if k not in ("message", "agent")}},
                created_at=ctx.imported_at,
            )
        )
    source_id = source_id_of(rec.get("conversation_id"))
    session_id = f"{FORMAT}:{source_id or content_hash(rec)}"
    first = next((m.content for m in messages if m.content.strip()), "")
    conversation = ConversationRecord(
        id=conversation_uuid(ctx.owner_id, session_id),
        owner_id=ctx.owner_id,
        session_id=session_id,
        kind=ConversationKind.CHAT_SESSION,
        name=short_title(first) or session_id,
        topic=rec.get("article_url") if isinstance(rec.get("article_url"), str) else None,
        participants=[ParticipantRecord(participant_id=a, participant_type="user") for a in AGENTS],
        metadata={
            "source_format": FORMAT,
            "source_id": source_id,
            **{k: v for k, v in rec.items() if k not in ("content", "conversation_id")},
        },
        created_at=ctx.imported_at,
    )
    return finish(conversation, messages, line)
