"""The JSON-files store's event outbox: one append-only log per owner, committed with each change.

Layout (beside the owner's ``conversations/``)::

    <root>/<owner>/events.lock             held while an event transaction runs (innermost lock)
    <root>/<owner>/events.json             the head: {"last_id": N, "file": name, "bytes": committed}
    <root>/<owner>/events-<token>.jsonl    one event per line, id order, append-only

How a change and its events commit together (``EventTxn``), under the change's own locks and
then ``events.lock``:

1. the event lines are numbered from the head's ``last_id`` and written after the committed
   bytes of the log, then fsynced (not yet committed);
2. the change commits at its usual commit point, which also records ``event_seq`` = the id of
   its last event: ``conversation.json`` (a new conversation's is published by the directory
   rename), ``memory.json``, or, for a deletion, the rename that removes the directory;
3. the head is replaced atomically with the new byte count and ``last_id``.

A crash between 2 and 3 leaves lines past the committed bytes whose change did commit. The next
event transaction of the owner (which holds ``events.lock``, so nothing else of the owner can
have changed since) settles that tail first: it reads the tail's commit marker — the
``event_seq`` of the conversation or memory file named by the first line, or whether the
deleted directory is gone — and adopts the tail into the head when the change committed, or cuts
it off when it did not. Only the last transaction can be in doubt, so the tail is all one
transaction's lines. Events thus appear exactly when their change does, in commit order, with
ids 1, 2, 3, … per owner. Readers read the head and then only committed bytes (no lock).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import orjson
from filelock import FileLock

from convoledger.models.events import EventDraft, EventKind, EventRecord
from convoledger.models.timeutil import utcnow

#: Where a transaction's change commits (what recovery reads to tell whether it did):
#: the conversation's ``conversation.json``, its ``memory.json``, the removal of its directory,
#: or nothing but the head (a standalone ``append_event``).
CommitPoint = Literal["conversation", "memory", "deleted", "head"]


def read_json(path: Path) -> Any:
    """The parsed JSON file at ``path``, or ``None`` when it does not exist."""
    try:
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None


def read_head(odir: Path) -> dict[str, Any]:
    """The owner's event head (``{"last_id": 0, "file": None, "bytes": 0}`` when none)."""
    head = read_json(odir / "events.json")
    return head if isinstance(head, dict) else {"last_id": 0, "file": None, "bytes": 0}


def memory_event_seq(data: Any) -> int:
    """The ``event_seq`` recorded in a parsed ``memory.json`` (0 for the first layout, a plain
    ``{key: entry}`` object, which has none)."""
    if isinstance(data, dict) and data.get("format") == 2:
        return int(data.get("event_seq", 0))
    return 0


class EventTxn:
    """One owner's event transaction (see the module docstring); made by ``event_txn``."""

    def __init__(
        self,
        owner_id: str,
        odir: Path,
        conv_dir: Callable[[str], Path],
        write_atomic: Callable[[Path, bytes], None],
    ) -> None:
        self.owner_id = owner_id
        self.odir = odir
        self._conv_dir = conv_dir
        self._write_atomic = write_atomic
        self.head = read_head(odir)
        self.records: list[EventRecord] = []
        self._lines: list[bytes] = []
        self._staged = False

    @property
    def last_id(self) -> int:
        """The id of the newest event numbered so far (the head's when none was added)."""
        return self.records[-1].id if self.records else int(self.head["last_id"])

    def add(self, drafts: Sequence[EventDraft], commit: CommitPoint) -> list[EventRecord]:
        """Number ``drafts`` after the current last id; ``commit`` names where the change
        commits (recorded in every line for recovery)."""
        now = utcnow()
        out = []
        for draft in drafts:
            record = draft.numbered(self.owner_id, self.last_id + 1, now)
            self.records.append(record)
            line = record.model_dump(mode="json")
            line["commit"] = commit
            self._lines.append(orjson.dumps(line))
            out.append(record)
        return out

    def stage(self) -> None:
        """Write the numbered lines after the committed bytes and fsync them (step 1)."""
        if not self._lines:
            return
        name = self.head.get("file") or f"events-{secrets.token_hex(8)}.jsonl"
        committed = int(self.head.get("bytes", 0)) if self.head.get("file") else 0
        data = b"".join(line + b"\n" for line in self._lines)
        fd = os.open(self.odir / name, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            os.ftruncate(fd, committed)
            os.lseek(fd, committed, os.SEEK_SET)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        self._next_head = {"last_id": self.last_id, "file": name, "bytes": committed + len(data)}
        self._staged = True

    def commit(self) -> None:
        """Replace the head (step 3), after the change itself committed."""
        if self._staged:
            self._write_atomic(self.odir / "events.json", orjson.dumps(self._next_head))
            self.head = self._next_head
            self._staged = False
            self._lines = []

    # -- recovery -----------------------------------------------------------------------------
    def settle(self) -> None:
        """Adopt or cut an uncommitted tail left by a crashed transaction (module docstring)."""
        name = self.head.get("file")
        if not name:
            return
        path = self.odir / name
        committed = int(self.head.get("bytes", 0))
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return
        if size <= committed:
            return
        with open(path, "rb") as fh:
            fh.seek(committed)
            tail = fh.read()
        lines = tail.split(b"\n")
        complete = lines[:-1]  # the part after the last newline is an unfinished line
        if complete and not lines[-1] and self._committed(orjson.loads(complete[0])):
            last = orjson.loads(complete[-1])
            head = {"last_id": int(last["id"]), "file": name, "bytes": committed + len(tail)}
            self._write_atomic(self.odir / "events.json", orjson.dumps(head))
            self.head = head
        else:
            with open(path, "r+b") as fh:
                fh.truncate(committed)
                os.fsync(fh.fileno())

    def _committed(self, line: dict[str, Any]) -> bool:
        commit = line.get("commit")
        event_id = int(line["id"])
        cid = line.get("conversation_id")
        if commit == "head" or cid is None:
            return False
        cdir = self._conv_dir(cid)
        if commit == "deleted":
            return line.get("kind") == EventKind.CONVERSATION_DELETED and not cdir.exists()
        if commit == "memory":
            return memory_event_seq(read_json(cdir / "memory.json")) >= event_id
        doc = read_json(cdir / "conversation.json")
        return isinstance(doc, dict) and int(doc.get("event_seq", 0)) >= event_id


@contextlib.contextmanager
def event_txn(
    owner_id: str,
    odir: Path,
    conv_dir: Callable[[str], Path],
    write_atomic: Callable[[Path, bytes], None],
    timeout: float,
) -> Iterator[EventTxn]:
    """Hold ``odir/events.lock`` (the innermost lock), settle any in-doubt tail, and yield a
    transaction. On an error the tail is settled again before the lock is released, so a change
    that failed before its commit point leaves no events and one that failed after it keeps them."""
    with FileLock(odir / "events.lock", timeout=timeout, poll_interval=0.001):
        txn = EventTxn(owner_id, odir, conv_dir, write_atomic)
        txn.settle()
        try:
            yield txn
        except BaseException:
            txn.settle()
            raise
