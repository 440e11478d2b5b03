"""The errors convoledger raises; each maps to one HTTP status in the API.

- ``NotFound`` (404): the thing does not exist *for this owner* — another owner's conversation
  is reported exactly like a missing one (DESIGN.md invariant 1).
- ``Conflict`` (409): a unique key is taken (session_id, session_key, conversation id).
- ``ConversationNotActive`` (409): an append to a conversation whose status is not ``active``.
- ``InvalidTransition`` (409/422): an illegal lifecycle move (a ``ValueError``, from models).
- plain ``ValueError`` (422): bad input, raised before anything is written.
"""

from __future__ import annotations

from convoledger.models.status import InvalidTransition


class LedgerError(Exception):
    """Base class of convoledger's own errors (not raised directly)."""


class NotFound(LedgerError, LookupError):
    """The named conversation, message, memory key or account does not exist for this owner."""


class Conflict(LedgerError):
    """A write would break a uniqueness rule (duplicate session_id, session_key or id)."""


class ConversationNotActive(Conflict):
    """An append to a conversation whose status is not ``active`` was refused."""


__all__ = ["LedgerError", "NotFound", "Conflict", "ConversationNotActive", "InvalidTransition"]


class SessionExists(Conflict, ValueError):
    """Restoring a backup whose ``session_id`` this owner already has (the agent-session seed's
    ``restore_session_from_backup`` raises ``ValueError`` "Session … already exists"; this is
    both a ``Conflict`` — HTTP 409 — and the seed's ``ValueError``)."""


__all__ += ["SessionExists"]
