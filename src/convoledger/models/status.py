"""The conversation lifecycle: statuses and the legal moves between them.

Source: DESIGN.md "Lifecycle (status)" and the virtual-assistant seed's "Data Model:
Conversation". ``active`` ⇄ ``inactive``; ``active`` → ``inactive_timeout`` (the sweeper);
``active``/``inactive`` → ``inactive_user_terminated`` | ``inactive_system_terminated``;
any ``inactive_*`` → ``archived``. Never ``active`` → ``archived``. Pure rules, no I/O.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from convoledger.models.timeutil import UtcDatetime, utcnow


class ConversationStatus(StrEnum):
    """Where a conversation is in its lifecycle (the seed's six values)."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    INACTIVE_TIMEOUT = "inactive_timeout"
    INACTIVE_USER_TERMINATED = "inactive_user_terminated"
    INACTIVE_SYSTEM_TERMINATED = "inactive_system_terminated"
    ARCHIVED = "archived"


class InvalidTransition(ValueError):
    """A lifecycle move that the status machine does not allow (e.g. active → archived)."""


_S = ConversationStatus
ALLOWED_TRANSITIONS: dict[ConversationStatus, frozenset[ConversationStatus]] = {
    _S.ACTIVE: frozenset(
        {_S.INACTIVE, _S.INACTIVE_TIMEOUT, _S.INACTIVE_USER_TERMINATED, _S.INACTIVE_SYSTEM_TERMINATED}
    ),
    _S.INACTIVE: frozenset(
        {_S.ACTIVE, _S.INACTIVE_USER_TERMINATED, _S.INACTIVE_SYSTEM_TERMINATED, _S.ARCHIVED}
    ),
    _S.INACTIVE_TIMEOUT: frozenset({_S.ARCHIVED}),
    _S.INACTIVE_USER_TERMINATED: frozenset({_S.ARCHIVED}),
    _S.INACTIVE_SYSTEM_TERMINATED: frozenset({_S.ARCHIVED}),
    _S.ARCHIVED: frozenset(),
}


def parse_status(value: str | ConversationStatus) -> ConversationStatus:
    """Return the ``ConversationStatus`` named by ``value``; ``ValueError`` naming the valid ones."""
    try:
        return ConversationStatus(value)
    except ValueError:
        valid = ", ".join(s.value for s in ConversationStatus)
        raise ValueError(f"unknown conversation status {value!r}; expected one of: {valid}") from None


def check_transition(current: str | ConversationStatus, target: str | ConversationStatus) -> None:
    """Raise ``InvalidTransition`` unless ``current`` → ``target`` is a legal lifecycle move.

    A move to the same status is not a transition and is refused too.
    """
    cur, tgt = parse_status(current), parse_status(target)
    if tgt not in ALLOWED_TRANSITIONS[cur]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED_TRANSITIONS[cur])) or "none"
        raise InvalidTransition(
            f"cannot move a conversation from {cur.value!r} to {tgt.value!r}; allowed from "
            f"{cur.value!r}: {allowed}"
        )


class LifecycleEvent(BaseModel):
    """One recorded status transition of a conversation (DESIGN.md: LifecycleEvent).

    ``at`` is aware UTC; ``actor`` names who moved it (an account, ``"system"``, ``"sweeper"``).
    """

    model_config = ConfigDict(frozen=True)

    conversation_id: str
    from_status: ConversationStatus
    to_status: ConversationStatus
    reason: str | None = None
    actor: str | None = None
    at: UtcDatetime = Field(default_factory=utcnow)


def make_transition(
    conversation_id: str,
    current: str | ConversationStatus,
    target: str | ConversationStatus,
    *,
    reason: str | None = None,
    actor: str | None = None,
    at: datetime | None = None,
) -> LifecycleEvent:
    """Validate ``current`` → ``target`` and return the ``LifecycleEvent`` that records it.

    Raises ``InvalidTransition`` (a ``ValueError``) for an illegal move.
    """
    check_transition(current, target)
    return LifecycleEvent(
        conversation_id=conversation_id,
        from_status=parse_status(current),
        to_status=parse_status(target),
        reason=reason,
        actor=actor,
        at=at if at is not None else utcnow(),
    )
