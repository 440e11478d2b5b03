"""The JSON-files outbox after a crash between a change's commit and the event head's commit
(``store/jsonfiles_events.py``): the in-doubt tail is adopted when the change committed and cut
off when it did not, so events appear exactly when their change does."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import orjson
import pytest

from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.store import jsonfiles_events
from convoledger.store.base import MessageQuery
from convoledger.store.jsonfiles import JsonFilesStore, fs_name, write_atomic
from convoledger.store.outbox import EventQuery

OWNER = "acme"


async def _store(tmp_path: Path) -> JsonFilesStore:
    store = JsonFilesStore(tmp_path / "ledger")
    await store.open()
    return store


def _crash_on_head_commit(path: Path, data: bytes) -> None:
    """``write_atomic`` on a disk that fails (until the patch ends) for the event head only."""
    if path.name == "events.json":
        raise OSError("simulated crash before the event head was replaced")
    write_atomic(path, data)


async def test_committed_change_keeps_its_events_after_a_crash_before_the_head(tmp_path: Path) -> None:
    store = await _store(tmp_path)
    conv = await store.create_conversation(OWNER, ConversationRecord(owner_id=OWNER))
    with (
        mock.patch("convoledger.store.jsonfiles.write_atomic", _crash_on_head_commit),
        pytest.raises(OSError, match="simulated crash"),
    ):
        await store.append_messages(OWNER, conv.id, [MessageRecord(role="user", content="kept")])
    # The append committed (conversation.json replaced) although the head did not move:
    assert [m.content for m in await store.list_messages(OWNER, conv.id, MessageQuery())] == ["kept"]
    odir = tmp_path / "ledger" / fs_name(OWNER)
    assert jsonfiles_events.read_head(odir)["last_id"] == 1  # the head could not be written
    assert [e.id for e in await store.list_events(OWNER, EventQuery())] == [1]
    # The next event transaction settles the tail: the append's event is adopted, then 3 follows.
    await store.set_memory(OWNER, conv.id, "k", 1)
    events = await store.list_events(OWNER, EventQuery())
    assert [(e.id, e.kind) for e in events] == [
        (1, "conversation.created"),
        (2, "message.appended"),
        (3, "memory.set"),
    ]


async def test_uncommitted_change_leaves_no_event(tmp_path: Path) -> None:
    store = await _store(tmp_path)
    conv = await store.create_conversation(OWNER, ConversationRecord(owner_id=OWNER))
    odir = tmp_path / "ledger" / fs_name(OWNER)
    cdir = odir / "conversations" / fs_name(conv.id)

    def crash_on_doc(path: Path, data: bytes) -> None:
        if path.name == "conversation.json":
            raise OSError("simulated crash before the change's commit point")
        write_atomic(path, data)

    with mock.patch("convoledger.store.jsonfiles.write_atomic", crash_on_doc), pytest.raises(OSError):
        await store.append_messages(OWNER, conv.id, [MessageRecord(role="user", content="lost")])
    head = jsonfiles_events.read_head(odir)
    assert head["last_id"] == 1
    assert (odir / head["file"]).stat().st_size == head["bytes"]  # the staged line was cut off
    assert orjson.loads((cdir / "conversation.json").read_bytes())["event_seq"] == 1
    assert await store.list_messages(OWNER, conv.id, MessageQuery()) == []
    await store.append_messages(OWNER, conv.id, [MessageRecord(role="user", content="next")])
    events = await store.list_events(OWNER, EventQuery())
    assert [(e.id, e.kind) for e in events] == [(1, "conversation.created"), (2, "message.appended")]
    assert events[1].payload["seq"] == 1
