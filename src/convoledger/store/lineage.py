"""Pure rules of forks (branches) that every store backend applies the same way (no I/O).

A branch is a conversation with ``parent_id`` and ``forked_at_seq`` set (``models.records``).
Its history is its parent's history up to and including seq ``forked_at_seq`` (shared, never
copied) followed by its own stored messages, whose seqs are all greater than
``forked_at_seq``: its ``last_seq`` starts at the fork point, so its appends continue the
parent's numbering after it. A branch of a branch shares its parent's (composed) history the
same way. ``message_count`` of a branch counts the shared messages and its own.

The rule when history that a branch shares changes later (issue 17; ``store/base.py``, "Forks"):

- **edits and redactions** change the one stored message, so the parent and every branch that
  shares it show the change (a redaction leaves no copy of the content anywhere);
- **removing** a shared message (``delete_message``, ``pop_message``, ``clear_messages`` on the
  parent) is refused with ``Conflict`` naming the branch, and so is deleting a conversation that
  has branches. A branch's history therefore never loses a message it was forked with, its
  ``message_count`` stays exact, and its own messages (answers to that history) always sit on
  the history they answered. Messages after the newest fork point stay freely removable.

Why not copy on fork, or hand the messages over on deletion: a copy would make a redaction of
the parent miss its branches (the content would survive in a copy), and handing shared messages
over on deletion would make "delete" keep content alive elsewhere without the user asking. A
refusal is explicit: the caller deletes the branches first, or keeps the parent.

Functions here raise ``ValueError`` for bad input and ``Conflict`` for a refused removal; the
backends call them with their own lookups (``get``/``own_above``) inside their transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from convoledger.errors import Conflict
from convoledger.models.records import ConversationRecord, MessageRecord

#: A branch chain longer than this is refused (it would make every read walk that far).
MAX_DEPTH = 256


def check_own_seqs(record: ConversationRecord, messages: Sequence[MessageRecord]) -> None:
    """``ValueError`` unless every message stored as a branch's own has ``seq`` >
    ``record.forked_at_seq`` (no-op for a conversation that is not a branch)."""
    if record.forked_at_seq is None:
        return
    for m in messages:
        if m.seq <= record.forked_at_seq:
            raise ValueError(
                f"message {m.id!r} has seq {m.seq}, but a branch forked at seq {record.forked_at_seq} "
                f"stores only messages after it (seq > {record.forked_at_seq})"
            )


def check_fork_point(parent: ConversationRecord, at_seq: int) -> None:
    """``ValueError`` unless ``1 <= at_seq <= parent.last_seq`` (a fork point is a seq the parent
    has reached; seqs after ``last_seq`` do not exist yet)."""
    if isinstance(at_seq, bool) or not isinstance(at_seq, int) or at_seq < 1:
        raise ValueError(f"a fork point must be a seq >= 1, got {at_seq!r}")
    if at_seq > parent.last_seq:
        raise ValueError(
            f"cannot fork conversation {parent.id!r} at seq {at_seq}: its last seq is {parent.last_seq}"
        )


def visible_upto(
    parent: ConversationRecord,
    at_seq: int,
    get: Callable[[str], ConversationRecord],
    own_above: Callable[[ConversationRecord, int], int],
) -> int:
    """How many messages of ``parent``'s history (shared part included) have ``seq <= at_seq``.

    ``get(id)`` returns an ancestor's record (same owner); ``own_above(conv, seq)`` counts the
    messages stored in ``conv`` itself with a seq above ``seq``. The walk: while the fork point
    lies in the part a conversation shares from its own parent, that parent's history is the
    one that counts; otherwise it is ``message_count`` minus the conversation's own messages
    after the point. ``ValueError`` for a chain deeper than ``MAX_DEPTH``.
    """
    conv = parent
    for _ in range(MAX_DEPTH):
        if conv.parent_id is not None and conv.forked_at_seq is not None and at_seq <= conv.forked_at_seq:
            conv = get(conv.parent_id)
            continue
        return conv.message_count - own_above(conv, at_seq)
    raise ValueError(f"branch chain of {parent.id!r} is deeper than {MAX_DEPTH}")


def branch_record(
    record: ConversationRecord,
    parent: ConversationRecord,
    inherited: int,
    own: Sequence[MessageRecord],
) -> ConversationRecord:
    """The branch ``record`` as stored: fork point checked against ``parent``
    (``check_fork_point``), ``message_count`` = ``inherited`` + its own messages, ``last_seq`` =
    the highest of the fork point, its own seqs and the seq the record already carries (a
    restored bundle keeps its ``last_seq``). ``ValueError`` for a depth over ``MAX_DEPTH``."""
    assert record.forked_at_seq is not None
    check_fork_point(parent, record.forked_at_seq)
    check_own_seqs(record, own)
    highest = max((m.seq for m in own), default=0)
    return record.model_copy(
        update={
            "message_count": inherited + len(own),
            "last_seq": max(record.forked_at_seq, highest, record.last_seq),
        }
    )


def check_chain_depth(parent: ConversationRecord, get: Callable[[str], ConversationRecord]) -> None:
    """``ValueError`` when forking ``parent`` would make a chain deeper than ``MAX_DEPTH``."""
    conv, depth = parent, 1
    while conv.parent_id is not None:
        depth += 1
        if depth >= MAX_DEPTH:
            raise ValueError(f"cannot fork {parent.id!r}: its branch chain is {MAX_DEPTH} deep already")
        conv = get(conv.parent_id)


def check_removal(conversation_id: str, branches: Iterable[tuple[str, int]], lowest_seq: int | None) -> None:
    """``Conflict`` when removing messages of ``conversation_id`` from ``lowest_seq`` up would
    take away history that one of its direct ``branches`` (``(branch id, forked_at_seq)``)
    shares. ``lowest_seq`` ``None`` means nothing is removed."""
    if lowest_seq is None:
        return
    sharing = sorted((f, b) for b, f in branches if f >= lowest_seq)
    if sharing:
        f, b = sharing[-1]
        raise Conflict(
            f"message seq {lowest_seq} of conversation {conversation_id!r} is shared by its branch "
            f"{b!r} (forked at seq {f}); a message that a branch shares cannot be removed "
            "(redact it instead, or delete the branch first)"
        )


def check_deletable(conversation_id: str, branches: Iterable[tuple[str, int]]) -> None:
    """``Conflict`` when ``conversation_id`` still has branches (their history is its own)."""
    ids = sorted(b for b, _ in branches)
    if ids:
        more = f" and {len(ids) - 1} more" if len(ids) > 1 else ""
        raise Conflict(
            f"conversation {conversation_id!r} has branches ({ids[0]!r}{more}) that share its history; "
            "delete the branches first"
        )
