"""Reads of a branch's history over any ``Store`` (issue 17: branches kept as branches).

A branch (``ConversationRecord.parent_id`` / ``forked_at_seq``) stores only its own messages;
its history is its parent's history up to the fork point followed by them (the rules and the
reasons are in ``store/lineage.py``). This module composes that history from per-conversation
store reads, so every backend (and the Redis cache in front of one) serves branches the same
way and nothing is copied:

- ``segments(chain)`` cuts the history into per-conversation seq ranges, newest first. The
  ranges do not overlap and together are ordered by seq, because a branch's own seqs are all
  above its fork point;
- ``list_history`` / ``count_history`` / ``find_message`` apply a ``MessageQuery`` to the whole
  history: filters in every segment, then one window over the result (``last=N`` walks the
  segments from the newest and stops at N; ``limit``/``offset`` from the oldest, skipping whole
  segments by counting them);
- ``chain_of`` reads the ancestors of a conversation (one ``get_conversation`` per level; the
  Redis cache serves those).

Messages read from an ancestor keep that ancestor's ``conversation_id``: it says where the shared
message is stored (edits and redactions go there, and show in every branch that shares it).

A conversation that is not a branch is one segment: every call then makes exactly the store
call it would make without forks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from convoledger.errors import NotFound
from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.store.base import MessageQuery, Store
from convoledger.store.lineage import MAX_DEPTH


@dataclass(frozen=True)
class Segment:
    """The part of a history stored in conversation ``conversation_id``: its own messages with
    ``after < seq <= upto`` (``upto`` ``None`` = no upper bound)."""

    conversation_id: str
    after: int
    upto: int | None

    def bounds(self, query: MessageQuery) -> tuple[int | None, int | None] | None:
        """``(after_seq, before_seq)`` of this segment intersected with ``query``'s keyset
        bounds (exclusive, ``None`` = open), or ``None`` when the intersection is empty."""
        lo = self.after if query.after_seq is None else max(self.after, query.after_seq)
        hi = None if self.upto is None else self.upto + 1
        if query.before_seq is not None:
            hi = query.before_seq if hi is None else min(hi, query.before_seq)
        if hi is not None and hi <= lo + 1:
            return None
        return (lo or None, hi)


def segments(chain: Sequence[ConversationRecord]) -> list[Segment]:
    """The segments of the history of ``chain[0]``, newest first; ``chain`` is the conversation
    followed by its ancestors, nearest first (``chain_of``).

    Example: C forked B at 7, B forked A at 4 → ``[C (7, ∞), B (4, 7], A (0, 4]]``; had C
    forked B at 3, B's own messages (all above 4) would be out of reach: ``[C (3, ∞), A (0, 3]]``.
    """
    out: list[Segment] = []
    upto: int | None = None
    for conv in chain:
        after = conv.forked_at_seq or 0
        if upto is None or upto > after:
            out.append(Segment(conv.id, after, upto))
        if conv.forked_at_seq is None:
            break
        upto = conv.forked_at_seq if upto is None else min(upto, conv.forked_at_seq)
    return out


async def chain_of(store: Store, owner_id: str, record: ConversationRecord) -> list[ConversationRecord]:
    """``record`` followed by its ancestors (parent, grandparent, …). ``NotFound`` if an ancestor
    is missing (the store refuses deleting a parent, so only a damaged store gets there);
    ``ValueError`` for a chain deeper than ``store.lineage.MAX_DEPTH``."""
    chain = [record]
    while chain[-1].parent_id is not None:
        if len(chain) > MAX_DEPTH:
            raise ValueError(f"the branch chain of {record.id!r} is deeper than {MAX_DEPTH}")
        chain.append(await store.get_conversation(owner_id, chain[-1].parent_id))
    return chain


def _ranged(query: MessageQuery, bounds: tuple[int | None, int | None], **window: int | None) -> MessageQuery:
    after, before = bounds
    fields: dict[str, int | None] = {"last": None, "limit": None, "offset": 0, **window}
    return replace(query, after_seq=after, before_seq=before, **fields)  # type: ignore[arg-type]


async def list_history(
    store: Store, owner_id: str, chain: Sequence[ConversationRecord], query: MessageQuery
) -> list[MessageRecord]:
    """The messages of ``chain[0]``'s whole history matching ``query`` (filters, then window),
    oldest first, as ``Store.list_messages`` returns them for one conversation."""
    segs = segments(chain)
    if len(segs) == 1 and segs[0].after == 0:
        return await store.list_messages(owner_id, segs[0].conversation_id, query)
    if query.last is not None:
        need, picked = query.last, list[MessageRecord]()
        for seg in segs:
            bounds = seg.bounds(query)
            if need <= 0:
                break
            if bounds is None:
                continue
            got = await store.list_messages(owner_id, seg.conversation_id, _ranged(query, bounds, last=need))
            picked[:0] = got
            need -= len(got)
        return picked
    skip, limit = query.offset, query.limit
    out: list[MessageRecord] = []
    for seg in reversed(segs):
        if limit is not None and len(out) >= limit:
            break
        bounds = seg.bounds(query)
        if bounds is None:
            continue
        if skip:
            here = await store.count_messages_in(
                owner_id, seg.conversation_id, query, after_seq=bounds[0], before_seq=bounds[1]
            )
            if here <= skip:
                skip -= here
                continue
        want = None if limit is None else limit - len(out)
        ranged = replace(_ranged(query, bounds, limit=want), offset=skip)
        out.extend(await store.list_messages(owner_id, seg.conversation_id, ranged))
        skip = 0
    return out


async def count_history(
    store: Store, owner_id: str, chain: Sequence[ConversationRecord], query: MessageQuery
) -> int:
    """How many messages of ``chain[0]``'s whole history pass the filters of ``query`` (its
    window is ignored, as ``Store.count_messages`` ignores it)."""
    segs = segments(chain)
    plain = replace(query, after_seq=None, before_seq=None, last=None, limit=None, offset=0)
    total = 0
    for seg in segs:
        if seg.upto is None:  # the conversation's own messages, all of them
            total += await store.count_messages(owner_id, seg.conversation_id, plain)
            continue
        bounds = seg.bounds(plain)
        if bounds is not None:
            total += await store.count_messages_in(
                owner_id, seg.conversation_id, plain, after_seq=bounds[0], before_seq=bounds[1]
            )
    return total


async def find_message(
    store: Store, owner_id: str, chain: Sequence[ConversationRecord], message_id: str
) -> MessageRecord:
    """The message ``message_id`` of ``chain[0]``'s history: its own, else a shared one of an
    ancestor (within the part it shares). ``NotFound`` otherwise."""
    segs = segments(chain)
    for seg in segs:
        try:
            msg = await store.get_message(owner_id, seg.conversation_id, message_id)
        except NotFound:
            continue
        if msg.seq > seg.after and (seg.upto is None or msg.seq <= seg.upto):
            return msg
    raise NotFound(f"message {message_id!r} not found in conversation {chain[0].id!r}")
