"""Importer for Open Assistant message trees (format ``oasst``).

Source: LAION-AI/Open-Assistant (Apache-2.0) ``en_100_tree.jsonl`` / ``en_100_message.jsonl``.
Record shape: ``{message_tree_id, tree_state, prompt{message_id, text, role: prompter|assistant,
lang, rank?, synthetic, model_name?, emojis?, labels?, replies[…recursive]}}``; a record may
also be a bare message node (``{message_id, text, role, replies}``, the ``_message`` files).

A tree becomes one conversation of kind ``agent_session`` that keeps every branch:

- **main thread first**: from the prompt, follow at each level the best reply — the lowest
  ``rank`` (0 = best, as ranked by OASST reviewers), unranked replies after ranked ones, ties in
  source order — down to a leaf;
- **then the other branches**, depth-first in the same reply order. Each branch is contiguous:
  a branch starts at a reply that is not its parent's best one and follows best replies down
  to a leaf, so the number of branches equals the number of leaves. Every message appears
  exactly once;
- each message's metadata: ``parent_id`` (the ledger id of its parent message, ``None`` for the
  prompt), ``oasst_message_id``, ``oasst_parent_id``, ``branch`` (0 = main thread, then 1, 2, …
  in message order), ``main_thread`` (bool), ``branch_start`` (True on a branch's first
  message), ``depth`` (0 = prompt), ``sibling_rank`` (position among its siblings in reply
  order), plus the source's ``rank``, ``lang``, ``synthetic``, ``model_name``, ``emojis`` and
  ``labels`` when present;
- roles: ``prompter`` → ``user``, ``assistant`` → ``assistant``; conversation metadata has
  ``branch_count``, ``main_thread_length``, ``tree_state``.

``session_id`` = ``"oasst:{message_tree_id}"`` (UUIDs). Messages get the import time (the
trees carry no timestamps). Unknown roles, a non-string text or a cyclic/duplicated message
id → ``RecordError``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
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
    conversation_uuid,
    finish,
    message_uuid,
    require_dict,
    require_list,
    require_str,
    run_importer,
    short_title,
)
from convoledger.models.records import ConversationKind, ConversationRecord, MessageRecord
from convoledger.models.timeutil import ensure_utc, utcnow

FORMAT = "oasst"
ROLES = {"prompter": "user", "assistant": "assistant"}
_KEPT = ("rank", "lang", "synthetic", "model_name", "emojis", "labels", "review_count", "deleted")


def parse_oasst(
    records: Iterable[tuple[int, Any]],
    *,
    owner_id: str = DEFAULT_OWNER,
    imported_at: datetime | None = None,
) -> Iterator[ImportResult]:
    """Convert ``(line, record)`` pairs of OASST message trees; see the module docstring."""
    context = ImportContext(owner_id, ensure_utc(imported_at or utcnow()), FORMAT)
    return run_importer(records, _convert, context)


@dataclass
class _Node:
    raw: dict[str, Any]
    source_id: str
    depth: int
    sibling_rank: int
    parent: _Node | None
    children: list[_Node] = field(default_factory=list)


def _rank_key(indexed: tuple[int, dict[str, Any]]) -> tuple[float, int]:
    index, node = indexed
    rank = node.get("rank")
    return (rank if isinstance(rank, int | float) and not isinstance(rank, bool) else math.inf, index)


def _build(raw: dict[str, Any], parent: _Node | None, depth: int, rank: int, seen: set[str]) -> _Node:
    where = f"message at depth {depth}"
    source_id = require_str(raw.get("message_id"), f"{where}: message_id", allow_empty=False)
    if source_id in seen:
        raise RecordShapeError(f"message_id {source_id} appears twice in the tree")
    seen.add(source_id)
    role = raw.get("role")
    if role not in ROLES:
        raise RecordShapeError(f"message {source_id}: role must be one of {sorted(ROLES)}, got {role!r}")
    require_str(raw.get("text"), f"message {source_id}: text")
    node = _Node(raw=raw, source_id=source_id, depth=depth, sibling_rank=rank, parent=parent)
    replies = require_list(raw.get("replies") or [], f"message {source_id}: replies", non_empty=False)
    ordered = sorted(
        ((i, require_dict(r, f"message {source_id}: replies[{i}]")) for i, r in enumerate(replies)),
        key=_rank_key,
    )
    node.children = [_build(child, node, depth + 1, pos, seen) for pos, (_, child) in enumerate(ordered)]
    return node


def _order(root: _Node) -> list[tuple[_Node, int, bool]]:
    """(node, branch, branch_start) in ledger order: main thread, then other branches DFS."""
    out: list[tuple[_Node, int, bool]] = []
    next_branch = 0

    def visit(node: _Node, branch: int, start: bool) -> None:
        nonlocal next_branch
        out.append((node, branch, start))
        if not node.children:
            return
        visit(node.children[0], branch, False)
        for child in node.children[1:]:
            next_branch += 1
            visit(child, next_branch, True)

    visit(root, 0, True)
    return out


def _convert(record: Any, line: int, ctx: ImportContext) -> list[ImportedConversation]:
    rec = require_dict(record, "record")
    prompt = require_dict(rec["prompt"], "prompt") if "prompt" in rec else rec
    try:
        root = _build(prompt, None, 0, 0, set())
    except RecursionError:
        raise RecordShapeError("the message tree is too deep to import") from None
    tree_id = rec.get("message_tree_id") or root.source_id
    session_id = f"oasst:{tree_id}"
    conversation_id = conversation_uuid(ctx.owner_id, session_id)
    ordered = _order(root)
    ledger_ids = {id(node): message_uuid(conversation_id, i) for i, (node, _, _) in enumerate(ordered)}
    messages = []
    for node, branch, start in ordered:
        role = ROLES[node.raw["role"]]
        metadata: dict[str, Any] = {
            "parent_id": ledger_ids[id(node.parent)] if node.parent else None,
            "oasst_message_id": node.source_id,
            "oasst_parent_id": node.parent.source_id if node.parent else None,
            "branch": branch,
            "main_thread": branch == 0,
            "branch_start": start,
            "depth": node.depth,
            "sibling_rank": node.sibling_rank,
        }
        metadata.update({k: node.raw[k] for k in _KEPT if node.raw.get(k) is not None})
        messages.append(
            MessageRecord(
                role=role,
                content=node.raw["text"],
                sender=chat_sender(role),
                metadata=metadata,
                created_at=ctx.imported_at,
            )
        )
    branch_count = 1 + max(branch for _, branch, _ in ordered)
    conversation = ConversationRecord(
        id=conversation_id,
        owner_id=ctx.owner_id,
        session_id=session_id,
        kind=ConversationKind.AGENT_SESSION,
        name=short_title(root.raw["text"]) or session_id,
        participants=chat_participants(),
        metadata={
            "source_format": FORMAT,
            "message_tree_id": tree_id,
            "tree_state": rec.get("tree_state"),
            "branch_count": branch_count,
            "main_thread_length": sum(1 for _, branch, _ in ordered if branch == 0),
        },
        created_at=ctx.imported_at,
    )
    # ``finish`` numbers messages in list order, the same order ``ledger_ids`` was built in.
    return [finish(conversation, messages, line)]
