"""Importer for Anthropic-style ``"\\n\\nHuman: … \\n\\nAssistant: …"`` transcripts and
preference pairs (format ``hh-rlhf``).

Source shape: Anthropic/hh-rlhf (MIT) ``{chosen, rejected}``, each one transcript string; also
``{prompt, chosen, rejected}`` where ``prompt`` is the transcript up to the last
``"\\n\\nAssistant:"`` and ``chosen``/``rejected`` are the two candidate replies, and a single
transcript ``{transcript}`` / ``{text}``. A transcript is split at every ``"\\n\\nHuman:"`` /
``"\\n\\nAssistant:"`` (one space after the colon is part of the marker): ``Human`` → role
``user``, ``Assistant`` → ``assistant``; the text in between, newlines included, is the message
content exactly. Text before the first marker (normally none) is kept in
``metadata["preamble"]``. A transcript without any marker is a ``RecordError``.

A **preference pair becomes two conversations that say which is which**:
``metadata["preference"]`` = ``"chosen"`` / ``"rejected"`` and ``metadata["pair_session_id"]``
names the other one. The rejected one is a **branch** of the chosen one forked after the
messages both share (usually every turn but the last reply), so the shared dialogue is stored
once; when they share no first message it is a conversation of its own. ``session_id`` =
``"hh-rlhf:{hash}:chosen"`` / ``…:rejected`` (the records have no id). Kind ``agent_session``;
messages get the import time (no timestamps in the source).
"""

from __future__ import annotations

import re
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
    common_prefix,
    content_hash,
    conversation_uuid,
    finish,
    fork_record,
    require_dict,
    require_str,
    run_importer,
    short_title,
)
from convoledger.models.records import ConversationKind, ConversationRecord, MessageRecord
from convoledger.models.timeutil import ensure_utc, utcnow

FORMAT = "hh-rlhf"
MARKER = re.compile(r"\n\n(Human|Assistant):[ ]?")
ROLES = {"Human": "user", "Assistant": "assistant"}


def parse_hh_rlhf(
    records: Iterable[tuple[int, Any]],
    *,
    owner_id: str = DEFAULT_OWNER,
    imported_at: datetime | None = None,
) -> Iterator[ImportResult]:
    """Convert ``(line, record)`` pairs of hh-rlhf records; see the module docstring."""
    context = ImportContext(owner_id, ensure_utc(imported_at or utcnow()), FORMAT)
    return run_importer(records, _convert, context)


def split_transcript(text: str, what: str = "transcript") -> tuple[str, list[tuple[str, str]]]:
    """``(preamble, [(role, content), …])`` of an Anthropic-style transcript (module docstring).
    ``RecordShapeError`` when it has no ``Human:``/``Assistant:`` marker."""
    parts = MARKER.split(text)
    if len(parts) < 3:
        raise RecordShapeError(f"{what} has no '\\n\\nHuman:' or '\\n\\nAssistant:' turn")
    preamble, rest = parts[0], parts[1:]
    return preamble, [(ROLES[rest[k]], rest[k + 1]) for k in range(0, len(rest), 2)]


def _turns(rec: dict[str, Any], side: str) -> tuple[str, list[tuple[str, str]]]:
    text = require_str(rec.get(side), side)
    prompt = rec.get("prompt")
    if isinstance(prompt, str) and not MARKER.search(text):
        # {prompt, chosen, rejected}: the side is the reply to the prompt's last "Assistant:"
        preamble, turns = split_transcript(prompt, "prompt")
        if turns and turns[-1][0] == "assistant" and not turns[-1][1].strip():
            turns = turns[:-1]
        return preamble, [*turns, ("assistant", text.removeprefix(" "))]
    return split_transcript(text, side)


def _messages(turns: list[tuple[str, str]], ctx: ImportContext) -> list[MessageRecord]:
    return [
        MessageRecord(role=role, content=content, sender=chat_sender(role), created_at=ctx.imported_at)
        for role, content in turns
    ]


def _convert(record: Any, line: int, ctx: ImportContext) -> list[ImportedConversation]:
    rec = require_dict(record, "record")
    digest = content_hash(rec)
    extra = {k: v for k, v in rec.items() if k not in ("chosen", "rejected", "prompt", "transcript", "text")}
    if "chosen" not in rec and "rejected" not in rec:
        key = "transcript" if "transcript" in rec else "text"
        preamble, turns = split_transcript(require_str(rec.get(key), key), key)
        conv = _record(f"{FORMAT}:{digest}", turns, preamble, {**extra}, ctx)
        return [finish(conv, _messages(turns, ctx), line)]
    chosen_pre, chosen = _turns(rec, "chosen")
    rejected_pre, rejected = _turns(rec, "rejected")
    sid_chosen, sid_rejected = f"{FORMAT}:{digest}:chosen", f"{FORMAT}:{digest}:rejected"
    first = _record(
        sid_chosen,
        chosen,
        chosen_pre,
        {**extra, "preference": "chosen", "pair_session_id": sid_rejected},
        ctx,
    )
    meta = {**extra, "preference": "rejected", "pair_session_id": sid_chosen}
    if rejected_pre:
        meta["preamble"] = rejected_pre
    shared = common_prefix(chosen, rejected) if rejected_pre == chosen_pre else 0
    out = [finish(first, _messages(chosen, ctx), line)]
    if shared:
        branch = fork_record(first, sid_rejected, shared, name=first.name, metadata=meta)
        out.append(finish(branch, _messages(rejected[shared:], ctx), line))
    else:
        second = _record(sid_rejected, rejected, rejected_pre, meta, ctx)
        out.append(finish(second, _messages(rejected, ctx), line))
    return out


def _record(
    session_id: str, turns: list[tuple[str, str]], preamble: str, metadata: dict[str, Any], ctx: ImportContext
) -> ConversationRecord:
    first_user = next((c for r, c in turns if r == "user" and c.strip()), "")
    meta = {"source_format": FORMAT, **metadata}
    if preamble:
        meta["preamble"] = preamble
    return ConversationRecord(
        id=conversation_uuid(ctx.owner_id, session_id),
        owner_id=ctx.owner_id,
        session_id=session_id,
        kind=ConversationKind.AGENT_SESSION,
        name=short_title(first_user) or session_id,
        participants=chat_participants(),
        metadata=meta,
        created_at=ctx.imported_at,
    )
