"""Validation of message batches and imports before anything is written (SQL store hot paths).

The rules are those of ``store/querying.py`` (``prepare_batch``, ``prepare_import``), shared by
every backend. Those helpers copy each record through a JSON round trip (~13 µs per message),
which the SQL store does not need: it serialises every JSON field itself and returns records
decoded from exactly what it stored. So the fast path here accepts a batch only when it can vouch
for it with the same checks — each ``MessageRecord`` re-validated by pydantic (catches records
changed after construction or built with ``model_construct``), JSON fields checked by
``querying.check_json_value``, no id twice — and hands anything else to the shared helper, which
then raises its canonical error (or accepts, if the fast path was merely cautious). Accepted
inputs are the same on both paths.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from convoledger.models.records import ConversationRecord, MemoryEntry, MessageRecord, ProviderCallRecord
from convoledger.models.status import LifecycleEvent
from convoledger.store import querying as q

_validate = MessageRecord.__pydantic_validator__.validate_python


def _json_ok(value: object) -> bool:
    """``querying.check_json_value`` passes (answered at once for the common empty values)."""
    if value is None or (type(value) is dict and not value):
        return True
    try:
        q.check_json_value(value, "value")
    except ValueError:
        return False
    return True


def _checked(m: object, token_count: int | None = None) -> MessageRecord | None:
    """``m`` re-validated (with ``token_count`` when given and ``m`` has none), or ``None`` if
    the fast path cannot vouch for it."""
    if type(m) is not MessageRecord:
        return None
    fields = m.__dict__
    if token_count is not None and fields["token_count"] is None:
        fields = {**fields, "token_count": token_count}
    try:
        v: MessageRecord = _validate(fields)
    except ValidationError:
        return None
    if _json_ok(v.extra_data) and _json_ok(v.metadata) and _json_ok(v.tool_calls):
        return v
    return None


def prepare_batch(
    conversation_id: str,
    messages: Sequence[MessageRecord],
    token_counts: Sequence[int | None] | None = None,
) -> list[MessageRecord]:
    """Validated messages of an ``append_messages`` batch, in order (``querying.prepare_batch``
    rules; ``ValueError`` naming the bad message, or a repeated id).

    ``token_counts`` (one per message, as ``Ledger`` computes them at write time) fill in the
    ``token_count`` of messages that have none, inside the one validating copy made here, so a
    message is copied once on its way to the database (issue 15)."""
    q.check_token_counts(messages, token_counts)
    if isinstance(messages, list | tuple):
        out: list[MessageRecord] = []
        seen: set[str] = set()
        for i, m in enumerate(messages):
            v = _checked(m, None if token_counts is None else token_counts[i])
            if v is None or v.id in seen:
                break
            seen.add(v.id)
            out.append(v)
        else:
            return out
    return q.prepare_batch(conversation_id, q.with_token_counts(messages, token_counts))


def prepare_import(
    owner_id: str,
    conversation: ConversationRecord,
    messages: Sequence[MessageRecord],
    events: Sequence[LifecycleEvent],
    memory: Sequence[MemoryEntry],
    provider_calls: Sequence[ProviderCallRecord],
) -> q.ImportBundle:
    """A validated ``import_conversation`` payload (``querying.prepare_import`` rules and errors).

    Messages in the bundle keep their own ``seq``; their ``conversation_id`` is not rewritten
    (the store writes them under the imported conversation).
    """
    linked = any(getattr(c, "message_id", None) is not None for c in provider_calls)
    if not linked and isinstance(messages, list | tuple):
        fast: list[MessageRecord] = []
        seen: set[str] = set()
        previous = 0
        for m in messages:
            v = _checked(m)
            if v is None or v.id in seen or type(getattr(m, "seq", None)) is not int or v.seq <= previous:
                break
            previous = v.seq
            seen.add(v.id)
            fast.append(v)
        else:
            rest = q.prepare_import(owner_id, conversation, (), events, memory, provider_calls)
            record = rest.conversation.model_copy(
                update={"message_count": len(fast), "last_seq": max(rest.conversation.last_seq, previous)}
            )
            return q.ImportBundle(record, fast, rest.events, rest.memory, rest.provider_calls)
    return q.prepare_import(owner_id, conversation, messages, events, memory, provider_calls)
