"""OASST importer: a tree becomes one conversation per branch sharing their common prefix
(forks), every message stored once, main thread first; the backend's flat seed data; malformed
trees."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
from importer_helpers import split

from convoledger.importers import ImportedConversation, open_records, parse, parse_oasst
from convoledger.ledger import Ledger
from convoledger.store.memory import MemoryStore

TREES = "assistant_chat/oasst_en_100_tree.jsonl.gz"
FLAT = "assistant_chat/oasst_backend_realistic_seed_data.json.gz"


@pytest.fixture(scope="module")
def trees(data_dir: Path) -> list[tuple[int, dict]]:
    return list(open_records(data_dir / TREES))


def _walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("replies", []) for n in _walk(child))]


def _leaf_paths(node: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    path = (*prefix, node["message_id"])
    replies = node.get("replies", [])
    return [path] if not replies else [p for r in replies for p in _leaf_paths(r, path)]


def _best(replies: list[dict[str, Any]]) -> dict[str, Any]:
    ranked = sorted(enumerate(replies), key=lambda p: (p[1].get("rank", math.inf), p[0]))
    return ranked[0][1]


def _path_of(convs: list[ImportedConversation], index: int) -> list[Any]:
    """The messages a reader of conversation ``index`` sees: shared history, then its own."""
    by_id = {c.conversation.id: c for c in convs}
    conv = convs[index]
    own = list(conv.messages)
    point = conv.conversation.forked_at_seq
    if point is None:
        return own
    return [*_path_of(convs, convs.index(by_id[conv.conversation.parent_id]))[:point], *own]


def test_first_tree_is_a_main_thread_and_two_branches(trees: list[tuple[int, dict]]) -> None:
    convs, errors = split(parse_oasst(trees[:1]))
    assert errors == [] and len(convs) == 3
    main, b1, b2 = convs
    tree = "054e1df3-35e0-4bb8-a585-607dbdcd24e0"
    assert main.conversation.session_id == f"oasst:{tree}" and main.conversation.parent_id is None
    assert main.conversation.name == "How can I find the best 401k plan for my needs?"
    assert main.conversation.metadata["branch_count"] == 3
    # one prompt, three ranked replies: rank 0 on the main thread, the others fork after the prompt
    assert [m.metadata.get("rank") for m in main.messages] == [None, 0]
    assert main.messages[1].content.startswith("The first step is to research your options.")
    for branch, rank in ((b1, 1), (b2, 2)):
        c = branch.conversation
        assert (c.parent_id, c.forked_at_seq) == (main.conversation.id, 1)
        assert [m.metadata["rank"] for m in branch.messages] == [rank]
        assert branch.messages[0].metadata["parent_id"] == main.messages[0].id  # the shared prompt
        assert branch.messages[0].metadata["branch_start"] is True
        assert c.session_id == f"oasst:{tree}:{branch.messages[0].metadata['oasst_message_id']}"


def test_every_tree_keeps_every_message_once_and_every_leaf_path(trees: list[tuple[int, dict]]) -> None:
    convs, errors = split(parse_oasst(trees))
    assert errors == []
    assert sum(len(c.messages) for c in convs) == 1167  # README: 1,167 messages, none stored twice
    by_tree: dict[str, list[ImportedConversation]] = {}
    for c in convs:
        by_tree.setdefault(c.conversation.metadata["message_tree_id"], []).append(c)
    assert len(by_tree) == 100
    for _, rec in trees:
        group = by_tree[rec["message_tree_id"]]
        nodes = _walk(rec["prompt"])
        stored = [m.metadata["oasst_message_id"] for c in group for m in c.messages]
        assert sorted(stored) == sorted(n["message_id"] for n in nodes)  # each exactly once
        # one conversation per leaf, and reading each gives one root-to-leaf path
        paths = {tuple(m.metadata["oasst_message_id"] for m in _path_of(group, i)) for i in range(len(group))}
        assert paths == set(_leaf_paths(rec["prompt"]))
        assert group[0].conversation.metadata["branch_count"] == len(group)
        # main thread = follow the best-ranked reply down to a leaf
        expected, node = [], rec["prompt"]
        while True:
            expected.append(node["message_id"])
            if not node.get("replies"):
                break
            node = _best(node["replies"])
        assert [m.metadata["oasst_message_id"] for m in group[0].messages] == expected
        # parents come before their branches; seq of a depth-d message is d + 1
        seen = set()
        for c in group:
            if c.conversation.parent_id is not None:
                assert c.conversation.parent_id in seen
                assert c.messages[0].metadata["depth"] == c.conversation.forked_at_seq
            seen.add(c.conversation.id)


def test_deepest_tree(trees: list[tuple[int, dict]]) -> None:
    # line 98: tree 392fe8c2… has 28 messages in 22 branches
    convs, _ = split(parse_oasst([trees[97]]))
    assert convs[0].conversation.metadata["message_tree_id"] == "392fe8c2-0f6b-4d99-858d-5295541f4500"
    assert sum(len(c.messages) for c in convs) == 28 and len(convs) == 22


def test_message_file_variant_is_the_same_ledger_content(
    data_dir: Path, trees: list[tuple[int, dict]]
) -> None:
    # en_100_message.jsonl holds the same 100 trees as bare nested messages (root id = tree id)
    convs, errors = split(
        parse_oasst(open_records(data_dir / "assistant_chat" / "oasst_en_100_message.jsonl.gz"))
    )
    from_trees, _ = split(parse_oasst(trees))
    assert errors == [] and len(convs) == len(from_trees)
    for a, b in zip(convs, from_trees, strict=True):
        assert a.conversation.session_id == b.conversation.session_id  # importing both adds nothing twice
        assert (a.conversation.parent_id, a.conversation.forked_at_seq) == (
            b.conversation.parent_id,
            b.conversation.forked_at_seq,
        )
        assert [(m.id, m.content) for m in a.messages] == [(m.id, m.content) for m in b.messages]


async def test_a_tree_imported_into_a_ledger_reads_as_branches(trees: list[tuple[int, dict]]) -> None:
    ledger = Ledger(MemoryStore(), owner="o")
    convs, _ = split(parse_oasst(trees[:1], owner_id="o"))
    for c in convs:
        assert (await ledger.import_conversation(c.conversation, c.messages)).created
    main, b1, _b2 = convs
    read = await ledger.messages(b1.conversation.id)
    assert [m.id for m in read] == [main.messages[0].id, b1.messages[0].id]
    assert [m.seq for m in read] == [1, 2]
    assert (await ledger.resolve(b1.conversation.id)).message_count == 2
    branches = await ledger.branches(main.conversation.id)  # same creation time: listed by id
    assert [r.id for r in branches] == sorted(c.conversation.id for c in convs[1:])


def test_backend_flat_seed_data_is_rebuilt_into_trees(data_dir: Path) -> None:
    records = list(open_records(data_dir / FLAT))
    convs, errors = split(parse("oasst-flat", records))
    assert errors == []
    assert sum(len(c.messages) for c in convs) == 444  # README: 444 messages
    roots = [c for c in convs if c.conversation.parent_id is None]
    assert len(roots) == 74  # README: 74 threads
    first = roots[0]
    assert [m.content for m in first.messages[:2]] == [
        "Hi, I want to learn to play horseshoes. Can you teach me?",
        "I can, but maybe I should begin by telling you that a typical game consists of 2 players "
        "and 6 or 8 horseshoes.",
    ]
    assert first.messages[0].metadata["task_message_id"] == "qv8uup5z"
    # a message whose parent is missing is reported at its position; the rest imports
    orphan = {**records[1][1], "user_message_id": "zzz", "parent_message_id": "nope"}
    convs2, errors2 = split(parse("oasst-flat", [*records[:3], (999, orphan)]))
    assert [e.line for e in errors2] == [999] and "nope" in errors2[0].reason
    assert sum(len(c.messages) for c in convs2) == 3


def test_malformed_trees(trees: list[tuple[int, dict]]) -> None:
    line, rec = trees[0]
    bad_role = copy.deepcopy(rec)
    bad_role["prompt"]["replies"][1]["role"] = "moderator"
    duplicate = copy.deepcopy(rec)
    duplicate["prompt"]["replies"][2]["message_id"] = duplicate["prompt"]["replies"][0]["message_id"]
    no_text = copy.deepcopy(rec)
    no_text["prompt"]["replies"][0]["text"] = None
    convs, errors = split(parse_oasst([(1, bad_role), (2, rec), (3, duplicate), (4, no_text), (5, "tree")]))
    assert {c.source_line for c in convs} == {2}
    assert [e.line for e in errors] == [1, 3, 4, 5]
    assert "moderator" in errors[0].reason
    assert "appears twice" in errors[1].reason
    assert "text" in errors[2].reason
