"""Importer for ToolBench answer trees (format ``toolbench``).

Source: OpenBMB/ToolBench ``data/answer/*`` (Apache-2.0), one record per answered query:
``{win?, tree?, forward_args?, compare_candidates?, answer_generation{valid_data?, query,
function[], train_messages[[{role: system|user|assistant|function, content, function_call?,
name?}]], chain, final_answer, finish_type}}`` (``_source_path`` when the collection added it).

``train_messages`` holds the conversation as training samples: each list is the message history
up to one assistant decision, so each is usually a prefix of the longest one. The longest list
becomes the conversation (kind ``agent_session``); a list that is *not* a prefix of a list
already imported (another path of the search) becomes a **branch** forked where it departs from
the one it shares the longest prefix with (``parent_id``/``forked_at_seq``), so nothing is lost
and nothing is stored twice. Prefix lists add nothing and are not stored again; the conversation's
``metadata["train_samples"]`` says how many there were.

Messages are OpenAI chat messages with *legacy* function calling: ``function_call`` on assistant
messages and ``role: "function"`` results, converted by ``openai.convert_messages`` (synthesized
call ids ``call_legacy_{i}``, each result linked to its call). ``query`` → ``current_goal``
``{"query"}``; ``function`` (the tool list) → ``metadata["tools"]``; ``final_answer``,
``finish_type``, ``valid_data``, ``chain``, ``win``, ``tree``, ``forward_args``,
``compare_candidates`` and ``_source_path`` → metadata. ``session_id`` =
``"toolbench:{hash}"`` (records have no id). Messages get the import time.
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
    common_prefix,
    content_hash,
    conversation_uuid,
    finish,
    fork_record,
    require_dict,
    require_list,
    run_importer,
    short_title,
)
from convoledger.importers.openai import convert_messages
from convoledger.models.records import ConversationKind, ConversationRecord
from convoledger.models.timeutil import ensure_utc, utcnow

FORMAT = "toolbench"
_ANSWER_KEYS = ("final_answer", "finish_type", "valid_data", "chain")
_TOP_KEYS = ("win", "tree", "forward_args", "compare_candidates", "_source_path")


def parse_toolbench(
    records: Iterable[tuple[int, Any]],
    *,
    owner_id: str = DEFAULT_OWNER,
    imported_at: datetime | None = None,
) -> Iterator[ImportResult]:
    """Convert ``(line, record)`` pairs of ToolBench answers; see the module docstring."""
    context = ImportContext(owner_id, ensure_utc(imported_at or utcnow()), FORMAT)
    return run_importer(records, _convert, context)


def _convert(record: Any, line: int, ctx: ImportContext) -> list[ImportedConversation]:
    rec = require_dict(record, "record")
    answer = require_dict(rec.get("answer_generation"), "answer_generation")
    samples = [
        require_list(s, f"answer_generation.train_messages[{i}]")
        for i, s in enumerate(require_list(answer.get("train_messages"), "answer_generation.train_messages"))
    ]
    order = sorted(range(len(samples)), key=lambda i: -len(samples[i]))
    kept: list[list[Any]] = []  # the message lists stored: the main one, then branches
    forks: list[tuple[int, int]] = []  # per kept list after the first: (parent index in kept, fork point)
    for i in order:
        sample = samples[i]
        best, best_len = 0, -1
        for k, other in enumerate(kept):
            shared = common_prefix(sample, other)
            if shared == len(sample):
                best_len = -2  # a prefix of a stored list: nothing new
                break
            if shared > best_len:
                best, best_len = k, shared
        if best_len == -2:
            continue
        if kept and best_len < 1:
            raise RecordShapeError(f"train_messages[{i}] shares no first message with the others")
        if kept:
            forks.append((best, best_len))
        kept.append(sample)

    digest = content_hash(rec)
    session_id = f"{FORMAT}:{digest}"
    query = answer.get("query")
    if query is not None and not isinstance(query, str):
        raise RecordShapeError("answer_generation.query must be a string")
    metadata: dict[str, Any] = {
        "source_format": FORMAT,
        "tools": answer.get("function"),
        "train_samples": len(samples),
        **{k: answer[k] for k in _ANSWER_KEYS if k in answer},
        **{k: rec[k] for k in _TOP_KEYS if k in rec},
    }
    main = ConversationRecord(
        id=conversation_uuid(ctx.owner_id, session_id),
        owner_id=ctx.owner_id,
        session_id=session_id,
        kind=ConversationKind.AGENT_SESSION,
        name=short_title(query) if query else session_id,
        topic=short_title(query) if query else None,
        current_goal={"query": query} if query else None,
        participants=chat_participants(),
        metadata=metadata,
        created_at=ctx.imported_at,
    )
    results = [finish(main, convert_messages(kept[0], ctx.imported_at, "train_messages"), line)]
    for n, ((parent_at, point), sample) in enumerate(zip(forks, kept[1:], strict=True), start=1):
        parent = results[parent_at].conversation
        full = convert_messages(sample, ctx.imported_at, "train_messages")
        branch = fork_record(
            parent,
            f"{session_id}:path-{n}",
            # a branch of a branch shares its parent's numbering: the fork point is a seq
            point,
            metadata={**metadata, "search_path": n},
        )
        results.append(finish(branch, full[point:], line))
    return results
