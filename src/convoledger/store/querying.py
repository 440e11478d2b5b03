"""Pure rules every store backend applies the same way (no I/O).

One place for the semantics written in ``store/base.py`` so that the ``memory``, ``jsonfiles``
and ``sql`` backends cannot drift apart:

- full-text search: ``tokenize_for_search``, ``search_terms``, ``matches_search``;
- message filters and windows: ``check_message_query``, ``message_filter``, ``message_matches``,
  ``select_messages``, ``apply_window``;
- conversation filters and paging: ``check_conversation_query``, ``conversation_matches``,
  ``page_conversations``, ``idle_order``;
- validation of writes (made before anything is written): ``check_json_value``,
  ``prepare_conversation``, ``prepare_batch``, ``prepare_import``, ``prepare_provider_call``,
  ``check_changes``, ``apply_conversation_changes``, ``apply_message_changes``,
  ``redacted_copy``, ``activity_after_append``;
- analytics: ``owner_stats``, ``idle_filter``, ``idle_order``.

Every helper raises ``ValueError`` (or pydantic's ``ValidationError``, a ``ValueError``) naming
what is wrong; none of them mutates its arguments.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from convoledger.models.records import ConversationRecord, MemoryEntry, MessageRecord, ProviderCallRecord
from convoledger.models.status import ConversationStatus, LifecycleEvent, parse_status
from convoledger.models.timeutil import ensure_utc
from convoledger.store.base import (
    UPDATABLE_CONVERSATION_FIELDS,
    ApiKey,
    ConversationPage,
    ConversationQuery,
    MessageQuery,
    OwnerStats,
)

B = TypeVar("B", bound=BaseModel)

#: Fields of a message that ``Store.edit_message`` may change (base.py).
EDITABLE_MESSAGE_FIELDS = frozenset({"content", "extra_data", "metadata", "token_count", "pinned"})

#: JSON integers are limited to signed 64 bits: what orjson, JavaScript-safe clients and every
#: backend's JSON column round-trip without loss of type.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


# -- full-text search ----------------------------------------------------------------------------


@functools.cache
def _word_pattern() -> re.Pattern[str]:
    """A regex for one search word: a run of Unicode letters, digits and combining marks.

    ``[^\\W_]`` is Python's letters + digits; combining marks (category M*, e.g. Devanagari vowel
    signs) are added so that words of scripts that use them stay whole, as SQLite FTS5's
    ``unicode61`` tokenizer keeps them. Built once, lazily (~30 ms scan of the code points that
    carry marks).
    """
    ranges: list[tuple[int, int]] = []
    for cp in [*range(0x20000), *range(0xE0000, 0xE0200)]:
        if unicodedata.category(chr(cp)).startswith("M"):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    marks = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges
    )
    return re.compile(f"(?:[^\\W_]|[{marks}])+")


def tokenize_for_search(text: str) -> set[str]:
    """The set of search words in ``text``: NFC-normalised, lower-cased runs of Unicode letters,
    digits and combining marks (everything else, including ``_`` and punctuation, separates words).

    Example: ``"Order #42: snake_case, Café!"`` → ``{"order", "42", "snake", "case", "café"}``.
    Accents are significant (``"cafe"`` is not ``"café"``), as with FTS5 ``remove_diacritics 0``
    and PostgreSQL's ``simple`` configuration.
    """
    return {w.lower() for w in _word_pattern().findall(unicodedata.normalize("NFC", text))}


def search_terms(query: str) -> frozenset[str]:
    """The words a search ``query`` requires (see ``tokenize_for_search``).

    Raises ``ValueError`` when ``query`` is not a string or contains no word (e.g. ``""``, ``"?!"``,
    ``"🚀"``): such a search has no meaning on a full-text index, so it is refused, not guessed.
    """
    if not isinstance(query, str):
        raise ValueError(f"search query must be a string, got {type(query).__name__}")
    terms = frozenset(tokenize_for_search(query))
    if not terms:
        raise ValueError(f"search query {query!r} contains no words (letters or digits)")
    return terms


def matches_search(content: str, query: str) -> bool:
    """True when ``content`` contains every word of ``query`` as a whole word, case-insensitively.

    (base.py: "the query is split into words (Unicode letters/digits), and a message matches when
    its content contains every word as a whole word".) ``ValueError`` for a query with no words.
    """
    return search_terms(query) <= tokenize_for_search(content)


# -- message queries -----------------------------------------------------------------------------


def _utc_or_none(value: datetime | None, what: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise ValueError(f"{what} must be a datetime, got {type(value).__name__}")
    return ensure_utc(value)


def _check_count(value: int | None, what: str, *, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r}")


def check_message_query(query: MessageQuery) -> None:
    """Validate a ``MessageQuery``; ``ValueError`` naming the bad field.

    Rules: ``last``/``limit``/``offset`` are non-negative integers; ``last`` excludes ``limit`` and
    a non-zero ``offset`` (base.py: the window is *either* ``last`` *or* ``limit`` + ``offset``);
    ``after_seq``/``before_seq`` are integers; ``since``/``until`` are datetimes (naive = UTC);
    ``search`` has at least one word.
    """
    if not isinstance(query, MessageQuery):
        raise ValueError(f"expected a MessageQuery, got {type(query).__name__}")
    _check_count(query.last, "MessageQuery.last")
    _check_count(query.limit, "MessageQuery.limit")
    _check_count(query.offset, "MessageQuery.offset", allow_none=False)
    if query.last is not None and (query.limit is not None or query.offset):
        raise ValueError("MessageQuery: give either last=N or limit/offset, not both")
    for name in ("after_seq", "before_seq"):
        value = getattr(query, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"MessageQuery.{name} must be an integer, got {value!r}")
    _utc_or_none(query.since, "MessageQuery.since")
    _utc_or_none(query.until, "MessageQuery.until")
    if query.search is not None:
        search_terms(query.search)


def message_filter(query: MessageQuery) -> Callable[[MessageRecord], bool]:
    """A predicate for the *filters* of ``query`` (role, sender, recipient, message_type,
    since/until inclusive on ``created_at``, search). The window (keyset bounds, last, limit,
    offset) is not part of it. ``recipient`` matches exactly: broadcasts (recipient ``None``) are
    not "to" anyone in particular. ``ValueError`` for an invalid query."""
    check_message_query(query)
    since = _utc_or_none(query.since, "since")
    until = _utc_or_none(query.until, "until")
    terms = search_terms(query.search) if query.search is not None else None

    def matches(msg: MessageRecord) -> bool:
        if query.role is not None and msg.role != query.role:
            return False
        if query.sender is not None and msg.sender != query.sender:
            return False
        if query.recipient is not None and msg.recipient != query.recipient:
            return False
        if query.message_type is not None and msg.message_type != query.message_type:
            return False
        if since is not None and msg.created_at < since:
            return False
        if until is not None and msg.created_at > until:
            return False
        return terms is None or terms <= tokenize_for_search(msg.content)

    return matches


def message_matches(msg: MessageRecord, query: MessageQuery) -> bool:
    """True when ``msg`` passes the filters of ``query`` (see ``message_filter``)."""
    return message_filter(query)(msg)


def select_messages(
    seqs: Sequence[int], load: Callable[[int], MessageRecord], query: MessageQuery
) -> list[MessageRecord]:
    """Apply ``query`` (filters, then window) to a conversation's messages, oldest first.

    ``seqs`` are the stored messages' seqs in ascending order and ``load(i)`` returns the message
    at position ``i`` (so a backend can parse lazily). Keyset bounds are found by bisection; with
    ``last=N`` the scan runs backwards from the newest and stops at N matches, so a recent-N read
    touches only what it returns plus the messages the filters skip (invariant 6).
    """
    matches = message_filter(query)
    lo = 0 if query.after_seq is None else bisect.bisect_right(seqs, query.after_seq)
    hi = len(seqs) if query.before_seq is None else bisect.bisect_left(seqs, query.before_seq)
    if query.last is not None:
        picked: list[MessageRecord] = []
        i = hi - 1
        while i >= lo and len(picked) < query.last:
            msg = load(i)
            if matches(msg):
                picked.append(msg)
            i -= 1
        picked.reverse()
        return picked
    out: list[MessageRecord] = []
    skip = query.offset
    for i in range(lo, hi):
        if query.limit is not None and len(out) >= query.limit:
            break
        msg = load(i)
        if not matches(msg):
            continue
        if skip:
            skip -= 1
            continue
        out.append(msg)
    return out


def apply_window(messages: Sequence[MessageRecord], query: MessageQuery) -> list[MessageRecord]:
    """``select_messages`` over an in-memory list of messages sorted by ``seq``."""
    return select_messages([m.seq for m in messages], messages.__getitem__, query)


# -- conversation queries ------------------------------------------------------------------------


def check_conversation_query(query: ConversationQuery) -> None:
    """Validate a ``ConversationQuery``; ``ValueError`` naming the bad field (negative
    ``limit``/``offset``, a ``before`` that is not ``(datetime, id)``, non-datetime bounds)."""
    if not isinstance(query, ConversationQuery):
        raise ValueError(f"expected a ConversationQuery, got {type(query).__name__}")
    _check_count(query.limit, "ConversationQuery.limit", allow_none=False)
    _check_count(query.offset, "ConversationQuery.offset", allow_none=False)
    for name in ("created_from", "created_to", "updated_from", "updated_to", "idle_before"):
        _utc_or_none(getattr(query, name), f"ConversationQuery.{name}")
    if query.before is not None:
        if (
            not isinstance(query.before, tuple)
            or len(query.before) != 2
            or not isinstance(query.before[0], datetime)
            or not isinstance(query.before[1], str)
        ):
            raise ValueError(f"ConversationQuery.before must be (updated_at, id), got {query.before!r}")


def conversation_matches(conv: ConversationRecord, query: ConversationQuery) -> bool:
    """True when ``conv`` passes the filters of ``query`` (not its paging).

    ``name_contains`` is a case-insensitive substring of ``name`` or ``session_id`` (taken
    literally: ``%`` and ``_`` are ordinary characters); date ranges are inclusive;
    ``idle_before`` is strict (``last_activity_at < idle_before``).
    """

    def in_range(value: datetime, lo: datetime | None, hi: datetime | None) -> bool:
        lo, hi = _utc_or_none(lo, "from"), _utc_or_none(hi, "to")
        return (lo is None or value >= lo) and (hi is None or value <= hi)

    if query.status is not None and conv.status != query.status:
        return False
    if query.kind is not None and conv.kind != query.kind:
        return False
    if query.participant_id is not None and all(
        p.participant_id != query.participant_id for p in conv.participants
    ):
        return False
    if query.name_contains is not None:
        needle = query.name_contains.lower()
        if needle not in (conv.name or "").lower() and needle not in (conv.session_id or "").lower():
            return False
    if not in_range(conv.created_at, query.created_from, query.created_to):
        return False
    if not in_range(conv.updated_at, query.updated_from, query.updated_to):
        return False
    idle_before = _utc_or_none(query.idle_before, "idle_before")
    return idle_before is None or conv.last_activity_at < idle_before


def listing_key(conv: ConversationRecord) -> tuple[datetime, str]:
    """The listing order key ``(updated_at, id)``; listings sort by it descending."""
    return (conv.updated_at, conv.id)


def page_conversations(convs: Iterable[ConversationRecord], query: ConversationQuery) -> ConversationPage:
    """Filter, order (``updated_at`` desc, ``id`` desc) and page ``convs`` as ``query`` asks.

    ``total`` counts every match ignoring paging (``before``, ``offset``, ``limit``); ``before`` is
    the keyset ``(updated_at, id)`` of the last item already seen (exclusive).
    """
    check_conversation_query(query)
    matched = [c for c in convs if conversation_matches(c, query)]
    matched.sort(key=listing_key, reverse=True)
    total = len(matched)
    if query.before is not None:
        before = (ensure_utc(query.before[0]), query.before[1])
        matched = [c for c in matched if listing_key(c) < before]
    return ConversationPage(items=matched[query.offset : query.offset + query.limit], total=total)


def idle_order(conv: ConversationRecord) -> tuple[datetime, str]:
    """Order of ``conversations_idle_since`` results: oldest ``last_activity_at`` first, then id."""
    return (conv.last_activity_at, conv.id)


def idle_filter(
    cutoff: datetime,
    statuses: Iterable[ConversationStatus | str],
    created_before: datetime | None = None,
    after: tuple[datetime, str] | None = None,
) -> Callable[[ConversationRecord], bool]:
    """The predicate of ``conversations_idle_since``: status in ``statuses``,
    ``last_activity_at < cutoff``, and when given ``created_at < created_before`` and
    ``(last_activity_at, id) > after`` (naive datetimes = UTC). ``ValueError`` for an unknown
    status, a non-datetime cutoff or a malformed ``after``."""
    if not isinstance(cutoff, datetime):
        raise ValueError(f"cutoff must be a datetime, got {type(cutoff).__name__}")
    if created_before is not None and not isinstance(created_before, datetime):
        raise ValueError(f"created_before must be a datetime, got {type(created_before).__name__}")
    cut = ensure_utc(cutoff)
    born = ensure_utc(created_before) if created_before is not None else None
    pair = isinstance(after, tuple) and len(after) == 2
    if after is not None and not (pair and isinstance(after[0], datetime) and isinstance(after[1], str)):
        raise ValueError(f"after must be a (datetime, conversation id) pair, got {after!r}")
    key = (ensure_utc(after[0]), after[1]) if after is not None else None
    wanted = {parse_status(s) for s in statuses}

    def matches(conv: ConversationRecord) -> bool:
        if born is not None and conv.created_at >= born:
            return False
        if key is not None and (conv.last_activity_at, conv.id) <= key:
            return False
        return conv.status in wanted and conv.last_activity_at < cut

    return matches


# -- validation of writes ------------------------------------------------------------------------


def check_json_value(value: Any, what: str) -> None:
    """Raise ``ValueError`` unless ``value`` is a plain JSON value (records.py conventions).

    Allowed: ``None``, ``bool``, ``int`` (signed 64-bit), finite ``float``, ``str``, lists/tuples
    of JSON values, dicts with ``str`` keys and JSON values. ``what`` names the field in the error
    (e.g. ``"metadata['at']"``); refused are datetimes, sets, bytes, NaN/Infinity and other objects,
    which backends would otherwise store differently.
    """
    stack: list[tuple[Any, str]] = [(value, what)]
    while stack:
        item, path = stack.pop()
        if item is None or isinstance(item, bool | str):
            continue
        if isinstance(item, int):
            if not _INT64_MIN <= item <= _INT64_MAX:
                raise ValueError(f"{path}: integer {item} does not fit in 64 bits")
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                raise ValueError(f"{path}: {item!r} is not a JSON number")
            continue
        if isinstance(item, list | tuple):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(item))
            continue
        if isinstance(item, dict):
            for k, v in item.items():
                if not isinstance(k, str):
                    raise ValueError(f"{path}: key {k!r} is not a string")
                stack.append((v, f"{path}[{k!r}]"))
            continue
        raise ValueError(f"{path}: {type(item).__name__} is not a JSON value")


def _revalidated(model_type: type[B], value: Any, what: str, json_fields: Sequence[str] = ()) -> B:
    """A fresh, validated copy of ``value`` (a model of ``model_type`` or a mapping). Its
    ``json_fields`` must hold plain JSON (``check_json_value``); the copy is then made by a JSON
    round trip, so it shares nothing with the caller's object and holds exactly what a JSON/SQL
    backend would store. ``ValueError`` naming ``what`` when invalid."""
    if isinstance(value, model_type):
        data = value.model_dump(mode="python", warnings=False)
    elif isinstance(value, Mapping):
        data = dict(value)
    else:
        raise ValueError(f"{what}: expected a {model_type.__name__}, got {type(value).__name__}")
    try:
        model = model_type.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"{what} is invalid: {exc}") from exc
    for name in json_fields:
        check_json_value(getattr(model, name), f"{what}: {name}")
    if isinstance(model, ConversationRecord):
        for i, p in enumerate(model.participants):
            check_json_value(p.metadata, f"{what}: participants[{i}].metadata")
    return model_type.model_validate_json(model.model_dump_json())


_CONVERSATION_JSON = ("current_goal", "metadata", "server_state")
_MESSAGE_JSON = ("extra_data", "metadata", "tool_calls")
_CALL_JSON = ("identifiers", "raw_response", "request", "error")


def prepare_conversation(owner_id: str, conversation: ConversationRecord) -> ConversationRecord:
    """The record ``create_conversation`` stores: a validated copy with ``owner_id`` set and
    ``message_count``/``last_seq`` at 0 (other fields, times and status included, as given, so that
    restores keep them). ``ValueError`` for an empty owner or an invalid record."""
    check_owner(owner_id)
    record = _revalidated(ConversationRecord, conversation, "conversation", _CONVERSATION_JSON)
    return record.model_copy(update={"owner_id": owner_id, "message_count": 0, "last_seq": 0})


def check_owner(owner_id: str) -> None:
    """``ValueError`` unless ``owner_id`` is a non-empty string."""
    if not isinstance(owner_id, str) or not owner_id:
        raise ValueError(f"owner_id must be a non-empty string, got {owner_id!r}")


_HEX_PREFIX = re.compile(r"[0-9a-f]{0,64}")


def check_key_hash_prefix(prefix: str) -> None:
    """``ValueError`` unless ``prefix`` is lowercase hex of at most 64 digits (the start of a
    SHA-256 hex digest, as ``Store.list_api_keys`` takes it)."""
    if not isinstance(prefix, str) or not _HEX_PREFIX.fullmatch(prefix):
        raise ValueError(f"key_hash_prefix must be lowercase hex (at most 64 digits), got {prefix!r}")


def api_key_order(key: ApiKey) -> tuple[datetime, str]:
    """Sort key of ``Store.list_api_keys``: oldest first, then by hash (no time sorts first)."""
    return (key.created_at or datetime.min.replace(tzinfo=UTC), key.key_hash)


def check_token_counts(messages: Sequence[object], token_counts: Sequence[int | None] | None) -> None:
    """``ValueError`` unless ``token_counts`` is ``None`` or has one entry per message."""
    if token_counts is not None and len(token_counts) != len(messages):
        raise ValueError(f"{len(token_counts)} token counts for {len(messages)} messages")


def with_token_counts(
    messages: Sequence[MessageRecord], token_counts: Sequence[int | None] | None
) -> Sequence[MessageRecord]:
    """``messages`` with ``token_counts[i]`` filled in where a message has no ``token_count``
    (copies of those; ``messages`` itself when ``token_counts`` is ``None``). ``ValueError`` when
    the lengths differ. What ``Store.append_messages`` does with its ``token_counts`` argument
    (the ``Ledger``'s write-time counts), for stores that copy each message anyway."""
    check_token_counts(messages, token_counts)
    if token_counts is None:
        return messages
    return [
        m.model_copy(update={"token_count": n})
        if n is not None and isinstance(m, MessageRecord) and m.token_count is None
        else m
        for m, n in zip(messages, token_counts, strict=True)
    ]


def prepare_batch(conversation_id: str, messages: Sequence[MessageRecord]) -> list[MessageRecord]:
    """Validate a batch for ``append_messages`` before anything is written (invariant 3).

    Returns fresh copies with ``conversation_id`` set and ``seq`` 0, in batch order. ``ValueError``
    naming the message (index and id) when one is invalid (e.g. an empty ``role``, a non-string
    ``content``, a non-JSON ``extra_data``), or when the batch repeats an id.
    """
    if isinstance(messages, str | bytes | MessageRecord) or not isinstance(messages, Sequence):
        raise ValueError(f"messages must be a sequence of MessageRecord, got {type(messages).__name__}")
    out: list[MessageRecord] = []
    seen: set[str] = set()
    for i, raw in enumerate(messages):
        label = f"message {i} (id {getattr(raw, 'id', None)!r})"
        msg = _revalidated(MessageRecord, raw, label, _MESSAGE_JSON)
        if msg.id in seen:
            raise ValueError(f"the batch contains message id {msg.id!r} twice")
        seen.add(msg.id)
        out.append(msg.model_copy(update={"conversation_id": conversation_id, "seq": 0}))
    return out


#: The step in which appends move a conversation's activity times (``activity_after_append``).
ACTIVITY_RESOLUTION = timedelta(seconds=1)


def activity_after_append(
    updated_at: datetime,
    last_activity_at: datetime,
    message_count: int,
    newest: datetime,
    now: datetime,
) -> tuple[datetime, datetime]:
    """A conversation's ``(updated_at, last_activity_at)`` after an append.

    Inputs: the conversation's current ``updated_at`` and ``last_activity_at``, its
    ``message_count`` before the append, the latest ``created_at`` of the newly stored messages
    (``newest``, the callers' own timestamps, so imported history keeps its real times) and the
    store's clock (``now``); all aware UTC.

    - ``last_activity_at`` is the latest message time: ``newest`` for the first message (the
      creation time stops counting), otherwise ``max(last_activity_at, newest)``;
    - ``updated_at`` becomes ``now``;
    - except that an append moves neither forward by less than ``ACTIVITY_RESOLUTION`` (1 s):
      a value already within 1 s before the new one is kept. So ``last_activity_at`` is the
      latest message time to within 1 s (never later than it), and ``updated_at`` the time of the
      last change to within 1 s.

    Why the resolution: both columns are in the conversation listing and sweeper indexes
    (``sql/schema.py``). A burst of appends to one conversation (an agent turn writes the user
    message, tool calls, tool results and the answer within a second) then leaves those
    indexes alone after its first append: no index entries to rewrite on SQLite, and on
    PostgreSQL the row update stays a HOT update (no new entry in any of the conversation's
    indexes, no dead entries piling up on a busy conversation). Listings order by activity to the
    second; the sweeper's timeouts and cleanup ages are minutes to days. Every other change
    (status, fields, message edits and deletes) sets ``updated_at`` to the exact time.
    """
    if not updated_at <= now < updated_at + ACTIVITY_RESOLUTION:
        updated_at = now
    if message_count == 0 or newest >= last_activity_at + ACTIVITY_RESOLUTION:
        last_activity_at = newest
    return updated_at, last_activity_at


def conversation_after_append(
    conv: ConversationRecord, appended: Sequence[MessageRecord], now: datetime
) -> ConversationRecord:
    """``conv`` after ``appended`` (newly stored messages, non-empty, with their seqs) joined it:
    ``last_seq``, ``message_count`` and the activity times of ``activity_after_append``."""
    updated_at, last_activity_at = activity_after_append(
        conv.updated_at,
        conv.last_activity_at,
        conv.message_count,
        max(m.created_at for m in appended),
        now,
    )
    return conv.model_copy(
        update={
            "last_seq": max(conv.last_seq, max(m.seq for m in appended)),
            "message_count": conv.message_count + len(appended),
            "updated_at": updated_at,
            "last_activity_at": last_activity_at,
        }
    )


def check_changes(changes: Mapping[str, Any], allowed: frozenset[str], what: str) -> None:
    """``ValueError`` unless ``changes`` is a mapping whose keys are all in ``allowed``."""
    if not isinstance(changes, Mapping):
        raise ValueError(f"{what} changes must be a mapping, got {type(changes).__name__}")
    unknown = sorted(str(k) for k in changes if k not in allowed)
    if unknown:
        raise ValueError(
            f"cannot change {', '.join(unknown)} of a {what}; changeable fields: {', '.join(sorted(allowed))}"
        )


def apply_conversation_changes(
    conv: ConversationRecord, changes: Mapping[str, Any], now: datetime
) -> ConversationRecord:
    """The conversation after ``update_conversation(changes)``: keys from
    ``UPDATABLE_CONVERSATION_FIELDS`` only (``status`` goes through ``transition``), values
    validated as the record's fields (participants as records or dicts), ``updated_at = now``.
    ``ValueError`` for unknown keys or invalid values."""
    check_changes(changes, UPDATABLE_CONVERSATION_FIELDS, "conversation")
    data = conv.model_dump(mode="python")
    data.update(changes)
    data["updated_at"] = now
    return _revalidated(ConversationRecord, data, "conversation update", _CONVERSATION_JSON)


def apply_message_changes(msg: MessageRecord, changes: Mapping[str, Any], now: datetime) -> MessageRecord:
    """The message after ``edit_message(changes)``: keys from ``EDITABLE_MESSAGE_FIELDS`` only,
    values validated, ``updated_at = now``; id, seq and envelope unchanged. ``ValueError`` else."""
    check_changes(changes, EDITABLE_MESSAGE_FIELDS, "message")
    if "content" in changes and not isinstance(changes["content"], str):
        raise ValueError(f"content must be a string, got {type(changes['content']).__name__}")
    data = msg.model_dump(mode="python")
    data.update(changes)
    data["updated_at"] = now
    return _revalidated(MessageRecord, data, "message edit", _MESSAGE_JSON)


def redacted_copy(msg: MessageRecord, marker: str, now: datetime) -> MessageRecord:
    """The message after ``redact_message``: content = ``marker``; ``extra_data`` dropped (None),
    ``metadata`` emptied, tool-call arguments replaced by ``"{}"`` (ids, types and function names
    stay so tool-call pairing still works), ``token_count`` unknown (None), ``redacted`` set,
    ``updated_at = now``. The envelope (id, seq, role, sender, recipient, message_type,
    tool_call_id, tool_name, created_at) is kept. ``ValueError`` if ``marker`` is not a string."""
    if not isinstance(marker, str):
        raise ValueError(f"redaction marker must be a string, got {type(marker).__name__}")
    calls = None
    if msg.tool_calls is not None:
        calls = []
        for call in msg.tool_calls:
            kept = {k: v for k, v in call.items() if k in ("id", "type")}
            fn = call.get("function")
            if isinstance(fn, dict):
                kept["function"] = {"name": fn.get("name"), "arguments": "{}"}
            calls.append(kept)
    return msg.model_copy(
        update={
            "content": marker,
            "extra_data": None,
            "metadata": {},
            "tool_calls": calls,
            "token_count": None,
            "redacted": True,
            "updated_at": now,
        },
        deep=True,
    )


def prepare_provider_call(
    conversation_id: str, call: ProviderCallRecord, server_state: Mapping[str, Any] | None
) -> ProviderCallRecord:
    """Validate a provider call for ``record_provider_call``: a fresh copy with ``conversation_id``
    set; its JSON fields (identifiers, raw_response, request, error) and ``server_state`` (a dict
    or ``None``) must be plain JSON. ``ValueError`` naming the bad field."""
    record = _revalidated(ProviderCallRecord, call, "provider call", _CALL_JSON)
    if server_state is not None:
        if not isinstance(server_state, Mapping):
            raise ValueError(f"server_state must be a dict or None, got {type(server_state).__name__}")
        check_json_value(dict(server_state), "server_state")
    return record.model_copy(update={"conversation_id": conversation_id})


def checked_limit(limit: int) -> int:
    """``limit`` if it is a non-negative integer, else ``ValueError``."""
    _check_count(limit, "limit", allow_none=False)
    return limit


def owner_stats(convs: Iterable[ConversationRecord]) -> OwnerStats:
    """``OwnerStats`` of an owner's conversations: counts, messages (sum of ``message_count``),
    conversations with at least one message, and per-status / per-kind counts (only values that
    occur are keys)."""
    by_status: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    total = active = messages = with_messages = 0
    for conv in convs:
        total += 1
        active += conv.is_active
        messages += conv.message_count
        with_messages += conv.message_count > 0
        by_status[conv.status.value] = by_status.get(conv.status.value, 0) + 1
        by_kind[conv.kind.value] = by_kind.get(conv.kind.value, 0) + 1
    return OwnerStats(
        conversations=total,
        active_conversations=active,
        messages=messages,
        by_status=by_status,
        by_kind=by_kind,
        conversations_with_messages=with_messages,
    )


@dataclass(frozen=True)
class ImportBundle:
    """A validated ``import_conversation`` payload (fresh copies, ids and links checked)."""

    conversation: ConversationRecord
    messages: list[MessageRecord]
    events: list[LifecycleEvent]
    memory: list[MemoryEntry]
    provider_calls: list[ProviderCallRecord]


def prepare_import(
    owner_id: str,
    conversation: ConversationRecord,
    messages: Sequence[MessageRecord],
    events: Sequence[LifecycleEvent] = (),
    memory: Sequence[MemoryEntry] = (),
    provider_calls: Sequence[ProviderCallRecord] = (),
) -> ImportBundle:
    """Validate a whole conversation for ``Store.import_conversation`` before anything is written.

    The record keeps its status and times; ``owner_id`` is set, ``message_count`` becomes
    ``len(messages)`` and ``last_seq`` ``max(conversation.last_seq, highest seq)``. Messages keep
    their own ``seq`` (positive, strictly increasing in the given order) and get the conversation's
    id, as do events, memory entries and provider calls. ``ValueError`` for a non-positive or
    non-increasing seq, a repeated message id, memory key or provider-call id, a provider call
    naming a message that is not in the import, or any invalid record.
    """
    record = prepare_conversation(owner_id, conversation)
    cid = record.id
    msgs: list[MessageRecord] = []
    previous = 0
    for i, raw in enumerate(messages):
        seq = getattr(raw, "seq", None) if not isinstance(raw, Mapping) else raw.get("seq")
        if isinstance(seq, bool) or not isinstance(seq, int) or seq <= previous:
            raise ValueError(
                f"message {i}: seq must be a positive integer greater than the previous one ({previous}), "
                f"got {seq!r}"
            )
        previous = seq
        msgs.append(prepare_batch(cid, [raw])[0].model_copy(update={"seq": seq}))
    ids = [m.id for m in msgs]
    if len(set(ids)) != len(ids):
        raise ValueError("the import contains a message id twice")
    evs = [
        _revalidated(LifecycleEvent, e, f"event {i}").model_copy(update={"conversation_id": cid})
        for i, e in enumerate(events)
    ]
    mem: list[MemoryEntry] = []
    for i, e in enumerate(memory):
        entry = _revalidated(MemoryEntry, e, f"memory entry {i}", ("value",))
        mem.append(entry.model_copy(update={"conversation_id": cid}))
    if len({e.key for e in mem}) != len(mem):
        raise ValueError("the import contains a memory key twice")
    calls = [prepare_provider_call(cid, c, None) for c in provider_calls]
    if len({c.id for c in calls}) != len(calls):
        raise ValueError("the import contains a provider call id twice")
    known = set(ids)
    for c in calls:
        if c.message_id is not None and c.message_id not in known:
            raise ValueError(
                f"provider call {c.id!r} names message {c.message_id!r}, which is not in the import"
            )
    record = record.model_copy(
        update={"message_count": len(msgs), "last_seq": max(conversation.last_seq, previous)}
    )
    return ImportBundle(record, msgs, evs, mem, calls)
