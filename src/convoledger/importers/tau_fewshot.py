"""Importer for tau-bench few-shot transcripts (format ``tau-bench-few-shot``).

Source: sierra-research/tau-bench (MIT) ``few_shot_data/*-few_shot.jsonl``: ``{messages_display}``,
one string of ``role: text`` lines (``user:``, ``assistant:``, ``tool:``; also ``system:``). A line
starting with ``<role>: `` opens a message; any other line continues the open one (newlines
kept). The display drops the tool calls themselves: an ``assistant: None`` line is an assistant
turn that only called tools.

Each transcript becomes one conversation of kind ``agent_session``. Roles as written. An
``assistant: None`` message gets empty content and one **synthesized tool call** (id
``"fewshot-call-{i}"``, ``i`` = its message position; ``function.name`` ``"unknown"``,
``function.arguments`` ``""``: the display does not say which tool) with
``metadata["display"] = "None"``; each ``tool:`` message is the result of the latest assistant
call not yet answered (``tool_call_id``), so context windows keep the pair together. A ``tool:``
line right after an assistant *text* with no call pending means that message spoke and called a
tool (the display kept only the text): it gets the synthesized call
(``metadata["tool_call_synthesized"]``). A tool line with no assistant message before it keeps
``tool_call_id`` ``None``. ``session_id`` =
``"tau-bench-few-shot:{hash}"``. Messages get the import time.
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
    content_hash,
    conversation_uuid,
    finish,
    function_call,
    require_dict,
    require_str,
    run_importer,
    short_title,
)
from convoledger.models.records import ConversationKind, ConversationRecord, MessageRecord
from convoledger.models.timeutil import ensure_utc, utcnow

FORMAT = "tau-bench-few-shot"
LINE = re.compile(r"^(user|assistant|tool|system): ?(.*)$")


def parse_tau_fewshot(
    records: Iterable[tuple[int, Any]],
    *,
    owner_id: str = DEFAULT_OWNER,
    imported_at: datetime | None = None,
) -> Iterator[ImportResult]:
    """Convert ``(line, record)`` pairs of few-shot transcripts; see the module docstring."""
    context = ImportContext(owner_id, ensure_utc(imported_at or utcnow()), FORMAT)
    return run_importer(records, _convert, context)


def split_display(text: str) -> list[tuple[str, str]]:
    """``[(role, text), …]`` of a ``messages_display`` string (module docstring);
    ``RecordShapeError`` when its first line opens no message."""
    turns: list[tuple[str, list[str]]] = []
    for raw in text.split("\n"):
        m = LINE.match(raw)
        if m:
            turns.append((m.group(1), [m.group(2)]))
        elif turns:
            turns[-1][1].append(raw)
        else:
            raise RecordShapeError(
                "messages_display must start with 'user:', 'assistant:', 'tool:' or 'system:'"
            )
    return [(role, "\n".join(lines)) for role, lines in turns]


def _convert(record: Any, line: int, ctx: ImportContext) -> list[ImportedConversation]:
    rec = require_dict(record, "record")
    turns = split_display(require_str(rec.get("messages_display"), "messages_display", allow_empty=False))
    messages: list[MessageRecord] = []
    pending: list[str] = []
    for i, (role, text) in enumerate(turns):
        if role == "assistant" and text == "None":
            call_id = f"fewshot-call-{i}"
            pending.append(call_id)
            messages.append(
                MessageRecord(
                    role="assistant",
                    content="",
                    sender=chat_sender(role),
                    tool_calls=[function_call(call_id, "unknown", "")],
                    metadata={"display": "None"},
                    created_at=ctx.imported_at,
                )
            )
            continue
        tool_call_id = None
        if role == "tool":
            if not pending and messages and messages[-1].role == "assistant" and not messages[-1].tool_calls:
                # the assistant said something *and* called a tool; the display kept only the text
                call_id = f"fewshot-call-{len(messages) - 1}"
                messages[-1].tool_calls = [function_call(call_id, "unknown", "")]
                messages[-1].metadata["tool_call_synthesized"] = True
                pending.append(call_id)
            tool_call_id = pending.pop() if pending else None
        messages.append(
            MessageRecord(
                role=role,
                content=text,
                sender=chat_sender(role),
                tool_call_id=tool_call_id,
                created_at=ctx.imported_at,
            )
        )
    session_id = f"{FORMAT}:{content_hash(rec)}"
    first_user = next((m.content for m in messages if m.role == "user"), "")
    conversation = ConversationRecord(
        id=conversation_uuid(ctx.owner_id, session_id),
        owner_id=ctx.owner_id,
        session_id=session_id,
        kind=ConversationKind.AGENT_SESSION,
        name=short_title(first_user) or session_id,
        participants=chat_participants(),
        metadata={"source_format": FORMAT, **{k: v for k, v in rec.items() if k != "messages_display"}},
        created_at=ctx.imported_at,
    )
    return [finish(conversation, messages, line)]
