"""Bodies of the spawned processes of the SQL-store tests (imported by module name)."""

from __future__ import annotations

import asyncio
import traceback
from typing import Any


def open_and_write(url: str, owner: str, worker: int, barrier: Any, results: Any) -> None:
    """Wait at ``barrier``, open a ``SqlStore`` on ``url`` (creating or upgrading the schema),
    create a conversation and append three messages; put ``(worker, None)`` or
    ``(worker, traceback)`` on ``results``."""

    async def run() -> None:
        from convoledger.models.records import ConversationRecord, MessageRecord
        from convoledger.store.sql import SqlStore

        store = SqlStore(url)
        barrier.wait(timeout=60)
        await store.open()
        try:
            conv = await store.create_conversation(
                owner, ConversationRecord(owner_id=owner, name=f"w{worker}")
            )
            await store.append_messages(
                owner,
                conv.id,
                [MessageRecord(role="user", content=f"worker {worker} says {i}") for i in range(3)],
            )
        finally:
            await store.close()

    try:
        asyncio.run(run())
        results.put((worker, None))
    except Exception:  # noqa: BLE001 - reported to the parent, which fails the test with it
        results.put((worker, traceback.format_exc()))
