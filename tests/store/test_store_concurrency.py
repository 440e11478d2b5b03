"""Store contract under concurrency: gap-free seq in commit order (invariants 2 and 9).

- 8 asyncio writers × 250 single-message appends to one conversation, on every backend, while a
  reader polls recent-N and the full history and checks that history never changes under it;
- 4 OS processes (spawned, each with its own store on the same path) appending to one
  conversation, on the backends that several processes can share (JSON files, SQLite).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
from pathlib import Path

import pytest
from contract_helpers import conv, msg, open_backend_store, process_main

from convoledger.models.records import MessageRecord
from convoledger.store.base import MessageQuery, Store

WRITERS = 8
PER_WRITER = 250
RECENT = 20


class HistoryWatcher:
    """Checks every snapshot a reader takes against what earlier snapshots showed.

    Invariant 9: a message may never appear before one the reader has already read. Without
    deletions that means: a full history is always exactly seq 1..n (no gap a late commit could
    fill), a recent-N window is a run of consecutive seqs, and a seq, once read, always names the
    same message (a late commit cannot take a place already read).
    """

    def __init__(self) -> None:
        self.seen: dict[int, str] = {}
        self.snapshots = 0
        self.partial_snapshots = 0

    def check(self, snapshot: list[MessageRecord], *, full: bool, total: int) -> None:
        seqs = [m.seq for m in snapshot]
        if full:
            assert seqs == list(range(1, len(seqs) + 1)), f"full history is not 1..n: {seqs[:50]}…"
        elif seqs:
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"recent window has a gap: {seqs}"
        for m in snapshot:
            previous = self.seen.setdefault(m.seq, m.id)
            assert previous == m.id, f"seq {m.seq} changed from message {previous} to {m.id}"
        self.snapshots += 1
        if 0 < len(seqs) and seqs[-1] < total:
            self.partial_snapshots += 1


async def test_eight_writers_and_a_polling_reader(store: Store, owner: str) -> None:
    cid = (await store.create_conversation(owner, conv(name="contention"))).id
    total = WRITERS * PER_WRITER
    writers_done = asyncio.Event()
    watcher = HistoryWatcher()

    async def writer(w: int) -> list[MessageRecord]:
        out = []
        for i in range(PER_WRITER):
            m = msg(f"writer {w} message {i}", id=f"w{w}-{i:04d}", sender=f"w{w}")
            [stored] = await store.append_messages(owner, cid, [m])
            out.append(stored)
            await asyncio.sleep(0)  # let the other tasks in between, even on the memory backend
        return out

    async def reader() -> None:
        while True:
            finished = writers_done.is_set()
            recent = await store.list_messages(owner, cid, MessageQuery(last=RECENT))
            watcher.check(recent, full=False, total=total)
            everything = await store.list_messages(owner, cid, MessageQuery())
            watcher.check(everything, full=True, total=total)
            if finished:
                return
            await asyncio.sleep(0.002)  # poll, leaving the writers room

    reading = asyncio.create_task(reader())
    results = await asyncio.gather(*(writer(w) for w in range(WRITERS)))
    writers_done.set()
    await reading

    final = await store.list_messages(owner, cid, MessageQuery())
    assert [m.seq for m in final] == list(range(1, total + 1))
    assert len({m.id for m in final}) == total
    by_id = {m.id: m for m in final}
    for w, mine in enumerate(results):
        seqs = [m.seq for m in mine]
        assert seqs == sorted(seqs), f"writer {w}'s messages are out of its order"
        assert [by_id[m.id].seq for m in mine] == seqs
        assert [m.id for m in final if m.sender == f"w{w}"] == [f"w{w}-{i:04d}" for i in range(PER_WRITER)]
    assert len(watcher.seen) == total  # the final snapshots saw everything, consistently
    assert watcher.partial_snapshots >= 3, "the reader never observed the history while it grew"
    got = await store.get_conversation(owner, cid)
    assert (got.message_count, got.last_seq) == (total, total)
    recent = await store.list_messages(owner, cid, MessageQuery(last=RECENT))
    assert [m.seq for m in recent] == list(range(total - RECENT + 1, total + 1))


PROCESSES = 4
PER_PROCESS = 100


def _location(backend: str, tmp_path: Path) -> str:
    if backend == "jsonfiles":
        return str(tmp_path / "ledger-json")
    return f"sqlite+aiosqlite:///{tmp_path}/ledger.db"


async def _create(backend: str, location: str, owner: str) -> str:
    store = open_backend_store(backend, location)
    await store.open()
    try:
        return (await store.create_conversation(owner, conv(name="multi-process"))).id
    finally:
        await store.close()


async def _read_all(
    backend: str, location: str, owner: str, cid: str
) -> tuple[list[MessageRecord], int, int]:
    store = open_backend_store(backend, location)
    await store.open()
    try:
        record = await store.get_conversation(owner, cid)
        return await store.list_messages(owner, cid, MessageQuery()), record.message_count, record.last_seq
    finally:
        await store.close()


@pytest.mark.parametrize("proc_backend", ["jsonfiles", "sqlite"])
def test_four_processes_append_gap_free(proc_backend: str, tmp_path: Path, owner: str) -> None:
    location = _location(proc_backend, tmp_path)
    cid = asyncio.run(_create(proc_backend, location, owner))
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=process_main, args=(proc_backend, location, owner, cid, w, PER_PROCESS, barrier, results)
        )
        for w in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    outcomes: dict[int, object] = {}
    try:
        for _ in range(PROCESSES):
            writer, outcome = results.get(timeout=120)
            outcomes[writer] = outcome
    except queue.Empty:
        pytest.fail(f"only {len(outcomes)} of {PROCESSES} writer processes reported")
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    errors = {w: o for w, o in outcomes.items() if isinstance(o, str)}
    assert not errors, f"writer processes failed: {errors}"

    total = PROCESSES * PER_PROCESS
    final, count, last_seq = asyncio.run(_read_all(proc_backend, location, owner, cid))
    assert [m.seq for m in final] == list(range(1, total + 1))
    assert (count, last_seq) == (total, total)
    assert len({m.id for m in final}) == total
    by_id = {m.id: m.seq for m in final}
    for w, pairs in outcomes.items():
        assert isinstance(pairs, list) and len(pairs) == PER_PROCESS
        assert [by_id[mid] for mid, _ in pairs] == [seq for _, seq in pairs]
        seqs = [seq for _, seq in pairs]
        assert seqs == sorted(seqs), f"process {w}'s messages are out of its order"
    # The processes really interleaved (each got seqs spread across the run, not one block).
    assert any(
        max(s for _, s in pairs) - min(s for _, s in pairs) >= PER_PROCESS for pairs in outcomes.values()
    )


def test_history_watcher_flags_rewritten_history() -> None:
    """The reader's checks catch what peers do under contention: a late commit with a lower seq,
    a gap in a full read, a seq that changes message."""

    def snap(*pairs: tuple[int, str]) -> list[MessageRecord]:
        return [msg(id=mid).model_copy(update={"seq": seq}) for seq, mid in pairs]

    w = HistoryWatcher()
    w.check(snap((1, "a"), (2, "b")), full=True, total=10)
    w.check(snap((2, "b"), (3, "c")), full=False, total=10)
    with pytest.raises(AssertionError, match="1..n"):
        HistoryWatcher().check(snap((1, "a"), (3, "c")), full=True, total=10)
    with pytest.raises(AssertionError, match="changed"):
        w.check(snap((1, "a"), (2, "x")), full=True, total=10)
    with pytest.raises(AssertionError, match="gap"):
        HistoryWatcher().check(snap((5, "e"), (7, "g")), full=False, total=10)
    late = HistoryWatcher()
    late.check(snap((5, "e"), (6, "f")), full=False, total=10)
    with pytest.raises(AssertionError, match="changed"):
        # A late commit slotted in before "e": everything after it moves.
        late.check(snap((5, "late"), (6, "e"), (7, "f")), full=False, total=10)
