"""``JsonFilesStore``: conversations as JSON files in a directory (``jsonfiles:///dir``).

The simple durable backend: no server, human-readable files, safe for several OS processes
writing the same root at once. Layout (every name from a caller is escaped by ``fs_name``)::

    <root>/_accounts.json                    accounts and API-key hashes, each key with its
                                             account, label and created_at (under _accounts.lock)
    <root>/<owner>/owner.lock                guards index.json, creation and deletion
    <root>/<owner>/index.json                {"session_id": {sid: id}, "session_key": {key: id},
                                              "branches": {parent id: {branch id: forked_at_seq}}}
    <root>/<owner>/locks/<id>.lock           one lock per conversation
    <root>/<owner>/conversations/<id>/
        conversation.json                    the commit record (see below)
        messages-<token>.jsonl               one message per line, seq order, append-only
        calls-<token>.jsonl                  provider calls, one per line, append-only
        memory.json                          {key: MemoryEntry}

``conversation.json`` is the commit point of a conversation. It holds the record, its lifecycle
events, and for each ``.jsonl`` log the file name and how many of its bytes are committed. An
append writes its lines at that offset (cutting any tail a crashed writer left), fsyncs, and then
atomically replaces ``conversation.json`` (write temp + fsync + ``os.replace`` + fsync of the
directory) with the new byte count and ``last_seq``. Readers read only committed bytes. So a batch
is all-or-nothing even across a crash (invariants 3 and 5), and ``seq`` order is commit order
(9). Rewrites (edit, redact, delete, pop, clear) write a whole new log under a new random name and
commit by pointing ``conversation.json`` at it; the old file is removed afterwards.

Concurrency: every operation on a conversation holds its ``filelock.FileLock`` (an OS lock, so
other processes wait too) and re-reads ``conversation.json`` under it, so ``seq`` is assigned from
the state on disk, never from a stale copy (invariant 2 across processes). Within one process,
tasks first queue on an ``asyncio.Lock`` per conversation (no polling) and the blocking file work
runs in a worker thread (``asyncio.to_thread``) so the event loop is never blocked. Owner-level
uniqueness (``session_id``/``session_key`` in ``index.json``) is checked and written under the
owner lock; the lock order is always owner, then conversation. Appends queued by tasks of one
process for the same conversation are committed together (group commit: one set of fsyncs for
many batches, each batch still atomic with consecutive seqs, in arrival order).

Cache without staleness: a log file's committed prefix never changes once written (rewrites use
a new file name), so the parsed lines of a log are cached per file name and only bytes beyond the
cached length are read, up to the committed length read from disk under the lock. A recent-N read
or an idempotency check therefore does not re-parse the whole history on every call.

Reads of listings, stats and the idle sweep read each ``conversation.json`` without a lock: the
file is only ever replaced atomically, so each read is a consistent snapshot.

Events (the outbox, issue 18): one append-only log per owner, committed together with each
change through the change's own commit point (``conversation.json``/``memory.json`` record the
``event_seq`` they commit; see ``jsonfiles_events``). ``memory.json`` is written as
``{"format": 2, "event_seq": N, "entries": {key: MemoryEntry}}``; the first layout (a plain
``{key: MemoryEntry}``) is still read.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import hashlib
import os
import secrets
import shutil
import threading
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
from filelock import FileLock

from convoledger.errors import Conflict, ConversationNotActive, NotFound
from convoledger.models import events as ev
from convoledger.models.events import EventDraft, EventRecord
from convoledger.models.records import (
    ConversationRecord,
    MemoryEntry,
    MessageRecord,
    ProviderCallRecord,
)
from convoledger.models.status import ConversationStatus, LifecycleEvent, make_transition
from convoledger.models.timeutil import ensure_utc, utcnow
from convoledger.store import lineage, outbox
from convoledger.store import querying as q
from convoledger.store.base import (
    UPDATABLE_CONVERSATION_FIELDS,
    Account,
    ApiKey,
    ConversationPage,
    ConversationQuery,
    MessageQuery,
    OwnerStats,
    Store,
)
from convoledger.store.jsonfiles_events import EventTxn, event_txn, read_head
from convoledger.store.outbox import EventQuery

T = TypeVar("T")


def _api_key(key_hash: str, entry: dict[str, Any]) -> ApiKey:
    """An ``ApiKey`` from its ``_accounts.json`` entry."""
    created_at = entry.get("created_at")
    return ApiKey(
        key_hash=key_hash,
        account=entry["account"],
        label=entry.get("label"),
        created_at=ensure_utc(created_at) if created_at else None,
    )


#: Version of the on-disk layout written into every ``conversation.json``.
LAYOUT_FORMAT = 1
_SAFE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")
_MAX_NAME = 120


def _escape(ch: str) -> str:
    return "".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))


def fs_name(value: str) -> str:
    """A file-system-safe, case-insensitive-safe directory/file name for a caller's string.

    Lower-case ASCII letters, digits, ``-`` and ``_`` (not leading) are kept; every other
    character (including ``.``, ``/``, ``\\``, upper case, spaces and non-ASCII) becomes ``%XX``
    per UTF-8 byte, so names cannot climb out of their directory, clash on case-insensitive file
    systems, or collide with the store's own files (``_*`` and ``.*`` at the root). Names longer
    than 120 characters are cut to 80 and suffixed with ``~`` and 32 hex digits of their SHA-256.
    ``ValueError`` for an empty string.
    """
    if not isinstance(value, str) or not value:
        raise ValueError(f"a name must be a non-empty string, got {value!r}")
    out = "".join(ch if ch in _SAFE_CHARS and (i or ch != "_") else _escape(ch) for i, ch in enumerate(value))
    if len(out) > _MAX_NAME:
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        out = f"{out[:80]}~{digest}"
    return out


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably: write a temp file beside it, fsync
    it, ``os.replace`` it over ``path``, fsync the directory. Readers see the old or the new file,
    never a mix; after a crash the file is one of the two."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _new_log_name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}.jsonl"


@dataclass
class _Log:
    """The parsed committed prefix of one append-only ``.jsonl`` log: raw lines, their ids and
    seqs (0 for logs without seq), and how many bytes were parsed."""

    size: int = 0
    lines: list[bytes] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)
    seqs: list[int] = field(default_factory=list)

    def add(self, line: bytes) -> None:
        data = orjson.loads(line)
        self.ids[data["id"]] = len(self.lines)
        self.seqs.append(int(data.get("seq", 0)))
        self.lines.append(line)
        self.size += len(line) + 1


class _LogCache:
    """Parsed log prefixes keyed by file path (LRU, ``capacity`` files). Safe because a log's
    committed prefix never changes under the same name; callers hold the conversation lock."""

    def __init__(self, capacity: int = 64) -> None:
        self._entries: OrderedDict[str, _Log] = OrderedDict()
        self._capacity = capacity
        self._mutex = threading.Lock()

    def load(self, conv_dir: Path, ref: dict[str, Any]) -> _Log:
        """The log described by ``ref`` = ``{"file": name | None, "bytes": committed}``."""
        if not ref.get("file"):
            return _Log()
        path = str(conv_dir / ref["file"])
        committed = int(ref["bytes"])
        with self._mutex:
            log = self._entries.get(path)
            if log is not None:
                self._entries.move_to_end(path)
        if log is None or log.size > committed:
            log = _Log()
        if log.size < committed:
            with open(path, "rb") as fh:
                fh.seek(log.size)
                chunk = fh.read(committed - log.size)
            if len(chunk) != committed - log.size or not chunk.endswith(b"\n"):
                raise OSError(f"log {path} is shorter than its committed length {committed}")
            for line in chunk[:-1].split(b"\n"):
                log.add(line)
        self.put(path, log)
        return log

    def put(self, path: str, log: _Log) -> None:
        with self._mutex:
            self._entries[path] = log
            self._entries.move_to_end(path)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def drop(self, path: str) -> None:
        with self._mutex:
            self._entries.pop(path, None)


@dataclass
class _Doc:
    """A conversation's commit record as read from ``conversation.json``."""

    record: ConversationRecord
    events: list[dict[str, Any]]
    messages: dict[str, Any]
    calls: dict[str, Any]
    event_seq: int = 0  # the id of the last outbox event this commit recorded

    def to_bytes(self) -> bytes:
        return _dumps(
            {
                "format": LAYOUT_FORMAT,
                "record": self.record.model_dump(mode="json"),
                "events": self.events,
                "messages": self.messages,
                "calls": self.calls,
                "event_seq": self.event_seq,
            }
        )

    @classmethod
    def parse(cls, data: bytes) -> _Doc:
        raw = orjson.loads(data)
        return cls(
            record=ConversationRecord.model_validate(raw["record"]),
            events=raw.get("events", []),
            messages=raw.get("messages", {"file": None, "bytes": 0}),
            calls=raw.get("calls", {"file": None, "bytes": 0}),
            event_seq=int(raw.get("event_seq", 0)),
        )


def _settle(futures: list[asyncio.Future[list[MessageRecord]]], work: asyncio.Future[Any]) -> None:
    """Hand each waiting caller of a group commit its own result, or the commit's error."""
    error = work.exception() if not work.cancelled() else asyncio.CancelledError()
    for i, fut in enumerate(futures):
        if fut.done():
            continue
        if error is not None:
            fut.set_exception(error)
        else:
            fut.set_result(work.result()[i])


def _msg_line(msg: MessageRecord) -> bytes:
    return _dumps(msg.model_dump(mode="json"))


def _parse_msg(line: bytes) -> MessageRecord:
    return MessageRecord.model_validate(orjson.loads(line))


class JsonFilesStore(Store):
    """The JSON-files ``Store`` (see the module docstring for layout, commit and locking).

    ``JsonFilesStore(root)``: ``root`` is a directory (created by ``open`` if missing).
    ``lock_timeout`` (seconds) bounds each wait for a file lock; ``filelock.Timeout`` is raised
    past it. Conversation ids are unique per owner; message ids per conversation.
    """

    def __init__(self, root: str | Path, *, lock_timeout: float = 60.0) -> None:
        self.root = Path(root)
        self.lock_timeout = lock_timeout
        self._cache = _LogCache()
        self._task_locks: weakref.WeakValueDictionary[tuple[str, ...], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._pending: dict[tuple[str, str], list[tuple[list[MessageRecord], asyncio.Future[Any]]]] = {}

    # -- paths and locks ------------------------------------------------------------------------
    def _owner_dir(self, owner_id: str) -> Path:
        q.check_owner(owner_id)
        return self.root / fs_name(owner_id)

    def _conv_dir(self, owner_id: str, conversation_id: str) -> Path:
        return self._owner_dir(owner_id) / "conversations" / fs_name(conversation_id)

    def _file_lock(self, path: Path) -> FileLock:
        # A fresh FileLock per acquisition: its own file descriptor, so flock() excludes other
        # threads of this process as well as other processes. Poll briefly: waits are short.
        return FileLock(path, timeout=self.lock_timeout, poll_interval=0.001)

    def _task_lock(self, *key: str) -> asyncio.Lock:
        lock = self._task_locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._task_locks[key] = lock
        return lock

    @contextlib.asynccontextmanager
    async def _queued(self, *keys: tuple[str, ...]) -> AsyncIterator[None]:
        """Hold the in-process task locks for ``keys`` in order (owner before conversation)."""
        async with contextlib.AsyncExitStack() as stack:
            for key in keys:
                await stack.enter_async_context(self._task_lock(*key))
            yield

    @contextlib.contextmanager
    def _owner_locked(self, owner_id: str, *, create: bool) -> Iterator[Path]:
        odir = self._owner_dir(owner_id)
        if create and not (odir / "locks").is_dir():
            self.root.mkdir(parents=True, exist_ok=True)
            (odir / "conversations").mkdir(parents=True, exist_ok=True)
            (odir / "locks").mkdir(exist_ok=True)
            _fsync_dir(odir)
            _fsync_dir(self.root)  # the new owner directory survives a crash
        elif not odir.is_dir():
            raise NotFound(f"owner {owner_id!r} has no conversations")
        with self._file_lock(odir / "owner.lock"):
            yield odir

    @contextlib.contextmanager
    def _conv_locked(self, owner_id: str, conversation_id: str) -> Iterator[Path]:
        cdir = self._conv_dir(owner_id, conversation_id)
        if not cdir.is_dir():
            raise NotFound(f"conversation {conversation_id!r} not found")
        with self._file_lock(self._owner_dir(owner_id) / "locks" / f"{fs_name(conversation_id)}.lock"):
            yield cdir

    async def _run_conv(self, owner_id: str, conversation_id: str, fn: Callable[[Path], T]) -> T:
        """Run ``fn(conv_dir)`` in a worker thread under the conversation's locks."""
        q.check_owner(owner_id)

        def work() -> T:
            with self._conv_locked(owner_id, conversation_id) as cdir:
                return fn(cdir)

        async with self._queued(("c", owner_id, conversation_id)):
            return await asyncio.to_thread(work)

    async def _run_owner(
        self,
        owner_id: str,
        fn: Callable[[Path], T],
        *,
        create: bool = False,
        conversation_id: str | None = None,
    ) -> T:
        """Run ``fn(owner_dir)`` in a worker thread under the owner's locks (and the
        conversation's, after the owner's, when ``conversation_id`` is given)."""
        q.check_owner(owner_id)

        def work() -> T:
            with self._owner_locked(owner_id, create=create) as odir:
                if conversation_id is None:
                    return fn(odir)
                with self._conv_locked(owner_id, conversation_id):
                    return fn(odir)

        keys: list[tuple[str, ...]] = [("o", owner_id)]
        if conversation_id is not None:
            keys.append(("c", owner_id, conversation_id))
        async with self._queued(*keys):
            return await asyncio.to_thread(work)

    # -- events ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _event_txn(self, owner_id: str, odir: Path) -> Iterator[EventTxn]:
        """An event transaction of ``owner_id`` (``jsonfiles_events.event_txn``); listeners are
        told after it ends, when it wrote events."""
        with event_txn(
            owner_id, odir, lambda cid: odir / "conversations" / fs_name(cid), write_atomic, self.lock_timeout
        ) as txn:
            yield txn
        if txn.records:
            self._events_committed(owner_id)

    def _commit_doc(self, owner_id: str, cdir: Path, doc: _Doc, drafts: Sequence[EventDraft]) -> None:
        """Commit ``doc`` (its ``conversation.json``) together with the events ``drafts``."""
        with self._event_txn(owner_id, cdir.parent.parent) as txn:
            txn.add(outbox.annotate(drafts), "conversation")
            txn.stage()
            doc.event_seq = txn.last_id
            self._write_doc(cdir, doc)
            txn.commit()

    # -- documents ------------------------------------------------------------------------------
    @staticmethod
    def _read_doc(cdir: Path) -> _Doc:
        try:
            data = (cdir / "conversation.json").read_bytes()
        except FileNotFoundError:
            raise NotFound(f"conversation in {cdir.name!r} not found") from None
        return _Doc.parse(data)

    @staticmethod
    def _write_doc(cdir: Path, doc: _Doc) -> None:
        write_atomic(cdir / "conversation.json", doc.to_bytes())

    def _read_index(self, odir: Path) -> dict[str, dict[str, Any]]:
        try:
            data = orjson.loads((odir / "index.json").read_bytes())
        except FileNotFoundError:
            data = {}
        return {
            "session_id": data.get("session_id", {}),
            "session_key": data.get("session_key", {}),
            "branches": data.get("branches", {}),
        }

    def _branch_points(self, odir: Path, conversation_id: str) -> list[tuple[str, int]]:
        """``(branch id, forked_at_seq)`` of the conversation's direct branches, from the index;
        an entry counts only if that branch exists and still names this parent (an entry left
        by an interrupted fork is ignored). Lock-free: ``index.json`` is replaced atomically, and
        a fork holds the parent's lock while it indexes and publishes the branch."""
        out = []
        for bid in self._read_index(odir)["branches"].get(conversation_id, {}):
            try:
                doc = self._read_doc(odir / "conversations" / fs_name(bid))
            except NotFound:
                continue
            if doc.record.parent_id == conversation_id and doc.record.forked_at_seq is not None:
                out.append((bid, doc.record.forked_at_seq))
        return out

    def _as_branch(
        self, odir: Path, record: ConversationRecord, own: Sequence[MessageRecord]
    ) -> ConversationRecord:
        """The branch ``record`` checked against its parent and counted (``store/lineage.py``).
        Called under the owner lock and the parent's lock."""
        assert record.parent_id is not None and record.forked_at_seq is not None
        lineage.check_own_seqs(record, own)

        def get(cid: str) -> ConversationRecord:
            return self._read_doc(odir / "conversations" / fs_name(cid)).record

        def own_above(conv: ConversationRecord, seq: int) -> int:
            cdir = odir / "conversations" / fs_name(conv.id)
            seqs = self._cache.load(cdir, self._read_doc(cdir).messages).seqs
            return sum(1 for s in seqs if s > seq)

        parent = get(record.parent_id)
        lineage.check_chain_depth(parent, get)
        lineage.check_fork_point(parent, record.forked_at_seq)
        inherited = lineage.visible_upto(parent, record.forked_at_seq, get, own_above)
        return lineage.branch_record(record, parent, inherited, own)

    async def list_branches(self, owner_id: str, conversation_id: str) -> list[ConversationRecord]:
        """See ``Store.list_branches`` (from the owner's branch index)."""

        def fn(cdir: Path) -> list[ConversationRecord]:
            odir = cdir.parent.parent
            found = [
                self._read_doc(odir / "conversations" / fs_name(bid)).record
                for bid, _ in self._branch_points(odir, conversation_id)
            ]
            return sorted(found, key=lambda r: (r.created_at, r.id))

        return await self._run_conv(owner_id, conversation_id, fn)

    def _index_holder(
        self, odir: Path, index: dict[str, dict[str, str]], kind: str, value: str
    ) -> str | None:
        """The id of the conversation that really holds ``kind = value``, or ``None``. An index
        entry counts only if that conversation exists and still has the value (entries left by
        an interrupted write are ignored)."""
        cid = index[kind].get(value)
        if cid is None:
            return None
        try:
            doc = self._read_doc(odir / "conversations" / fs_name(cid))
        except NotFound:
            return None
        return cid if getattr(doc.record, kind) == value else None

    def _scan(self, odir: Path) -> list[ConversationRecord]:
        """Every conversation record of one owner directory (lock-free consistent snapshots)."""
        out: list[ConversationRecord] = []
        try:
            names = os.listdir(odir / "conversations")
        except FileNotFoundError:
            return out
        for name in names:
            if name.startswith("."):
                continue
            with contextlib.suppress(NotFound, NotADirectoryError):
                out.append(self._read_doc(odir / "conversations" / name).record)
        return out

    # -- lifetime -------------------------------------------------------------------------------
    async def open(self) -> None:
        """Create the root directory if missing (idempotent)."""
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)

    # -- accounts -------------------------------------------------------------------------------
    async def _accounts(self, fn: Callable[[dict[str, Any]], tuple[T, bool]]) -> T:
        """Run ``fn(data)`` on ``_accounts.json`` under its lock; write back when it says so."""

        def work() -> T:
            self.root.mkdir(parents=True, exist_ok=True)
            path = self.root / "_accounts.json"
            with self._file_lock(self.root / "_accounts.lock"):
                try:
                    data = orjson.loads(path.read_bytes())
                except FileNotFoundError:
                    data = {"accounts": {}, "keys": {}}
                result, changed = fn(data)
                if changed:
                    write_atomic(path, _dumps(data))
                return result

        async with self._queued(("accounts",)):
            return await asyncio.to_thread(work)

    async def ensure_account(self, name: str) -> Account:
        """See ``Store.ensure_account``."""
        q.check_owner(name)

        def fn(data: dict[str, Any]) -> tuple[Account, bool]:
            entry = data["accounts"].get(name)
            changed = entry is None
            if entry is None:
                entry = data["accounts"][name] = {"created_at": utcnow().isoformat()}
            return Account(name=name, created_at=ensure_utc(entry["created_at"])), changed

        return await self._accounts(fn)

    async def add_api_key(self, account: str, key_hash: str, label: str | None = None) -> None:
        """See ``Store.add_api_key``. ``Conflict`` if the hash is bound to another account."""
        if not isinstance(key_hash, str) or not key_hash:
            raise ValueError("key_hash must be a non-empty string")

        def fn(data: dict[str, Any]) -> tuple[None, bool]:
            if account not in data["accounts"]:
                raise NotFound(f"account {account!r} not found")
            bound = data["keys"].get(key_hash)
            if bound is not None and bound["account"] != account:
                raise Conflict("this API key is already bound to another account")
            created_at = bound.get("created_at") if bound is not None else None
            data["keys"][key_hash] = {
                "account": account,
                "label": label,
                "created_at": created_at or utcnow().isoformat(),
            }
            return None, True

        await self._accounts(fn)

    async def account_for_key(self, key_hash: str) -> Account | None:
        """See ``Store.account_for_key``."""

        def fn(data: dict[str, Any]) -> tuple[Account | None, bool]:
            bound = data["keys"].get(key_hash)
            if bound is None or bound["account"] not in data["accounts"]:
                return None, False
            name = bound["account"]
            return Account(name=name, created_at=ensure_utc(data["accounts"][name]["created_at"])), False

        return await self._accounts(fn)

    async def list_api_keys(self, account: str | None = None, *, key_hash_prefix: str = "") -> list[ApiKey]:
        """See ``Store.list_api_keys`` (a key recorded before keys had a time has
        ``created_at=None``)."""
        q.check_key_hash_prefix(key_hash_prefix)

        def fn(data: dict[str, Any]) -> tuple[list[ApiKey], bool]:
            found = [
                _api_key(key_hash, entry)
                for key_hash, entry in data["keys"].items()
                if (account is None or entry["account"] == account) and key_hash.startswith(key_hash_prefix)
            ]
            return sorted(found, key=q.api_key_order), False

        return await self._accounts(fn)

    async def delete_api_key(self, key_hash: str) -> ApiKey:
        """See ``Store.delete_api_key``."""

        def fn(data: dict[str, Any]) -> tuple[ApiKey, bool]:
            entry = data["keys"].pop(key_hash, None)
            if entry is None:
                raise NotFound("no API key has this hash")
            return _api_key(key_hash, entry), True

        return await self._accounts(fn)

    # -- conversations --------------------------------------------------------------------------
    async def create_conversation(
        self, owner_id: str, conversation: ConversationRecord
    ) -> ConversationRecord:
        """See ``Store.create_conversation`` (a record with ``parent_id`` is a fork: see
        ``import_conversation``)."""
        if conversation.parent_id is not None:
            return await self.import_conversation(owner_id, conversation, [])
        record = q.prepare_conversation(owner_id, conversation)

        def fill(tmp: Path) -> _Doc:
            return _Doc(record, [], {"file": None, "bytes": 0}, {"file": None, "bytes": 0})

        return await self._run_owner(
            owner_id,
            lambda odir: self._publish(owner_id, odir, record, fill, ev.conversation_created_event(record)),
            create=True,
        )

    async def import_conversation(
        self,
        owner_id: str,
        conversation: ConversationRecord,
        messages: Sequence[MessageRecord],
        *,
        events: Sequence[LifecycleEvent] = (),
        memory: Sequence[MemoryEntry] = (),
        provider_calls: Sequence[ProviderCallRecord] = (),
    ) -> ConversationRecord:
        """See ``Store.import_conversation``: the whole conversation directory is built aside and
        published with one rename (all or nothing)."""
        bundle = q.prepare_import(owner_id, conversation, messages, events, memory, provider_calls)
        record = bundle.conversation
        if record.parent_id is not None:
            lineage.check_own_seqs(record, bundle.messages)

        def fill(tmp: Path) -> _Doc:
            doc = _Doc(
                record,
                [e.model_dump(mode="json") for e in bundle.events],
                {"file": None, "bytes": 0},
                {"file": None, "bytes": 0},
            )
            if bundle.messages:
                doc.messages = self._append_lines(
                    tmp, doc.messages, "messages", [_msg_line(m) for m in bundle.messages]
                )
            if bundle.provider_calls:
                doc.calls = self._append_lines(
                    tmp,
                    doc.calls,
                    "calls",
                    [_dumps(c.model_dump(mode="json")) for c in bundle.provider_calls],
                )
            if bundle.memory:
                write_atomic(
                    tmp / "memory.json", _dumps({e.key: e.model_dump(mode="json") for e in bundle.memory})
                )
            return doc

        if record.parent_id is None:
            return await self._run_owner(
                owner_id,
                lambda odir: self._publish(
                    owner_id, odir, record, fill, ev.conversation_created_event(record, imported=True)
                ),
                create=True,
            )

        def fork(odir: Path) -> ConversationRecord:
            nonlocal record
            record = self._as_branch(odir, record, bundle.messages)
            return self._publish(
                owner_id, odir, record, fill, ev.conversation_created_event(record, imported=True)
            )

        # The parent's lock (taken after the owner's) keeps removals of the shared messages out
        # until the branch is indexed and published.
        return await self._run_owner(owner_id, fork, conversation_id=record.parent_id)

    def _publish(
        self,
        owner_id: str,
        odir: Path,
        record: ConversationRecord,
        fill: Callable[[Path], _Doc],
        created: EventDraft,
    ) -> ConversationRecord:
        """Create conversation ``record`` under the owner lock: check that its id, session_id and
        session_key are free (``Conflict``), index its keys, build its directory aside with
        ``fill(tmp_dir)`` (which returns the commit record) and publish it with one rename."""
        convs = odir / "conversations"
        final = convs / fs_name(record.id)
        if final.exists():
            raise Conflict(f"conversation {record.id!r} already exists")
        index = self._read_index(odir)
        for kind in ("session_id", "session_key"):
            value = getattr(record, kind)
            if value is not None and self._index_holder(odir, index, kind, value) is not None:
                raise Conflict(f"{kind} {value!r} is already used by another conversation")
        tmp = convs / f".new-{secrets.token_hex(8)}"
        tmp.mkdir()
        try:
            doc = fill(tmp)
            with self._event_txn(owner_id, odir) as txn:
                txn.add(outbox.annotate([created]), "conversation")
                txn.stage()
                doc.event_seq = txn.last_id
                write_atomic(tmp / "conversation.json", doc.to_bytes())
                # Index before publishing: an entry without its conversation is ignored by
                # _index_holder, while a conversation missing from the index could be duplicated.
                changed = False
                for kind in ("session_id", "session_key"):
                    value = getattr(record, kind)
                    if value is not None:
                        index[kind][value] = record.id
                        changed = True
                if record.parent_id is not None:
                    index["branches"].setdefault(record.parent_id, {})[record.id] = record.forked_at_seq
                    changed = True
                if changed:
                    write_atomic(odir / "index.json", _dumps(index))
                os.rename(tmp, final)  # the commit point of the conversation and its event
                _fsync_dir(convs)
                txn.commit()
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return record

    async def get_conversation(self, owner_id: str, conversation_id: str) -> ConversationRecord:
        """See ``Store.get_conversation``."""
        return await self._run_conv(owner_id, conversation_id, lambda cdir: self._read_doc(cdir).record)

    async def find_conversation(
        self, owner_id: str, *, session_id: str | None = None, session_key: str | None = None
    ) -> ConversationRecord | None:
        """See ``Store.find_conversation``. ``ValueError`` unless exactly one key is given."""
        if (session_id is None) == (session_key is None):
            raise ValueError("give exactly one of session_id or session_key")
        kind, value = ("session_id", session_id) if session_id is not None else ("session_key", session_key)
        assert value is not None

        def fn(odir: Path) -> ConversationRecord | None:
            cid = self._index_holder(odir, self._read_index(odir), kind, value)
            return None if cid is None else self._read_doc(odir / "conversations" / fs_name(cid)).record

        try:
            return await self._run_owner(owner_id, fn)
        except NotFound:
            return None

    async def list_conversations(self, owner_id: str, query: ConversationQuery) -> ConversationPage:
        """See ``Store.list_conversations`` (scans the owner's conversation files)."""
        q.check_conversation_query(query)
        odir = self._owner_dir(owner_id)
        records = await asyncio.to_thread(self._scan, odir)
        return q.page_conversations(records, query)

    async def update_conversation(
        self, owner_id: str, conversation_id: str, changes: dict[str, Any]
    ) -> ConversationRecord:
        """See ``Store.update_conversation``."""
        q.check_changes(changes, UPDATABLE_CONVERSATION_FIELDS, "conversation")

        def fn(odir: Path) -> ConversationRecord:
            cdir = odir / "conversations" / fs_name(conversation_id)
            doc = self._read_doc(cdir)
            updated = q.apply_conversation_changes(doc.record, changes, utcnow())
            old_sid, new_sid = doc.record.session_id, updated.session_id
            if new_sid != old_sid:
                index = self._read_index(odir)
                if new_sid is not None:
                    holder = self._index_holder(odir, index, "session_id", new_sid)
                    if holder is not None and holder != conversation_id:
                        raise Conflict(f"session_id {new_sid!r} is already used by another conversation")
                    index["session_id"][new_sid] = conversation_id
                    write_atomic(odir / "index.json", _dumps(index))
            doc.record = updated
            self._commit_doc(owner_id, cdir, doc, [ev.conversation_updated_event(conversation_id, changes)])
            if new_sid != old_sid and old_sid is not None:
                index = self._read_index(odir)
                if index["session_id"].get(old_sid) == conversation_id:
                    del index["session_id"][old_sid]
                    write_atomic(odir / "index.json", _dumps(index))
            return updated

        return await self._run_owner(owner_id, fn, conversation_id=conversation_id)

    async def delete_conversation(self, owner_id: str, conversation_id: str) -> None:
        """See ``Store.delete_conversation``: the directory (messages, events, memory, calls)
        is renamed away atomically, then its index entries and files are removed."""

        def fn(odir: Path) -> None:
            cdir = odir / "conversations" / fs_name(conversation_id)
            doc = self._read_doc(cdir)
            lineage.check_deletable(conversation_id, self._branch_points(odir, conversation_id))
            trash = cdir.with_name(f".trash-{secrets.token_hex(8)}")
            with self._event_txn(owner_id, odir) as txn:
                txn.add(outbox.annotate([ev.conversation_deleted_event(conversation_id)]), "deleted")
                txn.stage()
                os.rename(cdir, trash)  # the commit point of the deletion and its event
                _fsync_dir(cdir.parent)
                txn.commit()
            index = self._read_index(odir)
            changed = False
            for kind in ("session_id", "session_key"):
                value = getattr(doc.record, kind)
                if value is not None and index[kind].get(value) == conversation_id:
                    del index[kind][value]
                    changed = True
            siblings = index["branches"].get(doc.record.parent_id or "", {})
            if conversation_id in siblings:
                del siblings[conversation_id]
                if not siblings:
                    del index["branches"][doc.record.parent_id or ""]
                changed = True
            index["branches"].pop(conversation_id, None)
            if changed:
                write_atomic(odir / "index.json", _dumps(index))
            for name in (doc.messages.get("file"), doc.calls.get("file")):
                if name:
                    self._cache.drop(str(cdir / name))
            shutil.rmtree(trash, ignore_errors=True)

        await self._run_owner(owner_id, fn, conversation_id=conversation_id)

    async def transition(
        self,
        owner_id: str,
        conversation_id: str,
        target: ConversationStatus,
        *,
        reason: str | None = None,
        actor: str | None = None,
    ) -> tuple[ConversationRecord, LifecycleEvent]:
        """See ``Store.transition``: checked and committed under the conversation's lock."""

        def fn(cdir: Path) -> tuple[ConversationRecord, LifecycleEvent]:
            doc = self._read_doc(cdir)
            now = utcnow()
            event = make_transition(
                conversation_id, doc.record.status, target, reason=reason, actor=actor, at=now
            )
            doc.record = doc.record.model_copy(update={"status": event.to_status, "updated_at": now})
            doc.events.append(event.model_dump(mode="json"))
            self._commit_doc(owner_id, cdir, doc, [ev.lifecycle_event(event)])
            return doc.record, event

        return await self._run_conv(owner_id, conversation_id, fn)

    async def list_lifecycle_events(self, owner_id: str, conversation_id: str) -> list[LifecycleEvent]:
        """See ``Store.list_lifecycle_events``."""

        def fn(cdir: Path) -> list[LifecycleEvent]:
            return [LifecycleEvent.model_validate(e) for e in self._read_doc(cdir).events]

        return await self._run_conv(owner_id, conversation_id, fn)

    # -- messages -------------------------------------------------------------------------------
    def _append_lines(
        self, cdir: Path, ref: dict[str, Any], prefix: str, lines: list[bytes]
    ) -> dict[str, Any]:
        """Write ``lines`` after the committed bytes of log ``ref`` (creating the log when it has
        none), fsync, and return the new ref. Not committed until ``conversation.json`` is."""
        name = ref.get("file") or _new_log_name(prefix)
        committed = int(ref.get("bytes", 0)) if ref.get("file") else 0
        path = cdir / name
        data = b"".join(line + b"\n" for line in lines)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            os.ftruncate(fd, committed)  # drop any uncommitted tail a crashed writer left
            os.lseek(fd, committed, os.SEEK_SET)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if not ref.get("file"):
            _fsync_dir(cdir)
        return {"file": name, "bytes": committed + len(data)}

    def _rewrite_messages(
        self, owner_id: str, cdir: Path, doc: _Doc, lines: list[bytes], drafts: Sequence[EventDraft]
    ) -> _Log:
        """Commit ``lines`` as the conversation's whole message log (a new file, or none),
        with the events ``drafts``."""
        old = doc.messages.get("file")
        log = _Log()
        if lines:
            doc.messages = self._append_lines(cdir, {"file": None, "bytes": 0}, "messages", lines)
            for line in lines:
                log.add(line)
        else:
            doc.messages = {"file": None, "bytes": 0}
        self._commit_doc(owner_id, cdir, doc, drafts)
        if old:
            self._cache.drop(str(cdir / old))
            with contextlib.suppress(FileNotFoundError):
                os.unlink(cdir / old)
        if doc.messages["file"]:
            self._cache.put(str(cdir / doc.messages["file"]), log)
        return log

    async def append_messages(
        self,
        owner_id: str,
        conversation_id: str,
        messages: Sequence[MessageRecord],
        token_counts: Sequence[int | None] | None = None,
    ) -> list[MessageRecord]:
        """See ``Store.append_messages``: validated first, then seq assigned from the state on
        disk under the conversation's file lock, and committed in one ``conversation.json``
        replace.

        Group commit: batches that tasks of this process submit for the same conversation while
        a commit is in progress wait in a queue; the next task to get the lock commits all of
        them at once, in arrival order (one set of fsyncs for many appends). Each batch stays
        atomic and gets consecutive seqs; every caller gets its own batch's result.
        """
        batch = q.prepare_batch(conversation_id, q.with_token_counts(messages, token_counts))
        q.check_owner(owner_id)
        key = (owner_id, conversation_id)
        mine: asyncio.Future[list[MessageRecord]] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(key, []).append((batch, mine))
        async with self._queued(("c", owner_id, conversation_id)):
            # Done already: an earlier holder committed our batch with its group. Else our
            # batch is still pending, and we commit it with everything queued behind it.
            group = [] if mine.done() else self._pending.pop(key, [])
            if group:
                work = asyncio.ensure_future(
                    asyncio.to_thread(self._commit_group, owner_id, conversation_id, [b for b, _ in group])
                )
                work.add_done_callback(functools.partial(_settle, [f for _, f in group]))
                # wait() neither raises the commit's error here (each caller gets it from its
                # own future) nor cancels the commit if this task is cancelled.
                await asyncio.wait({work})
        return await mine

    def _commit_group(
        self, owner_id: str, conversation_id: str, batches: list[list[MessageRecord]]
    ) -> list[list[MessageRecord]]:
        """Append ``batches`` (in order) under the conversation's file lock; one commit."""
        with self._conv_locked(owner_id, conversation_id) as cdir:
            doc = self._read_doc(cdir)
            if not doc.record.is_active:
                raise ConversationNotActive(
                    f"conversation {conversation_id!r} is {doc.record.status.value}; appends need 'active'"
                )
            log = self._cache.load(cdir, doc.messages)
            results: list[list[MessageRecord]] = []
            new: list[MessageRecord] = []
            fresh: dict[str, MessageRecord] = {}
            seq = doc.record.last_seq
            for batch in batches:
                result: list[MessageRecord] = []
                for msg in batch:
                    at = log.ids.get(msg.id)
                    if at is not None:
                        result.append(_parse_msg(log.lines[at]))
                    elif msg.id in fresh:  # an earlier batch of this group stored it
                        result.append(fresh[msg.id].model_copy(deep=True))
                    else:
                        seq += 1
                        stored = msg.model_copy(update={"seq": seq})
                        fresh[msg.id] = stored
                        new.append(stored)
                        result.append(stored)
                results.append(result)
            if not new:
                return results
            lines = [_msg_line(m) for m in new]
            doc.messages = self._append_lines(cdir, doc.messages, "messages", lines)
            doc.record = q.conversation_after_append(doc.record, new, utcnow())
            # the commit point
            self._commit_doc(owner_id, cdir, doc, [ev.message_appended_event(m) for m in new])
            self._cache.load(cdir, doc.messages)  # caches just the new lines
            return results

    async def get_message(self, owner_id: str, conversation_id: str, message_id: str) -> MessageRecord:
        """See ``Store.get_message``."""

        def fn(cdir: Path) -> MessageRecord:
            log = self._cache.load(cdir, self._read_doc(cdir).messages)
            return _parse_msg(log.lines[self._index_of(log, message_id, conversation_id)])

        return await self._run_conv(owner_id, conversation_id, fn)

    @staticmethod
    def _index_of(log: _Log, message_id: str, conversation_id: str) -> int:
        at = log.ids.get(message_id)
        if at is None:
            raise NotFound(f"message {message_id!r} not found in conversation {conversation_id!r}")
        return at

    async def list_messages(
        self, owner_id: str, conversation_id: str, query: MessageQuery
    ) -> list[MessageRecord]:
        """See ``Store.list_messages`` (recent-N parses only the lines it needs)."""
        q.check_message_query(query)

        def fn(cdir: Path) -> list[MessageRecord]:
            log = self._cache.load(cdir, self._read_doc(cdir).messages)
            return q.select_messages(log.seqs, lambda i: _parse_msg(log.lines[i]), query)

        return await self._run_conv(owner_id, conversation_id, fn)

    async def count_messages(self, owner_id: str, conversation_id: str, query: MessageQuery) -> int:
        """See ``Store.count_messages`` (filters only; the window is ignored)."""
        matches = q.message_filter(query)

        def fn(cdir: Path) -> int:
            log = self._cache.load(cdir, self._read_doc(cdir).messages)
            return sum(1 for line in log.lines if matches(_parse_msg(line)))

        return await self._run_conv(owner_id, conversation_id, fn)

    async def _change_message(
        self,
        owner_id: str,
        conversation_id: str,
        message_id: str,
        change: Callable[[MessageRecord], MessageRecord],
        event: Callable[[MessageRecord], EventDraft],
    ) -> MessageRecord:
        def fn(cdir: Path) -> MessageRecord:
            doc = self._read_doc(cdir)
            log = self._cache.load(cdir, doc.messages)
            at = self._index_of(log, message_id, conversation_id)
            changed = change(_parse_msg(log.lines[at]))
            lines = list(log.lines)
            lines[at] = _msg_line(changed)
            self._rewrite_messages(owner_id, cdir, doc, lines, [event(changed)])
            return changed

        return await self._run_conv(owner_id, conversation_id, fn)

    async def edit_message(
        self, owner_id: str, conversation_id: str, message_id: str, changes: dict[str, Any]
    ) -> MessageRecord:
        """See ``Store.edit_message``."""
        q.check_changes(changes, q.EDITABLE_MESSAGE_FIELDS, "message")
        return await self._change_message(
            owner_id,
            conversation_id,
            message_id,
            lambda m: q.apply_message_changes(m, changes, utcnow()),
            lambda m: ev.message_edited_event(m, changes),
        )

    async def redact_message(
        self, owner_id: str, conversation_id: str, message_id: str, marker: str = "[redacted]"
    ) -> MessageRecord:
        """See ``Store.redact_message``."""
        if not isinstance(marker, str):
            raise ValueError(f"redaction marker must be a string, got {type(marker).__name__}")
        return await self._change_message(
            owner_id,
            conversation_id,
            message_id,
            lambda m: q.redacted_copy(m, marker, utcnow()),
            ev.message_redacted_event,
        )

    def _check_removal(self, cdir: Path, conversation_id: str, lowest_seq: int | None) -> None:
        """``Conflict`` when a branch shares the messages from ``lowest_seq`` up."""
        if lowest_seq is not None:
            lineage.check_removal(
                conversation_id, self._branch_points(cdir.parent.parent, conversation_id), lowest_seq
            )

    def _remove_messages(
        self, owner_id: str, cdir: Path, doc: _Doc, log: _Log, drop: set[int], drafts: Sequence[EventDraft]
    ) -> None:
        lines = [line for i, line in enumerate(log.lines) if i not in drop]
        doc.record = doc.record.model_copy(
            update={"message_count": doc.record.message_count - len(drop), "updated_at": utcnow()}
        )
        self._rewrite_messages(owner_id, cdir, doc, lines, drafts)

    async def delete_message(self, owner_id: str, conversation_id: str, message_id: str) -> None:
        """See ``Store.delete_message`` (``last_seq`` stays: seq is never reused)."""

        def fn(cdir: Path) -> None:
            doc = self._read_doc(cdir)
            log = self._cache.load(cdir, doc.messages)
            at = self._index_of(log, message_id, conversation_id)
            self._check_removal(cdir, conversation_id, log.seqs[at])
            gone = ev.message_deleted_event(conversation_id, message_id, log.seqs[at])
            self._remove_messages(owner_id, cdir, doc, log, {at}, [gone])

        await self._run_conv(owner_id, conversation_id, fn)

    async def pop_message(self, owner_id: str, conversation_id: str) -> MessageRecord | None:
        """See ``Store.pop_message``."""

        def fn(cdir: Path) -> MessageRecord | None:
            doc = self._read_doc(cdir)
            log = self._cache.load(cdir, doc.messages)
            if not log.lines:
                return None
            self._check_removal(cdir, conversation_id, log.seqs[-1])
            last = _parse_msg(log.lines[-1])
            gone = ev.message_deleted_event(conversation_id, last.id, last.seq, popped=True)
            self._remove_messages(owner_id, cdir, doc, log, {len(log.lines) - 1}, [gone])
            return last

        return await self._run_conv(owner_id, conversation_id, fn)

    async def clear_messages(self, owner_id: str, conversation_id: str) -> int:
        """See ``Store.clear_messages``."""

        def fn(cdir: Path) -> int:
            doc = self._read_doc(cdir)
            log = self._cache.load(cdir, doc.messages)
            n = len(log.lines)
            self._check_removal(cdir, conversation_id, log.seqs[0] if log.seqs else None)
            cleared = ev.messages_cleared_event(conversation_id, n)
            self._remove_messages(owner_id, cdir, doc, log, set(range(n)), [cleared])
            return n

        return await self._run_conv(owner_id, conversation_id, fn)

    # -- session memory -------------------------------------------------------------------------
    @staticmethod
    def _read_memory(cdir: Path) -> dict[str, Any]:
        """The memory entries ``{key: entry}`` (either layout of ``memory.json``)."""
        try:
            data: dict[str, Any] = orjson.loads((cdir / "memory.json").read_bytes())
        except FileNotFoundError:
            return {}
        if data.get("format") == 2:
            entries: dict[str, Any] = data.get("entries", {})
            return entries
        return data

    def _write_memory(self, owner_id: str, cdir: Path, entries: dict[str, Any], draft: EventDraft) -> None:
        """Commit ``entries`` as ``memory.json`` together with the event ``draft``."""
        with self._event_txn(owner_id, cdir.parent.parent) as txn:
            txn.add(outbox.annotate([draft]), "memory")
            txn.stage()
            body = {"format": 2, "event_seq": txn.last_id, "entries": entries}
            write_atomic(cdir / "memory.json", _dumps(body))
            txn.commit()

    async def get_memory(self, owner_id: str, conversation_id: str) -> list[MemoryEntry]:
        """See ``Store.get_memory``."""

        def fn(cdir: Path) -> list[MemoryEntry]:
            self._read_doc(cdir)
            data = self._read_memory(cdir)
            return [MemoryEntry.model_validate(data[k]) for k in sorted(data)]

        return await self._run_conv(owner_id, conversation_id, fn)

    async def set_memory(self, owner_id: str, conversation_id: str, key: str, value: Any) -> MemoryEntry:
        """See ``Store.set_memory``. ``ValueError`` for an empty key or a non-JSON value."""
        q.check_json_value(value, f"memory[{key!r}]")
        entry = MemoryEntry(conversation_id=conversation_id, key=key, value=value)

        def fn(cdir: Path) -> MemoryEntry:
            self._read_doc(cdir)
            data = self._read_memory(cdir)
            data[key] = entry.model_dump(mode="json")
            self._write_memory(owner_id, cdir, data, ev.memory_set_event(conversation_id, key))
            return MemoryEntry.model_validate(data[key])

        return await self._run_conv(owner_id, conversation_id, fn)

    async def delete_memory(self, owner_id: str, conversation_id: str, key: str) -> None:
        """See ``Store.delete_memory``."""

        def fn(cdir: Path) -> None:
            self._read_doc(cdir)
            data = self._read_memory(cdir)
            if key not in data:
                raise NotFound(f"memory key {key!r} not found")
            del data[key]
            self._write_memory(owner_id, cdir, data, ev.memory_deleted_event(conversation_id, key))

        await self._run_conv(owner_id, conversation_id, fn)

    # -- provider calls -------------------------------------------------------------------------
    async def record_provider_call(
        self,
        owner_id: str,
        conversation_id: str,
        call: ProviderCallRecord,
        server_state: dict[str, Any] | None = None,
    ) -> ProviderCallRecord:
        """See ``Store.record_provider_call``: the call line and the new ``server_state`` are
        committed together by one ``conversation.json`` replace. ``Conflict`` for a known call id."""
        stored = q.prepare_provider_call(conversation_id, call, server_state)

        def fn(cdir: Path) -> ProviderCallRecord:
            doc = self._read_doc(cdir)
            if stored.message_id is not None:
                log = self._cache.load(cdir, doc.messages)
                self._index_of(log, stored.message_id, conversation_id)
            calls = self._cache.load(cdir, doc.calls)
            if stored.id in calls.ids:
                raise Conflict(f"provider call {stored.id!r} already recorded")
            doc.calls = self._append_lines(cdir, doc.calls, "calls", [_dumps(stored.model_dump(mode="json"))])
            if server_state is not None:
                doc.record = doc.record.model_copy(
                    update={"server_state": orjson.loads(_dumps(server_state)), "updated_at": utcnow()}
                )
            self._commit_doc(owner_id, cdir, doc, [ev.provider_call_event(stored)])
            return stored

        return await self._run_conv(owner_id, conversation_id, fn)

    async def list_provider_calls(self, owner_id: str, conversation_id: str) -> list[ProviderCallRecord]:
        """See ``Store.list_provider_calls``."""

        def fn(cdir: Path) -> list[ProviderCallRecord]:
            calls = self._cache.load(cdir, self._read_doc(cdir).calls)
            return [ProviderCallRecord.model_validate(orjson.loads(line)) for line in calls.lines]

        return await self._run_conv(owner_id, conversation_id, fn)

    # -- analytics ------------------------------------------------------------------------------
    async def stats(self, owner_id: str) -> OwnerStats:
        """See ``Store.stats``."""
        return q.owner_stats(await asyncio.to_thread(self._scan, self._owner_dir(owner_id)))

    async def conversations_idle_since(
        self,
        cutoff: datetime,
        limit: int = 1000,
        statuses: Collection[ConversationStatus] = (ConversationStatus.ACTIVE,),
        *,
        created_before: datetime | None = None,
        after: tuple[datetime, str] | None = None,
    ) -> list[ConversationRecord]:
        """See ``Store.conversations_idle_since`` (scans every owner; oldest activity first)."""
        matches = q.idle_filter(cutoff, statuses, created_before, after)
        limit = q.checked_limit(limit)

        def work() -> list[ConversationRecord]:
            try:
                owners = os.listdir(self.root)
            except FileNotFoundError:
                return []
            idle: list[ConversationRecord] = []
            for name in owners:
                odir = self.root / name
                if name.startswith(("_", ".")) or not odir.is_dir():
                    continue
                idle.extend(r for r in self._scan(odir) if matches(r))
            idle.sort(key=q.idle_order)
            return idle[:limit]

        return await asyncio.to_thread(work)

    # -- events ---------------------------------------------------------------------------------
    async def append_event(
        self, owner_id: str, kind: str, payload: dict[str, Any], *, conversation_id: str | None = None
    ) -> EventRecord:
        """See ``Store.append_event`` (committed by the owner's event head alone)."""
        draft = outbox.standalone_draft(kind, payload, conversation_id)

        def fn(odir: Path) -> EventRecord:
            with self._event_txn(owner_id, odir) as txn:
                [record] = txn.add(outbox.annotate([draft]), "head")
                txn.stage()
                txn.commit()
            return record

        return await self._run_owner(owner_id, fn, create=True)

    async def list_events(self, owner_id: str, query: EventQuery) -> list[EventRecord]:
        """See ``Store.list_events``: the committed prefix of the owner's event log (no lock)."""
        outbox.check_event_query(query)
        odir = self._owner_dir(owner_id)

        def work() -> list[EventRecord]:
            head = read_head(odir)
            if head["last_id"] <= query.after_id:
                return []
            log = self._cache.load(odir, head)
            ids = list(log.ids)
            start = bisect.bisect_right(ids, query.after_id)
            out: list[EventRecord] = []
            for line in log.lines[start:]:
                event = EventRecord.model_validate(orjson.loads(line))
                if query.conversation_id is None or event.conversation_id == query.conversation_id:
                    out.append(event)
                    if len(out) >= query.limit:
                        break
            return out

        return await asyncio.to_thread(work)

    async def last_event_id(self, owner_id: str) -> int:
        """See ``Store.last_event_id`` (the committed head)."""
        odir = self._owner_dir(owner_id)
        return int((await asyncio.to_thread(read_head, odir))["last_id"])
