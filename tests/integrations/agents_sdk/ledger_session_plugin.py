"""pytest plugin that runs the OpenAI Agents SDK's own session tests against ``LedgerSession``.

Loaded with ``-p ledger_session_plugin`` in a pytest run over the SDK's sdist tests (see
``run_sdk_session_tests.py``). It replaces the ``SQLiteSession`` the tests construct —
``agents.SQLiteSession`` and ``agents.memory.SQLiteSession``, before any test module imports
them — by :class:`LedgerSQLiteSession`: the same constructor, a ``LedgerSession`` behind it.
Nothing else in the tests changes.

``CONVOLEDGER_SDK_SESSION_MODE`` picks the mode:

- ``local``: in-process over a store URL — ``memory://`` for the default ``":memory:"`` path, else
  a convoledger SQLite ledger in the file the test names (so sessions sharing a path share a
  ledger, as SQLite sessions share a database);
- ``remote``: over HTTP to ``CONVOLEDGER_SDK_BASE_URL`` with ``CONVOLEDGER_SDK_TOKEN``; each
  database path (each ``":memory:"`` session) gets its own namespace of session ids in the
  account (``ledger_session_id="<namespace>:<session id>"``), so tests stay as isolated as they
  are with separate SQLite files.

The tests that exercise SQLiteSession's own machinery cannot apply to another store; they are
skipped with the reason in :data:`NOT_APPLICABLE`.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import agents
import agents.memory
import pytest

from convoledger.integrations.openai_agents import LedgerSession

_SQLITE_INTERNALS = (
    "inspects or replaces SQLiteSession's own sqlite3 connections, worker-thread connection "
    "registry or file locks, which a ledger-backed session does not have"
)
_CORRUPT_ROWS = (
    "writes a corrupt (non-JSON) row straight into SQLiteSession's table; the ledger stores items "
    "only through validated, JSON-checked appends, so such a row cannot exist"
)
_DROPPED_TABLE = (
    "drops SQLiteSession's tables with a side connection to make its statements fail, then checks "
    "the SQLite write lock; that is SQLiteSession's transaction handling, not the Session protocol"
)

#: Tests of the SDK's ``tests/memory/test_session.py`` that cannot apply, and why.
NOT_APPLICABLE: dict[str, str] = {
    "test_sqlite_session_close_closes_worker_thread_connections": _SQLITE_INTERNALS,
    "test_sqlite_session_reaps_connections_from_exited_worker_threads": _SQLITE_INTERNALS,
    "test_sqlite_session_closes_retired_connections_before_the_next_allocation": _SQLITE_INTERNALS,
    "test_sqlite_session_keeps_connections_of_live_worker_threads": _SQLITE_INTERNALS,
    "test_sqlite_session_file_lock_is_shared_across_instances": _SQLITE_INTERNALS,
    "test_sqlite_session_closed_rejects_empty_add_items": (
        "matches SQLiteSession's own error text ('SQLiteSession is closed'); LedgerSession raises the "
        "same RuntimeError for add_items([]) after close() with its own name (tests/integrations)"
    ),
    "test_sqlite_session_pop_item_skips_corrupt_most_recent": _CORRUPT_ROWS,
    "test_sqlite_session_pop_item_returns_none_after_dropping_only_corrupt_rows": _CORRUPT_ROWS,
    "test_sqlite_session_get_items_limit_skips_corrupt_newest_rows": _CORRUPT_ROWS,
    "test_sqlite_session_get_items_session_settings_limit_skips_corrupt_rows": _CORRUPT_ROWS,
    "test_sqlite_session_failed_add_items_releases_write_lock": _DROPPED_TABLE,
    "test_sqlite_session_failed_clear_session_rolls_back": _DROPPED_TABLE,
    "test_sqlite_session_failed_pop_item_releases_write_lock": _DROPPED_TABLE,
    "test_sqlite_session_rollback_failure_evicts_connection": _SQLITE_INTERNALS,
    "test_sqlite_session_close_retries_quarantined_connection": _SQLITE_INTERNALS,
    "test_sqlite_session_post_commit_cancellation_propagates_after_known_outcome": _SQLITE_INTERNALS,
}

_namespaces: dict[str, str] = {}
#: How many stand-ins the tests constructed (reported at the end of the run).
constructed = 0


def _namespace(db_path: str | Path) -> str:
    """A fresh namespace per database path (per session for ``":memory:"``)."""
    if str(db_path) == ":memory:":
        return uuid.uuid4().hex[:12]
    key = str(Path(db_path).expanduser().resolve())
    return _namespaces.setdefault(key, uuid.uuid4().hex[:12])


class LedgerSQLiteSession(LedgerSession):
    """``SQLiteSession``'s constructor over a ``LedgerSession`` (mode: module docstring).
    ``sessions_table``/``messages_table`` name SQLite tables and are ignored."""

    def __init__(
        self,
        session_id: str,
        db_path: str | Path = ":memory:",
        sessions_table: str = "agent_sessions",
        messages_table: str = "agent_messages",
        session_settings: Any = None,
    ) -> None:
        global constructed
        constructed += 1
        mode = os.environ.get("CONVOLEDGER_SDK_SESSION_MODE", "local")
        if mode == "local":
            memory = str(db_path) == ":memory:"
            url = "memory://" if memory else f"sqlite:///{Path(db_path).expanduser().resolve()}"
            super().__init__(session_id, url=url, session_settings=session_settings)
        elif mode == "remote":
            super().__init__(
                session_id,
                base_url=os.environ["CONVOLEDGER_SDK_BASE_URL"],
                token=os.environ["CONVOLEDGER_SDK_TOKEN"],
                session_settings=session_settings,
                ledger_session_id=f"{_namespace(db_path)}:{session_id}",
            )
        else:
            raise ValueError(f"CONVOLEDGER_SDK_SESSION_MODE must be 'local' or 'remote', got {mode!r}")
        self.db_path = db_path


agents.SQLiteSession = LedgerSQLiteSession  # type: ignore[attr-defined,misc]
agents.memory.SQLiteSession = LedgerSQLiteSession  # type: ignore[attr-defined,misc]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tests of :data:`NOT_APPLICABLE`, naming the reason."""
    for item in items:
        in_session_file = item.nodeid.startswith("tests/memory/test_session.py::")
        reason = NOT_APPLICABLE.get(item.name.split("[", 1)[0]) if in_session_file else None
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=f"not applicable to LedgerSession: {reason}"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Report how many ``LedgerSession`` stand-ins the SDK's tests built (proof they ran on it)."""
    mode = os.environ.get("CONVOLEDGER_SDK_SESSION_MODE", "local")
    terminalreporter.write_line(f"LedgerSession stand-ins constructed ({mode}): {constructed}")


def pytest_report_header(config: pytest.Config) -> str:
    """Say which session the SDK's tests run against."""
    mode = os.environ.get("CONVOLEDGER_SDK_SESSION_MODE", "local")
    return f"SQLiteSession replaced by convoledger LedgerSession ({mode}); agents {agents.__version__}"
