"""Context assembly: what to send to a model — a token-budgeted window or a server-side state handle.

Pure functions over :class:`~convoledger.models.records.MessageRecord` (no I/O).

:func:`build_token_window` — the most recent messages that fit a token budget (DESIGN.md,
"context window (token budget)" view; issue 5 item 5):

- **Order**: input must be in conversation order (stored messages by strictly increasing ``seq``;
  unsaved messages, ``seq == 0``, may follow them in input order). The window keeps that order.
- **Always kept**: ``system`` messages (when ``keep_system``) and ``pinned`` messages, whatever
  the budget. If they alone exceed the budget they are all still returned, with nothing else,
  and ``ContextWindow.over_budget`` is true — the caller asked for them unconditionally, and
  silently dropping a system prompt is worse than an over-budget error from the provider.
- **Tool-call integrity** (DESIGN.md invariant 7): a message with ``tool_calls`` and the tool
  results answering *all* of its call ids form one atomic group — in the window entirely or not
  at all. A tool result is a message with ``role == "tool"`` or a ``tool_call_id``; it answers the
  latest earlier message calling that id; a second result for an already answered id, a result
  naming no call, a result before its call, and a result whose call is absent are *orphans* and
  never sent. A call whose results are not all present (or a call entry without an ``id``) makes
  its whole group *incomplete*: never sent. This holds for pinned messages too — a pinned
  message inside a complete group pins the whole group; a pinned orphan or member of an
  incomplete group is dropped (providers reject such histories, e.g. OpenAI's 400 "messages with
  role 'tool' must be a response to a preceding message with 'tool_calls'").
- **Selection**: the other messages are taken newest first, a group counted at the position of
  its calling message, until the next one does not fit; so the window holds a *suffix* of the
  history, minus orphans, incomplete groups and groups cut by the boundary (their calling message
  lies before it). Results stay in their stored positions (interleaving is preserved).
- **Tokens**: ``message.token_count`` when set (computed at write time with
  :func:`convoledger.tokens.count_message_tokens`), else computed now by that rule. The 3
  reply-priming tokens of a request are not part of the window.
- **Summary** (optional): a deterministic ``system`` message describing what was dropped (count,
  seq range, time range, roles), placed after the window's leading system messages; its tokens
  count against the budget (older history is given up to make room; if even that cannot make it
  fit, no summary is added). ``summary`` may be a callable ``(dropped: list[MessageRecord]) ->
  str | MessageRecord`` to write the text yourself (e.g. with a model, outside this module).

:func:`choose_context` — the seed's ConversationManager: server-side state when the API keeps
history and the conversation holds a valid handle for the same provider, else the token window.
"""

from __future__ import annotations

import uuid
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import compress, islice, repeat
from operator import attrgetter, eq, lt
from typing import Any, Literal

from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.tokens import count_message_tokens

#: Keys of ``ConversationRecord.server_state`` that name a server-side history handle:
#: OpenAI Responses ``previous_response_id``; OpenAI Conversations / Mistral Conversations
#: ``conversation_id``; OpenAI Assistants ``thread_id``; Gemini Interactions ``previous_interaction_id``.
HANDLE_KEYS: tuple[str, ...] = (
    "previous_response_id",
    "conversation_id",
    "thread_id",
    "previous_interaction_id",
)

#: ``metadata`` key marking the generated summary message.
SUMMARY_METADATA_KEY = "convoledger_context_summary"

SummaryOption = bool | Callable[[list[MessageRecord]], "str | MessageRecord"]


@dataclass(frozen=True, slots=True)
class ContextWindow:
    """A context window.

    ``messages``: what to send, in conversation order, the summary message (if any) included;
    ``total_tokens``: tokens of ``messages`` (summary included); ``dropped_count``: input messages
    left out (the summary is not counted); ``summary_message``: the summary or ``None``;
    ``budget_tokens``: the budget asked for.
    """

    messages: list[MessageRecord]
    total_tokens: int
    dropped_count: int
    summary_message: MessageRecord | None
    budget_tokens: int

    @property
    def over_budget(self) -> bool:
        """True only when the always-kept (system/pinned) messages alone exceed the budget."""
        return self.total_tokens > self.budget_tokens


@dataclass(frozen=True, slots=True)
class ContextPlan:
    """What to send for the next model call and why.

    ``strategy``: ``"server_state"`` (send only ``messages`` — those after the handle — plus
    ``server_handle``, e.g. as ``previous_response_id``) or ``"token_window"`` (send ``messages``,
    the window's content, with no handle); ``reason``: a sentence explaining the choice;
    ``window``: the :class:`ContextWindow` for ``token_window``, else ``None``.
    """

    strategy: Literal["server_state", "token_window"]
    reason: str
    messages: list[MessageRecord]
    server_handle: dict[str, Any] | None
    window: ContextWindow | None = None


def _check_budget(budget_tokens: int) -> None:
    if isinstance(budget_tokens, bool) or not isinstance(budget_tokens, int):
        raise ValueError(f"budget_tokens must be an int number of tokens, got {budget_tokens!r}")
    if budget_tokens < 0:
        raise ValueError(f"budget_tokens must be >= 0, got {budget_tokens}")


def _is_result(m: MessageRecord) -> bool:
    return m.role == "tool" or m.tool_call_id is not None


def _call_ids(m: MessageRecord) -> list[str] | None:
    """Call ids of a calling message; ``None`` for no calls; a list with ``""`` for id-less calls."""
    calls = m.tool_calls
    if not calls:
        return None
    return [str(c.get("id") or "") if isinstance(c, dict) else "" for c in calls]


def _tokens(m: MessageRecord) -> int:
    n = m.token_count
    if n is None:
        return count_message_tokens(m)
    if n < 0:
        raise ValueError(f"message {m.id!r} has a negative token_count ({n})")
    return n


def _order_error(seqs: list[int]) -> ValueError:
    prev = 0
    unsaved = False
    for i, seq in enumerate(seqs):
        if seq > 0 and not unsaved and seq > prev:
            prev = seq
        elif seq == 0:
            unsaved = True
        else:
            after = "an unsaved (seq 0) message" if unsaved else f"seq {prev}"
            return ValueError(
                "messages must be in conversation order (seq strictly increasing, unsaved seq 0 "
                f"messages last); messages[{i}] has seq {seq} after {after}"
            )
    raise AssertionError("order is valid")  # pragma: no cover - only called on invalid order


def _scan(messages: Sequence[MessageRecord], keep_system: bool) -> tuple[list[int], bool]:
    """Validate types and order; return the always-kept candidates and whether any is tool-related.

    Vectorised with ``map``/``compress`` (C loops): this pass touches every message of the history.
    """
    if not all(map(isinstance, messages, repeat(MessageRecord))):
        i, bad = next((i, m) for i, m in enumerate(messages) if not isinstance(m, MessageRecord))
        raise ValueError(f"messages[{i}] is a {type(bad).__name__}, not a MessageRecord")
    seqs = list(map(attrgetter("seq"), messages))
    n_saved = len(seqs)
    while n_saved and seqs[n_saved - 1] == 0:
        n_saved -= 1
    saved = seqs[:n_saved]
    if saved and (saved[0] <= 0 or not all(map(lt, saved, islice(saved, 1, None)))):
        raise _order_error(seqs)
    index = range(len(seqs))
    forced = set(compress(index, map(attrgetter("pinned"), messages)))
    if keep_system:
        forced.update(compress(index, map(eq, map(attrgetter("role"), messages), repeat("system"))))
    ordered = sorted(forced)
    tool_related = any(messages[i].tool_calls or _is_result(messages[i]) for i in ordered)
    return ordered, tool_related


def _resolve_groups(messages: Sequence[MessageRecord]) -> tuple[dict[int, list[int]], dict[int, int]]:
    """Forward pass over the whole history: complete groups and membership.

    Returns ``(groups, owner)``: ``groups`` maps the index of each calling message of a *complete*
    group to its member indices (caller first, then results in order); ``owner`` maps every member
    index to its caller's index. Indices in neither are plain messages, orphans or members of
    incomplete groups (``invalid`` is derivable: tool-related and not in ``owner``).
    """
    open_calls: dict[str, int] = {}
    members: dict[int, list[int]] = {}
    missing: dict[int, set[str]] = {}
    broken: set[int] = set()
    for i, m in enumerate(messages):
        if _is_result(m):
            cid = m.tool_call_id
            caller = open_calls.pop(cid, None) if cid else None
            if caller is not None:
                members[caller].append(i)
                missing[caller].discard(cid)
            continue
        ids = _call_ids(m)
        if ids is None:
            continue
        members[i] = [i]
        missing[i] = set(ids)
        if "" in ids or len(set(ids)) != len(ids):
            broken.add(i)
        for cid in ids:
            if cid:
                open_calls[cid] = i
    groups = {c: idx for c, idx in members.items() if not missing[c] and c not in broken}
    owner = {j: c for c, idx in groups.items() for j in idx}
    return groups, owner


def _walk(
    messages: Sequence[MessageRecord], skip: set[int], remaining: int
) -> tuple[list[tuple[list[int], int]], int]:
    """Newest-first selection of the history not in ``skip`` (the always-kept messages).

    Returns the accepted units (member indices, tokens), newest first, and their token total. A
    tool result is held until its calling message is reached; the calling message closes the group
    if every one of its call ids has a held result (else the group is incomplete and skipped). The
    walk stops at the first unit that does not fit; held results left over are orphans or belong
    to groups cut by the boundary.
    """
    units: list[tuple[list[int], int]] = []
    used = 0
    held: dict[str, int] = {}
    for i in range(len(messages) - 1, -1, -1):
        m = messages[i]
        if m.role == "tool" or m.tool_call_id is not None:
            cid = m.tool_call_id
            if cid:
                held[cid] = i  # an already held later result for the same id becomes an orphan
            continue
        calls = m.tool_calls
        if calls:
            ids = _call_ids(m) or []
            # always-kept groups take part in the matching too (they consume their own results),
            # so that a call id reused across groups binds exactly as in the forward definition
            found = [held.pop(cid) for cid in ids if cid in held]
            if i in skip or len(found) != len(ids) or "" in ids or len(set(ids)) != len(ids):
                continue  # kept already, or incomplete: the caller and the results it found drop
            member = [i, *sorted(found)]
            cost = sum(_tokens(messages[j]) for j in member)
        elif i in skip:
            continue
        else:
            member = [i]
            cost = _tokens(m)
        if used + cost > remaining:
            break
        units.append((member, cost))
        used += cost
    return units, used


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class _DroppedStats:
    count: int
    first_seq: int | None
    last_seq: int | None
    earliest: datetime
    latest: datetime
    roles: dict[str, int]


def _dropped_stats(dropped: Sequence[MessageRecord]) -> _DroppedStats:
    if not dropped:
        raise ValueError("a summary needs at least one dropped message")
    # stored seqs increase and unsaved (0) ones come last: the range is the first and last non-zero
    first_seq = next((m.seq for m in dropped if m.seq), None)
    last_seq = next((m.seq for m in reversed(dropped) if m.seq), None)
    times = list(map(attrgetter("created_at"), dropped))
    return _DroppedStats(
        count=len(dropped),
        first_seq=first_seq,
        last_seq=last_seq,
        earliest=min(times),
        latest=max(times),
        roles=dict(sorted(Counter(map(attrgetter("role"), dropped)).items())),
    )


def _format_summary(stats: _DroppedStats) -> str:
    start, end = _iso(stats.earliest), _iso(stats.latest)
    parts = []
    if stats.first_seq is not None:
        same = stats.first_seq == stats.last_seq
        parts.append(f"seq {stats.first_seq}" if same else f"seq {stats.first_seq}-{stats.last_seq}")
    parts.append(f"{start} to {end}" if start != end else start)
    parts.append("roles: " + ", ".join(f"{role} {count}" for role, count in stats.roles.items()))
    noun = "message" if stats.count == 1 else "messages"
    return f"[context] {stats.count} earlier {noun} omitted to fit the context window ({'; '.join(parts)})."


def default_summary_text(dropped: Sequence[MessageRecord]) -> str:
    """The deterministic summary of dropped messages: count, seq range, time range and roles.

    Example: ``"[context] 12 earlier messages omitted to fit the context window (seq 1-14;
    2024-05-15T15:00:00Z to 2024-05-15T15:20:31Z; roles: assistant 5, tool 2, user 5)."``
    (times in UTC, to the second; roles alphabetical). Raises ``ValueError`` for an empty list.
    """
    return _format_summary(_dropped_stats(dropped))


def _summary_message(dropped: list[MessageRecord], summary: SummaryOption) -> MessageRecord:
    """The summary message for ``dropped`` (non-empty): the callable's result or the default text."""
    stats = _dropped_stats(dropped)
    made = summary(dropped) if callable(summary) else _format_summary(stats)
    if isinstance(made, MessageRecord):
        return made
    if not isinstance(made, str):
        raise ValueError(f"summary callable must return str or MessageRecord, got {type(made).__name__}")
    first, last = dropped[0], dropped[-1]
    meta = {
        SUMMARY_METADATA_KEY: {
            "dropped_count": stats.count,
            "first_seq": stats.first_seq,
            "last_seq": stats.last_seq,
        }
    }
    ident = uuid.uuid5(uuid.NAMESPACE_URL, f"convoledger-summary:{first.id}:{last.id}:{stats.count}")
    msg = MessageRecord(
        id=str(ident),
        conversation_id=first.conversation_id,
        role="system",
        content=made,
        message_type="context_summary",
        metadata=meta,
        created_at=stats.latest,
    )
    msg.token_count = count_message_tokens(msg)
    return msg


def _complement(messages: Sequence[MessageRecord], keep: set[int]) -> list[MessageRecord]:
    """The messages whose index is not in ``keep``, in order (slices between kept indices)."""
    out: list[MessageRecord] = []
    start = 0
    for k in sorted(keep):
        out.extend(messages[start:k])
        start = k + 1
    out.extend(messages[start:])
    return out


def build_token_window(
    messages: Sequence[MessageRecord],
    budget_tokens: int,
    *,
    keep_system: bool = True,
    summary: SummaryOption = False,
) -> ContextWindow:
    """Select the most recent messages that fit ``budget_tokens`` (tokens); rules in the module doc.

    ``messages``: the history (or a recent tail of it) in conversation order. ``keep_system``:
    always keep ``system`` messages (else they compete like any other). ``summary``: ``False``,
    ``True`` (the deterministic :func:`default_summary_text`) or a callable returning the text
    (called with the dropped messages; called again, with more of them, if its first result does
    not fit the budget).

    Raises ``ValueError`` when ``budget_tokens`` is not an int ≥ 0, an element is not a
    ``MessageRecord``, the order rule is broken, a ``token_count`` is negative, or the summary
    callable returns something else than ``str``/``MessageRecord``.
    """
    _check_budget(budget_tokens)
    forced_candidates, forced_tool_related = _scan(messages, keep_system)

    forced: set[int]
    if forced_tool_related:
        groups, owner = _resolve_groups(messages)
        forced = set()
        for i in forced_candidates:
            m = messages[i]
            if m.tool_calls or _is_result(m):
                caller = owner.get(i)
                if caller is not None:  # complete group: pin all of it; else invalid: dropped
                    forced.update(groups[caller])
            else:
                forced.add(i)
    else:
        forced = set(forced_candidates)
    forced_tokens = sum(_tokens(messages[i]) for i in forced)

    units, used = _walk(messages, forced, budget_tokens - forced_tokens)
    kept = set(forced)
    for member, _ in units:
        kept.update(member)

    summary_msg: MessageRecord | None = None
    if summary and len(kept) < len(messages):
        # Give up the oldest accepted units until the summary fits; if it never does, no summary.
        # prefix[k] = tokens of the newest k units; jump straight to the largest k leaving room
        # for the summary just built (its size barely changes with k), then re-check.
        prefix = [0]
        for _, cost in units:
            prefix.append(prefix[-1] + cost)
        k = len(units)
        while k >= 0:
            keep = set(forced)
            for member, _ in units[:k]:
                keep.update(member)
            candidate = _summary_message(_complement(messages, keep), summary)
            cost = _tokens(candidate)
            if forced_tokens + prefix[k] + cost <= budget_tokens:
                summary_msg, kept, used = candidate, keep, prefix[k]
                break
            k = min(k - 1, bisect_right(prefix, budget_tokens - forced_tokens - cost) - 1)

    ordered = [messages[i] for i in sorted(kept)]
    total = forced_tokens + used
    if summary_msg is not None:
        lead = 0
        while lead < len(ordered) and ordered[lead].role == "system":
            lead += 1
        ordered.insert(lead, summary_msg)
        total += _tokens(summary_msg)
    return ContextWindow(
        messages=ordered,
        total_tokens=total,
        dropped_count=len(messages) - len(kept),
        summary_message=summary_msg,
        budget_tokens=budget_tokens,
    )


def _handle_problem(state: Any, provider: str, api: str | None) -> str | None:
    """Why ``state`` is not a usable handle for ``provider``/``api``, or ``None`` when it is."""
    if not state:
        return "the conversation has no server-side handle"
    if not isinstance(state, dict):
        return f"server_state is a {type(state).__name__}, not a dict"
    owner = state.get("provider")
    if not isinstance(owner, str) or owner.strip().lower() != provider:
        return f"the server-side handle belongs to provider {owner!r}, not {provider!r}"
    state_api = state.get("api")
    if api is not None and state_api is not None and str(state_api).strip().lower() != api:
        return f"the server-side handle is for the {state_api!r} API, not {api!r}"
    if not any(isinstance(state.get(k), str) and state.get(k) for k in HANDLE_KEYS):
        return f"server_state holds no handle (one of {', '.join(HANDLE_KEYS)})"
    last = state.get("last_message_seq")
    if isinstance(last, bool) or not isinstance(last, int) or last < 0:
        return (
            f"server_state.last_message_seq is {last!r}, not an int >= 0 "
            "(cannot tell which messages the server holds)"
        )
    return None


def choose_context(
    conversation: ConversationRecord,
    recent_messages: Sequence[MessageRecord],
    *,
    provider: str,
    api: str | None,
    api_stateful: bool,
    budget_tokens: int,
    keep_system: bool = True,
    summary: SummaryOption = False,
) -> ContextPlan:
    """Choose between the provider's server-side history and a token window (seed ConversationManager).

    ``server_state`` is chosen when ``api_stateful`` (from the provider capability registry) is
    true and ``conversation.server_state`` is a valid handle: a dict with ``provider`` equal to
    ``provider`` (case-insensitive), ``api`` (if both are given) equal to ``api``, a non-empty
    handle under one of :data:`HANDLE_KEYS` (e.g. ``previous_response_id: "resp_…"``), and
    ``last_message_seq`` — the seq of the last message the server already has. Then ``messages``
    are the messages of ``recent_messages`` after that seq (plus unsaved ones), which must be
    complete (seq ``last_message_seq + 1`` onwards, gap-free, up to ``conversation.last_seq``);
    ``server_handle`` is a copy of ``server_state``. No tool-integrity filtering is applied to
    that delta: a tool result answering a call the server already holds is exactly what to send.
    Note that the OpenAI Responses API does not carry ``instructions`` over a
    ``previous_response_id``: pass them again with the request.

    Otherwise ``token_window``: :func:`build_token_window` over ``recent_messages`` with
    ``budget_tokens`` (tokens), ``keep_system`` and ``summary``; ``reason`` says why the server
    state was not used (API stateless, no handle, provider or API mismatch, malformed handle,
    handle past the end of the conversation, delta not covered by ``recent_messages``).

    Raises ``ValueError`` for an empty ``provider``, a bad budget, or messages that
    :func:`build_token_window` rejects.
    """
    if not isinstance(provider, str) or not provider.strip():
        raise ValueError(f"provider must be a non-empty str, got {provider!r}")
    _check_budget(budget_tokens)
    prov = provider.strip().lower()
    api_norm = api.strip().lower() if isinstance(api, str) and api.strip() else None
    label = f"{prov}/{api_norm or 'default'}"

    problem: str | None
    if not api_stateful:
        problem = f"the {label} API keeps no server-side history"
    else:
        problem = _handle_problem(conversation.server_state, prov, api_norm)
    if problem is None:
        state: dict[str, Any] = dict(conversation.server_state or {})
        last = int(state["last_message_seq"])
        if conversation.last_seq and last > conversation.last_seq:
            problem = (
                f"the server-side handle is at seq {last}, past the conversation's last seq "
                f"{conversation.last_seq}"
            )
        else:
            delta = [m for m in recent_messages if m.seq > last or m.seq == 0]
            saved = [m.seq for m in delta if m.seq]
            expected_end = max(conversation.last_seq, saved[-1] if saved else last)
            if saved != list(range(last + 1, last + 1 + len(saved))) or (last + len(saved)) != expected_end:
                problem = (
                    f"recent_messages do not hold every message after the handle (seq {last + 1}-"
                    f"{expected_end} needed, got {len(saved)} stored message(s))"
                )
            else:
                key = next(k for k in HANDLE_KEYS if isinstance(state.get(k), str) and state.get(k))
                return ContextPlan(
                    strategy="server_state",
                    reason=(
                        f"server_state: {label} holds the history up to seq {last} "
                        f"({key}={state[key]}); sending {len(delta)} new message(s)"
                    ),
                    messages=delta,
                    server_handle=state,
                )
    window = build_token_window(recent_messages, budget_tokens, keep_system=keep_system, summary=summary)
    reason = (
        f"token_window: {problem}; kept {len(window.messages)} message(s), {window.total_tokens} of "
        f"{budget_tokens} tokens, dropped {window.dropped_count}"
    )
    return ContextPlan(
        strategy="token_window",
        reason=reason,
        messages=list(window.messages),
        server_handle=None,
        window=window,
    )


__all__ = [
    "HANDLE_KEYS",
    "SUMMARY_METADATA_KEY",
    "ContextPlan",
    "ContextWindow",
    "build_token_window",
    "choose_context",
    "default_summary_text",
]
