"""JSON-files backend specifics: the on-disk layout, safe names, crash leftovers, and several
store instances (or processes) sharing one root without stale state."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
from contract_helpers import conv, msg

from convoledger.store.base import ConversationQuery, MessageQuery
from convoledger.store.jsonfiles import JsonFilesStore, fs_name

OWNER = "alice"


async def _store(root: Path) -> JsonFilesStore:
    store = JsonFilesStore(root)
    await store.open()
    return store


def _conv_dir(root: Path, owner: str, cid: str) -> Path:
    return root / fs_name(owner) / "conversations" / fs_name(cid)


def _commit(cdir: Path) -> dict:
    return orjson.loads((cdir / "conversation.json").read_bytes())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("alice", "alice"),
        ("Alice", "%41lice"),  # upper case escaped: no clash with "alice" on case-insensitive disks
        ("..", "%2E%2E"),
        ("../etc", "%2E%2E%2Fetc"),
        ("_accounts", "%5Faccounts"),  # a leading "_" is the store's own namespace
        ("a_b-c", "a_b-c"),
        ("é", "%C3%A9"),
    ],
)
def test_fs_name_escapes(value: str, expected: str) -> None:
    assert fs_name(value) == expected


def test_fs_name_long_names_are_bounded_and_distinct() -> None:
    a, b = fs_name("x" * 500 + "a"), fs_name("x" * 500 + "b")
    assert len(a) <= 120 and len(b) <= 120 and a != b
    with pytest.raises(ValueError):
        fs_name("")


async def test_layout_and_owner_names_stay_inside_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    store = await _store(root)
    evil = "../../outside"
    c = await store.create_conversation(evil, conv(session_id="s"))
    await store.append_messages(evil, c.id, [msg("hi")])
    assert not (tmp_path / "outside").exists()
    odir = root / fs_name(evil)
    assert odir.is_dir() and odir.parent == root
    cdir = _conv_dir(root, evil, c.id)
    commit = _commit(cdir)
    assert commit["format"] == 1 and commit["record"]["last_seq"] == 1
    log = cdir / commit["messages"]["file"]
    lines = log.read_bytes().splitlines()
    assert [orjson.loads(line)["content"] for line in lines] == ["hi"]
    assert orjson.loads((odir / "index.json").read_bytes())["session_id"] == {"s": c.id}


async def test_uncommitted_tail_is_ignored_and_cut(tmp_path: Path) -> None:
    store = await _store(tmp_path)
    c = await store.create_conversation(OWNER, conv())
    await store.append_messages(OWNER, c.id, [msg("one"), msg("two")])
    cdir = _conv_dir(tmp_path, OWNER, c.id)
    log = cdir / _commit(cdir)["messages"]["file"]
    committed = log.stat().st_size
    # A writer that crashed after writing (part of) its lines but before its commit:
    ghost = msg("ghost").model_copy(update={"seq": 3, "conversation_id": c.id})
    with open(log, "ab") as fh:
        fh.write(orjson.dumps(ghost.model_dump(mode="json")) + b"\n" + b'{"id": "torn", "seq": 4, "con')
    fresh = await _store(tmp_path)  # no cache: reads from disk
    for s in (store, fresh):
        assert [m.content for m in await s.list_messages(OWNER, c.id, MessageQuery())] == ["one", "two"]
        assert (await s.get_conversation(OWNER, c.id)).last_seq == 2
    [three] = await fresh.append_messages(OWNER, c.id, [msg("three")])
    assert three.seq == 3
    assert [m.content for m in await store.list_messages(OWNER, c.id, MessageQuery())] == [
        "one",
        "two",
        "three",
    ]
    assert b"ghost" not in log.read_bytes() and b"torn" not in log.read_bytes()
    assert log.stat().st_size > committed


async def test_leftovers_of_interrupted_creates_and_deletes_are_ignored(tmp_path: Path) -> None:
    store = await _store(tmp_path)
    c = await store.create_conversation(OWNER, conv())
    convs = tmp_path / fs_name(OWNER) / "conversations"
    (convs / ".new-deadbeef").mkdir()
    (convs / ".trash-deadbeef").mkdir()
    page = await store.list_conversations(OWNER, ConversationQuery())
    assert [x.id for x in page.items] == [c.id]


async def test_two_instances_share_one_root_without_stale_state(tmp_path: Path) -> None:
    a, b = await _store(tmp_path), await _store(tmp_path)
    c = await a.create_conversation(OWNER, conv())
    for i in range(6):
        writer = a if i % 2 == 0 else b
        [m] = await writer.append_messages(OWNER, c.id, [msg(f"m{i}", id=f"id{i}")])
        assert m.seq == i + 1
    # b rewrites the log (delete + edit); a, which cached the old log, must see the new one.
    await a.list_messages(OWNER, c.id, MessageQuery())
    await b.delete_message(OWNER, c.id, "id0")
    await b.edit_message(OWNER, c.id, "id1", {"content": "edited"})
    got = await a.list_messages(OWNER, c.id, MessageQuery())
    assert [(m.seq, m.content) for m in got] == [(2, "edited"), (3, "m2"), (4, "m3"), (5, "m4"), (6, "m5")]
    [m7] = await a.append_messages(OWNER, c.id, [msg("m6")])
    assert m7.seq == 7
    # Idempotency sees the other instance's writes too.
    [again] = await b.append_messages(OWNER, c.id, [msg("retry", id="id5")])
    assert (again.seq, again.content) == (6, "m5")
    # Only the current log file remains after rewrites.
    cdir = _conv_dir(tmp_path, OWNER, c.id)
    logs = sorted(p.name for p in cdir.iterdir() if p.name.startswith("messages-"))
    assert logs == [_commit(cdir)["messages"]["file"]]


async def test_delete_removes_the_directory(tmp_path: Path) -> None:
    store = await _store(tmp_path)
    c = await store.create_conversation(OWNER, conv(session_id="gone"))
    await store.append_messages(OWNER, c.id, [msg("x")])
    await store.set_memory(OWNER, c.id, "k", 1)
    await store.delete_conversation(OWNER, c.id)
    convs = tmp_path / fs_name(OWNER) / "conversations"
    assert os.listdir(convs) == []
    assert orjson.loads((tmp_path / fs_name(OWNER) / "index.json").read_bytes())["session_id"] == {}
