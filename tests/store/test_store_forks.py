"""Contract tests of forks (issue 17): branches share their parent's history without copying it.

Every test runs on every backend (``store`` fixture). The store keeps lineage and own messages
and refuses removals of shared history; ``Ledger`` (``convoledger.forks``) composes a branch's
reads — both are part of what every backend must do identically.
"""

from __future__ import annotations

import pytest
from contract_helpers import at, conv, msg

from convoledger.errors import Conflict, NotFound
from convoledger.ledger import Ledger
from convoledger.models.records import ConversationRecord
from convoledger.store.base import MessageQuery, Store


async def _parent(ledger: Ledger, n: int = 5) -> ConversationRecord:
    record = await ledger.create_conversation(conv(name="main thread"))
    await ledger.append_batch(
        record,
        [
            msg(f"parent message {i}", role="user" if i % 2 else "assistant", created_at=at(i))
            for i in range(1, n + 1)
        ],
    )
    return await ledger.resolve(record.id)


async def test_a_fork_shares_the_parent_history_without_copying_it(store: Store, owner: str) -> None:
    ledger = Ledger(store, owner=owner)
    parent = await _parent(ledger)
    parent_msgs = await ledger.messages(parent)

    branch = await ledger.fork(parent, 3, session_id="alt-1")

    assert (branch.parent_id, branch.forked_at_seq) == (parent.id, 3)
    assert (branch.message_count, branch.last_seq, branch.status.value) == (3, 3, "active")
    assert branch.name == "main thread" and branch.session_id == "alt-1"
    assert await store.list_messages(owner, branch.id, MessageQuery()) == []  # nothing copied
    assert [m.id for m in await ledger.messages(branch)] == [m.id for m in parent_msgs[:3]]

    [own] = await ledger.append_batch(
        branch, [msg("a different answer", role="assistant", created_at=at(10))]
    )
    assert own.seq == 4  # the parent's numbering goes on after the fork point
    history = await ledger.messages(branch)
    assert [(m.seq, m.conversation_id) for m in history] == [
        (1, parent.id),
        (2, parent.id),
        (3, parent.id),
        (4, branch.id),
    ]
    assert (await ledger.resolve(branch.id)).message_count == 4
    # the parent did not change
    assert [m.id for m in await ledger.messages(parent)] == [m.id for m in parent_msgs]
    assert (await ledger.resolve(parent.id)).message_count == 5


async def test_branch_reads_windows_counts_search_and_lookups(store: Store, owner: str) -> None:
    ledger = Ledger(store, owner=owner)
    parent = await _parent(ledger, 6)
    branch = await ledger.fork(parent, 4)
    await ledger.append_batch(
        branch, [msg(f"branch message {i}", role="user" if i % 2 else "assistant") for i in range(5, 9)]
    )
    seqs = [m.seq for m in await ledger.messages(branch)]
    assert seqs == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [m.seq for m in await ledger.recent(branch, 5)] == [4, 5, 6, 7, 8]
    assert [m.seq for m in await ledger.recent(branch, 50)] == seqs
    assert [m.seq for m in await ledger.page(branch, after_seq=2, limit=3)] == [3, 4, 5]
    assert [m.seq for m in await ledger.messages(branch, MessageQuery(limit=3, offset=3))] == [4, 5, 6]
    assert [m.seq for m in await ledger.messages(branch, MessageQuery(limit=2, offset=5))] == [6, 7]
    assert [m.seq for m in await ledger.messages(branch, MessageQuery(before_seq=6, last=3))] == [3, 4, 5]
    assert [m.seq for m in await ledger.messages(branch, MessageQuery(role="user"))] == [1, 3, 5, 7]
    assert [m.seq for m in await ledger.messages(branch, MessageQuery(role="user", last=3))] == [3, 5, 7]
    assert await ledger.count(branch) == 8
    assert await ledger.count(branch, MessageQuery(role="assistant")) == 4
    assert await ledger.count(branch, MessageQuery(search="message")) == 8
    assert [m.seq for m in await ledger.messages(branch, MessageQuery(search="parent"))] == [1, 2, 3, 4]
    assert await ledger.count(branch, MessageQuery(search="parent")) == 4  # not 5 and 6 of the parent
    parent_msgs = await ledger.messages(parent)
    assert (await ledger.get_message(branch, parent_msgs[1].id)).content == "parent message 2"
    with pytest.raises(NotFound):  # seq 5 of the parent is after the fork point
        await ledger.get_message(branch, parent_msgs[4].id)


async def test_branch_of_a_branch_and_a_fork_inside_the_shared_part(store: Store, owner: str) -> None:
    ledger = Ledger(store, owner=owner)
    a = await _parent(ledger, 4)
    b = await ledger.fork(a, 3)
    await ledger.append_batch(b, [msg("b4"), msg("b5")])
    c = await ledger.fork(b, 5)
    assert c.message_count == 5
    await ledger.append(c, msg("c6"))
    assert [(m.seq, m.content) for m in await ledger.messages(c)] == [
        (1, "parent message 1"),
        (2, "parent message 2"),
        (3, "parent message 3"),
        (4, "b4"),
        (5, "b5"),
        (6, "c6"),
    ]
    assert [m.seq for m in await ledger.recent(c, 3)] == [4, 5, 6]
    # forking B at 2 reaches only A's first two messages (B's own start after 3)
    d = await ledger.fork(b, 2)
    assert d.message_count == 2
    await ledger.append(d, msg("d3"))
    assert [m.content for m in await ledger.messages(d)] == ["parent message 1", "parent message 2", "d3"]
    assert [r.id for r in await ledger.lineage(c)] == [c.id, b.id, a.id]
    assert [r.id for r in await ledger.branches(b)] == [c.id, d.id]
    assert [r.id for r in await ledger.branches(a)] == [b.id]


async def test_fork_point_must_be_a_reached_seq(store: Store, owner: str) -> None:
    ledger = Ledger(store, owner=owner)
    parent = await _parent(ledger, 3)
    for bad in (0, 4, -1):
        with pytest.raises(ValueError, match="fork"):
            await ledger.fork(parent, bad)
    assert await ledger.branches(parent) == []
    assert (await ledger.list_conversations()).total == 1
    default = await ledger.fork(parent)  # default: at the parent's last seq
    assert (default.forked_at_seq, default.message_count) == (3, 3)


async def test_a_branch_of_a_conversation_is_its_owners_alone(
    store: Store, owner: str, other_owner: str
) -> None:
    mine = Ledger(store, owner=owner)
    theirs = Ledger(store, owner=other_owner)
    parent = await _parent(mine, 3)
    branch = await mine.fork(parent, 2)
    with pytest.raises(NotFound):
        await theirs.fork(parent.id, 2)
    with pytest.raises(NotFound):
        await theirs.get_conversation(branch.id)
    with pytest.raises(NotFound):
        await theirs.messages(branch.id)
    with pytest.raises(NotFound):
        await store.list_branches(other_owner, parent.id)
    # a record naming another owner's conversation as parent is refused, nothing stored
    with pytest.raises(NotFound):
        await store.create_conversation(other_owner, conv(parent_id=parent.id, forked_at_seq=1))
    assert (await theirs.list_conversations()).total == 0
    assert [r.id for r in await mine.branches(parent)] == [branch.id]


async def test_shared_history_cannot_be_removed_while_a_branch_shares_it(store: Store, owner: str) -> None:
    ledger = Ledger(store, owner=owner)
    parent = await _parent(ledger, 5)
    msgs = await ledger.messages(parent)
    branch = await ledger.fork(parent, 3)

    with pytest.raises(Conflict, match="shared by its branch"):
        await ledger.delete_message(parent, msgs[2].id)  # seq 3 = the fork point
    with pytest.raises(Conflict, match="delete the branches first"):
        await ledger.delete_conversation(parent)
    with pytest.raises(Conflict):
        await ledger.clear_messages(parent)
    await ledger.delete_message(parent, msgs[3].id)  # seq 4: after the fork point, free
    assert await ledger.pop_message(parent) is not None  # seq 5
    with pytest.raises(Conflict):
        await ledger.pop_message(parent)  # seq 3 now the newest, shared
    assert [m.seq for m in await ledger.messages(parent)] == [1, 2, 3]
    assert [m.seq for m in await ledger.messages(branch)] == [1, 2, 3]

    # from the branch: its own messages only
    with pytest.raises(Conflict, match="removes only its own"):
        await ledger.delete_message(branch, msgs[0].id)
    own = await ledger.append_batch(branch, [msg("own 4"), msg("own 5")])
    await ledger.delete_message(branch, own[0].id)
    assert (await ledger.pop_message(branch)).id == own[1].id  # type: ignore[union-attr]
    assert await ledger.pop_message(branch) is None  # no own message left; the shared ones stay
    await ledger.append(branch, msg("own 6"))
    assert await ledger.clear_messages(branch) == 1
    after = await ledger.resolve(branch.id)
    assert after.message_count == 3 == len(await ledger.messages(branch))

    await ledger.delete_conversation(branch)
    await ledger.delete_message(parent, msgs[0].id)
    await ledger.delete_conversation(parent)
    with pytest.raises(NotFound):
        await ledger.resolve(parent.id)


async def test_edits_and_redactions_of_shared_messages_show_in_every_branch(store: Store, owner: str) -> None:
    ledger = Ledger(store, owner=owner)
    parent = await _parent(ledger, 3)
    msgs = await ledger.messages(parent)
    b1 = await ledger.fork(parent, 2)
    b2 = await ledger.fork(parent, 3)

    await ledger.edit_message(parent, msgs[0].id, content="corrected in the parent")
    for branch in (b1, b2):
        assert (await ledger.messages(branch))[0].content == "corrected in the parent"

    # redacting through a branch redacts the one stored copy: the parent shows it too
    redacted = await ledger.redact_message(b2, msgs[1].id, marker="[gone]")
    assert redacted.conversation_id == parent.id and redacted.redacted
    for ref in (parent, b1, b2):
        assert (await ledger.messages(ref))[1].content == "[gone]"
    assert await ledger.count(b1, MessageQuery(search="gone")) == 1


async def test_branch_times_seq_and_counts_stay_consistent(store: Store, owner: str) -> None:
    ledger = Ledger(store, owner=owner)
    parent = await _parent(ledger, 4)
    branch = await ledger.fork(parent, 4)
    await ledger.append_batch(parent, [msg("parent 5"), msg("parent 6")])
    await ledger.append_batch(branch, [msg("branch 5")])
    assert [m.content for m in await ledger.messages(branch)][-2:] == ["parent message 4", "branch 5"]
    assert [m.content for m in await ledger.messages(parent)][-2:] == ["parent 5", "parent 6"]
    stored = await ledger.resolve(branch.id)
    assert (stored.message_count, stored.last_seq) == (5, 5)
    assert (await ledger.stats()).messages == 6 + 5


async def test_context_window_of_a_branch_includes_the_shared_history(store: Store, owner: str) -> None:
    ledger = Ledger(store, owner=owner)
    parent = await _parent(ledger, 4)
    branch = await ledger.fork(parent, 2)
    await ledger.append(branch, msg("what the branch said", role="assistant"))
    plan = await ledger.context_for(branch, provider="openai", api="chat", budget_tokens=4000)
    assert [m.content for m in plan.messages] == [
        "parent message 1",
        "parent message 2",
        "what the branch said",
    ]


async def test_branch_bundles_restore_as_branches_when_the_parent_is_there(
    store: Store, owner: str, other_owner: str
) -> None:
    ledger = Ledger(store, owner=owner)
    parent = await _parent(ledger, 3)
    branch = await ledger.fork(parent, 2, session_id="b")
    await ledger.append(branch, msg("own", created_at=at(30)))
    parent_bundle = await ledger.export_bundle(parent)
    branch_bundle = await ledger.export_bundle(branch)
    assert [m["seq"] for m in branch_bundle["messages"]] == [1, 2, 3]
    assert branch_bundle["conversation"]["parent_id"] == parent.id

    target = Ledger(store, owner=other_owner)
    with pytest.raises(NotFound, match="restore it first"):
        await target.restore_bundle(branch_bundle)
    await target.restore_bundle(parent_bundle)
    restored = await target.restore_bundle(branch_bundle)
    assert restored.parent_id == parent.id and restored.message_count == 3
    assert await store.list_messages(other_owner, branch.id, MessageQuery()) != []
    assert len(await store.list_messages(other_owner, branch.id, MessageQuery())) == 1  # own only
    assert await target.export_bundle(branch.id) == branch_bundle
    assert await target.export_bundle(parent.id) == parent_bundle


async def test_a_fork_racing_a_removal_never_loses_shared_history(store: Store, owner: str) -> None:
    """Fork at the newest seq while that message is popped: either the pop is refused (the
    branch shares it) or it went first and the branch never saw it; the branch's count always
    matches what it reads."""
    import asyncio

    ledger = Ledger(store, owner=owner)
    for _ in range(6):
        parent = await _parent(ledger, 3)
        outcome = await asyncio.gather(
            ledger.fork(parent, 3), ledger.pop_message(parent), return_exceptions=True
        )
        branch, popped = outcome
        assert isinstance(branch, ConversationRecord), branch
        history = await ledger.messages(branch)
        assert (await ledger.resolve(branch.id)).message_count == len(history)
        if isinstance(popped, Conflict):
            assert [m.seq for m in history] == [1, 2, 3]
        else:
            assert not isinstance(popped, BaseException), popped
            assert [m.seq for m in history] == [1, 2]
