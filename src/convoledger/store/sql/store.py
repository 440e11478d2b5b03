"""``SqlStore``: the ``Store`` on SQLite (the default) or PostgreSQL, built on SQLAlchemy Core.

How it fits together:

- ``schema.py`` — the tables (SQLAlchemy Core) and the reasons for each index;
- ``migrations/`` + ``migrate.py`` — Alembic revisions, applied by ``open()`` (an empty database
  is created) and by ``upgrade_database(url)`` (``convoledger db upgrade``);
- ``statements.py`` / ``querybuild.py`` — every statement, written with Core and compiled once
  per dialect (or once per query shape);
- ``ops.py`` — each store call as one synchronous function over a ``Cx`` connection;
- ``sqlite_driver.py`` / ``pg_driver.py`` — where those functions run: a SQLite connection's own
  thread (one hop per call) or a greenlet awaiting asyncpg;
- ``codec.py`` / ``search.py`` / ``prepare.py`` — row conversion, full-text search, validation.

Pure validation (``store/querying.py``, shared with the other backends) runs before anything
touches the database, so bad input never leaves a partial write.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import dataclasses
import functools
import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.engine import make_url

from convoledger.errors import Conflict, LedgerError
from convoledger.models.events import EventRecord
from convoledger.models.records import ConversationRecord, MemoryEntry, MessageRecord, ProviderCallRecord
from convoledger.models.status import ConversationStatus, LifecycleEvent, parse_status
from convoledger.models.timeutil import utcnow
from convoledger.store import lineage, outbox
from convoledger.store import querying as q
from convoledger.store.base import (
    Account,
    ApiKey,
    ConversationPage,
    ConversationQuery,
    MessageQuery,
    OwnerStats,
    Store,
)
from convoledger.store.sql import migrate, ops, outbox_sql, prepare
from convoledger.store.sql.codec import Codec
from convoledger.store.sql.cx import ReadPlan, StatementPlan
from convoledger.store.sql.sqlite_driver import DEFAULT_BUSY_TIMEOUT, SqliteDriver
from convoledger.store.sql.statements import statements_for

if TYPE_CHECKING:  # loaded with asyncpg when a PostgreSQL store opens (CLI start-up, issue 15)
    from convoledger.store.sql.pg_driver import PgDriver

T = TypeVar("T")


#: Groups of a bulk import submitted and not yet finished (see ``import_conversations``).
_BULK_IN_FLIGHT = 2

#: PostgreSQL: conversations a store writes before it makes sure ``conversations`` has planner
#: statistics (``SqlStore._conversations_written``).
STATISTICS_AFTER_CONVERSATIONS = 64

_log = logging.getLogger("convoledger.store")


def _claim_keys(seen: dict[str, set[str]], record: ConversationRecord) -> None:
    """``Conflict`` when ``record`` repeats a key claimed by an earlier item of a bulk import;
    otherwise claim its keys."""
    keys = {"id": record.id, "session_id": record.session_id, "session_key": record.session_key}
    for name, value in keys.items():
        if value is not None and value in seen[name]:
            raise Conflict(f"{name} {value!r} is used by an earlier conversation of this import")
    for name, value in keys.items():
        if value is not None:
            seen[name].add(value)


@functools.lru_cache(maxsize=4096)
def _valid_message_query(query: MessageQuery) -> bool:
    q.check_message_query(query)
    return True


def _check_message_query(query: MessageQuery) -> None:
    """``querying.check_message_query``, remembered for valid (frozen, hashable) queries: the
    same recent-N query object is checked once, not on every read. Invalid queries always raise."""
    try:
        _valid_message_query(query)
    except TypeError:  # unhashable: a field holds something a valid query cannot hold
        q.check_message_query(query)


class SqlStore(Store):
    """The ``Store`` over SQLite or PostgreSQL (see ``store/base.py`` for the contract).

    ``url``: ``sqlite+aiosqlite:///path/to/file.db`` (``sqlite:///…`` is accepted;
    ``sqlite+aiosqlite:///:memory:`` keeps everything in this process) or
    ``postgresql+asyncpg://user@host:port/db``. ``busy_timeout`` (seconds, SQLite) is how long a
    write waits for another process's lock; ``pool_size`` (PostgreSQL) bounds the connections.

    ``await open()`` creates or upgrades the schema (Alembic) and connects; ``await close()``
    releases everything. ``ValueError`` for an unsupported URL.
    """

    def __init__(self, url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, pool_size: int = 10) -> None:
        self.url = url
        self.dialect_name = migrate.dialect_of(url)
        self.busy_timeout = busy_timeout
        self.pool_size = pool_size
        self._driver: SqliteDriver | PgDriver | None = None
        self._st = statements_for(self.dialect_name)
        self._codec = Codec(self.dialect_name)
        # PostgreSQL: conversations written by this store until statistics are checked
        # (``_conversations_written``); None once checked
        self._written_unchecked: int | None = 0 if self.dialect_name == "postgresql" else None

    async def _conversations_written(self, n: int) -> None:
        """PostgreSQL: after this store has written ``STATISTICS_AFTER_CONVERSATIONS``
        conversations, give ``conversations`` planner statistics if it has none yet.

        Without statistics (a new database, until autovacuum's first pass on the table, up to a
        minute however many rows arrive meanwhile) PostgreSQL rates the lookup of one
        conversation by ``owner_id``/``id`` the same through ``uq_conversations_owner_id`` and
        through the listing indexes that lead with ``owner_id``, and took a listing index: every
        append and by-reference read then read all of the owner's conversations (measured with
        1,000 conversations: a one-message append 1,340 → 870 µs at the median after ANALYZE, a
        recent-20 read 640 → 500 µs). One ANALYZE at 64 rows is enough: the estimates then scale
        with the table. Checked once per store; a failure is logged and the write stands."""
        if self._written_unchecked is None:
            return
        self._written_unchecked += n
        if self._written_unchecked < STATISTICS_AFTER_CONVERSATIONS:
            return
        self._written_unchecked = None
        driver = self._open_driver()
        if not isinstance(driver, SqliteDriver):
            import asyncpg  # loaded already: the PostgreSQL driver is open

            try:
                await driver.analyze_if_never_analyzed("conversations")
            except (OSError, asyncpg.PostgresError) as exc:
                _log.warning(
                    "could not ANALYZE conversations (lookups may plan poorly until autovacuum does): %s", exc
                )

    def __repr__(self) -> str:
        return f"SqlStore({make_url(self.url).render_as_string(hide_password=True)!r})"

    # -- lifetime -----------------------------------------------------------------------------
    async def open(self) -> None:
        """Create or upgrade the schema to the newest revision, then connect. Idempotent."""
        if self._driver is not None:
            return
        st, codec = self._st, self._codec
        driver: SqliteDriver | PgDriver
        if self.dialect_name == "sqlite":
            sqlite = SqliteDriver(migrate.sqlite_path(self.url), st, codec, busy_timeout=self.busy_timeout)
            await sqlite.start(migrate.upgrade_sqlite)
            driver = sqlite
        else:
            from convoledger.store.sql.pg_driver import PgDriver

            await migrate.upgrade_postgres(self.url)
            pg = PgDriver(migrate.asyncpg_dsn(self.url), st, codec, max_size=self.pool_size)
            await pg.start()
            driver = pg
        self._driver = driver

    async def close(self) -> None:
        """Close every connection. Idempotent."""
        driver, self._driver = self._driver, None
        if driver is not None:
            await driver.close()

    def _open_driver(self) -> SqliteDriver | PgDriver:
        driver = self._driver
        if driver is None:
            raise RuntimeError(f"{self!r} is not open; call `await store.open()` first")
        return driver

    async def _run(self, fn: Callable[..., T], *args: Any, write: bool = False) -> T:
        if not write:
            return await self._open_driver().run(fn, *args, write=write)
        if outbox.current_context():
            # The operation runs on a lane thread or in a greenlet: carry the event_context there.
            fn = functools.partial(contextvars.copy_context().run, fn)
        result = await self._open_driver().run(fn, *args, write=write)
        if args and isinstance(args[0], str):
            self._events_committed(args[0])  # every write operation takes the owner id first
        return result

    async def _read(self, plan: ReadPlan[T]) -> T:
        return await self._open_driver().read(plan)

    # -- accounts -----------------------------------------------------------------------------
    async def ensure_account(self, name: str) -> Account:
        """See ``Store.ensure_account``."""
        q.check_owner(name)
        return await self._run(ops.ensure_account, name, utcnow(), write=True)

    async def add_api_key(self, account: str, key_hash: str, label: str | None = None) -> None:
        """See ``Store.add_api_key``. ``Conflict`` if the hash is bound to another account."""
        await self._run(ops.add_api_key, account, key_hash, label, utcnow(), write=True)

    async def account_for_key(self, key_hash: str) -> Account | None:
        """See ``Store.account_for_key``."""
        return await self._read(ops.account_for_key(self._st, self._codec, key_hash))

    async def list_api_keys(self, account: str | None = None, *, key_hash_prefix: str = "") -> list[ApiKey]:
        """See ``Store.list_api_keys``."""
        q.check_key_hash_prefix(key_hash_prefix)
        return await self._read(ops.list_api_keys(self._st, self._codec, account, key_hash_prefix))

    async def delete_api_key(self, key_hash: str) -> ApiKey:
        """See ``Store.delete_api_key``."""
        return await self._run(ops.delete_api_key, key_hash, write=True)

    # -- conversations ------------------------------------------------------------------------
    async def create_conversation(
        self, owner_id: str, conversation: ConversationRecord
    ) -> ConversationRecord:
        """See ``Store.create_conversation`` (a record with ``parent_id`` is a fork: see
        ``import_conversation``)."""
        if conversation.parent_id is not None:
            return await self.import_conversation(owner_id, conversation, [])
        record = q.prepare_conversation(owner_id, conversation)
        created = await self._run(ops.create_conversation, owner_id, record, write=True)
        await self._conversations_written(1)
        return created

    async def get_conversation(self, owner_id: str, conversation_id: str) -> ConversationRecord:
        """See ``Store.get_conversation``."""
        return await self._read(ops.get_conversation(self._st, self._codec, owner_id, conversation_id))

    async def find_conversation(
        self, owner_id: str, *, session_id: str | None = None, session_key: str | None = None
    ) -> ConversationRecord | None:
        """See ``Store.find_conversation``. ``ValueError`` unless exactly one key is given."""
        if (session_id is None) == (session_key is None):
            raise ValueError("give exactly one of session_id or session_key")
        return await self._read(
            ops.find_conversation(self._st, self._codec, owner_id, session_id, session_key)
        )

    async def list_conversations(self, owner_id: str, query: ConversationQuery) -> ConversationPage:
        """See ``Store.list_conversations``."""
        q.check_conversation_query(query)
        return await self._run(ops.list_conversations, owner_id, query)

    async def update_conversation(
        self, owner_id: str, conversation_id: str, changes: dict[str, Any]
    ) -> ConversationRecord:
        """See ``Store.update_conversation``."""
        return await self._run(
            ops.update_conversation, owner_id, conversation_id, changes, utcnow(), write=True
        )

    async def delete_conversation(self, owner_id: str, conversation_id: str) -> None:
        """See ``Store.delete_conversation`` (the schema's cascades remove everything of it)."""
        await self._run(ops.delete_conversation, owner_id, conversation_id, utcnow(), write=True)

    async def transition(
        self,
        owner_id: str,
        conversation_id: str,
        target: ConversationStatus,
        *,
        reason: str | None = None,
        actor: str | None = None,
    ) -> tuple[ConversationRecord, LifecycleEvent]:
        """See ``Store.transition`` (checked under the conversation's row lock)."""
        target = parse_status(target)
        return await self._run(
            ops.transition, owner_id, conversation_id, target, reason, actor, utcnow(), write=True
        )

    async def list_lifecycle_events(self, owner_id: str, conversation_id: str) -> list[LifecycleEvent]:
        """See ``Store.list_lifecycle_events``."""
        return await self._read(ops.list_lifecycle_events(self._st, self._codec, owner_id, conversation_id))

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
        """See ``Store.import_conversation`` (one transaction; a branch is checked against its
        parent under the parent's row lock)."""
        bundle = prepare.prepare_import(owner_id, conversation, messages, events, memory, provider_calls)
        lineage.check_own_seqs(bundle.conversation, bundle.messages)
        encoded = ops.encode_import(self._codec, bundle)
        imported = await self._run(ops.import_conversation, owner_id, encoded, utcnow(), write=True)
        await self._conversations_written(1)
        return imported

    async def import_conversations(
        self,
        owner_id: str,
        items: Iterable[tuple[ConversationRecord, Sequence[MessageRecord]]],
        *,
        group_messages: int = 2000,
    ) -> list[ConversationRecord | LedgerError | ValueError]:
        """Bulk import (an addition of ``SqlStore``, not part of ``Store``): many
        ``(conversation, messages)`` pairs, each imported as by ``import_conversation`` — all or
        nothing per conversation, messages keeping their own ``seq``.

        Returns one result per item, in order: the stored record, or the ``LedgerError`` (e.g.
        ``Conflict``) / ``ValueError`` that refused it — like ``asyncio.gather(...,
        return_exceptions=True)``; a refused conversation does not stop the others. Other errors
        (database failures) propagate once the groups already submitted have finished.

        Within one call an item whose id, session_id or session_key repeats an earlier item's is
        refused with ``Conflict`` (the earlier one wins, whatever order the groups commit in).

        Throughput: conversations are written in groups of about ``group_messages`` messages,
        one transaction per group with a savepoint per conversation, and validation/encoding of
        the next group (Python, on the event loop) overlaps the database work of the previous one
        (SQLite's C code on the writer thread, or another pooled PostgreSQL connection).

        On SQLite the overlap is bounded by the GIL: SQLite releases it while a statement runs,
        but each time the writer thread needs it back (between statements) while the event loop
        is encoding, it waits for the interpreter's switch interval (``sys.getswitchinterval()``,
        5 ms by default). Measured on the 2-vCPU development VM: a 2,000-message group that takes
        ~12 ms alone takes ~25-40 ms while the next group is being encoded, so the pipeline runs
        at about the serial rate (encode + write), no slower. Fewer statements per group (pks
        chosen under the lock instead of ``RETURNING``) did not change that measurably.
        """
        if group_messages < 1:
            raise ValueError(f"group_messages must be at least 1, got {group_messages}")
        results: list[ConversationRecord | LedgerError | ValueError | None] = []
        in_flight: collections.deque[tuple[list[int], asyncio.Future[list[Any]]]] = collections.deque()
        group: list[ops.EncodedImport] = []
        slots: list[int] = []
        size = 0

        async def settle() -> None:
            where, fut = in_flight.popleft()
            outcomes = await fut
            for index, outcome in zip(where, outcomes, strict=True):
                results[index] = outcome
            await self._conversations_written(sum(isinstance(o, ConversationRecord) for o in outcomes))

        def submit() -> None:
            nonlocal group, slots, size
            work = self._run(ops.import_many, owner_id, group, utcnow(), write=True)
            in_flight.append((slots, asyncio.ensure_future(work)))
            group, slots, size = [], [], 0

        seen: dict[str, set[str]] = {"id": set(), "session_id": set(), "session_key": set()}
        try:
            for conversation, messages in items:
                results.append(None)
                try:
                    bundle = prepare.prepare_import(owner_id, conversation, messages, (), (), ())
                    record = bundle.conversation
                    _claim_keys(seen, record)
                    group.append(ops.encode_import(self._codec, bundle))
                except (ValueError, LedgerError) as exc:
                    results[-1] = exc
                    continue
                slots.append(len(results) - 1)
                size += len(messages) + 1
                if size >= group_messages:
                    submit()
                    if len(in_flight) >= _BULK_IN_FLIGHT:
                        await settle()
            if group:
                submit()
            while in_flight:
                await settle()
        except BaseException:
            if in_flight:
                await asyncio.gather(*(fut for _, fut in in_flight), return_exceptions=True)
            raise
        return [r for r in results if r is not None]

    # -- messages -----------------------------------------------------------------------------
    async def append_messages(
        self,
        owner_id: str,
        conversation_id: str,
        messages: Sequence[MessageRecord],
        token_counts: Sequence[int | None] | None = None,
    ) -> list[MessageRecord]:
        """See ``Store.append_messages``: seqs reserved and rows inserted in one transaction
        (the token counts go into ``prepare.prepare_batch``'s one validating copy)."""
        batch = prepare.prepare_batch(conversation_id, messages, token_counts)
        driver = self._open_driver()
        if batch and not isinstance(driver, SqliteDriver):
            plan = ops.append_plan(self._st, self._codec, owner_id, conversation_id, batch, utcnow())
            return await self._pg_append(driver, owner_id, plan)
        return await self._run(ops.append_messages, owner_id, conversation_id, batch, utcnow(), write=True)

    async def _pg_append(
        self, driver: PgDriver, owner_id: str, plan: StatementPlan[list[MessageRecord]]
    ) -> list[MessageRecord]:
        if outbox.current_context():  # the slow paths run in a greenlet: carry the context
            run = contextvars.copy_context().run
            when_empty, on_violation = plan.when_empty, plan.on_violation
            plan = dataclasses.replace(
                plan,
                when_empty=lambda cx: run(when_empty, cx),
                on_violation=lambda cx, exc: run(on_violation, cx, exc),
            )
        stored = await driver.write(plan)
        self._events_committed(owner_id)
        return stored

    async def append_to_ref(
        self,
        owner_id: str,
        ref: str,
        messages: Sequence[MessageRecord],
        token_counts: Sequence[int | None] | None = None,
    ) -> list[MessageRecord]:
        """See ``Store.append_to_ref``. SQLite: resolved and appended in one hop to the writer
        lane. PostgreSQL: appended by id in one statement; only when no conversation has that id
        is the reference resolved (session_id, session_key) and the append run again. The
        token counts go into the one validating copy of each message (``prepare.prepare_batch``)."""
        batch = prepare.prepare_batch(ref, messages, token_counts)
        driver = self._open_driver()
        now = utcnow()
        if batch and not isinstance(driver, SqliteDriver):
            plan = ops.append_plan(self._st, self._codec, owner_id, ref, batch, now)
            plan = dataclasses.replace(
                plan, when_empty=functools.partial(ops.append_to_ref_refused, owner_id, ref, batch, now)
            )
            return await self._pg_append(driver, owner_id, plan)
        return await self._run(ops.append_to_ref, owner_id, ref, batch, now, write=True)

    async def get_message(self, owner_id: str, conversation_id: str, message_id: str) -> MessageRecord:
        """See ``Store.get_message``."""
        return await self._read(ops.get_message(self._st, self._codec, owner_id, conversation_id, message_id))

    async def list_messages(
        self, owner_id: str, conversation_id: str, query: MessageQuery
    ) -> list[MessageRecord]:
        """See ``Store.list_messages``."""
        _check_message_query(query)
        if query.search is not None:
            await self._open_driver().prepare_search()
        return await self._read(ops.list_messages(self._st, self._codec, owner_id, conversation_id, query))

    async def list_messages_by_ref(
        self, owner_id: str, ref: str, query: MessageQuery
    ) -> list[MessageRecord] | None:
        """See ``Store.list_messages_by_ref``: one statement (``statements.ref_root_pk``)."""
        _check_message_query(query)
        if query.search is not None:
            await self._open_driver().prepare_search()
        return await self._read(ops.list_messages_by_ref(self._st, self._codec, owner_id, ref, query))

    async def page_by_ref(
        self, owner_id: str, ref: str, window: MessageQuery, filters: MessageQuery
    ) -> tuple[list[MessageRecord], int] | None:
        """See ``Store.page_by_ref``: the page and the count in one read transaction (one hop
        to SQLite's reader lane; on PostgreSQL two statements on one connection)."""
        _check_message_query(window)
        _check_message_query(filters)
        if window.search is not None or filters.search is not None:
            await self._open_driver().prepare_search()
        return await self._run(ops.page_by_ref, owner_id, ref, window, filters)

    async def count_messages_in(
        self,
        owner_id: str,
        conversation_id: str,
        query: MessageQuery,
        *,
        after_seq: int | None = None,
        before_seq: int | None = None,
    ) -> int:
        """See ``Store.count_messages_in`` (one COUNT in the database)."""
        _check_message_query(query)
        for name, value in (("after_seq", after_seq), ("before_seq", before_seq)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        if query.search is not None:
            await self._open_driver().prepare_search()
        return await self._run(
            ops.count_messages_between, owner_id, conversation_id, query, after_seq, before_seq
        )

    async def list_branches(self, owner_id: str, conversation_id: str) -> list[ConversationRecord]:
        """See ``Store.list_branches``."""
        return await self._run(ops.list_branches, owner_id, conversation_id)

    async def count_messages(self, owner_id: str, conversation_id: str, query: MessageQuery) -> int:
        """See ``Store.count_messages`` (filters only)."""
        _check_message_query(query)
        if query.search is not None:
            await self._open_driver().prepare_search()
        return await self._run(ops.count_messages, owner_id, conversation_id, query)

    async def edit_message(
        self, owner_id: str, conversation_id: str, message_id: str, changes: dict[str, Any]
    ) -> MessageRecord:
        """See ``Store.edit_message``."""
        return await self._run(
            ops.edit_message, owner_id, conversation_id, message_id, changes, utcnow(), write=True
        )

    async def redact_message(
        self, owner_id: str, conversation_id: str, message_id: str, marker: str = "[redacted]"
    ) -> MessageRecord:
        """See ``Store.redact_message``."""
        return await self._run(
            ops.redact_message, owner_id, conversation_id, message_id, marker, utcnow(), write=True
        )

    async def delete_message(self, owner_id: str, conversation_id: str, message_id: str) -> None:
        """See ``Store.delete_message`` (``last_seq`` stays: seq is never reused)."""
        await self._run(ops.delete_message, owner_id, conversation_id, message_id, utcnow(), write=True)

    async def pop_message(self, owner_id: str, conversation_id: str) -> MessageRecord | None:
        """See ``Store.pop_message``."""
        return await self._run(ops.pop_message, owner_id, conversation_id, utcnow(), write=True)

    async def clear_messages(self, owner_id: str, conversation_id: str) -> int:
        """See ``Store.clear_messages``."""
        return await self._run(ops.clear_messages, owner_id, conversation_id, utcnow(), write=True)

    # -- session memory -----------------------------------------------------------------------
    async def get_memory(self, owner_id: str, conversation_id: str) -> list[MemoryEntry]:
        """See ``Store.get_memory``."""
        return await self._read(ops.get_memory(self._st, self._codec, owner_id, conversation_id))

    async def set_memory(self, owner_id: str, conversation_id: str, key: str, value: Any) -> MemoryEntry:
        """See ``Store.set_memory``. ``ValueError`` for an empty key or a non-JSON value."""
        q.check_json_value(value, f"memory[{key!r}]")
        entry = MemoryEntry.model_validate_json(
            MemoryEntry(conversation_id=conversation_id, key=key, value=value).model_dump_json()
        )
        return await self._run(ops.set_memory, owner_id, conversation_id, entry, write=True)

    async def delete_memory(self, owner_id: str, conversation_id: str, key: str) -> None:
        """See ``Store.delete_memory``."""
        await self._run(ops.delete_memory, owner_id, conversation_id, key, utcnow(), write=True)

    # -- provider calls -----------------------------------------------------------------------
    async def record_provider_call(
        self,
        owner_id: str,
        conversation_id: str,
        call: ProviderCallRecord,
        server_state: dict[str, Any] | None = None,
    ) -> ProviderCallRecord:
        """See ``Store.record_provider_call``. ``Conflict`` if the call id is already recorded."""
        stored = q.prepare_provider_call(conversation_id, call, server_state)
        state = None if server_state is None else dict(server_state)
        return await self._run(
            ops.record_provider_call, owner_id, conversation_id, stored, state, utcnow(), write=True
        )

    async def list_provider_calls(self, owner_id: str, conversation_id: str) -> list[ProviderCallRecord]:
        """See ``Store.list_provider_calls``."""
        return await self._read(ops.list_provider_calls(self._st, self._codec, owner_id, conversation_id))

    # -- analytics ----------------------------------------------------------------------------
    async def stats(self, owner_id: str) -> OwnerStats:
        """See ``Store.stats``."""
        return await self._run(ops.stats, owner_id)

    async def conversations_idle_since(
        self,
        cutoff: Any,
        limit: int = 1000,
        statuses: Collection[ConversationStatus] = (ConversationStatus.ACTIVE,),
        *,
        created_before: Any = None,
        after: Any = None,
    ) -> list[ConversationRecord]:
        """See ``Store.conversations_idle_since`` (oldest activity first)."""
        q.idle_filter(cutoff, statuses, created_before, after)  # validates the arguments (ValueError)
        limit = q.checked_limit(limit)
        wanted = sorted({parse_status(s) for s in statuses}, key=lambda s: s.value)
        if not wanted:
            return []
        return await self._run(ops.conversations_idle_since, cutoff, limit, wanted, created_before, after)

    # -- events -------------------------------------------------------------------------------
    async def append_event(
        self, owner_id: str, kind: str, payload: dict[str, Any], *, conversation_id: str | None = None
    ) -> EventRecord:
        """See ``Store.append_event``."""
        q.check_owner(owner_id)
        draft = outbox.standalone_draft(kind, payload, conversation_id)
        return await self._run(outbox_sql.append_event, owner_id, draft, utcnow(), write=True)

    async def list_events(self, owner_id: str, query: outbox.EventQuery) -> list[EventRecord]:
        """See ``Store.list_events`` (one keyset statement on ``ledger_events``)."""
        outbox.check_event_query(query)
        return await self._read(outbox_sql.list_events(self._st, self._codec, owner_id, query))

    async def last_event_id(self, owner_id: str) -> int:
        """See ``Store.last_event_id`` (the owner's counter row)."""
        return await self._read(outbox_sql.last_event_id(self._st, owner_id))
