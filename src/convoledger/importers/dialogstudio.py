"""Importer for DialogStudio task-oriented dialogues (format ``dialogstudio``).

Source: salesforce/DialogStudio (Apache-2.0; each sub-dataset keeps its own licence)
``task-oriented-dialogues/*/converted_examples.json``, one record per dialogue: ``{dataset,
example_id, "original dialog id", "dialog index", "original dialog info", log[{"turn id",
"user utterance", "system response", "dialog history", "original user side information",
"original system side information", dst?, "dst accumulated"?, intent?, "external knowledge"?,
…}], "external knowledge"?, "external knowledge non-flat"?, "dst knowledge"?, "intent
knowledge"?, prompt}``. One unified user/system-pair shape over 30 datasets (MultiWOZ,
Taskmaster, ABCD, SGD, KVRET, …).

Each dialogue becomes one conversation of kind ``conversation`` (the task-oriented
virtual-assistant face), participants ``user`` and ``assistant``. Each log turn gives a
``user`` message (its ``"user utterance"``) then an ``assistant`` message (its ``"system
response"``); an empty side (a dialogue that opens with the system, or ends with the user) gives
no message. Per-turn data goes to message metadata: on the user message the turn id, ``dst``,
``dst accumulated``, ``intent``, ``external knowledge`` and ``original user side information``;
on the system message the turn id and ``original system side information`` (on whichever message
the turn has when one side is empty). ``"dialog history"`` repeats the earlier turns as
``<USER> … <SYSTEM> …``; it is stored (``metadata["dialog history"]``) only where it differs from
that rendering of the stored messages, so it can always be given back. A turn with both sides
empty is kept whole in the conversation's ``metadata["empty_turns"]``.

``current_goal`` = ``{"dst_accumulated": …, "intent": …}`` from the last turn that has them
(dialogue-state strings as DialogStudio writes them). Conversation metadata keeps every other
top-level key. ``session_id`` = ``"dialogstudio:{example_id}"``. Messages get the import time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from convoledger.importers.common import (
    ASSISTANT_ID,
    DEFAULT_OWNER,
    USER_ID,
    ImportContext,
    ImportedConversation,
    ImportResult,
    chat_participants,
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
from convoledger.models.records import ConversationKind, ConversationRecord, MessageRecord
from convoledger.models.timeutil import ensure_utc, utcnow

FORMAT = "dialogstudio"
USER_KEY, SYSTEM_KEY, HISTORY_KEY = "user utterance", "system response", "dialog history"
_SYSTEM_SIDE = ("original system side information",)
_TURN_TEXT = (USER_KEY, SYSTEM_KEY, HISTORY_KEY)


def parse_dialogstudio(
    records: Iterable[tuple[int, Any]],
    *,
    owner_id: str = DEFAULT_OWNER,
    imported_at: datetime | None = None,
) -> Iterator[ImportResult]:
    """Convert ``(line, record)`` pairs of DialogStudio dialogues; see the module docstring."""
    context = ImportContext(owner_id, ensure_utc(imported_at or utcnow()), FORMAT)
    return run_importer(records, _convert, context)


def _convert(record: Any, line: int, ctx: ImportContext) -> list[ImportedConversation]:
    rec = require_dict(record, "record")
    log = require_list(rec.get("log"), "log")
    messages: list[MessageRecord] = []
    rendered: list[str] = []
    empty_turns: list[dict[str, Any]] = []
    goal: dict[str, Any] = {}
    for i, item in enumerate(log):
        turn = require_dict(item, f"log[{i}]")
        user = require_str(turn.get(USER_KEY, ""), f"log[{i}].{USER_KEY}")
        system = require_str(turn.get(SYSTEM_KEY, ""), f"log[{i}].{SYSTEM_KEY}")
        history = turn.get(HISTORY_KEY)
        if not user and not system:
            empty_turns.append({"index": i, **turn})
            continue
        rest = {k: v for k, v in turn.items() if k not in _TURN_TEXT}
        user_meta = {k: v for k, v in rest.items() if k not in _SYSTEM_SIDE}
        system_meta = {k: v for k, v in rest.items() if k in _SYSTEM_SIDE or k == "turn id"}
        if history is not None and history != " ".join(rendered):
            (user_meta if user else system_meta)[HISTORY_KEY] = history
        for key in ("dst accumulated", "intent"):
            if turn.get(key):
                goal[key.replace(" ", "_")] = turn[key]
        if user:
            messages.append(
                MessageRecord(
                    role="user",
                    content=user,
                    sender=USER_ID,
                    recipient=ASSISTANT_ID,
                    metadata=user_meta,
                    created_at=ctx.imported_at,
                )
            )
            rendered.append(f"<USER> {user}")
        if system:
            meta = system_meta if user else {**user_meta, **system_meta}
            messages.append(
                MessageRecord(
                    role="assistant",
                    content=system,
                    sender=ASSISTANT_ID,
                    recipient=USER_ID,
                    metadata=meta,
                    created_at=ctx.imported_at,
                )
            )
            rendered.append(f"<SYSTEM> {system}")
    example_id = source_id_of(rec.get("example_id"))
    session_id = f"{FORMAT}:{example_id or content_hash(rec)}"
    dataset = rec.get("dataset") if isinstance(rec.get("dataset"), str) else None
    first_user = next((m.content for m in messages if m.role == "user"), "")
    metadata: dict[str, Any] = {
        "source_format": FORMAT,
        **{k: v for k, v in rec.items() if k != "log"},
    }
    if empty_turns:
        metadata["empty_turns"] = empty_turns
    conversation = ConversationRecord(
        id=conversation_uuid(ctx.owner_id, session_id),
        owner_id=ctx.owner_id,
        session_id=session_id,
        kind=ConversationKind.CONVERSATION,
        name=f"{dataset or 'DialogStudio'}: {short_title(first_user, 60)}",
        user_id=USER_ID,
        topic=dataset,
        current_goal=goal or None,
        participants=chat_participants(),
        metadata=metadata,
        created_at=ctx.imported_at,
    )
    return [finish(conversation, messages, line)]
