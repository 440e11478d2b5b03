"""``convoledger demo multichat``: the multichat persistence seed's demo, run on ``SessionPersistence``.

Seed 003 ("Multichat Session Persistence Across Python Processes", "Demo execution results"):
four agents (``Agent-1`` … ``Agent-4``) and six messages, one of them to ``All``; the session
read back through a new ``SessionPersistence`` (as a second process would); one session created
in each of the three storage types (``json``, ``sqlite``, ``memory``); then the old-session
cleanup. The output keeps the seed's lines (the emoji headings, ``[HH:MM:SS] Agent-1 →
Agent-2: …`` in local time, ``Agent-4 → All``, ``Last Activity: YYYY-MM-DD HH:MM:SS.ffffff``).

One difference, on purpose: the seed's own run printed "⚠️ Old session still exists" after
``cleanup_old_sessions(days=30)``; here the old session (its last message 31 days old) is
removed and the demo prints "✅ Old session removed" (a cleanup that leaves what it was asked to
remove is a bug, not a format).

The JSON and SQLite storage live in ``storage_path`` (``json/`` and ``sqlite/``); the cleanup step
deletes every session idle for more than 30 days in that JSON storage, as the seed's demo does in
its own ``sessions`` folder.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from convoledger.models.chat import ChatMessage
from convoledger.session_persistence import SessionPersistence

#: The demo's four agents (seed 003).
DEMO_AGENTS = ("Agent-1", "Agent-2", "Agent-3", "Agent-4")
#: The demo's six messages (sender, recipient, content), as the seed's run printed them.
DEMO_MESSAGES = (
    ("Agent-1", "Agent-2", "Hello Agent-2! Ready for coordination?"),
    ("Agent-2", "Agent-1", "Yes! I'm ready. What's the task?"),
    ("Agent-1", "Agent-2", "We need to implement V2 compliance refactoring."),
    ("Agent-3", "Agent-1", "I can help with the refactoring strategy!"),
    ("Agent-4", "All", "I'll coordinate the refactoring process."),
    ("Agent-2", "Agent-4", "Perfect! Let's start with critical files."),
)
#: The storage demo's three sessions: (heading, storage type, label, session id).
STORAGE_DEMOS = (
    ("1. JSON Storage (Default)", "json", "JSON", "json-demo"),
    ("2. SQLite Storage", "sqlite", "SQLite", "sqlite-demo"),
    ("3. Memory Storage", "memory", "Memory", "memory-demo"),
)
#: The cleanup demo: the old session's last message is this many days old; cleanup keeps 30.
OLD_SESSION_ID = "old-session"
OLD_SESSION_AGE_DAYS = 31
CLEANUP_DAYS = 30

Emit = Callable[[str], None]


@dataclass
class MultichatDemoResult:
    """What the demo did: the main session's id and its messages as read back, the session id
    created in each storage type, and whether the cleanup removed the old session."""

    session_id: str
    messages: list[ChatMessage] = field(default_factory=list)
    storage_sessions: dict[str, str] = field(default_factory=dict)
    old_session_removed: bool = False


def format_message(message: ChatMessage) -> str:
    """The seed's chat line: ``[HH:MM:SS] <sender> → <recipient>: <content>`` (local time of the
    message's ``timestamp``; a broadcast shows its recipient ``All``)."""
    clock = datetime.fromtimestamp(message.timestamp).strftime("%H:%M:%S")
    return f"[{clock}] {message.sender} → {message.recipient}: {message.content}"


def _chat(persistence: SessionPersistence, emit: Emit, session_id: str, delay: float) -> None:
    emit("💬 Simulating chat messages...")
    for sender, recipient, content in DEMO_MESSAGES:
        message = ChatMessage(
            id=str(uuid.uuid4()),
            sender=sender,
            recipient=recipient,
            content=content,
            timestamp=time.time(),
            session_id=session_id,
        )
        persistence.add_message(message)
        emit(format_message(message))
        if delay:
            time.sleep(delay)
    emit("✅ Chat simulation complete!")


def _status(persistence: SessionPersistence, emit: Emit, session_id: str) -> list[ChatMessage]:
    emit("🔄 Demonstrating session persistence...")
    session = persistence.get_session(session_id)
    if session is None:
        raise RuntimeError(f"session {session_id!r} was not persisted")
    messages = persistence.get_messages(session_id)
    emit("📊 Session Status:")
    emit(f"   • Session ID: {session.session_id}")
    emit(f"   • Participants: {len(session.participants)}")
    emit(f"   • Messages: {session.message_count}")
    emit(f"   • Last Activity: {datetime.fromtimestamp(session.last_activity)}")
    emit("")
    emit(f"📝 Recent Messages ({len(messages)}):")
    for message in messages:
        emit(f"   {format_message(message)}")
    return messages


def _storage_options(storage_path: Path, emit: Emit) -> dict[str, str]:
    emit("💾 Storage Options Demo:")
    created: dict[str, str] = {}
    for heading, storage_type, label, session_id in STORAGE_DEMOS:
        emit(heading)
        folder = str(storage_path / storage_type)
        with SessionPersistence(storage_type=storage_type, storage_path=folder) as p:
            session = p.create_session(session_id, list(DEMO_AGENTS[:2]))
            if p.get_session(session_id) is None:
                raise RuntimeError(f"{label} storage did not keep session {session_id!r}")
        emit(f"   ✅ {label} session created: {session.session_id}")
        created[storage_type] = session.session_id
    return created


def _cleanup(persistence: SessionPersistence, emit: Emit) -> bool:
    emit("🧹 Session Cleanup Demo:")
    persistence.create_session(OLD_SESSION_ID, list(DEMO_AGENTS[:2]))
    old = time.time() - timedelta(days=OLD_SESSION_AGE_DAYS).total_seconds()
    persistence.add_message(
        ChatMessage(str(uuid.uuid4()), "Agent-1", "Agent-2", "An old message.", old, OLD_SESSION_ID)
    )
    emit(f"   📅 Created old session: {OLD_SESSION_ID}")
    persistence.cleanup_old_sessions(days=CLEANUP_DAYS)
    emit(f"   🗑️ Cleaned up sessions older than {CLEANUP_DAYS} days")
    removed = persistence.get_session(OLD_SESSION_ID) is None
    emit("   ✅ Old session removed" if removed else "   ⚠️ Old session still exists")
    return removed


def run_multichat_demo(emit: Emit, storage_path: Path, *, delay: float = 0.0) -> MultichatDemoResult:
    """Run the seed's demo, writing each output line through ``emit``; return what it did.

    ``storage_path``: the folder for the JSON and SQLite storage (created if missing).
    ``delay``: seconds to wait after each chat message (the seed's run was paced; 0 = none).
    Raises ``ValueError`` for a negative delay, ``OSError`` when the folder cannot be written,
    ``RuntimeError`` if a storage loses a session it was just given.
    """
    if delay < 0:
        raise ValueError(f"delay must be >= 0 seconds, got {delay}")
    json_path = storage_path / "json"
    emit("🚀 Multichat Session Persistence Demo")
    emit("=" * 50)
    emit("🚀 Creating demo multichat session...")
    with SessionPersistence(storage_type="json", storage_path=str(json_path)) as persistence:
        session = persistence.create_session(str(uuid.uuid4()), list(DEMO_AGENTS))
        emit(f"✅ Session created: {session.session_id}")
        emit(f"👥 Participants: {', '.join(session.participants)}")
        emit("")
        _chat(persistence, emit, session.session_id, delay)
    emit("")
    result = MultichatDemoResult(session.session_id)
    # A new SessionPersistence on the same folder reads it back, as a second process would.
    with SessionPersistence(storage_type="json", storage_path=str(json_path)) as persistence:
        result.messages = _status(persistence, emit, session.session_id)
        emit("")
        result.storage_sessions = _storage_options(storage_path, emit)
        emit("")
        result.old_session_removed = _cleanup(persistence, emit)
    emit("")
    emit("✅ Demo completed successfully!")
    return result


__all__ = [
    "CLEANUP_DAYS",
    "DEMO_AGENTS",
    "DEMO_MESSAGES",
    "OLD_SESSION_AGE_DAYS",
    "OLD_SESSION_ID",
    "STORAGE_DEMOS",
    "MultichatDemoResult",
    "format_message",
    "run_multichat_demo",
]
