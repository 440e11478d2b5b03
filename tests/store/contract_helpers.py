"""Small builders and checks shared by the store contract tests (and the spawned workers of the
multi-process test, which must import them by module name)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from convoledger.models.records import ConversationRecord, MessageRecord, ParticipantRecord

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)

#: Strings that break naive SQL, paths or encodings; every backend must store them verbatim.
HOSTILE_STRINGS = [
    "'); DROP TABLE messages; --",
    'Robert"); DELETE FROM conversations WHERE (1=1 OR "',
    "100% _match_ \\ %",
    "👩‍💻 🚀 emoji ZWJ 🇺🇳",
    "مرحبا بالعالم — RTL שלום עולם",
    "e\u0301 combining · ZWSP\u200b · LRM\u200e",
    "../../etc/passwd",
    "line1\nline2\r\n\ttab",
    "汉字かなカナ한국어",
]


def conv(**fields: Any) -> ConversationRecord:
    """A conversation record to create (``owner_id`` is overwritten by the store)."""
    fields.setdefault("owner_id", "placeholder")
    return ConversationRecord(**fields)


def msg(content: str = "hello", role: str = "user", **fields: Any) -> MessageRecord:
    """A message record to append."""
    return MessageRecord(role=role, content=content, **fields)


def at(minutes: float) -> datetime:
    """``T0`` plus ``minutes`` (aware UTC)."""
    return T0 + timedelta(minutes=minutes)


def participants() -> list[ParticipantRecord]:
    """A user, a master controller and an agent."""
    return [
        ParticipantRecord(participant_id="u1", participant_type="user"),
        ParticipantRecord(participant_id="mc", participant_type="master_controller"),
        ParticipantRecord(participant_id="a1", participant_type="agent", participant_role="planner"),
    ]


def assert_utc(*values: datetime | None) -> None:
    """Every given datetime is timezone-aware with offset zero (invariant 8)."""
    for value in values:
        if value is None:
            continue
        assert isinstance(value, datetime), value
        assert value.tzinfo is not None, f"naive datetime {value!r}"
        assert value.utcoffset() == timedelta(0), f"not UTC: {value!r}"


def open_backend_store(backend: str, location: str) -> Any:
    """A store of ``backend`` at ``location`` (a directory for jsonfiles, a URL for sqlite)."""
    if backend == "jsonfiles":
        from convoledger.store.jsonfiles import JsonFilesStore

        return JsonFilesStore(location)
    from convoledger.store.sql import SqlStore

    return SqlStore(location)


def append_worker(
    backend: str, location: str, owner: str, conversation_id: str, writer: int, count: int, barrier: Any
) -> list[tuple[str, int]]:
    """Body of one OS process of the multi-process test: open its own store on ``location``,
    wait for the others at ``barrier``, append ``count`` messages one per call, and return
    ``(message id, seq)`` in the order this writer appended them."""

    async def run() -> list[tuple[str, int]]:
        store = open_backend_store(backend, location)
        await store.open()
        try:
            barrier.wait(timeout=60)
            out = []
            for i in range(count):
                m = msg(f"writer {writer} message {i}", id=f"w{writer}-{i:04d}", sender=f"w{writer}")
                [stored] = await store.append_messages(owner, conversation_id, [m])
                out.append((stored.id, stored.seq))
            return out
        finally:
            await store.close()

    return asyncio.run(run())


def process_main(
    backend: str,
    location: str,
    owner: str,
    conversation_id: str,
    writer: int,
    count: int,
    barrier: Any,
    results: Any,
) -> None:
    """Entry point of a spawned writer process: puts ``(writer, pairs)`` or ``(writer, error)``."""
    import traceback

    try:
        results.put(
            (writer, append_worker(backend, location, owner, conversation_id, writer, count, barrier))
        )
    except Exception:  # noqa: BLE001 - reported to the parent, which fails the test with it
        results.put((writer, traceback.format_exc()))
