"""Property test: random conversations with tool calls → windows never orphan tool messages.

Generated histories mix system/user/assistant messages, assistant messages making 1–3 tool calls,
and their results: most answered later (often interleaved with other messages and other groups),
some missing, some duplicated, some placed before their call, plus results for calls that never
existed, random pins and random token counts. For every random budget the window must:

1. contain no tool result without its calling message and no call without all its results;
2. be in seq order;
3. stay within the budget — except when the always-kept messages alone exceed it, in which case
   the window is exactly those messages (documented in convoledger.context);
4. contain every system (with keep_system) and pinned message, except pinned members of
   orphan/incomplete tool groups, which can never be sent;
5. be a suffix of the eligible history: below the oldest selected message only always-kept
   messages appear, and above it nothing is missing except orphans, incomplete groups and groups
   whose calling message lies below it; and the suffix is maximal (the next unit would not fit);
6. report total_tokens and dropped_count consistently (summary included in the tokens).

The oracle below defines tool-call validity declaratively (per result: the latest earlier call of
its id, with no other result for that id in between) — independently of the implementation's
newest-first walk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convoledger.context import build_token_window
from convoledger.models.records import MessageRecord


@dataclass
class Oracle:
    caller_of: dict[int, int]  # result index -> caller index (valid answers only)
    members: dict[int, list[int]]  # caller index of a COMPLETE group -> all member indices
    invalid: set[int]  # orphans and members of incomplete groups


def oracle(messages: list[MessageRecord]) -> Oracle:
    def is_result(m: MessageRecord) -> bool:
        return m.role == "tool" or m.tool_call_id is not None

    def ids(m: MessageRecord) -> list[str]:
        return [str(c.get("id") or "") for c in m.tool_calls or []]

    caller_of: dict[int, int] = {}
    for j, m in enumerate(messages):
        if not is_result(m) or not m.tool_call_id:
            continue
        cid = m.tool_call_id
        callers = [i for i in range(j) if not is_result(messages[i]) and cid in ids(messages[i])]
        if not callers:
            continue
        i = callers[-1]
        between = [k for k in range(i + 1, j) if is_result(messages[k]) and messages[k].tool_call_id == cid]
        if not between:
            caller_of[j] = i
    members: dict[int, list[int]] = {}
    invalid: set[int] = set()
    for i, m in enumerate(messages):
        if is_result(m):
            if i not in caller_of:
                invalid.add(i)
            continue
        if not m.tool_calls:
            continue
        mine = sorted(j for j, c in caller_of.items() if c == i)
        answered = {messages[j].tool_call_id for j in mine}
        call_ids = ids(m)
        complete = "" not in call_ids and len(set(call_ids)) == len(call_ids) and answered == set(call_ids)
        if complete:
            members[i] = [i, *mine]
        else:
            invalid.update([i, *mine])
    return Oracle(caller_of, members, invalid)


@st.composite
def conversations(draw: Any) -> list[MessageRecord]:
    n_events = draw(st.integers(0, 30))
    placed: list[tuple[float, dict[str, Any]]] = []
    call_no = 0
    for pos in range(n_events):
        kind = draw(
            st.sampled_from(["user", "user", "assistant", "assistant", "call", "call", "system", "orphan"])
        )
        pinned = draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans())
        if kind == "orphan":
            placed.append(
                (
                    pos,
                    {
                        "role": "tool",
                        "tool_call_id": draw(st.sampled_from(["ghost", None])),
                        "pinned": pinned,
                    },
                )
            )
            continue
        if kind != "call":
            placed.append((pos, {"role": kind, "pinned": pinned}))
            continue
        n_calls = draw(st.integers(1, 3))
        reuse = draw(st.integers(0, 9)) == 0 and call_no > 0
        ids = []
        for _ in range(n_calls):
            call_no += 1
            ids.append(
                f"call_{draw(st.integers(1, call_no - 1))}" if reuse and call_no > 1 else f"call_{call_no}"
            )
        if draw(st.integers(0, 19)) == 0:
            ids[0] = ""  # a call the provider gave no id
        placed.append((pos, {"role": "assistant", "calls": ids, "pinned": pinned}))
        for k, cid in enumerate(ids):
            fate = draw(st.sampled_from(["ok", "ok", "ok", "ok", "ok", "missing", "dup", "early"]))
            if fate == "missing" or not cid:
                continue
            offset = draw(st.integers(0, 4)) + 0.5 + k * 0.01
            rpin = draw(st.integers(0, 9)) == 0
            key = pos - 0.5 if fate == "early" else pos + offset
            placed.append((key, {"role": "tool", "tool_call_id": cid, "pinned": rpin}))
            if fate == "dup":
                placed.append((pos + offset + 0.001, {"role": "tool", "tool_call_id": cid, "pinned": False}))
    placed.sort(key=lambda kv: kv[0])
    out = []
    for seq, (_, spec) in enumerate(placed, start=1):
        calls = spec.get("calls")
        tool_calls = (
            [{"id": c, "type": "function", "function": {"name": "lookup", "arguments": "{}"}} for c in calls]
            if calls
            else None
        )
        if calls and draw(st.integers(0, 29)) == 0:
            tool_calls = [{k: v for k, v in tc.items() if k != "id"} for tc in tool_calls or []]
        out.append(
            MessageRecord(
                id=f"m{seq}",
                conversation_id="c",
                seq=seq,
                role=spec["role"],
                content=f"text {seq}",
                tool_calls=tool_calls,
                tool_call_id=spec.get("tool_call_id"),
                pinned=spec["pinned"],
                token_count=draw(st.integers(0, 40)),
            )
        )
    return out


def check_window(messages: list[MessageRecord], budget: int, keep_system: bool, summary: bool) -> None:
    w = build_token_window(messages, budget, keep_system=keep_system, summary=summary)
    ora = oracle(messages)
    pos = {m.id: i for i, m in enumerate(messages)}
    sent = [m for m in w.messages if m is not w.summary_message]
    idx = [pos[m.id] for m in sent]
    chosen = set(idx)

    # 2. seq order (and no duplicates); the summary sits right after the leading system messages
    assert idx == sorted(chosen) and len(idx) == len(chosen)
    if w.summary_message is not None:
        at = w.messages.index(w.summary_message)
        assert all(m.role == "system" for m in w.messages[:at])

    # 1. tool-call integrity, judged by the oracle over the whole history
    assert not (chosen & ora.invalid)
    for j in chosen:
        if j in ora.caller_of:
            assert ora.caller_of[j] in chosen
    for group in ora.members.values():
        assert set(group) <= chosen or not (set(group) & chosen)
    # and, within the window itself, every call is answered and every result has its call
    in_window = oracle(sent)
    assert not in_window.invalid

    # 4. always-kept messages
    def forced_candidate(i: int) -> bool:
        return messages[i].pinned or (keep_system and messages[i].role == "system")

    forced: set[int] = set()
    for i in range(len(messages)):
        if forced_candidate(i) and i not in ora.invalid:
            caller = ora.caller_of.get(i, i)
            forced.update(ora.members.get(caller, [i]))
    assert forced <= chosen

    # 6. accounting
    tokens = sum(m.token_count or 0 for m in w.messages)
    assert w.total_tokens == tokens
    assert w.dropped_count == len(messages) - len(sent)
    forced_tokens = sum(messages[i].token_count or 0 for i in forced)

    # 3. budget
    if w.total_tokens > budget:
        assert chosen == forced and w.summary_message is None and forced_tokens > budget

    # 5. suffix: units = forced-free complete groups (at their caller) and plain valid messages
    unit_of: dict[int, list[int]] = {}
    for i in range(len(messages)):
        if i in forced or i in ora.invalid:
            continue
        if i in ora.caller_of:
            continue  # a result travels with its caller's unit
        unit_of[i] = ora.members.get(i, [i])
    selected_starts = [s for s in unit_of if set(unit_of[s]) <= chosen]
    assert chosen == forced | {j for s in selected_starts for j in unit_of[s]}
    cut = min(selected_starts, default=len(messages))
    assert all(s in selected_starts for s in unit_of if s >= cut)  # no holes above the cut
    if w.summary_message is None:
        below = [s for s in unit_of if s < cut]
        if below and w.total_tokens <= budget:  # maximal: the next unit would not fit
            nxt = max(below)
            cost = sum(messages[j].token_count or 0 for j in unit_of[nxt])
            assert w.total_tokens + cost > budget


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    messages=conversations(),
    budget=st.integers(0, 500),
    keep_system=st.booleans(),
)
def test_windows_never_orphan_tool_messages(
    messages: list[MessageRecord], budget: int, keep_system: bool
) -> None:
    check_window(messages, budget, keep_system, summary=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=conversations(), budget=st.integers(0, 600), keep_system=st.booleans())
def test_windows_with_summary_keep_every_rule(
    messages: list[MessageRecord], budget: int, keep_system: bool
) -> None:
    check_window(messages, budget, keep_system, summary=True)
