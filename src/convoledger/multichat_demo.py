"""``convoledger demo multichat``: the multichat persistence seed's demo, run on ``SessionPersistence``.

Seed 003 ("Multichat Session Persistence Across Python Processes", "Demo execution results"):
four agents (``Agent-1`` … ``Agent-4``) and six messages, one of them to ``All``; the session
read back through a new ``SessionPersistence`` (as a second process would); one session created
in each of the three storage types (``json``, ``sqlite``, ``memory``); then the old-session
cleanup. The output keeps the seed's lines (the emoji headings, ``[HH:MM:SS] Agent-1 →
Agent-2: …`` in local time, ``Agent-4 → All``, ``Last Activity: YYYY-MM-DD HH:MM:SS.ffffff``).

One difference, on purpose: the seed's own run printed "⚠️ Old session still exists" after
``cleanup_old_sessions(days=30)`` (its cleanup went by a ``last_activity`` that adding the old
message had just set to now); here the old session — its last message 31 days old — is removed
and the demo says so: "✅ Old session successfully removed".

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

from convoledger.models.chat import ChatMessage, ChatSession
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


class MultichatSessionDemo:
    """The seed's demo application (seed 003 "Key Components": ``MultichatSessionDemo``).

    ``MultichatSessionDemo(storage_path, emit=print, delay=0.0).run_demo()`` runs every step and
    returns a :class:`MultichatDemoResult`; the steps are methods of their own, in the demo's order:
    :meth:`create_demo_session`, :meth:`simulate_chat_messages` (through :meth:`add_message`),
    :meth:`demonstrate_persistence`, :meth:`demonstrate_storage_options`,
    :meth:`demonstrate_cleanup`. ``storage_path``: the folder for the JSON and SQLite storage
    (created if missing); ``emit``: where each output line goes; ``delay``: seconds to wait after
    each chat message (the seed's run was paced; 0 = none). ``ValueError`` for a negative delay.
    """

    def __init__(self, storage_path: Path, emit: Emit = print, *, delay: float = 0.0) -> None:
        if delay < 0:
            raise ValueError(f"delay must be >= 0 seconds, got {delay}")
        self.storage_path = Path(storage_path)
        self.emit = emit
        self.delay = delay
        self.session_id = str(uuid.uuid4())
        self.json_path = self.storage_path / "json"
        self.persistence = SessionPersistence(storage_type="json", storage_path=str(self.json_path))

    def create_demo_session(self) -> ChatSession:
        """The four agents' session (JSON storage)."""
        self.emit("🚀 Creating demo multichat session...")
        session = self.persistence.create_session(self.session_id, list(DEMO_AGENTS))
        self.emit(f"✅ Session created: {session.session_id}")
        self.emit(f"👥 Participants: {', '.join(session.participants)}")
        return session

    def add_message(self, sender: str, recipient: str, content: str) -> ChatMessage:
        """Store one chat message, timestamped now, and print its chat line."""
        message = ChatMessage(
            id=str(uuid.uuid4()),
            sender=sender,
            recipient=recipient,
            content=content,
            timestamp=time.time(),
            session_id=self.session_id,
        )
        self.persistence.add_message(message)
        self.emit(format_message(message))
        return message

    def simulate_chat_messages(self) -> None:
        """The six messages of :data:`DEMO_MESSAGES`."""
        self.emit("")
        self.emit("💬 Simulating chat messages...")
        for sender, recipient, content in DEMO_MESSAGES:
            self.add_message(sender, recipient, content)
            if self.delay:
                time.sleep(self.delay)
        self.emit("✅ Chat simulation complete!")

    def demonstrate_persistence(self) -> list[ChatMessage]:
        """Read the session back through a new ``SessionPersistence`` on the same folder, as a
        second process would, and print its status and messages; return the messages.
        ``RuntimeError`` if the session was not persisted."""
        self.emit("")
        self.emit("🔄 Demonstrating session persistence...")
        with SessionPersistence(storage_type="json", storage_path=str(self.json_path)) as reader:
            session = reader.get_session(self.session_id)
            messages = reader.get_messages(self.session_id, limit=10)
        if session is None:
            raise RuntimeError(f"session {self.session_id!r} was not persisted")
        self.emit("📊 Session Status:")
        self.emit(f"   • Session ID: {session.session_id}")
        self.emit(f"   • Participants: {len(session.participants)}")
        self.emit(f"   • Messages: {session.message_count}")
        self.emit(f"   • Last Activity: {datetime.fromtimestamp(session.last_activity)}")
        self.emit("")
        self.emit(f"📝 Recent Messages ({len(messages)}):")
        for message in messages:
            self.emit(f"   {format_message(message)}")
        return messages

    def demonstrate_storage_options(self) -> dict[str, str]:
        """One session in each storage type; return ``{storage type: session id}``."""
        self.emit("")
        self.emit("💾 Storage Options Demo:")
        created: dict[str, str] = {}
        for heading, storage_type, label, session_id in STORAGE_DEMOS:
            self.emit(heading)
            folder = str(self.storage_path / storage_type)
            with SessionPersistence(storage_type=storage_type, storage_path=folder) as p:
                session = p.create_session(session_id, list(DEMO_AGENTS[:2]))
                if p.get_session(session_id) is None:
                    raise RuntimeError(f"{label} storage did not keep session {session_id!r}")
            self.emit(f"   ✅ {label} session created: {session.session_id}")
            created[storage_type] = session.session_id
        return created

    def demonstrate_cleanup(self) -> bool:
        """An old session (its message 31 days old), ``cleanup_old_sessions(days=30)``; return
        whether it was removed."""
        self.emit("")
        self.emit("🧹 Session Cleanup Demo:")
        old = self.persistence.create_session(OLD_SESSION_ID, list(DEMO_AGENTS[:2]))
        sent = time.time() - timedelta(days=OLD_SESSION_AGE_DAYS).total_seconds()
        self.persistence.add_message(
            ChatMessage(str(uuid.uuid4()), "Agent-1", "Agent-2", "An old message.", sent, OLD_SESSION_ID)
        )
        self.emit(f"   📅 Created old session: {old.session_id}")
        self.persistence.cleanup_old_sessions(days=CLEANUP_DAYS)
        self.emit(f"   🗑️ Cleaned up sessions older than {CLEANUP_DAYS} days")
        removed = self.persistence.get_session(OLD_SESSION_ID) is None
        self.emit("   ✅ Old session successfully removed" if removed else "   ⚠️ Old session still exists")
        return removed

    def run_demo(self) -> MultichatDemoResult:
        """Run every step in order, then close the storage; return what the demo did.
        ``OSError`` when the folder cannot be written; ``RuntimeError`` if a storage loses a
        session it was just given."""
        try:
            self.emit("🚀 Multichat Session Persistence Demo")
            self.emit("=" * 50)
            self.create_demo_session()
            self.simulate_chat_messages()
            result = MultichatDemoResult(self.session_id)
            result.messages = self.demonstrate_persistence()
            result.storage_sessions = self.demonstrate_storage_options()
            result.old_session_removed = self.demonstrate_cleanup()
            self.emit("")
            self.emit("✅ Demo completed successfully!")
            return result
        finally:
            self.persistence.close()


def run_multichat_demo(emit: Emit, storage_path: Path, *, delay: float = 0.0) -> MultichatDemoResult:
    """``MultichatSessionDemo(storage_path, emit, delay=delay).run_demo()``."""
    return MultichatSessionDemo(storage_path, emit, delay=delay).run_demo()


__all__ = [
    "CLEANUP_DAYS",
    "DEMO_AGENTS",
    "DEMO_MESSAGES",
    "OLD_SESSION_AGE_DAYS",
    "OLD_SESSION_ID",
    "STORAGE_DEMOS",
    "MultichatDemoResult",
    "MultichatSessionDemo",
    "format_message",
    "run_multichat_demo",
]
