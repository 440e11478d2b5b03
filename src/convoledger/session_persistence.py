"""``SessionPersistence``: the multichat persistence seed's synchronous API over the ledger.

Seed: "Multichat Session Persistence" — ``SessionPersistence(storage_type="json"|"sqlite"|
"memory", storage_path="sessions")`` with ``create_session``, ``add_message``, ``get_session``,
``get_messages``, ``cleanup_old_sessions`` and ``close``. The storage is a convoledger store, so
the ledger's guarantees hold: a session written by one process is read and continued by another
(``json`` = ``JsonFilesStore`` in ``storage_path``, with a file lock; ``sqlite`` =
``<storage_path>/sessions.db`` in WAL mode), appends are ordered by ``seq`` and idempotent by
message id.

Differences from the seed, on purpose:
- ``get_messages`` returns the most recent ``limit`` messages oldest first in *append order*
  (``seq``), not timestamp order (timestamps tie and clocks skew).
- ``cleanup_old_sessions(days)`` removes sessions whose last activity — the latest message's own
  timestamp (the caller's, so imported history keeps its real times), else the creation time —
  is older than ``days``, deleting their messages too, and returns how many it removed. (The
  seed's SQLite variant compared message timestamps and left old sessions in place.)
- ``add_message`` to a session that does not exist creates it with the sender and recipient as
  participants instead of storing an orphan message.
- ``create_session`` for an existing id returns the stored session unchanged (no reset).

Concurrency: the async ledger runs on a private event loop in a daemon thread; each public
method submits one coroutine and waits for it, so the object may be used from any thread, and
from code that is itself inside an event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from convoledger.backends import open_ledger
from convoledger.ledger import Ledger
from convoledger.models.chat import ChatMessage, ChatSession
from convoledger.models.records import ConversationKind
from convoledger.models.timeutil import utcnow
from convoledger.store.base import ConversationQuery, MessageQuery

T = TypeVar("T")

STORAGE_TYPES = ("json", "sqlite", "memory")


def storage_url(storage_type: str, storage_path: str | Path) -> str:
    """The ledger URL for a seed storage type: ``json`` → ``jsonfiles:///<path>``, ``sqlite`` →
    ``sqlite:///<path>/sessions.db``, ``memory`` → ``memory://``. ``ValueError`` otherwise."""
    if storage_type not in STORAGE_TYPES:
        raise ValueError(f"storage_type must be one of {STORAGE_TYPES}, got {storage_type!r}")
    path = Path(storage_path).expanduser().resolve()
    if storage_type == "json":
        return f"jsonfiles://{path}"
    if storage_type == "sqlite":
        return f"sqlite:///{path / 'sessions.db'}"
    return "memory://"


class SessionPersistence:
    """Synchronous chat-session persistence (the multichat seed's API) on a convoledger store.

    ``owner`` scopes every session (one account per persistence namespace; default ``local``).
    Raises ``ValueError`` for an unknown ``storage_type``.
    """

    def __init__(
        self, storage_type: str = "json", storage_path: str = "sessions", *, owner: str = "local"
    ) -> None:
        self.storage_type = storage_type
        self.storage_path = Path(storage_path)
        url = storage_url(storage_type, storage_path)
        if storage_type != "memory":
            self.storage_path.mkdir(parents=True, exist_ok=True)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="convoledger-persistence", daemon=True
        )
        self._thread.start()
        self._ledger: Ledger = open_ledger(url, owner=owner)
        self._closed = False
        try:
            self._run(self._ledger.open())
        except BaseException:
            self._stop_loop()
            raise

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._closed:
            coro.close()
            raise RuntimeError("this SessionPersistence is closed")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    # -- the seed's API -------------------------------------------------------------------------
    def create_session(self, session_id: str, participants: list[str]) -> ChatSession:
        """Create chat session ``session_id`` with participant ids; return it (or the stored
        one when it already exists). ``ValueError`` for an empty id."""
        if not session_id:
            raise ValueError("session_id cannot be empty")
        session = ChatSession(session_id=session_id, participants=list(participants))
        record, _created = self._run(self._ledger.get_or_create_conversation(session))
        return ChatSession.from_record(record)

    def add_message(self, message: ChatMessage) -> ChatMessage:
        """Append ``message`` to its session (created if missing); return it as stored.
        Adding the same message id twice stores it once."""
        return self._run(self._add_message(message))

    async def _add_message(self, message: ChatMessage) -> ChatMessage:
        session = ChatSession(
            session_id=message.session_id,
            participants=[p for p in dict.fromkeys([message.sender, message.recipient]) if p],
        )
        record, _ = await self._ledger.get_or_create_conversation(session)
        stored = await self._ledger.append(record, message)
        return ChatMessage.from_record(stored, session_id=message.session_id)

    def get_session(self, session_id: str) -> ChatSession | None:
        """The session with this id, or ``None``."""
        record = self._run(self._ledger.store.find_conversation(self._ledger.owner, session_id=session_id))
        return None if record is None else ChatSession.from_record(record)

    def get_messages(self, session_id: str, limit: int = 50) -> list[ChatMessage]:
        """The most recent ``limit`` messages of the session, oldest first (``[]`` when the
        session does not exist). ``ValueError`` for a negative limit."""
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        return self._run(self._get_messages(session_id, limit))

    async def _get_messages(self, session_id: str, limit: int) -> list[ChatMessage]:
        record = await self._ledger.store.find_conversation(self._ledger.owner, session_id=session_id)
        if record is None:
            return []
        found = await self._ledger.store.list_messages(
            self._ledger.owner, record.id, MessageQuery(last=limit)
        )
        return [ChatMessage.from_record(m, session_id=session_id) for m in found]

    def cleanup_old_sessions(self, days: float = 30) -> int:
        """Delete sessions idle for more than ``days`` days (with their messages); return how
        many were deleted."""
        if days < 0:
            raise ValueError(f"days must be >= 0, got {days}")
        return self._run(self._cleanup(days))

    async def _cleanup(self, days: float) -> int:
        cutoff = utcnow() - timedelta(days=days)
        deleted = 0
        while True:
            page = await self._ledger.list_conversations(
                ConversationQuery(kind=ConversationKind.CHAT_SESSION, idle_before=cutoff, limit=200)
            )
            if not page.items:
                return deleted
            for conv in page.items:
                await self._ledger.store.delete_conversation(self._ledger.owner, conv.id)
                deleted += 1

    def close(self) -> None:
        """Close the storage; the object cannot be used afterwards. Idempotent."""
        if self._closed:
            return
        try:
            self._run(self._ledger.close())
        finally:
            self._closed = True
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> SessionPersistence:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
