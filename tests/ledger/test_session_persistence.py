"""SessionPersistence (the multichat persistence seed's API) on json, sqlite and memory storage."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from convoledger.models.chat import ChatMessage
from convoledger.models.timeutil import utcnow
from convoledger.session_persistence import SessionPersistence, storage_url


def _msg(session_id: str, i: int, *, sender: str = "alice", ts: float | None = None) -> ChatMessage:
    return ChatMessage(
        id=f"{session_id}-m{i}",
        sender=sender,
        recipient="bob" if sender == "alice" else "alice",
        content=f"message {i} ✓",
        timestamp=ts if ts is not None else utcnow().timestamp(),
        session_id=session_id,
    )


@pytest.fixture(params=["json", "sqlite", "memory"])
def persistence(request: pytest.FixtureRequest, tmp_path: Path):
    p = SessionPersistence(storage_type=request.param, storage_path=str(tmp_path / "sessions"))
    yield p
    p.close()


def test_storage_url_rejects_unknown_type(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="storage_type must be one of"):
        storage_url("redis", tmp_path)
    with pytest.raises(ValueError, match="storage_type"):
        SessionPersistence(storage_type="csv", storage_path=str(tmp_path))


def test_create_add_get_messages_in_append_order(persistence: SessionPersistence) -> None:
    created = persistence.create_session("s1", ["alice", "bob"])
    assert created.session_id == "s1"
    assert created.participants == ["alice", "bob"]
    # Timestamps deliberately out of order: append order (seq) wins, not the caller's clock.
    base = utcnow().timestamp()
    for i, offset in enumerate([5.0, 1.0, 3.0]):
        persistence.add_message(_msg("s1", i, ts=base + offset))
    session = persistence.get_session("s1")
    assert session is not None and session.message_count == 3
    got = persistence.get_messages("s1")
    assert [m.id for m in got] == ["s1-m0", "s1-m1", "s1-m2"]
    assert [m.content for m in got] == ["message 0 ✓", "message 1 ✓", "message 2 ✓"]
    assert [m.id for m in persistence.get_messages("s1", limit=2)] == ["s1-m1", "s1-m2"]
    assert persistence.get_messages("missing") == []
    assert persistence.get_session("missing") is None


def test_add_message_is_idempotent_and_creates_missing_session(persistence: SessionPersistence) -> None:
    m = _msg("new-session", 1)
    persistence.add_message(m)
    persistence.add_message(m)
    session = persistence.get_session("new-session")
    assert session is not None
    assert set(session.participants) == {"alice", "bob"}
    assert [x.id for x in persistence.get_messages("new-session")] == [m.id]


def test_create_session_twice_keeps_the_stored_one(persistence: SessionPersistence) -> None:
    persistence.create_session("s", ["alice", "bob"])
    persistence.add_message(_msg("s", 1))
    again = persistence.create_session("s", ["carol"])
    assert again.participants == ["alice", "bob"]
    assert again.message_count == 1


def test_cleanup_removes_sessions_idle_by_their_messages_own_times(persistence: SessionPersistence) -> None:
    old = (utcnow() - timedelta(days=40)).timestamp()
    persistence.create_session("old", ["alice", "bob"])
    persistence.add_message(_msg("old", 1, ts=old))
    persistence.add_message(_msg("old", 2, ts=old + 60))
    persistence.create_session("fresh", ["alice", "bob"])
    persistence.add_message(_msg("fresh", 1))
    assert persistence.cleanup_old_sessions(days=30) == 1
    assert persistence.get_session("old") is None
    assert persistence.get_messages("old") == []
    assert persistence.get_session("fresh") is not None
    assert persistence.cleanup_old_sessions(days=30) == 0


def test_negative_arguments_are_refused(persistence: SessionPersistence) -> None:
    with pytest.raises(ValueError, match="limit"):
        persistence.get_messages("s", limit=-1)
    with pytest.raises(ValueError, match="days"):
        persistence.cleanup_old_sessions(days=-1)


def test_closed_persistence_refuses_work(tmp_path: Path) -> None:
    p = SessionPersistence(storage_type="memory", storage_path=str(tmp_path))
    p.close()
    p.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        p.get_session("s")


_WRITER = textwrap.dedent(
    """
    import sys
    from convoledger.models.chat import ChatMessage
    from convoledger.session_persistence import SessionPersistence

    storage_type, path, session_id, sender, start, count = sys.argv[1:7]
    p = SessionPersistence(storage_type=storage_type, storage_path=path)
    if p.get_session(session_id) is None:
        p.create_session(session_id, ["alice", "bob"])
    for i in range(int(start), int(start) + int(count)):
        p.add_message(ChatMessage(id=f"{sender}-{i}", sender=sender, recipient="bob",
                                  content=f"{sender} says {i}", timestamp=1700000000.0 + i,
                                  session_id=session_id))
    print(len(p.get_messages(session_id, limit=100000)))
    p.close()
    """
)


def _run_writer(storage_type: str, path: Path, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, storage_type, str(path), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("storage_type", ["json", "sqlite"])
def test_a_session_written_by_one_process_is_continued_by_another(storage_type: str, tmp_path: Path) -> None:
    path = tmp_path / "shared"
    session_id = f"s-{uuid.uuid4().hex[:8]}"
    first = _run_writer(storage_type, path, session_id, "alice", 0, 5)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert out.strip() == "5"
    # A second process continues the same session.
    second = _run_writer(storage_type, path, session_id, "bob", 0, 5)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert out.strip() == "10"
    # Two processes at once: both finish, nothing lost, one order.
    both = [_run_writer(storage_type, path, session_id, w, 100, 25) for w in ("carol", "dave")]
    for proc in both:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    with SessionPersistence(storage_type=storage_type, storage_path=str(path)) as p:
        messages = p.get_messages(session_id, limit=1000)
        assert len(messages) == 60
        assert [m.id for m in messages[:10]] == [f"alice-{i}" for i in range(5)] + [
            f"bob-{i}" for i in range(5)
        ]
        for writer in ("carol", "dave"):
            mine = [m.id for m in messages if m.sender == writer]
            assert mine == [f"{writer}-{i}" for i in range(100, 125)]
        session = p.get_session(session_id)
        assert session is not None and session.message_count == 60
