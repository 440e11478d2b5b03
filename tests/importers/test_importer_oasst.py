"""OASST importer: every branch kept once, main thread first, parent links; malformed trees."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
from importer_helpers import split

from convoledger.importers import open_records, parse_oasst

TREES = "assistant_chat/oasst_en_100_tree.jsonl.gz"


@pytest.fixture(scope="module")
def trees(data_dir: Path) -> list[tuple[int, dict]]:
    return list(open_records(data_dir / TREES))


def _walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("replies", []) for n in _walk(child))]


def _leaves(node: dict[str, Any]) -> int:
    replies = node.get("replies", [])
    return 1 if not replies else sum(_leaves(r) for r in replies)


def _best(replies: list[dict[str, Any]]) -> dict[str, Any]:
    ranked = sorted(enumerate(replies), key=lambda p: (p[1].get("rank", math.inf), p[0]))
    return ranked[0][1]


def test_first_tree_branches(trees: list[tuple[int, dict]]) -> None:
    [conv], errors = split(parse_oasst(trees[:1]))
    assert errors == []
    c = conv.conversation
    assert c.session_id == "oasst:054e1df3-35e0-4bb8-a585-607dbdcd24e0"
    assert c.name == "How can I find the best 401k plan for my needs?"
    # one prompt with three ranked assistant replies: three branches, rank 0 on the main thread
    assert len(conv.messages) == 4 and c.metadata["branch_count"] == 3
    assert [m.metadata["oasst_message_id"] for m in conv.messages[:2]] == [
        "054e1df3-35e0-4bb8-a585-607dbdcd24e0",
        "fa783ef0-4f4e-457d-b429-afd89edf8757",
    ]
    assert [m.metadata["branch"] for m in conv.messages] == [0, 0, 1, 2]
    assert [m.metadata.get("rank") for m in conv.messages] == [None, 0, 1, 2]
    assert [m.role for m in conv.messages] == ["user", "assistant", "assistant", "assistant"]
    root_id = conv.messages[0].id
    assert conv.messages[0].metadata["parent_id"] is None
    assert all(m.metadata["parent_id"] == root_id for m in conv.messages[1:])
    assert conv.messages[1].content.startswith("The first step is to research your options.")


def test_every_tree_keeps_every_message_once_main_thread_first(trees: list[tuple[int, dict]]) -> None:
    convs, errors = split(parse_oasst(trees))
    assert errors == [] and len(convs) == 100
    assert sum(len(c.messages) for c in convs) == 1167  # README: 1,167 messages
    for (_, rec), conv in zip(trees, convs, strict=True):
        nodes = _walk(rec["prompt"])
        ids = [m.metadata["oasst_message_id"] for m in conv.messages]
        assert sorted(ids) == sorted(n["message_id"] for n in nodes)  # each exactly once
        assert conv.conversation.metadata["branch_count"] == _leaves(rec["prompt"])
        # main thread = follow the best-ranked reply down to a leaf
        expected, node = [], rec["prompt"]
        while True:
            expected.append(node["message_id"])
            if not node.get("replies"):
                break
            node = _best(node["replies"])
        main = [m.metadata["oasst_message_id"] for m in conv.messages if m.metadata["main_thread"]]
        assert main == expected == ids[: len(expected)]
        # parent links point at the ledger id of the source parent, which comes earlier
        by_source = {m.metadata["oasst_message_id"]: (i, m) for i, m in enumerate(conv.messages)}
        for n in nodes:
            i, m = by_source[n["message_id"]]
            if n.get("parent_id"):
                parent_index, parent = by_source[n["parent_id"]]
                assert m.metadata["parent_id"] == parent.id and parent_index < i
        branches = [m.metadata["branch"] for m in conv.messages]
        assert branches == sorted(branches)  # each branch is contiguous


def test_deepest_tree(trees: list[tuple[int, dict]]) -> None:
    # line 98: tree 392fe8c2… has 28 messages in 22 branches
    [conv], _ = split(parse_oasst([trees[97]]))
    assert conv.conversation.metadata["message_tree_id"] == "392fe8c2-0f6b-4d99-858d-5295541f4500"
    assert len(conv.messages) == 28 and conv.conversation.metadata["branch_count"] == 22
    starts = [m for m in conv.messages if m.metadata["branch_start"] and m.metadata["branch"] > 0]
    assert len(starts) == 21


def test_message_file_variant_is_the_same_ledger_content(
    data_dir: Path, trees: list[tuple[int, dict]]
) -> None:
    # en_100_message.jsonl holds the same 100 trees as bare nested messages (root id = tree id)
    convs, errors = split(
        parse_oasst(open_records(data_dir / "assistant_chat" / "oasst_en_100_message.jsonl.gz"))
    )
    assert errors == [] and len(convs) == 100
    from_trees, _ = split(parse_oasst(trees))
    for a, b in zip(convs, from_trees, strict=True):
        assert a.conversation.session_id == b.conversation.session_id  # importing both adds nothing twice
        assert [(m.id, m.content, m.metadata["branch"]) for m in a.messages] == [
            (m.id, m.content, m.metadata["branch"]) for m in b.messages
        ]


def test_malformed_trees(trees: list[tuple[int, dict]]) -> None:
    line, rec = trees[0]
    bad_role = copy.deepcopy(rec)
    bad_role["prompt"]["replies"][1]["role"] = "moderator"
    duplicate = copy.deepcopy(rec)
    duplicate["prompt"]["replies"][2]["message_id"] = duplicate["prompt"]["replies"][0]["message_id"]
    no_text = copy.deepcopy(rec)
    no_text["prompt"]["replies"][0]["text"] = None
    convs, errors = split(parse_oasst([(1, bad_role), (2, rec), (3, duplicate), (4, no_text), (5, "tree")]))
    assert [c.source_line for c in convs] == [2]
    assert [e.line for e in errors] == [1, 3, 4, 5]
    assert "moderator" in errors[0].reason
    assert "appears twice" in errors[1].reason
    assert "text" in errors[2].reason
