"""Importer for the BYU CCC chit-chat dataset (format ``chitchat``).

Source: PyPI ``chitchat-dataset==0.9.0`` ``chitchat_dataset/dataset.json`` (BYU-PCCL, MIT). Record
shape: ``{conversation_id, prompt, start (ISO 8601), ratings{witty, upbeat, interesting},
messages[[{text, timestamp (ISO 8601, seconds), sender (uuid)}] per speaker turn]}``.

Each conversation becomes one conversation of kind ``chat_session`` (the multichat
``ChatSession`` face: two people, every message with a sender and a recipient):

- participants: the speakers (their uuids as participant ids, type ``user``), in order of
  first appearance;
- every message of every speaker turn, in order, role ``user``, ``sender`` = its speaker,
  ``recipient`` = the other speaker (``None`` if the conversation does not have exactly two);
- ``created_at`` = the message's own timestamp (real timing kept, UTC); metadata ``turn``
  (0-based speaker turn) and ``index_in_turn``;
- ``topic`` = the prompt; ``created_at`` of the conversation = ``start``; ratings in metadata.

``session_id`` = ``"chitchat:{conversation_id}"`` (the ids are UUIDs). A missing or invalid
timestamp, sender or text makes the record a ``RecordError``.
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
)
from convoledger.models.records import ConversationKind, ConversationRecord, MessageRecord, ParticipantRecord
from convoledger.models.timeutil import ensure_utc, utcnow

FORMAT = "chitchat"


def parse_chitchat(
    records: Iterable[tuple[int, Any]],
    *,
    owner_id: str = DEFAULT_OWNER,
    imported_at: datetime | None = None,
) -> Iterator[ImportResult]:
    """Convert ``(line, record)`` pairs of chit-chat conversations; see the module docstring.

    ``imported_at`` is accepted for a uniform signature; every message keeps its own timestamp.
    """
    context = ImportContext(owner_id, ensure_utc(imported_at or utcnow()), FORMAT)
    return run_importer(records, _convert, context)


def _timestamp(value: Any, what: str) -> datetime:
    text = require_str(value, what, allow_empty=False)
    try:
        return ensure_utc(text)
    except ValueError as exc:
        raise RecordShapeError(f"{what}: {exc}") from None


def _convert(record: Any, line: int, ctx: ImportContext) -> list[ImportedConversation]:
    rec = require_dict(record, "record")
    turns = require_list(rec.get("messages"), "messages")
    speakers: list[str] = []
    flat: list[tuple[int, int, str, str, datetime]] = []
    for t, turn in enumerate(turns):
        for k, item in enumerate(require_list(turn, f"messages[{t}]")):
            where = f"messages[{t}][{k}]"
            msg = require_dict(item, where)
            text = require_str(msg.get("text"), f"{where}.text")
            sender = require_str(msg.get("sender"), f"{where}.sender", allow_empty=False)
            when = _timestamp(msg.get("timestamp"), f"{where}.timestamp")
            if sender not in speakers:
                speakers.append(sender)
            flat.append((t, k, sender, text, when))
    two = len(speakers) == 2
    messages = [
        MessageRecord(
            role="user",
            content=text,
            sender=sender,
            recipient=(speakers[1] if sender == speakers[0] else speakers[0]) if two else None,
            metadata={"turn": t, "index_in_turn": k},
            created_at=when,
        )
        for t, k, sender, text, when in flat
    ]
    source_id = rec.get("conversation_id")
    session_id = (
        f"chitchat:{source_id}"
        if isinstance(source_id, str) and source_id
        else f"chitchat:{content_hash(rec)}"
    )
    prompt = rec.get("prompt") if isinstance(rec.get("prompt"), str) else None
    start = _timestamp(rec["start"], "start") if rec.get("start") is not None else flat[0][4]
    conversation = ConversationRecord(
        id=conversation_uuid(ctx.owner_id, session_id),
        owner_id=ctx.owner_id,
        session_id=session_id,
        kind=ConversationKind.CHAT_SESSION,
        name=short_title(prompt) if prompt else f"chit-chat {source_id}",
        topic=prompt,
        participants=[
            ParticipantRecord(participant_id=s, participant_type="user", metadata={"speaker": f"speaker {n}"})
            for n, s in enumerate(speakers, 1)
        ],
        metadata={
            "source_format": FORMAT,
            "source_id": source_id,
            "ratings": rec.get("ratings"),
            "start": rec.get("start"),
            "speaker_turns": len(turns),
        },
        created_at=start,
    )
    return [finish(conversation, messages, line)]
