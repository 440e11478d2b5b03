"""Issue 16 item 1, the library side: one NUL rule on all four backends (memory, JSON files,
SQLite, PostgreSQL). The Ledger refuses a NUL character in anything it would store or look up
with ``UnstorableText`` (a ``ValueError``) naming the field, before writing; so what one
backend exports, every other imports."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from convoledger.backends import open_ledger
from convoledger.ledger import Ledger
from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.models.storable import UnstorableText, find_nul
from convoledger.store.base import MessageQuery

NUL = "\x00"


@pytest.fixture(
    params=["memory", "jsonfiles", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Ledger]:
    """A ledger on each backend, for a fresh owner."""
    url = {
        "memory": "memory://",
        "jsonfiles": f"jsonfiles:///{tmp_path / 'files'}",
        "sqlite": f"sqlite:///{tmp_path / 'ledger.db'}",
    }.get(request.param) or str(request.getfixturevalue("postgres_url"))
    async with open_ledger(url, owner=f"nul-{uuid.uuid4().hex[:10]}") as opened:
        yield opened


async def _conversation(ledger: Ledger) -> ConversationRecord:
    return await ledger.create_conversation(ConversationRecord(owner_id=ledger.owner, session_id="s1"))


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"content": f"a{NUL}"}, "content"),
        ({"sender": NUL}, "sender"),
        ({"extra_data": {"k": [1, f"{NUL}"]}}, "extra_data.k[1]"),
        ({"metadata": {f"k{NUL}": 1}}, "metadata.k\\u0000 (key)"),
    ],
)
async def test_append_refuses_nul_on_every_backend(ledger: Ledger, fields: dict, where: str) -> None:
    conversation = await _conversation(ledger)
    with pytest.raises(UnstorableText) as caught:
        await ledger.append(conversation, MessageRecord(role="user", **fields))
    assert caught.value.field == where
    assert isinstance(caught.value, ValueError)
    assert await ledger.count(conversation) == 0


async def test_every_entry_point_refuses_nul(ledger: Ledger) -> None:
    conversation = await _conversation(ledger)
    with pytest.raises(UnstorableText, match="session_id"):
        await ledger.create_conversation(ConversationRecord(owner_id=ledger.owner, session_id=f"x{NUL}"))
    with pytest.raises(UnstorableText, match="key"):
        await ledger.set_memory(conversation, f"k{NUL}", 1)
    with pytest.raises(UnstorableText, match="value"):
        await ledger.set_memory(conversation, "k", {"v": NUL})
    with pytest.raises(UnstorableText, match="session"):
        await ledger.resolve(f"s1{NUL}")
    with pytest.raises(UnstorableText, match="session_id"):  # found by schemathesis: was a 500
        await ledger.get_or_create_conversation(
            ConversationRecord(owner_id=ledger.owner, session_id=f"x{NUL}")
        )
    with pytest.raises(UnstorableText, match="session_key"):
        await ledger.find_conversation(session_key=f"k{NUL}")
    with pytest.raises(UnstorableText, match="search"):
        await ledger.messages(conversation, MessageQuery(search=NUL))
    with pytest.raises(UnstorableText, match="name"):
        await ledger.update_conversation(conversation, name=NUL)
    stored = await ledger.append(conversation, MessageRecord(role="user", content="ok"))
    with pytest.raises(UnstorableText, match="content"):
        await ledger.edit_message(conversation, stored.id, content=NUL)
    assert (await ledger.get_message(conversation, stored.id)).content == "ok"
    assert await ledger.memory(conversation) == {}


async def test_export_import_is_portable_and_a_nul_bundle_is_refused(ledger: Ledger) -> None:
    conversation = await _conversation(ledger)
    await ledger.append(conversation, MessageRecord(role="user", content="hello"))
    bundle = await ledger.export_bundle(conversation)
    assert find_nul(bundle) is None
    await ledger.delete_conversation(conversation)
    bundle["messages"][0]["extra_data"] = {"note": f"x{NUL}"}
    with pytest.raises(UnstorableText, match=r"messages\[0\]\.extra_data\.note"):
        await ledger.restore_bundle(bundle)
    del bundle["messages"][0]["extra_data"]
    restored = await ledger.restore_bundle(bundle)
    assert [m.content for m in await ledger.messages(restored)] == ["hello"]
