"""Importer for Open Assistant message trees (format ``oasst``).

Source: LAION-AI/Open-Assistant (Apache-2.0) ``en_100_tree.jsonl`` / ``en_100_message.jsonl``.
Record shape: ``{message_tree_id, tree_state, prompt{message_id, text, role: prompter|assistant,
lang, rank?, synthetic, model_name?, emojis?, labels?, replies[…recursive]}}``; a record may
also be a bare message node (``{message_id, text, role, replies}``, the ``_message`` files).

A tree is kept as a tree: **one conversation per branch, sharing their common prefix** (forks,
``ConversationRecord.parent_id``/``forked_at_seq``; nothing is stored twice):

- the **main thread** is a conversation of its own: from the prompt, follow at each level the
  best reply — the lowest ``rank`` (0 = best, as ranked by OASST reviewers), unranked replies
  after ranked ones, ties in source order — down to a leaf;
- **every other leaf** gets a branch: it starts at a reply that is not its parent's best one and
  follows best replies down to a leaf (so there are as many conversations as leaves); it is
  forked from the conversation that holds that reply's parent, at the parent's seq (a message at
  depth ``d`` has seq ``d + 1`` in every conversation that sees it). Reading a branch gives the
  whole path from the prompt to its leaf. Conversations come parents first (depth-first in reply
  order), so an import stores every parent before its branches;
- each message's metadata: ``parent_id`` (the ledger id of its parent message, ``None`` for the
  prompt), ``oasst_message_id``, ``oasst_parent_id``, ``branch`` (0 = main thread, then 1, 2, …),
  ``main_thread`` (bool), ``branch_start`` (True on a branch's first message), ``depth``
  (0 = prompt), ``sibling_rank`` (position among its siblings in reply order), plus the source's
  ``rank``, ``lang``, ``synthetic``, ``model_name``, ``emojis``, ``labels``, ``review_count`` and
  ``deleted`` when present;
- roles: ``prompter`` → ``user``, ``assistant`` → ``assistant``; every conversation's metadata has
  ``message_tree_id``, ``tree_state``, ``branch`` and ``main_thread``; the main thread's also
  ``branch_count`` and ``main_thread_length``.

``session_id`` = ``"oasst:{message_tree_id}"`` for the main thread and
``"oasst:{message_tree_id}:{first message id}"`` for a branch. Messages get the import time (the
trees carry no timestamps). Unknown roles, a non-string text or a cyclic/duplicated message
id → ``RecordError``.

Format ``oasst-flat``: the Open-Assistant backend's flat message lists (``backend/test_data/
realistic/realistic_seed_data.json``): ``[{task_message_id, user_message_id,
parent_message_id|null, text, role, tree_state?}]``, where ``parent_message_id`` names the
parent's ``user_message_id``. The whole file is read first (a message may come before its
parent), the trees are rebuilt from the parent pointers (replies in file order; the root's id is
the tree id; ``task_message_id`` kept in metadata) and imported as above. A message whose parent
is not in the file is a ``RecordError`` at its position.
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
    RecordError,
    RecordShapeError,
    chat_participants,
    chat_sender,
    conversation_uuid,
    finish,
    fork_record,
    message_uuid,
    require_dict,
    require_list,
    require_str,
    run_importer,
    short_title,
)
from convoledger.importers.reader import UnreadableRecord
from convoledger.models.records import ConversationKind, ConversationRecord, MessageRecord
from convoledger.models.timeutil import ensure_utc, utcnow

FORMAT = "oasst"
ROLES = {"prompter": "user", "assistant": "assistant"}
_KEPT = (
    "rank",
    "lang",
    "synthetic",
    "model_name",
    "emojis",
    "labels",
    "review_count",
    "deleted",
    "task_message_id",
)


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
    ordered = _order(root)
    by_branch: dict[int, list[_Node]] = {}
    branch_of: dict[int, int] = {}
    for node, branch, _start in ordered:
        by_branch.setdefault(branch, []).append(node)
        branch_of[id(node)] = branch
    branch_count = len(by_branch)
    convs: dict[int, ConversationRecord] = {}
    ledger_ids: dict[int, str] = {}
    out: list[ImportedConversation] = []
    for branch in sorted(by_branch):  # a branch's parent branch always has a lower number
        nodes = by_branch[branch]
        first = nodes[0]
        base_meta = {
            "source_format": FORMAT,
            "message_tree_id": tree_id,
            "tree_state": rec.get("tree_state", prompt.get("tree_state")),
            "branch": branch,
            "main_thread": branch == 0,
        }
        if branch == 0:
            session_id = f"oasst:{tree_id}"
            conversation = ConversationRecord(
                id=conversation_uuid(ctx.owner_id, session_id),
                owner_id=ctx.owner_id,
                session_id=session_id,
                kind=ConversationKind.AGENT_SESSION,
                name=short_title(root.raw["text"]) or session_id,
                participants=chat_participants(),
                metadata={**base_meta, "branch_count": branch_count, "main_thread_length": len(nodes)},
                created_at=ctx.imported_at,
            )
        else:
            assert first.parent is not None
            conversation = fork_record(
                convs[branch_of[id(first.parent)]],
                f"oasst:{tree_id}:{first.source_id}",
                first.parent.depth + 1,
                name=short_title(first.raw["text"]) or f"oasst:{tree_id}:{first.source_id}",
                metadata=base_meta,
            )
        convs[branch] = conversation
        for k, node in enumerate(nodes):
            ledger_ids[id(node)] = message_uuid(conversation.id, k)
        messages = [_message(node, branch, k == 0, ledger_ids, ctx) for k, node in enumerate(nodes)]
        # ``finish`` numbers messages in list order, the same order ``ledger_ids`` was built in.
        out.append(finish(conversation, messages, line))
    return out


def _message(
    node: _Node, branch: int, start: bool, ledger_ids: dict[int, str], ctx: ImportContext
) -> MessageRecord:
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
    return MessageRecord(
        role=role,
        content=node.raw["text"],
        sender=chat_sender(role),
        metadata=metadata,
        created_at=ctx.imported_at,
    )


# -- the flat variant (backend seed data) ----------------------------------------------------------

FLAT_FORMAT = "oasst-flat"


def parse_oasst_flat(
    records: Iterable[tuple[int, Any]],
    *,
    owner_id: str = DEFAULT_OWNER,
    imported_at: datetime | None = None,
) -> Iterator[ImportResult]:
    """Convert the flat message list of the OASST backend (module docstring, ``oasst-flat``):
    reads every record, rebuilds the trees, then yields each tree's conversations (in the order
    of their roots) and one ``RecordError`` per unusable or orphaned message."""
    context = ImportContext(owner_id, ensure_utc(imported_at or utcnow()), FORMAT)
    return _flat(records, context)


def _flat(records: Iterable[tuple[int, Any]], ctx: ImportContext) -> Iterator[ImportResult]:
    nodes: dict[str, dict[str, Any]] = {}
    lines: dict[str, int] = {}
    parents: dict[str, str | None] = {}
    errors: list[RecordError] = []
    roots: list[str] = []
    for line, record in records:
        if isinstance(record, UnreadableRecord):
            errors.append(RecordError(line, record.reason))
            continue
        if not isinstance(record, dict) or not isinstance(record.get("user_message_id"), str):
            errors.append(RecordError(line, "a flat OASST message needs a string user_message_id"))
            continue
        mid = record["user_message_id"]
        if mid in nodes:
            errors.append(RecordError(line, f"user_message_id {mid} appears twice"))
            continue
        parent = record.get("parent_message_id")
        node = {k: v for k, v in record.items() if k not in ("user_message_id", "parent_message_id")}
        node["message_id"] = mid
        node["replies"] = []
        nodes[mid], lines[mid], parents[mid] = node, line, parent if isinstance(parent, str) else None
        if parents[mid] is None:
            roots.append(mid)
    attached: set[str] = set(roots)
    for mid, parent in parents.items():
        if parent is not None and parent in nodes:
            nodes[parent]["replies"].append(nodes[mid])
    # reachable from a root: everything else is an orphan (a missing parent, or a cycle)
    stack = list(roots)
    while stack:
        for child in nodes[stack.pop()]["replies"]:
            if child["message_id"] not in attached:
                attached.add(child["message_id"])
                stack.append(child["message_id"])
    for mid in nodes:
        if mid not in attached:
            errors.append(RecordError(lines[mid], f"message {mid}: parent {parents[mid]} is not in the file"))
    for mid in roots:
        tree = {"message_tree_id": mid, "tree_state": nodes[mid].get("tree_state"), "prompt": nodes[mid]}
        yield from run_importer([(lines[mid], tree)], _convert, ctx)
    yield from sorted(errors, key=lambda e: e.line)
