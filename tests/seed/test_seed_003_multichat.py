"""Seed 003 (multichat session persistence across Python processes) as its user calls it: the
"Usage examples provided" run verbatim on json, sqlite and memory storage, the seed's own float
timestamps read the seed's way, the cross-process example in two real processes, the production
cleanup, and ``convoledger demo multichat`` printing the seed's demo output line for line.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import time
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from convoledger import ChatMessage, ChatSession, SessionPersistence
from convoledger.multichat_demo import DEMO_MESSAGES, MultichatSessionDemo, format_message, run_multichat_demo

SEED_003 = next((Path(__file__).resolve().parents[2].parent / "shared" / "seeds").glob("003_*.txt"))
STORAGE_TYPES = ["json", "sqlite", "memory"]


@pytest.mark.parametrize("storage_type", STORAGE_TYPES)
def test_basic_session_management_example(storage_type: str, tmp_path: Path) -> None:
    """ "Basic Session Management", as the seed writes it (storage path in a temporary folder)."""
    # Create persistence instance
    persistence = SessionPersistence(storage_type=storage_type, storage_path=str(tmp_path / "chat_sessions"))

    # Create new session
    session = persistence.create_session(
        session_id=str(uuid.uuid4()), participants=["Agent-1", "Agent-2", "Agent-3"]
    )

    # Add messages
    message = ChatMessage(
        id=str(uuid.uuid4()),
        sender="Agent-1",
        recipient="Agent-2",
        content="Hello Agent-2! Ready for coordination?",
        timestamp=time.time(),
        session_id=session.session_id,
    )
    persistence.add_message(message)

    # Retrieve session across process restarts
    retrieved_session = persistence.get_session(session.session_id)
    messages = persistence.get_messages(session.session_id, limit=50)
    persistence.close()

    assert retrieved_session is not None
    assert retrieved_session.participants == ["Agent-1", "Agent-2", "Agent-3"]
    assert retrieved_session.message_count == 1
    assert messages == [message]  # the float timestamp comes back exactly, as a float
    assert type(messages[0].timestamp) is float
    assert type(retrieved_session.created_at) is float and type(retrieved_session.last_activity) is float
    assert retrieved_session.last_activity == pytest.approx(message.timestamp, abs=1e-6)
    # what the seed's demo does with it
    assert datetime.fromtimestamp(messages[0].timestamp).strftime("%H:%M:%S") == datetime.fromtimestamp(
        message.timestamp
    ).strftime("%H:%M:%S")


@pytest.mark.parametrize("storage_type", STORAGE_TYPES)
def test_the_seed_own_code_reads_the_floats(storage_type: str, tmp_path: Path) -> None:
    """The seed's implementation sorts by ``timestamp``, compares ``last_activity`` with
    ``time.time() - days * 86400`` and writes ``asdict(message)``: all run on what comes back."""
    with SessionPersistence(storage_type=storage_type, storage_path=str(tmp_path / "s")) as persistence:
        persistence.create_session("agent-coordination", ["Agent-1", "Agent-2"])
        base = round(time.time()) - 100 + 0.1234567  # finer than a microsecond: still exact
        for i, offset in enumerate([2.0, 0.5, 1.25]):
            persistence.add_message(
                ChatMessage(f"m{i}", "Agent-1", "Agent-2", f"text {i}", base + offset, "agent-coordination")
            )
        session_messages = persistence.get_messages("agent-coordination")
        session = persistence.get_session("agent-coordination")
    assert [m.timestamp for m in session_messages] == [base + 2.0, base + 0.5, base + 1.25]
    limit = 2
    newest = sorted(session_messages, key=lambda x: x.timestamp)[-limit:]  # seed: get_messages_json
    assert [m.id for m in newest] == ["m2", "m0"]
    cutoff_time = time.time() - (30 * 24 * 60 * 60)  # seed: cleanup_old_sessions
    assert session is not None and not session.last_activity < cutoff_time
    assert json.loads(json.dumps(asdict(session_messages[0]))) == {
        "id": "m0", "sender": "Agent-1", "recipient": "Agent-2", "content": "text 0",
        "timestamp": base + 2.0, "session_id": "agent-coordination",
    }  # fmt: skip
    assert ChatMessage(**asdict(session_messages[0])) == session_messages[0]
    assert ChatSession(**asdict(session)) == session


def test_timestamps_still_accept_datetimes() -> None:
    at = datetime(2025, 1, 19, 23, 13, 25, 500000)  # naive = UTC
    message = ChatMessage("m", "Agent-1", "All", "hi", at, "s")
    assert (
        message.timestamp == 1737328405.5
        and message.timestamp_utc.isoformat() == "2025-01-19T23:13:25.500000+00:00"
    )
    assert ChatMessage("m", "Agent-1", "All", "hi", "2025-01-19T23:13:25.5Z", "s") == message


_PROCESS_1 = """
import sys, time, uuid
from convoledger import ChatMessage, SessionPersistence
persistence = SessionPersistence(storage_type=sys.argv[1], storage_path=sys.argv[2])
session = persistence.create_session("agent-coordination", ["Agent-1", "Agent-2"])
t = time.time()
persistence.add_message(ChatMessage(id=str(uuid.uuid4()), sender="Agent-1", recipient="Agent-2",
                                    content="Hello from process 1", timestamp=t,
                                    session_id="agent-coordination"))
persistence.close()
print(repr(t))
"""
_PROCESS_2 = """
import json, sys
from convoledger import SessionPersistence
persistence = SessionPersistence(storage_type=sys.argv[1], storage_path=sys.argv[2])
session = persistence.get_session("agent-coordination")
messages = persistence.get_messages("agent-coordination")
print(json.dumps({"participants": session.participants, "count": session.message_count,
                  "messages": [[m.sender, m.content, repr(m.timestamp)] for m in messages]}))
persistence.close()
"""


@pytest.mark.parametrize("storage_type", ["json", "sqlite"])
def test_cross_process_persistence_example(storage_type: str, tmp_path: Path) -> None:
    """ "Cross-Process Persistence": process 1 creates the session and a message and closes;
    process 2 retrieves the session and continues."""
    path = str(tmp_path / "sessions")

    def run(code: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code), storage_type, path],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    sent_at = run(_PROCESS_1)
    seen = json.loads(run(_PROCESS_2))
    assert seen == {
        "participants": ["Agent-1", "Agent-2"],
        "count": 1,
        "messages": [["Agent-1", "Hello from process 1", sent_at]],  # the same float, digit for digit
    }


def test_production_setup_and_cleanup_schedule(tmp_path: Path) -> None:
    """ "Production Deployment Recommendations": SQLite storage, ``cleanup_old_sessions(days=7)``."""
    persistence = SessionPersistence(
        storage_type="sqlite", storage_path=str(tmp_path / "multichat" / "sessions")
    )
    now = time.time()
    for session_id, age_days in (("last-week", 8), ("this-week", 6)):
        persistence.create_session(session_id, ["Agent-1", "Agent-2"])
        persistence.add_message(
            ChatMessage(str(uuid.uuid4()), "Agent-1", "Agent-2", "x", now - age_days * 86400, session_id)
        )
    assert persistence.cleanup_old_sessions(days=7) == 1  # Keep sessions for 1 week
    assert persistence.get_session("last-week") is None and persistence.get_messages("last-week") == []
    assert persistence.get_session("this-week") is not None
    persistence.close()


# -- the demo -------------------------------------------------------------------------------------
def _seed_demo_output() -> list[str]:
    text = SEED_003.read_text(encoding="utf-8")
    block = text.split("### **Successful Demo Run**", 1)[1].split("```", 2)[1]
    return block.strip("\n").splitlines()


_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _pattern(seed_line: str) -> re.Pattern[str]:
    """A seed output line as a pattern: its session UUID, clock times and last-activity datetime
    are the run's own; everything else must be the same text."""
    variable = {
        "\x00uuid\x00": (_UUID, _UUID),
        "\x00datetime\x00": (
            r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}",
            r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{6})?",
        ),
        "\x00clock\x00": (r"\[\d{2}:\d{2}:\d{2}\]", r"\[\d{2}:\d{2}:\d{2}\]"),
    }
    line = seed_line
    for marker, (seed_form, _) in variable.items():
        line = re.sub(seed_form, marker, line)
    pattern = re.escape(line)
    for marker, (_, run_form) in variable.items():
        pattern = pattern.replace(re.escape(marker), run_form)
    return re.compile(pattern + "$")


def test_demo_multichat_prints_the_seed_output(tmp_path: Path) -> None:
    """``convoledger demo multichat`` prints the seed's demo run line for line — four agents, six
    messages, ``Agent-4 → All``, the three storage types — except the cleanup's last line: the
    seed's run left the old session ("⚠️ Old session still exists"), convoledger removes it."""
    done = subprocess.run(
        [sys.executable, "-m", "convoledger", "demo", "multichat", "--storage-path", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.rstrip("\n").splitlines()
    expected = [
        "   ✅ Old session successfully removed" if line == "   ⚠️ Old session still exists" else line
        for line in _seed_demo_output()
    ]
    assert "   ⚠️ Old session still exists" in _seed_demo_output()  # the seed's own run
    assert len(lines) == len(expected), "\n".join(lines)
    for got, want in zip(lines, expected, strict=True):
        assert _pattern(want).match(got), f"{got!r} does not match the seed's {want!r}"
    session_id = re.search(_UUID, lines[3])
    assert session_id is not None and lines[17] == f"   • Session ID: {session_id.group(0)}"
    # the demo's storage is real: its session can be read again afterwards
    with SessionPersistence(storage_type="json", storage_path=str(tmp_path / "demo" / "json")) as p:
        again = p.get_messages(session_id.group(0))
        assert [(m.sender, m.recipient, m.content) for m in again] == list(DEMO_MESSAGES)
        assert p.get_session("old-session") is None


def test_demo_library_result(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run_multichat_demo(lines.append, tmp_path)
    assert result.old_session_removed is True
    assert [(m.sender, m.recipient, m.content) for m in result.messages] == list(DEMO_MESSAGES)
    assert result.storage_sessions == {"json": "json-demo", "sqlite": "sqlite-demo", "memory": "memory-demo"}
    assert lines[-1] == "✅ Demo completed successfully!"
    with pytest.raises(ValueError, match="delay"):
        run_multichat_demo(lines.append, tmp_path, delay=-1)
    # the seed's class, step by step
    printed: list[str] = []
    demo = MultichatSessionDemo(tmp_path / "again", printed.append)
    session = demo.create_demo_session()
    assert session.participants == ["Agent-1", "Agent-2", "Agent-3", "Agent-4"]
    demo.add_message("Agent-4", "All", "I'll coordinate the refactoring process.")
    assert printed[-1].endswith("] Agent-4 → All: I'll coordinate the refactoring process.")
    assert [m.recipient for m in demo.demonstrate_persistence()] == ["All"]
    assert demo.demonstrate_cleanup() is True
    demo.persistence.close()


def test_format_message_is_the_seed_line() -> None:
    at = datetime(2025, 9, 23, 23, 13, 27).timestamp()  # local time, as the seed prints it
    message = ChatMessage("m", "Agent-4", "All", "I'll coordinate the refactoring process.", at, "s")
    assert format_message(message) == "[23:13:27] Agent-4 → All: I'll coordinate the refactoring process."
    later = ChatMessage("m", "Agent-2", "Agent-4", "Perfect!", at + timedelta(seconds=1).total_seconds(), "s")
    assert format_message(later) == "[23:13:28] Agent-2 → Agent-4: Perfect!"
