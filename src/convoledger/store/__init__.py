"""Storage: the ``Store`` interface and its backends (memory, JSON files, SQL).

The SQL backend (``convoledger.store.sql.SqlStore``) is imported lazily by
``convoledger.backends.store_from_url`` so that importing the package stays light.
"""

from typing import TYPE_CHECKING, Any

from convoledger.store.base import (
    Account,
    ApiKey,
    ConversationPage,
    ConversationQuery,
    MessageQuery,
    OwnerStats,
    Store,
)

if TYPE_CHECKING:
    from convoledger.store.jsonfiles import JsonFilesStore
    from convoledger.store.memory import MemoryStore

__all__ = [
    "Account",
    "ApiKey",
    "ConversationPage",
    "ConversationQuery",
    "JsonFilesStore",
    "MemoryStore",
    "MessageQuery",
    "OwnerStats",
    "Store",
]


def __getattr__(name: str) -> Any:
    # The backends load on first use (issue 15: CLI start-up), like ``SqlStore``.
    if name == "JsonFilesStore":
        from convoledger.store.jsonfiles import JsonFilesStore

        return JsonFilesStore
    if name == "MemoryStore":
        from convoledger.store.memory import MemoryStore

        return MemoryStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
