"""Store contract: conversations (create, get, find, list, update, delete), lifecycle, accounts,
stats and the idle sweep. Runs on every backend (see conftest.py)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from contract_helpers import T0, assert_utc, at, conv, msg, participants

from convoledger.errors import Conflict, ConversationNotActive, NotFound
from convoledger.models.records import (
    ConversationKind,
    MessageRecord,
    ParticipantRecord,
    ProviderCallRecord,
)
from convoledger.models.status import ConversationStatus, InvalidTransition
from convoledger.store.base import ConversationQuery, MessageQuery, Store

S = ConversationStatus


# -- create / get / find -------------------------------------------------------------------------


async def test_create_and_get_round_trip_every_field(store: Store, owner: str) -> None:
    record = conv(
        session_id="ext-1",
        session_key="key-1",
        kind=ConversationKind.CONVERSATION_SESSION,
        session_type="group",
        name="Trip planning",
        description="a description",
        agent_name="planner",
        agent_instructions="be brief",
        user_id="user-9",
        device_id="device-3",
        topic="travel",
        current_goal={"intent": "book_flight", "slots": {"to": "Lisbon"}},
        metadata={"tags": ["a", "b"], "n": 1.5, "ok": True, "none": None},
        server_state={"provider": "openai", "previous_response_id": "resp_1"},
        participants=participants(),
        message_count=99,
        last_seq=42,
        created_at=at(0),
        updated_at=at(1),
        last_activity_at=at(2),
    )
    created = await store.create_conversation(owner, record)
    assert created.owner_id == owner
    assert created.message_count == 0 and created.last_seq == 0
    expected = record.model_copy(update={"owner_id": owner, "message_count": 0, "last_seq": 0})
    assert created == expected
    got = await store.get_conversation(owner, record.id)
    assert got == expected
    assert_utc(got.created_at, got.updated_at, got.last_activity_at)


async def test_get_missing_conversation_is_not_found(store: Store, owner: str) -> None:
    with pytest.raises(NotFound):
        await store.get_conversation(owner, str(uuid.uuid4()))


async def test_create_conflicts_on_id_session_id_and_session_key(store: Store, owner: str) -> None:
    first = await store.create_conversation(owner, conv(session_id="s-1", session_key="k-1"))
    with pytest.raises(Conflict):
        await store.create_conversation(owner, conv(id=first.id))
    with pytest.raises(Conflict):
        await store.create_conversation(owner, conv(session_id="s-1"))
    with pytest.raises(Conflict):
        await store.create_conversation(owner, conv(session_key="k-1"))
    # None is not a value: many conversations may have no session_id / session_key.
    await store.create_conversation(owner, conv())
    await store.create_conversation(owner, conv())
    page = await store.list_conversations(owner, ConversationQuery())
    assert page.total == 3


async def test_session_ids_are_unique_per_owner_only(store: Store, owner: str, other_owner: str) -> None:
    a = await store.create_conversation(owner, conv(session_id="shared", session_key="shared-key"))
    b = await store.create_conversation(other_owner, conv(session_id="shared", session_key="shared-key"))
    found_a = await store.find_conversation(owner, session_id="shared")
    found_b = await store.find_conversation(other_owner, session_key="shared-key")
    assert found_a is not None and found_a.id == a.id
    assert found_b is not None and found_b.id == b.id


async def test_find_by_session_id_and_key(store: Store, owner: str) -> None:
    c = await store.create_conversation(owner, conv(session_id="ext-42", session_key="a|b|group"))
    by_sid = await store.find_conversation(owner, session_id="ext-42")
    by_key = await store.find_conversation(owner, session_key="a|b|group")
    assert by_sid == c and by_key == c
    assert await store.find_conversation(owner, session_id="nope") is None
    assert await store.find_conversation(owner, session_key="nope") is None
    with pytest.raises(ValueError):
        await store.find_conversation(owner)
    with pytest.raises(ValueError):
        await store.find_conversation(owner, session_id="ext-42", session_key="a|b|group")


async def test_invalid_conversation_is_refused(store: Store, owner: str) -> None:
    bad = conv().model_copy(update={"metadata": {"when": datetime.now(UTC)}})
    with pytest.raises(ValueError):
        await store.create_conversation(owner, bad)
    with pytest.raises(ValueError):
        await store.create_conversation("", conv())
    assert (await store.list_conversations(owner, ConversationQuery())).total == 0


# -- list ----------------------------------------------------------------------------------------


async def _make_listing(store: Store, owner: str) -> dict[str, str]:
    """Six conversations with known times, kinds, statuses, names and participants."""
    specs = {
        "alpha": dict(name="Alpha project", kind=ConversationKind.CONVERSATION, minutes=0),
        "beta": dict(name="beta Review", kind=ConversationKind.AGENT_SESSION, minutes=10),
        "gamma": dict(name="Gamma", kind=ConversationKind.CHAT_SESSION, minutes=20),
        "delta": dict(name=None, kind=ConversationKind.AGENT_SESSION, minutes=30, session_id="ALPHA-ext"),
        "eps": dict(name="100% literal_name", kind=ConversationKind.CONVERSATION_SESSION, minutes=40),
        "zeta": dict(name="zeta", kind=ConversationKind.AGENT_SESSION, minutes=50),
    }
    ids = {}
    for label, spec in specs.items():
        minutes = spec.pop("minutes")
        people = participants() if label in ("beta", "zeta") else []
        c = await store.create_conversation(
            owner,
            conv(
                participants=people,
                created_at=at(minutes),
                updated_at=at(minutes + 1),
                last_activity_at=at(minutes + 2),
                **spec,
            ),
        )
        ids[label] = c.id
    await store.transition(owner, ids["gamma"], S.INACTIVE)
    return ids


async def test_list_orders_by_updated_at_desc_and_counts_total(store: Store, owner: str) -> None:
    ids = await _make_listing(store, owner)
    page = await store.list_conversations(owner, ConversationQuery())
    assert page.total == 6
    # gamma was just transitioned, so its updated_at is now: first.
    assert [c.id for c in page.items] == [ids[k] for k in ("gamma", "zeta", "eps", "delta", "beta", "alpha")]
    for c in page.items:
        assert c.owner_id == owner
        assert_utc(c.created_at, c.updated_at, c.last_activity_at)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (ConversationQuery(status=S.INACTIVE), {"gamma"}),
        (ConversationQuery(status=S.ACTIVE), {"alpha", "beta", "delta", "eps", "zeta"}),
        (ConversationQuery(kind=ConversationKind.AGENT_SESSION), {"beta", "delta", "zeta"}),
        (ConversationQuery(participant_id="a1"), {"beta", "zeta"}),
        (ConversationQuery(participant_id="nobody"), set()),
        (ConversationQuery(name_contains="alpha"), {"alpha", "delta"}),  # name or session_id, any case
        (ConversationQuery(name_contains="REVIEW"), {"beta"}),
        (ConversationQuery(name_contains="%"), {"eps"}),  # literal, not a LIKE wildcard
        (ConversationQuery(name_contains="l_t"), set()),  # "_" is literal too ("lit" must not match)
        (ConversationQuery(name_contains="literal_"), {"eps"}),
        (ConversationQuery(created_from=at(10), created_to=at(30)), {"beta", "gamma", "delta"}),
        (ConversationQuery(updated_from=at(41), updated_to=at(51)), {"eps", "zeta"}),
        (ConversationQuery(idle_before=at(22)), {"alpha", "beta"}),  # strict: gamma's is at(22)
        (
            ConversationQuery(kind=ConversationKind.AGENT_SESSION, participant_id="u1", created_from=at(20)),
            {"zeta"},
        ),
    ],
)
async def test_list_filters(store: Store, owner: str, query: ConversationQuery, expected: set[str]) -> None:
    ids = await _make_listing(store, owner)
    page = await store.list_conversations(owner, query)
    labels = {label for label, cid in ids.items() if cid in {c.id for c in page.items}}
    assert labels == expected
    assert page.total == len(expected)


async def test_list_offset_and_keyset_paging(store: Store, owner: str) -> None:
    # Seven conversations, three of which share one updated_at: id breaks the tie.
    made = []
    for i in range(7):
        stamp = at(5) if i in (2, 3, 4) else at(i)
        made.append(await store.create_conversation(owner, conv(created_at=stamp, updated_at=stamp)))
    expected = [c.id for c in sorted(made, key=lambda c: (c.updated_at, c.id), reverse=True)]

    by_offset = []
    for offset in range(0, 7, 3):
        page = await store.list_conversations(owner, ConversationQuery(limit=3, offset=offset))
        assert page.total == 7
        by_offset += [c.id for c in page.items]
    assert by_offset == expected

    by_keyset: list[str] = []
    before = None
    while True:
        page = await store.list_conversations(owner, ConversationQuery(limit=2, before=before))
        assert page.total == 7  # total ignores paging
        if not page.items:
            break
        by_keyset += [c.id for c in page.items]
        last = page.items[-1]
        before = (last.updated_at, last.id)
    assert by_keyset == expected

    with pytest.raises(ValueError):
        await store.list_conversations(owner, ConversationQuery(limit=-1))
    with pytest.raises(ValueError):
        await store.list_conversations(owner, ConversationQuery(offset=-1))


async def test_list_of_owner_without_conversations_is_empty(store: Store, owner: str) -> None:
    page = await store.list_conversations(owner, ConversationQuery())
    assert page.items == [] and page.total == 0


# -- update --------------------------------------------------------------------------------------


async def test_update_fields_and_updated_at(store: Store, owner: str) -> None:
    c = await store.create_conversation(owner, conv(session_id="old", created_at=at(0), updated_at=at(0)))
    before = datetime.now(UTC)
    updated = await store.update_conversation(
        owner,
        c.id,
        {
            "name": "renamed",
            "session_id": "new",
            "metadata": {"k": [1, 2]},
            "current_goal": "find a hotel",
            "participants": [{"participant_id": "a2", "participant_type": "agent", "participant_role": "x"}],
            "server_state": {"provider": "anthropic"},
        },
    )
    assert updated.name == "renamed" and updated.session_id == "new"
    assert updated.metadata == {"k": [1, 2]} and updated.current_goal == "find a hotel"
    assert updated.participants == [
        ParticipantRecord(participant_id="a2", participant_type="agent", participant_role="x")
    ]
    assert updated.updated_at >= before - timedelta(seconds=1)
    assert updated.created_at == at(0)
    assert_utc(updated.updated_at)
    assert await store.get_conversation(owner, c.id) == updated
    # The old session_id is free again, the new one is taken.
    assert await store.find_conversation(owner, session_id="old") is None
    found = await store.find_conversation(owner, session_id="new")
    assert found is not None and found.id == c.id
    await store.create_conversation(owner, conv(session_id="old"))


async def test_update_refuses_unknown_fields_status_and_taken_session_id(store: Store, owner: str) -> None:
    a = await store.create_conversation(owner, conv(session_id="a"))
    b = await store.create_conversation(owner, conv(session_id="b"))
    for changes in ({"status": "inactive"}, {"owner_id": "x"}, {"last_seq": 5}, {"bogus": 1}):
        with pytest.raises(ValueError):
            await store.update_conversation(owner, a.id, changes)
    with pytest.raises(ValueError):
        await store.update_conversation(owner, a.id, {"participants": [{"participant_id": "p"}]})
    with pytest.raises(Conflict):
        await store.update_conversation(owner, b.id, {"session_id": "a"})
    assert (await store.get_conversation(owner, b.id)).session_id == "b"
    # Re-setting its own session_id is not a conflict.
    assert (await store.update_conversation(owner, a.id, {"session_id": "a", "name": "n"})).name == "n"
    with pytest.raises(NotFound):
        await store.update_conversation(owner, str(uuid.uuid4()), {"name": "x"})


# -- delete --------------------------------------------------------------------------------------


async def test_delete_cascades_everything(store: Store, owner: str) -> None:
    c = await store.create_conversation(owner, conv(session_id="gone", session_key="gone-key"))
    [m] = await store.append_messages(owner, c.id, [msg("to be deleted", id="m-1")])
    await store.set_memory(owner, c.id, "k", {"v": 1})
    await store.record_provider_call(
        owner, c.id, ProviderCallRecord(conversation_id=c.id, provider="openai", message_id=m.id)
    )
    await store.transition(owner, c.id, S.INACTIVE)
    await store.transition(owner, c.id, S.ACTIVE)

    await store.delete_conversation(owner, c.id)

    for call in (
        store.get_conversation(owner, c.id),
        store.list_messages(owner, c.id, MessageQuery()),
        store.get_message(owner, c.id, m.id),
        store.get_memory(owner, c.id),
        store.list_lifecycle_events(owner, c.id),
        store.list_provider_calls(owner, c.id),
        store.delete_conversation(owner, c.id),
    ):
        with pytest.raises(NotFound):
            await call
    assert await store.find_conversation(owner, session_id="gone") is None
    assert (await store.list_conversations(owner, ConversationQuery())).total == 0
    assert (await store.stats(owner)).messages == 0

    # A new conversation with the same id and keys starts empty: nothing was left behind.
    again = await store.create_conversation(owner, conv(id=c.id, session_id="gone", session_key="gone-key"))
    assert again.last_seq == 0
    assert await store.list_messages(owner, c.id, MessageQuery()) == []
    assert await store.get_memory(owner, c.id) == []
    assert await store.list_lifecycle_events(owner, c.id) == []
    assert await store.list_provider_calls(owner, c.id) == []
    [fresh] = await store.append_messages(owner, c.id, [msg("new life", id="m-1")])
    assert fresh.seq == 1 and fresh.content == "new life"


# -- lifecycle -----------------------------------------------------------------------------------


async def test_legal_transitions_are_recorded_as_events(store: Store, owner: str) -> None:
    c = await store.create_conversation(owner, conv())
    path = [S.INACTIVE, S.ACTIVE, S.INACTIVE_USER_TERMINATED, S.ARCHIVED]
    previous = S.ACTIVE
    for i, target in enumerate(path):
        record, event = await store.transition(owner, c.id, target, reason=f"r{i}", actor="alice")
        assert record.status is target
        assert (event.conversation_id, event.from_status, event.to_status) == (c.id, previous, target)
        assert (event.reason, event.actor) == (f"r{i}", "alice")
        assert_utc(event.at, record.updated_at)
        previous = target
    events = await store.list_lifecycle_events(owner, c.id)
    assert [(e.from_status, e.to_status) for e in events] == list(
        zip([S.ACTIVE, *path[:-1]], path, strict=True)
    )
    assert [e.reason for e in events] == ["r0", "r1", "r2", "r3"]
    assert all(a.at <= b.at for a, b in zip(events, events[1:], strict=False))
    for e in events:
        assert_utc(e.at)
    assert (await store.get_conversation(owner, c.id)).status is S.ARCHIVED


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], S.ARCHIVED),  # never active -> archived
        ([], S.ACTIVE),  # same status is not a transition
        ([S.INACTIVE_TIMEOUT], S.ACTIVE),
        ([S.INACTIVE_SYSTEM_TERMINATED], S.INACTIVE),
        ([S.INACTIVE, S.ARCHIVED], S.ACTIVE),
        ([S.INACTIVE, S.ARCHIVED], S.INACTIVE),
    ],
)
async def test_illegal_transitions_are_refused_and_not_recorded(
    store: Store, owner: str, path: list[ConversationStatus], illegal: ConversationStatus
) -> None:
    c = await store.create_conversation(owner, conv())
    for target in path:
        await store.transition(owner, c.id, target)
    with pytest.raises(InvalidTransition):
        await store.transition(owner, c.id, illegal)
    assert len(await store.list_lifecycle_events(owner, c.id)) == len(path)
    expected_status = path[-1] if path else S.ACTIVE
    assert (await store.get_conversation(owner, c.id)).status is expected_status


async def test_racing_transitions_only_one_wins(store: Store, owner: str) -> None:
    c = await store.create_conversation(owner, conv())
    results = await asyncio.gather(
        store.transition(owner, c.id, S.INACTIVE_USER_TERMINATED),
        store.transition(owner, c.id, S.INACTIVE_SYSTEM_TERMINATED),
        return_exceptions=True,
    )
    assert sum(isinstance(r, InvalidTransition) for r in results) == 1
    assert sum(isinstance(r, tuple) for r in results) == 1
    assert len(await store.list_lifecycle_events(owner, c.id)) == 1


@pytest.mark.parametrize(
    "path", [[S.INACTIVE], [S.INACTIVE_TIMEOUT], [S.INACTIVE_USER_TERMINATED], [S.INACTIVE, S.ARCHIVED]]
)
async def test_appends_need_an_active_conversation(
    store: Store, owner: str, path: list[ConversationStatus]
) -> None:
    c = await store.create_conversation(owner, conv())
    await store.append_messages(owner, c.id, [msg("first")])
    for target in path:
        await store.transition(owner, c.id, target)
    with pytest.raises(ConversationNotActive):
        await store.append_messages(owner, c.id, [msg("refused")])
    with pytest.raises(ConversationNotActive):
        await store.append_messages(owner, c.id, [msg("refused 1"), msg("refused 2")])
    after = await store.get_conversation(owner, c.id)
    assert (after.message_count, after.last_seq) == (1, 1)
    assert [m.content for m in await store.list_messages(owner, c.id, MessageQuery())] == ["first"]


async def test_reactivated_conversation_continues_its_seq(store: Store, owner: str) -> None:
    c = await store.create_conversation(owner, conv())
    await store.append_messages(owner, c.id, [msg("1"), msg("2")])
    await store.transition(owner, c.id, S.INACTIVE)
    await store.transition(owner, c.id, S.ACTIVE)
    [m] = await store.append_messages(owner, c.id, [msg("3")])
    assert m.seq == 3


async def test_transition_of_missing_conversation_is_not_found(store: Store, owner: str) -> None:
    with pytest.raises(NotFound):
        await store.transition(owner, str(uuid.uuid4()), S.INACTIVE)
    with pytest.raises(NotFound):
        await store.list_lifecycle_events(owner, str(uuid.uuid4()))


# -- stats, idle sweep, accounts -----------------------------------------------------------------


async def test_stats_counts_by_status_and_kind(store: Store, owner: str, other_owner: str) -> None:
    a = await store.create_conversation(owner, conv(kind=ConversationKind.AGENT_SESSION))
    b = await store.create_conversation(owner, conv(kind=ConversationKind.CHAT_SESSION))
    c = await store.create_conversation(owner, conv(kind=ConversationKind.AGENT_SESSION))
    await store.append_messages(owner, a.id, [msg("1"), msg("2"), msg("3")])
    await store.append_messages(owner, b.id, [msg("1")])
    await store.transition(owner, c.id, S.INACTIVE)
    other = await store.create_conversation(other_owner, conv())
    await store.append_messages(other_owner, other.id, [msg("not mine")])

    stats = await store.stats(owner)
    assert (stats.conversations, stats.active_conversations, stats.messages) == (3, 2, 4)
    assert stats.conversations_with_messages == 2  # a and b; c has none
    assert {k: v for k, v in stats.by_status.items() if v} == {"active": 2, "inactive": 1}
    assert {k: v for k, v in stats.by_kind.items() if v} == {"agent_session": 2, "chat_session": 1}
    await store.clear_messages(owner, b.id)  # emptied again: no longer counted
    assert (await store.stats(owner)).conversations_with_messages == 1
    empty = await store.stats(f"nobody-{uuid.uuid4()}")
    assert (empty.conversations, empty.active_conversations, empty.messages) == (0, 0, 0)
    assert empty.conversations_with_messages == 0


async def test_conversations_idle_since_spans_owners_and_keeps_only_active(
    store: Store, owner: str, other_owner: str
) -> None:
    ancient = datetime(1971, 1, 1, tzinfo=UTC)
    cutoff = ancient + timedelta(days=1)
    # Imported history: created now, but its messages carry 1971 timestamps.
    imported = await store.create_conversation(owner, conv())
    await store.append_messages(owner, imported.id, [msg("old", created_at=ancient + timedelta(hours=2))])
    # Created long ago with no messages: idle since creation.
    quiet = await store.create_conversation(
        other_owner, conv(created_at=ancient, updated_at=ancient, last_activity_at=ancient)
    )
    # Old but no longer active: not the sweeper's business.
    closed = await store.create_conversation(owner, conv(last_activity_at=ancient, created_at=ancient))
    await store.transition(owner, closed.id, S.INACTIVE)
    # Active with a recent message.
    busy = await store.create_conversation(owner, conv(last_activity_at=ancient, created_at=ancient))
    await store.append_messages(owner, busy.id, [msg("new")])
    await store.append_messages(owner, busy.id, [msg("older but not first", created_at=ancient)])

    imported_now = await store.get_conversation(owner, imported.id)
    assert imported_now.last_activity_at == ancient + timedelta(hours=2)
    assert (await store.get_conversation(owner, busy.id)).last_activity_at > cutoff

    idle = await store.conversations_idle_since(cutoff, limit=100_000)
    ours = {c.id: c for c in idle if c.id in {imported.id, quiet.id, closed.id, busy.id}}
    assert set(ours) == {imported.id, quiet.id}
    assert ours[imported.id].owner_id == owner and ours[quiet.id].owner_id == other_owner
    assert all(c.status is S.ACTIVE and c.last_activity_at < cutoff for c in idle)
    assert [c.last_activity_at for c in idle] == sorted(c.last_activity_at for c in idle)
    assert len(await store.conversations_idle_since(cutoff, limit=1)) == 1
    inactive = await store.conversations_idle_since(cutoff, limit=100_000, statuses=(S.INACTIVE,))
    assert closed.id in {c.id for c in inactive} and imported.id not in {c.id for c in inactive}
    both = await store.conversations_idle_since(cutoff, limit=100_000, statuses=(S.ACTIVE, S.INACTIVE))
    assert {imported.id, quiet.id, closed.id} <= {c.id for c in both} and busy.id not in {c.id for c in both}


async def test_accounts_and_api_keys(store: Store) -> None:
    name = f"acct-{uuid.uuid4()}"
    first = await store.ensure_account(name)
    again = await store.ensure_account(name)
    assert first.name == name and again == first
    assert_utc(first.created_at)
    key = uuid.uuid4().hex * 2
    assert await store.account_for_key(key) is None
    await store.add_api_key(name, key, label="ci")
    found = await store.account_for_key(key)
    assert found is not None and found.name == name
    with pytest.raises(NotFound):
        await store.add_api_key(f"missing-{uuid.uuid4()}", uuid.uuid4().hex)
    with pytest.raises(ValueError):
        await store.ensure_account("")


async def test_last_activity_is_the_latest_message_time(store: Store, owner: str) -> None:
    c = await store.create_conversation(owner, conv())
    await store.append_messages(owner, c.id, [msg("a", created_at=T0), msg("b", created_at=at(-5))])
    assert (await store.get_conversation(owner, c.id)).last_activity_at == T0
    await store.append_messages(owner, c.id, [msg("c", created_at=at(-10))])
    assert (await store.get_conversation(owner, c.id)).last_activity_at == T0
    await store.append_messages(owner, c.id, [msg("d", created_at=at(30))])
    got = await store.get_conversation(owner, c.id)
    assert got.last_activity_at == at(30)
    assert got.updated_at > at(30)  # updated_at is the store's clock, not the message's
    assert_utc(got.last_activity_at)


async def test_last_activity_moves_in_one_second_steps(store: Store, owner: str) -> None:
    # querying.activity_after_append: within 1 s of the recorded activity an append keeps it
    # (so a burst leaves the listing/sweeper indexes alone); at 1 s or more it moves exactly.
    c = await store.create_conversation(owner, conv())
    second = timedelta(seconds=1)

    async def last_activity_after(*times: datetime) -> datetime:
        await store.append_messages(owner, c.id, [msg(created_at=t) for t in times])
        return (await store.get_conversation(owner, c.id)).last_activity_at

    assert await last_activity_after(T0) == T0
    assert await last_activity_after(T0 + second / 2) == T0
    assert await last_activity_after(T0 + second / 4, T0 + second - timedelta(microseconds=1)) == T0
    assert await last_activity_after(T0 + second) == T0 + second
    assert await last_activity_after(T0 + 5 * second, T0 + 2 * second) == T0 + 5 * second
    assert await last_activity_after(T0) == T0 + 5 * second  # never backwards
    # The slow path of an append repeating a stored id applies the same rule.
    stored = await store.list_messages(owner, c.id, MessageQuery(last=1))
    await store.append_messages(owner, c.id, [stored[0], msg(created_at=T0 + 7 * second)])
    assert (await store.get_conversation(owner, c.id)).last_activity_at == T0 + 7 * second


async def test_updated_at_moves_on_appends_a_second_apart(store: Store, owner: str) -> None:
    c = await store.create_conversation(owner, conv())
    await store.append_messages(owner, c.id, [msg("one")])
    first = (await store.get_conversation(owner, c.id)).updated_at
    for i in range(3):  # a burst: each append either keeps updated_at or moves it 1 s or more
        await store.append_messages(owner, c.id, [msg(f"burst {i}"), msg(f"burst {i}b")])
        now = (await store.get_conversation(owner, c.id)).updated_at
        assert now == first or now - first >= timedelta(seconds=1)
    await asyncio.sleep(1.05)
    await store.append_messages(owner, c.id, [msg("later")])
    later = await store.get_conversation(owner, c.id)
    assert later.updated_at - first >= timedelta(seconds=1)
    assert later.message_count == 8 and later.last_seq == 8
    # Other changes set the exact time, whatever the resolution.
    renamed = await store.update_conversation(owner, c.id, {"name": "renamed"})
    assert renamed.updated_at > later.updated_at


async def test_returned_records_are_copies(store: Store, owner: str) -> None:
    original = conv(metadata={"k": "v"}, participants=participants())
    created = await store.create_conversation(owner, original)
    original.metadata["k"] = "mutated input"
    created.metadata["k"] = "mutated output"
    got = await store.get_conversation(owner, created.id)
    assert got.metadata == {"k": "v"}
    got.metadata["x"] = 1
    assert (await store.get_conversation(owner, created.id)).metadata == {"k": "v"}

    m = msg("text", extra_data={"list": [1]}, metadata={"a": 1})
    [stored] = await store.append_messages(owner, created.id, [m])
    m.extra_data["list"].append(2)
    stored.extra_data["list"].append(3)
    stored.metadata["b"] = 2
    [listed] = await store.list_messages(owner, created.id, MessageQuery())
    assert listed.extra_data == {"list": [1]} and listed.metadata == {"a": 1}
    listed.content = "changed locally"
    assert (await store.get_message(owner, created.id, m.id)).content == "text"
    assert isinstance(listed, MessageRecord)


async def test_conversations_idle_since_by_age_and_keyset_pages(store: Store, owner: str) -> None:
    """``created_before`` selects by creation time whatever the activity (the age policy), and
    ``after`` pages through the idle order (``(last_activity_at, id)``) without repeats."""
    born = datetime(1965, 3, 1, tzinfo=UTC)
    ids = []
    for i in range(5):
        at = born + timedelta(minutes=i)
        record = await store.create_conversation(
            owner, conv(created_at=at, updated_at=at, last_activity_at=at)
        )
        ids.append(record.id)
    # created long ago but busy now: selected by age, not by idleness
    old_busy = await store.create_conversation(
        owner, conv(created_at=born, updated_at=born, last_activity_at=born)
    )
    await store.append_messages(owner, old_busy.id, [msg("now")])
    now = datetime.now(UTC) + timedelta(seconds=5)
    by_age = await store.conversations_idle_since(
        now, 100_000, statuses=(S.ACTIVE,), created_before=born + timedelta(minutes=2, seconds=30)
    )
    mine = [c.id for c in by_age if c.id in {*ids, old_busy.id}]
    assert mine == [ids[0], ids[1], ids[2], old_busy.id]
    assert all(c.created_at < born + timedelta(minutes=2, seconds=30) for c in by_age)

    cutoff = born + timedelta(minutes=10)
    pages: list[str] = []
    after = (born - timedelta(seconds=1), "")
    while True:
        page = await store.conversations_idle_since(cutoff, 2, after=after)
        if not page:
            break
        pages.extend(c.id for c in page)
        after = (page[-1].last_activity_at, page[-1].id)
    assert [i for i in pages if i in ids] == ids
    assert len(pages) == len(set(pages))
    with pytest.raises(ValueError, match="after"):
        await store.conversations_idle_since(cutoff, 2, after=("x", "y"))  # type: ignore[arg-type]
