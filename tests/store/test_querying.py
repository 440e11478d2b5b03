"""The pure rules every backend shares (``convoledger.store.querying``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from contract_helpers import at, conv, msg

from convoledger.models.records import MessageRecord, ProviderCallRecord
from convoledger.store import querying as q
from convoledger.store.base import ConversationQuery, MessageQuery


def test_tokenize_for_search() -> None:
    assert q.tokenize_for_search("Order #42: snake_case, Café!") == {"order", "42", "snake", "case", "café"}
    assert q.tokenize_for_search("नमस्ते") == {"नमस्ते"}  # vowel signs are part of the word
    assert q.tokenize_for_search("e\u0301t\u00e9") == {"été"}  # NFC: decomposed = composed
    assert q.tokenize_for_search("🚀 — !?") == set()


@pytest.mark.parametrize(
    ("content", "query", "expected"),
    [
        ("Hello, World", "hello world", True),
        ("Hello, World", "world, HELLO!", True),
        ("Hello, World", "hell", False),
        ("hello-world", "world", True),
        ("snake_case", "snake_case", True),  # the query is split the same way
        ("Straße", "STRASSE", False),  # lower-casing, not case folding: no ß→ss
        ("ПРИВЕТ", "привет", True),
    ],
)
def test_matches_search(content: str, query: str, expected: bool) -> None:
    assert q.matches_search(content, query) is expected


@pytest.mark.parametrize("query", ["", "   ", "?!", "🚀🚀"])
def test_search_without_words_is_refused(query: str) -> None:
    with pytest.raises(ValueError, match="no words"):
        q.search_terms(query)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ({"a": [1, 2.5, None, True, "x", {"b": []}]}, True),
        ((1, 2), True),
        (2**63 - 1, True),
        (2**63, False),
        (float("nan"), False),
        (float("-inf"), False),
        ({1: "non-string key"}, False),
        ({"when": datetime.now(UTC)}, False),
        ([{1, 2}], False),
        (b"bytes", False),
    ],
)
def test_check_json_value(value: object, ok: bool) -> None:
    if ok:
        q.check_json_value(value, "v")
    else:
        with pytest.raises(ValueError, match=r"^v"):
            q.check_json_value(value, "v")


def test_prepare_batch_copies_validates_and_names_the_bad_message() -> None:
    good = msg("a", extra_data={"k": [1]})
    [copy] = q.prepare_batch("c1", [good])
    assert copy.conversation_id == "c1" and copy.seq == 0
    copy.extra_data["k"].append(2)
    assert good.extra_data == {"k": [1]}
    bad = msg("b").model_copy(update={"role": ""})
    with pytest.raises(ValueError, match="message 1"):
        q.prepare_batch("c1", [good, bad])
    with pytest.raises(ValueError, match="twice"):
        q.prepare_batch("c1", [msg(id="x"), msg(id="x")])
    with pytest.raises(ValueError):
        q.prepare_batch("c1", good)  # type: ignore[arg-type]


def test_select_messages_scans_recent_n_from_the_end() -> None:
    msgs = [
        msg(f"m{i}", role="user" if i % 2 else "assistant").model_copy(update={"seq": i})
        for i in range(1, 101)
    ]
    loaded: list[int] = []

    def load(i: int) -> MessageRecord:
        loaded.append(i)
        return msgs[i]

    got = q.select_messages([m.seq for m in msgs], load, MessageQuery(last=3, role="user"))
    assert [m.seq for m in got] == [95, 97, 99]
    assert len(loaded) <= 7  # did not parse the whole history


def test_page_conversations_total_ignores_paging() -> None:
    convs = [conv(updated_at=at(i)) for i in range(5)]
    page = q.page_conversations(convs, ConversationQuery(limit=2, offset=1))
    assert page.total == 5 and [c.updated_at for c in page.items] == [at(3), at(2)]
    with pytest.raises(ValueError):
        q.page_conversations(convs, ConversationQuery(before=("not", "a datetime")))  # type: ignore[arg-type]


def test_redacted_copy_and_last_activity() -> None:
    m = msg(
        "secret",
        tool_calls=[{"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}],
        extra_data={"x": 1},
    )
    red = q.redacted_copy(m, "[x]", at(1))
    assert red.tool_calls == [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    assert (red.content, red.extra_data, red.redacted, red.updated_at) == ("[x]", None, True, at(1))
    assert m.content == "secret"
    fresh = conv(last_activity_at=at(50), updated_at=at(50), last_seq=0)
    first = [msg(created_at=at(1)).model_copy(update={"seq": 1})]
    after = q.conversation_after_append(fresh, first, at(60))
    assert after.last_activity_at == at(1)  # the first messages decide, even when older
    assert (after.updated_at, after.message_count, after.last_seq) == (at(60), 1, 1)
    busy = fresh.model_copy(update={"message_count": 3, "last_seq": 3})
    older = [msg(created_at=at(1)).model_copy(update={"seq": 4})]
    assert q.conversation_after_append(busy, older, at(60)).last_activity_at == at(50)


def test_activity_moves_in_steps_of_the_resolution() -> None:
    step = q.ACTIVITY_RESOLUTION
    assert step == timedelta(seconds=1)
    base = at(0)

    def move(newest: datetime, now: datetime, count: int = 5) -> tuple[datetime, datetime]:
        return q.activity_after_append(base, base, count, newest, now)

    # Within the resolution: both kept (the burst case).
    assert move(base + step / 2, base + step / 2) == (base, base)
    assert move(base + step - timedelta(microseconds=1), base) == (base, base)
    # At or past it: both move to the exact new values.
    assert move(base + step, base + step) == (base + step, base + step)
    assert move(base + 3 * step, base + 2 * step) == (base + 2 * step, base + 3 * step)
    # last_activity_at never moves back; a first message sets it whatever its time.
    assert move(base - step, base)[1] == base
    assert move(base - step, base, count=0)[1] == base - step
    assert move(base + step / 4, base, count=0)[1] == base + step / 4
    # updated_at in the future (an imported record) is replaced by the store's clock.
    assert q.activity_after_append(base + step, base, 5, base, base) == (base, base)


def test_prepare_import_rejects_dangling_provider_call() -> None:
    call = ProviderCallRecord(conversation_id="x", provider="openai", message_id="missing")
    m = msg(id="m1").model_copy(update={"seq": 1})
    with pytest.raises(ValueError, match="not in the import"):
        q.prepare_import("o", conv(), [m], provider_calls=[call])
