"""build_token_window: budget, always-kept messages, tool-call integrity, order, summary."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from convoledger.context import SUMMARY_METADATA_KEY, build_token_window, default_summary_text
from convoledger.models.records import MessageRecord
from convoledger.tokens import count_message_tokens

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
T0 = datetime(2024, 5, 15, 15, 0, tzinfo=UTC)


def msg(seq: int, role: str = "user", tokens: int | None = 10, **kw: Any) -> MessageRecord:
    """A stored message with a fixed token_count (so budgets are exact)."""
    return MessageRecord(
        id=f"m{seq}",
        conversation_id="c1",
        seq=seq,
        role=role,
        content=kw.pop("content", f"message {seq}"),
        token_count=tokens,
        created_at=kw.pop("created_at", T0 + timedelta(minutes=seq)),
        **kw,
    )


def call(seq: int, *ids: str, tokens: int = 10, **kw: Any) -> MessageRecord:
    calls = [{"id": i, "type": "function", "function": {"name": "f", "arguments": "{}"}} for i in ids]
    return msg(seq, "assistant", tokens, tool_calls=calls, content="", **kw)


def result(seq: int, call_id: str | None, tokens: int = 10, **kw: Any) -> MessageRecord:
    return msg(seq, "tool", tokens, tool_call_id=call_id, **kw)


def seqs(window: Any) -> list[int]:
    return [m.seq for m in window.messages]


# --- budget and recency --------------------------------------------------------------------------


def test_keeps_the_most_recent_messages_that_fit() -> None:
    history = [msg(i) for i in range(1, 11)]
    w = build_token_window(history, 35)
    assert seqs(w) == [8, 9, 10]
    assert (w.total_tokens, w.dropped_count, w.budget_tokens, w.summary_message) == (30, 7, 35, None)
    assert not w.over_budget


def test_exact_fit_and_zero_budget() -> None:
    history = [msg(i) for i in range(1, 4)]
    assert seqs(build_token_window(history, 30)) == [1, 2, 3]
    w = build_token_window(history, 0)
    assert w.messages == [] and w.dropped_count == 3 and w.total_tokens == 0


def test_stops_at_the_first_message_that_does_not_fit_suffix_only() -> None:
    # a big message blocks older small ones: the window is a suffix, never a hole-punched history
    history = [msg(1, tokens=5), msg(2, tokens=100), msg(3, tokens=10)]
    assert seqs(build_token_window(history, 50)) == [3]


def test_empty_history() -> None:
    w = build_token_window([], 100)
    assert w.messages == [] and w.total_tokens == 0 and w.dropped_count == 0


def test_uses_token_count_else_counts_with_the_cookbook_rule() -> None:
    a = MessageRecord(id="a", seq=1, role="user", content="hello world")  # 6 tokens
    b = MessageRecord(id="b", seq=2, role="assistant", content="hi", token_count=50)
    w = build_token_window([a, b], 56)
    assert seqs(w) == [1, 2] and w.total_tokens == 56
    assert seqs(build_token_window([a, b], 55)) == [2]


# --- always-kept messages --------------------------------------------------------------------------


def test_system_messages_always_kept_and_count_against_budget() -> None:
    history = [msg(1, "system", 20)] + [msg(i) for i in range(2, 12)]
    w = build_token_window(history, 50)
    assert seqs(w) == [1, 9, 10, 11]
    assert w.total_tokens == 50
    assert seqs(build_token_window(history, 49)) == [1, 10, 11]


def test_keep_system_false_lets_system_compete() -> None:
    history = [msg(1, "system", 20)] + [msg(i) for i in range(2, 12)]
    assert seqs(build_token_window(history, 50, keep_system=False)) == [7, 8, 9, 10, 11]


def test_pinned_messages_kept_anywhere() -> None:
    history = [msg(i, pinned=(i == 3)) for i in range(1, 11)]
    w = build_token_window(history, 40)
    assert seqs(w) == [3, 8, 9, 10]


def test_forced_messages_over_budget_returned_alone() -> None:
    history = [msg(1, "system", 80), msg(2, pinned=True, tokens=30), msg(3), msg(4)]
    w = build_token_window(history, 100)
    assert seqs(w) == [1, 2]
    assert w.total_tokens == 110 and w.over_budget and w.dropped_count == 2


# --- tool-call integrity ---------------------------------------------------------------------------


def test_group_is_atomic_at_the_boundary() -> None:
    history = [msg(1), call(2, "a"), result(3, "a"), msg(4)]
    assert seqs(build_token_window(history, 20)) == [4]  # result fits alone, but not without its call
    assert seqs(build_token_window(history, 29)) == [4]  # next unit is the 20-token group: stop
    assert seqs(build_token_window(history, 30)) == [2, 3, 4]
    assert seqs(build_token_window(history, 40)) == [1, 2, 3, 4]


def test_multi_call_group_needs_every_result() -> None:
    history = [msg(1), call(2, "a", "b"), result(3, "a"), result(4, "b"), msg(5)]
    assert seqs(build_token_window(history, 100)) == [1, 2, 3, 4, 5]
    missing_b = [msg(1), call(2, "a", "b"), result(3, "a"), msg(5)]
    w = build_token_window(missing_b, 100)
    assert seqs(w) == [1, 5] and w.dropped_count == 2


def test_orphans_are_dropped_even_when_budget_allows() -> None:
    history = [
        msg(1),
        result(2, "ghost"),  # call absent from the whole history
        result(3, None),  # names no call
        result(4, "late"),  # before its call
        call(5, "late"),  # ... whose result is therefore missing
        call(6, "x"),
        result(7, "x"),
        result(8, "x"),  # second result for an answered call
        msg(9),
    ]
    w = build_token_window(history, 1000)
    assert seqs(w) == [1, 6, 7, 9]
    assert w.dropped_count == 5


def test_call_without_id_cannot_be_answered() -> None:
    no_id = msg(
        2, "assistant", tool_calls=[{"type": "function", "function": {"name": "f", "arguments": "{}"}}]
    )
    dup = call(4, "d", "d")
    history = [msg(1), no_id, result(3, None), dup, result(5, "d"), result(6, "d"), msg(7)]
    assert seqs(build_token_window(history, 1000)) == [1, 7]


def test_interleaved_groups_keep_their_positions() -> None:
    history = [
        msg(1),
        call(2, "a"),
        call(3, "b"),
        msg(4, "user"),
        result(5, "b"),
        result(6, "a"),
        msg(7),
    ]
    assert seqs(build_token_window(history, 1000)) == [1, 2, 3, 4, 5, 6, 7]
    # budget 50: 7, then b's group (3,5) = 20, 4 = 10 -> 40; a's group (2,6) = 20 does not fit
    assert seqs(build_token_window(history, 50)) == [3, 4, 5, 7]


def test_reused_call_id_binds_to_the_latest_call() -> None:
    history = [call(1, "r"), call(2, "r"), result(3, "r"), msg(4)]
    assert seqs(build_token_window(history, 1000)) == [2, 3, 4]


def test_pinned_tool_result_pins_its_whole_group() -> None:
    history = [msg(1), call(2, "a", "b"), result(3, "a", pinned=True), result(4, "b")] + [
        msg(i) for i in range(5, 15)
    ]
    w = build_token_window(history, 60)
    assert seqs(w) == [2, 3, 4, 12, 13, 14]
    assert w.total_tokens == 60


def test_pinned_group_reusing_a_call_id_still_binds_its_results() -> None:
    """Regression (found by the property test): an always-kept group between an older call of the
    same id and a duplicate result must consume its own result, leaving the older call incomplete."""
    history = [
        call(1, "a", "b"),
        result(2, "a"),
        call(3, "c", "b"),
        result(4, "c", pinned=True),
        result(5, "b"),
        result(6, "b"),  # duplicate: call 3 already answered "b"
        msg(7),
    ]
    w = build_token_window(history, 1000)
    assert seqs(w) == [3, 4, 5, 7]


def test_pinned_orphan_and_pinned_incomplete_call_are_dropped() -> None:
    history = [msg(1), result(2, "ghost", pinned=True), call(3, "z", pinned=True), msg(4)]
    w = build_token_window(history, 1000)
    assert seqs(w) == [1, 4]


def test_group_tokens_are_summed() -> None:
    history = [call(1, "a", tokens=7), result(2, "a", tokens=8)]
    w = build_token_window(history, 15)
    assert seqs(w) == [1, 2] and w.total_tokens == 15
    assert build_token_window(history, 14).messages == []


# --- input validation ------------------------------------------------------------------------------


@pytest.mark.parametrize("budget", [-1, 1.5, "10", True, None])
def test_rejects_bad_budget(budget: Any) -> None:
    with pytest.raises(ValueError, match="budget_tokens"):
        build_token_window([msg(1)], budget)


def test_rejects_out_of_order_or_duplicate_seq() -> None:
    with pytest.raises(ValueError, match=r"messages\[1\] has seq 1 after seq 2"):
        build_token_window([msg(2), msg(1)], 100)
    with pytest.raises(ValueError, match="seq 3 after seq 3"):
        build_token_window([msg(3), msg(3)], 100)
    unsaved = MessageRecord(role="user", content="new")
    with pytest.raises(ValueError, match="after an unsaved"):
        build_token_window([unsaved, msg(1)], 100)


def test_unsaved_messages_may_follow_the_stored_history() -> None:
    new = MessageRecord(id="new", role="user", content="new", token_count=10)
    w = build_token_window([msg(1), msg(2), new], 20)
    assert [m.id for m in w.messages] == ["m2", "new"]


def test_rejects_non_message_and_negative_token_count() -> None:
    with pytest.raises(ValueError, match=r"messages\[1\] is a dict"):
        build_token_window([msg(1), {"role": "user"}], 100)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="negative token_count"):
        build_token_window([msg(1, tokens=-5)], 100)


# --- summary -----------------------------------------------------------------------------------------


def test_default_summary_text_is_deterministic() -> None:
    dropped = [msg(1, "system"), msg(2), call(3, "a"), result(4, "a"), msg(5)]
    assert default_summary_text(dropped) == (
        "[context] 5 earlier messages omitted to fit the context window (seq 1-5; 2024-05-15T15:01:00Z "
        "to 2024-05-15T15:05:00Z; roles: assistant 1, system 1, tool 1, user 2)."
    )
    assert default_summary_text([msg(7)]) == (
        "[context] 1 earlier message omitted to fit the context window (seq 7; 2024-05-15T15:07:00Z; "
        "roles: user 1)."
    )
    with pytest.raises(ValueError):
        default_summary_text([])


def test_summary_message_fits_the_budget_and_follows_leading_system() -> None:
    history = [msg(1, "system", 20)] + [msg(i) for i in range(2, 40)]
    plain = build_token_window(history, 200)
    w = build_token_window(history, 200, summary=True)
    s = w.summary_message
    assert s is not None and s.role == "system"
    assert w.messages[0].seq == 1 and w.messages[1] is s
    assert s.content.startswith(f"[context] {w.dropped_count} earlier messages omitted")
    assert s.token_count == count_message_tokens(s)
    assert w.total_tokens == sum(m.token_count for m in w.messages) <= 200
    assert len(w.messages) - 1 < len(plain.messages)  # older history given up to make room
    assert w.dropped_count == len(history) - (len(w.messages) - 1)
    assert s.metadata[SUMMARY_METADATA_KEY]["dropped_count"] == w.dropped_count
    assert s.metadata[SUMMARY_METADATA_KEY]["first_seq"] == 2
    again = build_token_window(history, 200, summary=True)
    assert again.summary_message == s  # same id, content, time: deterministic


def test_no_summary_when_nothing_dropped_or_it_cannot_fit() -> None:
    history = [msg(i) for i in range(1, 4)]
    assert build_token_window(history, 100, summary=True).summary_message is None
    tiny = build_token_window(history, 15, summary=True)  # summary alone costs > 15 tokens
    assert tiny.summary_message is None and seqs(tiny) == [3]


def test_summary_callable_receives_the_dropped_messages() -> None:
    seen: list[list[int]] = []

    def summarise(dropped: list[MessageRecord]) -> str:
        seen.append([m.seq for m in dropped])
        return "older turns: greetings"

    history = [msg(i) for i in range(1, 8)]
    w = build_token_window(history, 40, summary=summarise)
    assert w.summary_message is not None and w.summary_message.content == "older turns: greetings"
    assert seen[-1] == [m.seq for m in history if m not in w.messages]
    assert w.total_tokens <= 40


def test_summary_callable_may_return_a_message_but_not_other_types() -> None:
    history = [msg(i) for i in range(1, 8)]
    own = MessageRecord(id="s", role="system", content="x", token_count=5)
    assert build_token_window(history, 40, summary=lambda d: own).summary_message is own
    with pytest.raises(ValueError, match="must return str or MessageRecord"):
        build_token_window(history, 40, summary=lambda d: 42)  # type: ignore[arg-type,return-value]


# --- real data ---------------------------------------------------------------------------------------


def _tau_conversation() -> list[MessageRecord]:
    path = (
        SHARED / "data" / "conversations" / "tool_calling" / "tau_bench_gpt4o_airline_trajectories.jsonl.gz"
    )
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        traj = next(r for r in map(json.loads, fh) if sum(1 for m in r["traj"] if m.get("tool_calls")) >= 4)
    out = []
    for seq, raw in enumerate(traj["traj"], start=1):
        m = MessageRecord(
            id=f"t{seq}",
            seq=seq,
            role=raw["role"],
            content=raw.get("content") or "",
            tool_calls=raw.get("tool_calls"),
            tool_call_id=raw.get("tool_call_id"),
            tool_name=raw.get("name") if raw["role"] == "tool" else None,
        )
        m.token_count = count_message_tokens(m)
        out.append(m)
    return out


@pytest.mark.parametrize("budget", [0, 500, 1500, 3000, 6000, 100_000])
def test_real_tau_bench_trajectory_windows(budget: int) -> None:
    history = _tau_conversation()
    system = history[0]
    assert system.role == "system"
    w = build_token_window(history, budget)
    assert w.messages[0] is system
    ids = {m.id for m in w.messages}
    called = {c["id"] for m in w.messages for c in (m.tool_calls or [])}
    answered = {m.tool_call_id for m in w.messages if m.role == "tool"}
    assert called == answered
    assert seqs(w) == sorted(seqs(w))
    if w.total_tokens > budget:
        assert [m.id for m in w.messages] == [system.id]
    if budget == 100_000:
        assert ids == {m.id for m in history}
