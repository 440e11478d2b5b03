"""Helpers shared by the seed-002 services: ids of the seed's arguments, owned-session lookups,
and a walk over all of an owner's sessions."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from convoledger.errors import NotFound
from convoledger.ledger import Ledger
from convoledger.models.records import ConversationRecord
from convoledger.store.base import ConversationQuery

#: Sessions read per store call when a service walks all of an owner's sessions.
WALK_PAGE = 500


def ref_text(value: Any) -> str:
    """A session or message reference as text: a ``uuid.UUID`` (the seed's argument type) or a
    string as is; ``ValueError`` for anything else."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str) and value:
        return value
    raise ValueError(f"expected a UUID or a non-empty string, got {value!r}")


def user_key(user: Any) -> str:
    """The seed's user id as text: ``user.id`` for a user object (the seed's ``current_user``),
    else the value itself (a ``UUID`` or a string)."""
    return ref_text(getattr(user, "id", user))


async def owned_or_none(ledger: Ledger, session_id: Any, user_id: Any) -> ConversationRecord | None:
    """The session when it exists and its ``user_id`` is ``user_id`` (the seed's
    ``get_one_or_none(id == session_id, user_id == user_id)``), else ``None``."""
    try:
        record = await ledger.resolve(ref_text(session_id))
    except NotFound:
        return None
    return record if record.user_id == user_key(user_id) else None


async def all_sessions(ledger: Ledger) -> AsyncIterator[ConversationRecord]:
    """Every conversation of the ledger's owner, most recently updated first, read in keyset
    pages of :data:`WALK_PAGE` (never the whole list at once)."""
    before: tuple[Any, str] | None = None
    while True:
        page = await ledger.list_conversations(ConversationQuery(limit=WALK_PAGE, before=before))
        for record in page.items:
            yield record
        if len(page.items) < WALK_PAGE:
            return
        last = page.items[-1]
        before = (last.updated_at, last.id)
