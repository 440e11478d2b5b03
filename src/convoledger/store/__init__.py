"""Storage: the ``Store`` interface and its backends (memory, JSON files, SQL).

The SQL backend (``convoledger.store.sql.SqlStore``) is imported lazily by
``convoledger.backends.store_from_url`` so that importing the package stays light.
"""

from convoledger.store.base import (
    Account,
    ApiKey,
    ConversationPage,
    ConversationQuery,
    MessageQuery,
    OwnerStats,
    Store,
)
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
