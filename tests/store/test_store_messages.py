"""Store contract: messages (append, idempotency, atomicity, reads, filters, search, edits),
session memory, provider calls, imports, verbatim storage and UTC times. Every backend."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from contract_helpers import HOSTILE_STRINGS, T0, assert_utc, at, conv, msg, participants

from convoledger.errors import Conflict, NotFound
from convoledger.models.records import MemoryEntry, MessageRecord, ProviderCallRecord
from convoledger.models.status import ConversationStatus, LifecycleEvent
from convoledger.store.base import ConversationQuery, MessageQuery, Store

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
ALL = MessageQuery()


async def new_conv(store: Store, owner: str, **fields: Any) -> str:
    return (await store.create_conversation(owner, conv(**fields))).id


async def contents(store: Store, owner: str, cid: str, query: MessageQuery = ALL) -> list[str]:
    return [m.content for m in await store.list_messages(owner, cid, query)]


def tau_bench_trajectory() -> list[dict[str, Any]]:
    """The first tau-bench airline trajectory (real OpenAI chat messages with tool calls)."""
    path = SHARED / "data/conversations/tool_calling/tau_bench_gpt4o_airline_trajectories.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return json.loads(fh.readline())["traj"]


def chitchat_messages(n: int) -> list[dict[str, Any]]:
    """The first ``n`` messages (text, ISO timestamp, sender) of the first BYU chitchat conversation."""
    path = SHARED / "data/conversations/open_domain/chitchat_byu_ccc.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        record = json.loads(fh.readline())
    return [m for turn in record["messages"] for m in turn][:n]


# -- append ------------------------------------------------------------------------------------------


async def test_append_one_round_trips_every_field(store: Store, owner: str) -> None:
    cid = await new_conv(store, owner, participants=participants())
    original = msg(
        "Let me check that flight.",
        role="assistant",
        sender="a1",
        recipient="u1",
        message_type="response",
        tool_calls=[
            {"id": "call_1", "type": "function", "function": {"name": "get", "arguments": '{"a": 1}'}}
        ],
        extra_data={"nested": {"list": [1, 2.5, "x", None, True]}},
        metadata={"trace": "abc"},
        token_count=7,
        pinned=True,
        created_at=T0,
    )
    [stored] = await store.append_messages(owner, cid, [original])
    assert stored.seq == 1 and stored.conversation_id == cid
    assert stored == original.model_copy(update={"seq": 1, "conversation_id": cid})
    assert await store.get_message(owner, cid, original.id) == stored
    assert await store.list_messages(owner, cid, ALL) == [stored]
    after = await store.get_conversation(owner, cid)
    assert (after.message_count, after.last_seq, after.last_activity_at) == (1, 1, T0)
    assert_utc(stored.created_at, after.updated_at)


async def test_batch_gets_consecutive_seqs_in_batch_order(store: Store, owner: str) -> None:
    cid = await new_conv(store, owner)
    first = await store.append_messages(owner, cid, [msg("a"), msg("b"), msg("c")])
    second = await store.append_messages(owner, cid, [msg("d"), msg("e")])
    assert [(m.seq, m.content) for m in first + second] == list(enumerate("abcde", start=1))
    assert await contents(store, owner, cid) == list("abcde")
    assert await store.append_messages(owner, cid, []) == []
    got = await store.get_conversation(owner, cid)
    assert (got.message_count, got.last_seq) == (5, 5)


async def test_token_counts_fill_in_only_the_messages_without_one(store: Store, owner: str) -> None:
    cid = await new_conv(store, owner)
    given = [msg("a"), msg("b", token_count=40), msg("c")]
    stored = await store.append_messages(owner, cid, given, [11, 99, None])
    assert [m.token_count for m in stored] == [11, 40, None]
    assert [m.token_count for m in await store.list_messages(owner, cid, ALL)] == [11, 40, None]
    assert [m.token_count for m in given] == [None, 40, None]  # the caller's records are not changed
    with pytest.raises(ValueError, match="2 token counts for 1 messages"):
        await store.append_messages(owner, cid, [msg("d")], [1, 2])
    assert await contents(store, owner, cid) == list("abc")


async def test_real_tool_calling_trajectory_round_trips(store: Store, owner: str) -> None:
    traj = tau_bench_trajectory()
    cid = await new_conv(store, owner)
    records = [
        msg(
            m.get("content") or "",
            role=m["role"],
            tool_calls=m.get("tool_calls"),
            tool_call_id=m.get("tool_call_id"),
            tool_name=m.get("name"),
            created_at=at(i),
        )
        for i, m in enumerate(traj)
    ]
    stored = await store.append_messages(owner, cid, records)
    assert [m.seq for m in stored] == list(range(1, len(traj) + 1))
    back = await store.list_messages(owner, cid, ALL)
    assert [m.model_dump(exclude={"seq", "conversation_id"}) for m in back] == [
        r.model_dump(exclude={"seq", "conversation_id"}) for r in records
    ]
    assert any(m.tool_calls for m in back) and any(m.tool_call_id for m in back)


async def test_append_to_missing_conversation_is_not_found(store: Store, owner: str) -> None:
    with pytest.raises(NotFound):
        await store.append_messages(owner, str(uuid.uuid4()), [msg()])


# -- idempotency (invariant 4) -----------------------------------------------------------------------


async def test_same_id_twice_returns_the_original(store: Store, owner: str) -> None:
    cid = await new_conv(store, owner)
    [first] = await store.append_messages(owner, cid, [msg("original", id="fixed-id")])
    [again] = await store.append_messages(owner, cid, [msg("a retry with other content", id="fixed-id")])
    assert again == first and again.content == "original"
    assert await contents(store, owner, cid) == ["original"]
    got = await store.get_conversation(owner, cid)
    assert (got.message_count, got.last_seq) == (1, 1)


async def test_batch_retry_returns_originals_in_batch_order(store: Store, owner: str) -> None:
    cid = await new_conv(store, owner)
    batch = [msg("a", id="a"), msg("b", id="b"), msg("c", id="c")]
    first = await store.append_messages(owner, cid, batch)
    retry = await store.append_messages(owner, cid, list(reversed(batch)))
    assert retry == list(reversed(first))
    mixed = await store.append_messages(
        owner, cid, [msg("b again", id="b"), msg("d", id="d"), msg("a", id="a")]
    )
    assert [(m.id, m.seq, m.content) for m in mixed] == [("b", 2, "b"), ("d", 4, "d"), ("a", 1, "a")]
    assert await contents(store, owner, cid) == ["a", "b", "c", "d"]


async def test_batch_repeating_an_id_is_refused(store: Store, owner: str) -> None:
    cid = await new_conv(store, owner)
    with pytest.raises(ValueError):
        await store.append_messages(owner, cid, [msg("x", id="dup"), msg("y", id="dup")])
    assert await contents(store, owner, cid) == []


async def test_message_ids_are_scoped_to_their_conversation(store: Store, owner: str) -> None:
    # Decision: a message id names a message within its conversation (invariant 4 says "same
    # conversation"). The same id in another conversation of the same owner is another message.
    first = await new_conv(store, owner)
    second = await new_conv(store, owner)
    [a] = await store.append_messages(owner, first, [msg("in first", id="shared-id")])
    [_, b] = await store.append_messages(owner, second, [msg("zero"), msg("in second", id="shared-id")])
    assert (a.conversation_id, a.seq, b.conversation_id, b.seq) == (first, 1, second, 2)
    assert (await store.get_message(owner, first, "shared-id")).content == "in first"
    assert (await store.get_message(owner, second, "shared-id")).content == "in second"
    # Deleting one leaves the other.
    await store.delete_message(owner, second, "shared-id")
    assert (await store.get_message(owner, first, "shared-id")).content == "in first"


# -- atomicity (invariant 3) -------------------------------------------------------------------------


def _invalid_messages() -> list[MessageRecord]:
    return [
        MessageRecord.model_construct(**{**msg("empty role").model_dump(), "role": ""}),
        MessageRecord.model_construct(**{**msg().model_dump(), "content": 12345}),
        MessageRecord.model_construct(**{**msg().model_dump(), "id": ""}),
        msg("non-JSON extra_data").model_copy(update={"extra_data": {"when": datetime.now(UTC)}}),
        msg("NaN in metadata").model_copy(update={"metadata": {"x": float("nan")}}),
    ]


@pytest.mark.parametrize("bad_index", range(5))
async def test_batch_with_one_invalid_message_stores_nothing(
    store: Store, owner: str, bad_index: int
) -> None:
    cid = await new_conv(store, owner)
    await store.append_messages(owner, cid, [msg("before")])
    bad = _invalid_messages()[bad_index]
    with pytest.raises(ValueError):
        await store.append_messages(owner, cid, [msg("ok 1"), msg("ok 2"), bad, msg("ok 3")])
    assert await contents(store, owner, cid) == ["before"]
    got = await store.get_conversation(owner, cid)
    assert (got.message_count, got.last_seq) == (1, 1)
    [after] = await store.append_messages(owner, cid, [msg("after")])
    assert after.seq == 2  # no gap left by the refused batch


# -- reads: windows and filters (invariant 6) --------------------------------------------------------


async def _twenty(store: Store, owner: str) -> str:
    cid = await new_conv(store, owner)
    await store.append_messages(owner, cid, [msg(f"m{i}", created_at=at(i)) for i in range(1, 21)])
    return cid


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (MessageQuery(), list(range(1, 21))),
        (MessageQuery(last=3), [18, 19, 20]),
        (MessageQuery(last=50), list(range(1, 21))),
        (MessageQuery(last=0), []),
        (MessageQuery(limit=4), [1, 2, 3, 4]),
        (MessageQuery(limit=4, offset=18), [19, 20]),
        (MessageQuery(limit=0), []),
        (MessageQuery(after_seq=17), [18, 19, 20]),
        (MessageQuery(after_seq=5, limit=2), [6, 7]),
        (MessageQuery(before_seq=4), [1, 2, 3]),
        (MessageQuery(before_seq=10, last=2), [8, 9]),
        (MessageQuery(after_seq=3, before_seq=7), [4, 5, 6]),
        (MessageQuery(after_seq=20), []),
        (MessageQuery(after_seq=0, before_seq=1), []),
        (MessageQuery(offset=15), [16, 17, 18, 19, 20]),
    ],
)
async def test_windows(store: Store, owner: str, query: MessageQuery, expected: list[int]) -> None:
    cid = await _twenty(store, owner)
    got = await store.list_messages(owner, cid, query)
    assert [m.seq for m in got] == expected
    assert [m.content for m in got] == [f"m{s}" for s in expected]


@pytest.mark.parametrize(
    "query",
    [
        MessageQuery(last=2, limit=2),
        MessageQuery(last=2, offset=1),
        MessageQuery(last=-1),
        MessageQuery(limit=-1),
        MessageQuery(offset=-1),
        MessageQuery(search="?! …"),
        MessageQuery(search=""),
    ],
)
async def test_invalid_message_queries_are_refused(store: Store, owner: str, query: MessageQuery) -> None:
    cid = await _twenty(store, owner)
    with pytest.raises(ValueError):
        await store.list_messages(owner, cid, query)


async def _mixed(store: Store, owner: str) -> str:
    """30 messages: roles cycle user/assistant/tool, senders u1/a1, recipients a1/u1/None,
    message types, one minute apart; every 7th mentions the "refund"."""
    cid = await new_conv(store, owner)
    batch = []
    for i in range(1, 31):
        batch.append(
            msg(
                f"message {i}" + (" about the Refund, please" if i % 7 == 0 else ""),
                role=["user", "assistant", "tool"][i % 3],
                sender="u1" if i % 2 else "a1",
                recipient=[None, "a1", "u1"][i % 3],
                message_type="request" if i % 4 == 0 else "response",
                created_at=at(i),
            )
        )
    await store.append_messages(owner, cid, batch)
    return cid


def _expected_mixed(keep: Any, last: int) -> list[int]:
    seqs = [i for i in range(1, 31) if keep(i)]
    return seqs[-last:]


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        (MessageQuery(role="tool"), lambda i: i % 3 == 2),
        (MessageQuery(sender="a1"), lambda i: i % 2 == 0),
        (MessageQuery(recipient="a1"), lambda i: i % 3 == 1),  # broadcasts are not "to a1"
        (MessageQuery(message_type="request"), lambda i: i % 4 == 0),
        (MessageQuery(since=at(3), until=at(9)), lambda i: 3 <= i <= 9),  # inclusive
        (MessageQuery(search="refund"), lambda i: i % 7 == 0),
        (MessageQuery(role="user", sender="a1"), lambda i: i % 3 == 0 and i % 2 == 0),
        (MessageQuery(search="message", until=at(20)), lambda i: i <= 20),
    ],
)
async def test_filters_apply_before_the_limit(
    store: Store, owner: str, query: MessageQuery, keep: Any
) -> None:
    cid = await _mixed(store, owner)
    everything = [m.seq for m in await store.list_messages(owner, cid, query)]
    assert everything == _expected_mixed(keep, 30)
    last3 = await store.list_messages(owner, cid, MessageQuery(**{**query.__dict__, "last": 3}))
    assert [m.seq for m in last3] == _expected_mixed(keep, 3)
    first2 = await store.list_messages(owner, cid, MessageQuery(**{**query.__dict__, "limit": 2}))
    assert [m.seq for m in first2] == _expected_mixed(keep, 30)[:2]
    assert await store.count_messages(owner, cid, query) == len(everything)
    # count ignores the window (keyset bounds included), as base.py says.
    windowed = MessageQuery(**{**query.__dict__, "last": 1, "after_seq": 29})
    assert await store.count_messages(owner, cid, windowed) == len(everything)


async def test_since_until_with_naive_and_offset_datetimes(store: Store, owner: str) -> None:
    cid = await _twenty(store, owner)
    naive_since = at(5).replace(tzinfo=None)  # naive = UTC
    plus_two = timezone(timedelta(hours=2))
    until_local = at(7).astimezone(plus_two)
    got = await store.list_messages(owner, cid, MessageQuery(since=naive_since, until=until_local))
    assert [m.seq for m in got] == [5, 6, 7]


async def test_real_timestamps_that_tie_keep_append_order(store: Store, owner: str) -> None:
    # BYU chitchat timestamps have one-second resolution and tie; order is seq, never time.
    real = chitchat_messages(12)
    cid = await new_conv(store, owner)
    batch = [msg(m["text"], sender=m["sender"], created_at=m["timestamp"]) for m in real]
    await store.append_messages(owner, cid, list(reversed(batch)))
    got = await store.list_messages(owner, cid, ALL)
    assert [m.content for m in got] == [m["text"] for m in reversed(real)]
    first_time = datetime.fromisoformat(real[0]["timestamp"].replace("Z", "+00:00"))
    exactly = await store.list_messages(owner, cid, MessageQuery(since=first_time, until=first_time))
    assert {m.content for m in exactly} == {m["text"] for m in real if m["timestamp"] == real[0]["timestamp"]}
    for m in got:
        assert_utc(m.created_at)


# -- search ------------------------------------------------------------------------------------------

SEARCH_CORPUS = [
    "Hello, World!",
    "hello there, big world",
    "HELLO",
    "shell game",
    "Order #42 shipped",
    "order 420 shipped",
    "snake_case variable",
    "Café au lait",
    "cafe without accent",
    "Привет мир",
    "नमस्ते दुनिया",
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("hello", {0, 1, 2}),  # case-insensitive, punctuation is not part of words
        ("hell", set()),  # whole words only
        ("world hello", {0, 1}),  # every word, any order
        ("hello missing", set()),
        ("42", {4}),  # digits are words; 420 is another word
        ("ORDER shipped", {4, 5}),
        ("snake", {6}),  # "_" separates words
        ("case", {6}),
        ("café", {7}),  # accents are significant
        ("CAFÉ", {7}),
        ("cafe", {8}),
        ("ПРИВЕТ", {9}),  # non-ASCII case folding
        ("नमस्ते", {10}),  # words with combining marks stay whole
        ("hello, world!", {0, 1}),  # punctuation in the query is ignored
    ],
)
async def test_search_semantics(store: Store, owner: str, query: str, expected: set[int]) -> None:
    cid = await new_conv(store, owner)
    await store.append_messages(owner, cid, [msg(text) for text in SEARCH_CORPUS])
    found = await store.list_messages(owner, cid, MessageQuery(search=query))
    assert {m.seq - 1 for m in found} == expected
    assert await store.count_messages(owner, cid, MessageQuery(search=query)) == len(expected)


async def test_search_sees_edits_and_redactions(store: Store, owner: str) -> None:
    cid = await new_conv(store, owner)
    [a, b] = await store.append_messages(owner, cid, [msg("alpha secret"), msg("beta")])
    await store.edit_message(owner, cid, b.id, {"content": "beta secret"})
    assert [m.id for m in await store.list_messages(owner, cid, MessageQuery(search="secret"))] == [
        a.id,
        b.id,
    ]
    await store.redact_message(owner, cid, a.id)
    assert [m.id for m in await store.list_messages(owner, cid, MessageQuery(search="secret"))] == [b.id]
    await store.delete_message(owner, cid, b.id)
    assert await store.list_messages(owner, cid, MessageQuery(search="secret")) == []


# -- pop, clear, edit, redact, delete ----------------------------------------------------------------


async def test_pop_delete_clear_never_reuse_seq(store: Store, owner: str) -> None:
    cid = await new_conv(store, owner)
    await store.append_messages(owner, cid, [msg("1"), msg("2"), msg("3", id="three"), msg("4")])
    popped = await store.pop_message(owner, cid)
    assert popped is not None and (popped.seq, popped.content) == (4, "4")
    with pytest.raises(NotFound):
        await store.get_message(owner, cid, popped.id)
    await store.delete_message(owner, cid, "three")
    with pytest.raises(NotFound):
        await store.delete_message(owner, cid, "three")
    assert await contents(store, owner, cid) == ["1", "2"]
    got = await store.get_conversation(owner, cid)
    assert (got.message_count, got.last_seq) == (2, 4)
    [m5] = await store.append_messages(owner, cid, [msg("5")])
    assert m5.seq == 5
    assert [m.seq for m in await store.list_messages(owner, cid, MessageQuery(after_seq=2))] == [5]
    assert await store.clear_messages(owner, cid) == 3
    assert await store.list_messages(owner, cid, ALL) == []
    assert await store.pop_message(owner, cid) is None
    assert await store.clear_messages(owner, cid) == 0
    got = await store.get_conversation(owner, cid)
    assert (got.message_count, got.last_seq) == (0, 5)
    [m6] = await store.append_messages(owner, cid, [msg("6")])
    assert m6.seq == 6
    # A deleted id may be appended again: it is a new message now.
    [again] = await store.append_messages(owner, cid, [msg("three is back", id="three")])
    assert again.seq == 7


async def test_edit_message(store: Store, owner: str) -> None:
    cid = await new_conv(store, owner)
    [m] = await store.append_messages(
        owner, cid, [msg("draft", role="assistant", sender="a1", created_at=T0)]
    )
    before = datetime.now(UTC) - timedelta(seconds=1)
    edited = await store.edit_message(
        owner,
        cid,
        m.id,
        {
            "content": "final",
            "extra_data": [1, {"x": 2}],
            "metadata": {"v": 2},
            "token_count": 3,
            "pinned": True,
        },
    )
    assert (edited.content, edited.extra_data, edited.metadata) == ("final", [1, {"x": 2}], {"v": 2})
    assert (edited.token_count, edited.pinned) == (3, True)
    assert (edited.id, edited.seq, edited.role, edited.sender, edited.created_at) == (
        m.id,
        1,
        "assistant",
        "a1",
        T0,
    )
    assert edited.updated_at is not None and edited.updated_at >= before
    assert_utc(edited.updated_at)
    assert await store.get_message(owner, cid, m.id) == edited
    for bad in (
        {"role": "user"},
        {"seq": 9},
        {"created_at": T0},
        {"content": 5},
        {"metadata": {"t": {1, 2}}},
    ):
        with pytest.raises(ValueError):
            await store.edit_message(owner, cid, m.id, bad)
    assert await store.get_message(owner, cid, m.id) == edited
    with pytest.raises(NotFound):
        await store.edit_message(owner, cid, "missing", {"content": "x"})


async def test_redact_keeps_the_envelope_only(store: Store, owner: str) -> None:
    cid = await new_conv(store, owner)
    call = {"id": "call_9", "type": "function", "function": {"name": "lookup", "arguments": '{"ssn": "123"}'}}
    [m] = await store.append_messages(
        owner,
        cid,
        [
            msg(
                "my card is 4111",
                role="assistant",
                sender="a1",
                recipient="u1",
                message_type="response",
                tool_calls=[call],
                extra_data={"card": "4111"},
                metadata={"ip": "1.2.3.4"},
                created_at=T0,
            )
        ],
    )
    red = await store.redact_message(owner, cid, m.id, marker="[gone]")
    assert red.redacted and red.content == "[gone]"
    assert red.extra_data is None and red.metadata == {}
    assert red.tool_calls is not None and "123" not in json.dumps(red.tool_calls)
    assert red.tool_call_ids == ["call_9"] and red.tool_calls[0]["function"]["name"] == "lookup"
    envelope = ("id", "seq", "role", "sender", "recipient", "message_type", "created_at", "conversation_id")
    assert {k: getattr(red, k) for k in envelope} == {k: getattr(m, k) for k in envelope}
    assert await store.get_message(owner, cid, m.id) == red
    default = await store.redact_message(owner, cid, m.id)
    assert default.content == "[redacted]"
    with pytest.raises(NotFound):
        await store.redact_message(owner, cid, "missing")


# -- session memory ----------------------------------------------------------------------------------


async def test_session_entries_get_set_delete(store: Store, owner: str) -> None:
    cid = await new_conv(store, owner)
    assert await store.get_memory(owner, cid) == []
    values = {"b": {"nested": [1, 2.5, None, True, "ü"]}, "a": "text", "c": 0, "d": None, "e": [], "f": 1e-7}
    for key, value in values.items():
        entry = await store.set_memory(owner, cid, key, value)
        assert isinstance(entry, MemoryEntry)
        assert (entry.conversation_id, entry.key, entry.value) == (cid, key, value)
        assert_utc(entry.updated_at)
    got = await store.get_memory(owner, cid)
    assert [e.key for e in got] == sorted(values)
    assert {e.key: e.value for e in got} == values
    await store.set_memory(owner, cid, "a", {"replaced": True})
    await store.delete_memory(owner, cid, "b")
    got = {e.key: e.value for e in await store.get_memory(owner, cid)}
    assert got["a"] == {"replaced": True} and "b" not in got and len(got) == 5
    with pytest.raises(NotFound):
        await store.delete_memory(owner, cid, "b")
    for bad_value in ({1, 2}, datetime.now(UTC), float("inf"), object()):
        with pytest.raises(ValueError):
            await store.set_memory(owner, cid, "bad", bad_value)
    with pytest.raises(ValueError):
        await store.set_memory(owner, cid, "", 1)
    assert "bad" not in {e.key for e in await store.get_memory(owner, cid)}


# -- provider calls ----------------------------------------------------------------------------------


async def test_provider_calls_and_server_state(store: Store, owner: str) -> None:
    cid = await new_conv(store, owner)
    [m] = await store.append_messages(owner, cid, [msg("answer", role="assistant")])
    call = ProviderCallRecord(
        conversation_id="ignored",
        message_id=m.id,
        provider="openai",
        api="responses",
        model="gpt-4o-mini",
        identifiers={"response_id": "resp_1"},
        input_tokens=100,
        output_tokens=20,
        cache_read_tokens=50,
        reasoning_tokens=5,
        total_tokens=120,
        cost=0.000123,
        price_source="genai-prices",
        latency_ms=812.5,
        stop_reason="stop",
        raw_response={"id": "resp_1", "output": [{"type": "message"}]},
        request={"model": "gpt-4o-mini"},
        provider_specific_data={"service_tier": "default", "store": True, "price_units": {"web_searches": 2}},
        created_at=T0,
    )
    state = {"provider": "openai", "previous_response_id": "resp_1"}
    stored = await store.record_provider_call(owner, cid, call, server_state=state)
    assert stored.conversation_id == cid
    assert stored == call.model_copy(update={"conversation_id": cid})
    assert (await store.get_conversation(owner, cid)).server_state == state
    second = ProviderCallRecord(conversation_id=cid, provider="anthropic", created_at=at(1))
    await store.record_provider_call(owner, cid, second)
    assert (await store.get_conversation(owner, cid)).server_state == state  # None leaves it
    calls = await store.list_provider_calls(owner, cid)
    assert [c.id for c in calls] == [call.id, second.id]
    assert calls[0] == stored
    assert calls[1].provider_specific_data == {}  # seed 004 field, empty by default
    for c in calls:
        assert_utc(c.created_at)
    dangling = ProviderCallRecord(conversation_id=cid, provider="openai", message_id="no-such-message")
    with pytest.raises(NotFound):
        await store.record_provider_call(owner, cid, dangling, server_state={"provider": "x"})
    assert len(await store.list_provider_calls(owner, cid)) == 2
    assert (await store.get_conversation(owner, cid)).server_state == state


# -- import ------------------------------------------------------------------------------------------


async def test_import_conversation_keeps_everything(store: Store, owner: str) -> None:
    record = conv(
        session_id="imported",
        status=ConversationStatus.INACTIVE,
        created_at=at(0),
        updated_at=at(100),
        last_activity_at=at(90),
        last_seq=2,
    )
    messages = [
        msg("one", id="m1", created_at=at(1)).model_copy(update={"seq": 3}),
        msg("two", id="m2", created_at=at(2)).model_copy(update={"seq": 7}),
    ]
    events = [
        LifecycleEvent(
            conversation_id="x",
            from_status=ConversationStatus.ACTIVE,
            to_status=ConversationStatus.INACTIVE,
            at=at(5),
        )
    ]
    memory = [MemoryEntry(conversation_id="x", key="k", value={"v": 1}, updated_at=at(6))]
    calls = [
        ProviderCallRecord(
            conversation_id="x",
            provider="openai",
            message_id="m2",
            provider_specific_data={"upstream_provider": "Azure"},
            created_at=at(7),
        )
    ]
    got = await store.import_conversation(
        owner, record, messages, events=events, memory=memory, provider_calls=calls
    )
    assert (got.owner_id, got.message_count, got.last_seq, got.status) == (
        owner,
        2,
        7,
        ConversationStatus.INACTIVE,
    )
    assert (got.created_at, got.updated_at, got.last_activity_at) == (at(0), at(100), at(90))
    assert await store.get_conversation(owner, record.id) == got
    back = await store.list_messages(owner, record.id, ALL)
    assert [(m.id, m.seq, m.conversation_id) for m in back] == [("m1", 3, record.id), ("m2", 7, record.id)]
    [event] = await store.list_lifecycle_events(owner, record.id)
    assert (event.conversation_id, event.to_status, event.at) == (
        record.id,
        ConversationStatus.INACTIVE,
        at(5),
    )
    [entry] = await store.get_memory(owner, record.id)
    assert (entry.conversation_id, entry.key, entry.value, entry.updated_at) == (
        record.id,
        "k",
        {"v": 1},
        at(6),
    )
    [call] = await store.list_provider_calls(owner, record.id)
    assert (call.conversation_id, call.message_id) == (record.id, "m2")
    assert call.provider_specific_data == {"upstream_provider": "Azure"}
    found = await store.find_conversation(owner, session_id="imported")
    assert found is not None and found.id == record.id
    await store.transition(owner, record.id, ConversationStatus.ACTIVE)
    [m8] = await store.append_messages(owner, record.id, [msg("three")])
    assert m8.seq == 8


@pytest.mark.parametrize("seqs", [[0, 1], [2, 2], [3, 1], [-1, 5]])
async def test_import_with_bad_seqs_writes_nothing(store: Store, owner: str, seqs: list[int]) -> None:
    record = conv(session_id="bad-import")
    messages = [msg(f"m{i}").model_copy(update={"seq": s}) for i, s in enumerate(seqs)]
    with pytest.raises(ValueError):
        await store.import_conversation(owner, record, messages)
    with pytest.raises(NotFound):
        await store.get_conversation(owner, record.id)
    assert await store.find_conversation(owner, session_id="bad-import") is None


async def test_import_conflicts_write_nothing(store: Store, owner: str) -> None:
    existing = await store.create_conversation(owner, conv(session_id="taken"))
    with pytest.raises(Conflict):
        await store.import_conversation(owner, conv(id=existing.id), [])
    clash = conv(session_id="taken")
    with pytest.raises(Conflict):
        await store.import_conversation(owner, clash, [msg("x").model_copy(update={"seq": 1})])
    with pytest.raises(NotFound):
        await store.get_conversation(owner, clash.id)
    assert (await store.list_conversations(owner, ConversationQuery())).total == 1


# -- verbatim storage and time -----------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE_STRINGS)
async def test_hostile_strings_are_stored_verbatim(store: Store, owner: str, text: str) -> None:
    hostile_owner = f"{owner}{text}"
    created = await store.create_conversation(
        hostile_owner,
        conv(session_id=text, name=text, topic=text, metadata={text: text}, current_goal=[text]),
    )
    assert created.owner_id == hostile_owner
    got = await store.get_conversation(hostile_owner, created.id)
    assert (got.session_id, got.name, got.topic, got.metadata, got.current_goal) == (
        text,
        text,
        text,
        {text: text},
        [text],
    )
    found = await store.find_conversation(hostile_owner, session_id=text)
    assert found is not None and found.id == created.id
    [stored] = await store.append_messages(
        hostile_owner,
        created.id,
        [
            msg(
                text,
                id=text,
                sender=text,
                recipient=text,
                role=text,
                message_type=text,
                extra_data={text: [text]},
            )
        ],
    )
    again = await store.get_message(hostile_owner, created.id, text)
    assert again == stored
    assert (again.content, again.id, again.sender, again.role, again.extra_data) == (
        text,
        text,
        text,
        text,
        {text: [text]},
    )
    assert [
        m.id for m in await store.list_messages(hostile_owner, created.id, MessageQuery(sender=text))
    ] == [text]
    await store.set_memory(hostile_owner, created.id, text, text)
    assert [(e.key, e.value) for e in await store.get_memory(hostile_owner, created.id)] == [(text, text)]
    page = await store.list_conversations(hostile_owner, ConversationQuery(name_contains=text))
    assert [c.id for c in page.items] == [created.id]
    # The owner's neighbour without the suffix sees nothing.
    assert (await store.list_conversations(owner, ConversationQuery())).total == 0


async def test_conversation_ids_that_look_like_paths_are_contained(store: Store, owner: str) -> None:
    for cid in ("../../escape", "UPPER", "upper", "a/b\\c", ".hidden", "_underscore", "x" * 300):
        await store.create_conversation(owner, conv(id=cid))
        await store.append_messages(owner, cid, [msg(f"in {cid[:20]}")])
    page = await store.list_conversations(owner, ConversationQuery(limit=100))
    assert page.total == 7
    assert await contents(store, owner, "UPPER") == ["in UPPER"]
    assert await contents(store, owner, "upper") == ["in upper"]


async def test_datetimes_come_back_aware_utc(store: Store, owner: str) -> None:
    plus_five = timezone(timedelta(hours=5))
    naive = datetime(2023, 3, 4, 5, 6, 7, 891011)
    record = conv(created_at=naive, updated_at=datetime(2023, 3, 4, 10, 6, 7, tzinfo=plus_five))
    created = await store.create_conversation(owner, record)
    got = await store.get_conversation(owner, created.id)
    assert got.created_at == naive.replace(tzinfo=UTC)
    assert got.updated_at == datetime(2023, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert_utc(got.created_at, got.updated_at, got.last_activity_at)
    [m] = await store.append_messages(
        owner, created.id, [msg(created_at=datetime(2023, 3, 4, 12, 0, tzinfo=plus_five))]
    )
    back = await store.get_message(owner, created.id, m.id)
    assert back.created_at == datetime(2023, 3, 4, 7, 0, tzinfo=UTC)
    assert back.created_at.microsecond == 0
    assert_utc(back.created_at)
    precise = msg(created_at=datetime(2020, 1, 1, 0, 0, 0, 123456, tzinfo=UTC))
    await store.append_messages(owner, created.id, [precise])
    assert (await store.get_message(owner, created.id, precise.id)).created_at.microsecond == 123456
