"""Appends and reads by reference (id, session_id, session_key) on every backend: the one-trip
paths of issue 15 (``Store.append_to_ref``, ``list_messages_by_ref``, ``page_by_ref``) give what
resolving first gave — same conversation, same order, the same precedence (id, then session_id,
then session_key), branches with their shared history, the same errors, write-time token
counts."""

from __future__ import annotations

import pytest

from convoledger.errors import ConversationNotActive, NotFound
from convoledger.ledger import OFF_LOOP_TOKEN_CHARS, Ledger
from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.store.base import MessageQuery
from convoledger.tokens import count_message_tokens


def _msg(text: str, **extra: object) -> MessageRecord:
    return MessageRecord(role="user", content=text, **extra)  # type: ignore[arg-type]


async def test_every_reference_appends_to_and_reads_the_same_conversation(ledger: Ledger) -> None:
    conv = await ledger.create_conversation(
        ConversationRecord(owner_id=ledger.owner, session_id="sid-1", session_key="key-1")
    )
    await ledger.append(conv.id, _msg("one"))
    await ledger.append("sid-1", _msg("two"))
    await ledger.append_batch("key-1", [_msg("three"), _msg("four")])
    for ref in (conv.id, "sid-1", "key-1", conv):
        got = await ledger.messages(ref)
        assert [(m.seq, m.content) for m in got] == [(1, "one"), (2, "two"), (3, "three"), (4, "four")]
        assert {m.conversation_id for m in got} == {conv.id}
        recent = await ledger.recent(ref, 2)
        assert [m.content for m in recent] == ["three", "four"]
    stored = await ledger.messages("sid-1")
    assert [m.token_count for m in stored] == [count_message_tokens(m) for m in stored]


async def test_an_id_wins_over_another_conversations_session_id(ledger: Ledger) -> None:
    target = await ledger.create_conversation(ConversationRecord(owner_id=ledger.owner))
    other = await ledger.create_conversation(ConversationRecord(owner_id=ledger.owner, session_id=target.id))
    await ledger.append(target.id, _msg("to the id"))
    assert [m.content for m in await ledger.messages(target.id)] == ["to the id"]
    assert await ledger.messages(other) == []


async def test_an_inactive_conversations_id_is_not_taken_for_another_ones_session_id(ledger: Ledger) -> None:
    # the id names its own conversation, which refuses appends; the other conversation, whose
    # session_id is that id, must not take them instead
    target = await ledger.create_conversation(ConversationRecord(owner_id=ledger.owner))
    other = await ledger.create_conversation(ConversationRecord(owner_id=ledger.owner, session_id=target.id))
    await ledger.deactivate(target)
    with pytest.raises(ConversationNotActive):
        await ledger.append(target.id, _msg("x"))
    with pytest.raises(ConversationNotActive):
        await ledger.append_batch(target.id, [_msg("x"), _msg("y")])
    assert await ledger.messages(other) == []


async def test_a_retried_message_id_through_a_session_reference_stores_nothing_new(ledger: Ledger) -> None:
    await ledger.create_conversation(ConversationRecord(owner_id=ledger.owner, session_id="sid-r"))
    first = await ledger.append("sid-r", _msg("once", id="m-1"))
    again = await ledger.append("sid-r", _msg("twice", id="m-1"))
    assert (again.id, again.seq, again.content) == (first.id, first.seq, "once")
    assert len(await ledger.messages("sid-r")) == 1


async def test_errors_by_reference_are_those_of_resolving_first(ledger: Ledger) -> None:
    conv = await ledger.create_conversation(ConversationRecord(owner_id=ledger.owner, session_id="sid-e"))
    with pytest.raises(NotFound):
        await ledger.append("no-such-session", _msg("x"))
    with pytest.raises(NotFound):
        await ledger.messages("no-such-session")
    with pytest.raises(NotFound):
        await ledger.messages_page("no-such-session", MessageQuery(limit=5), MessageQuery())
    with pytest.raises(ValueError):
        await ledger.append("", _msg("x"))
    await ledger.deactivate(conv)
    with pytest.raises(ConversationNotActive):
        await ledger.append("sid-e", _msg("x"))
    with pytest.raises(ConversationNotActive):
        await ledger.append(conv.id, _msg("x"))
    # another owner's session is not there
    with pytest.raises(NotFound):
        await ledger.for_owner(ledger.owner + "-other").messages("sid-e")


async def test_a_branch_read_by_reference_includes_its_parents_history(ledger: Ledger) -> None:
    parent = await ledger.create_conversation(ConversationRecord(owner_id=ledger.owner, session_id="sid-p"))
    await ledger.append_batch("sid-p", [_msg("p1"), _msg("p2"), _msg("p3")])
    branch = await ledger.fork(parent, 2, session_id="sid-b")
    await ledger.append("sid-b", _msg("b3"))
    for ref in (branch.id, "sid-b"):
        assert [m.content for m in await ledger.messages(ref)] == ["p1", "p2", "b3"]
        assert [m.content for m in await ledger.recent(ref, 2)] == ["p2", "b3"]
        items, total = await ledger.messages_page(ref, MessageQuery(limit=2), MessageQuery())
        assert ([m.content for m in items], total) == (["p1", "p2"], 3)


async def test_messages_page_is_the_page_and_the_filtered_count(ledger: Ledger) -> None:
    await ledger.create_conversation(ConversationRecord(owner_id=ledger.owner, session_id="sid-g"))
    assert await ledger.messages_page("sid-g", MessageQuery(limit=5), MessageQuery()) == ([], 0)
    await ledger.append_batch(
        "sid-g",
        [MessageRecord(role="user" if i % 2 else "assistant", content=f"m{i}") for i in range(1, 8)],
    )
    items, total = await ledger.messages_page("sid-g", MessageQuery(limit=2, offset=2), MessageQuery())
    assert ([m.seq for m in items], total) == ([3, 4], 7)
    users = MessageQuery(role="user")
    items, total = await ledger.messages_page("sid-g", MessageQuery(role="user", limit=2), users)
    assert ([m.content for m in items], total) == (["m1", "m3"], 4)
    # past the end: no items, the count still says how many there are
    items, total = await ledger.messages_page("sid-g", MessageQuery(limit=5, offset=50), MessageQuery())
    assert (items, total) == ([], 7)


async def test_a_large_batch_is_counted_exactly_off_the_loop(ledger: Ledger) -> None:
    await ledger.create_conversation(ConversationRecord(owner_id=ledger.owner, session_id="sid-big"))
    text = "The weekly planning notes of the agent, with numbers 12345 and émojis 🎉. " * 600
    assert len(text) * 2 > OFF_LOOP_TOKEN_CHARS
    given = _msg("short", token_count=99)
    stored = await ledger.append_batch("sid-big", [_msg(text), _msg(text + "!"), given])
    assert [m.token_count for m in stored] == [
        count_message_tokens(_msg(text)),
        count_message_tokens(_msg(text + "!")),
        99,
    ]
    assert [m.token_count for m in await ledger.messages("sid-big")] == [m.token_count for m in stored]
