"""Helpers of the Redis cache tests (imported by name, like ``tests/store/contract_helpers``): a
spy store that counts (and can pause) inner calls, key listing, and a TCP proxy that can cut
Redis off."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

import redis.asyncio as aioredis

from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.store.base import MessageQuery
from convoledger.store.memory import MemoryStore

Hook = Callable[[], Awaitable[None]] | None


class SpyStore(MemoryStore):
    """A ``MemoryStore`` that counts the cacheable reads reaching it and can run a hook after an
    inner read (``after_read``, before the result is returned) or after an append committed
    (``after_append``, before it returns)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()
        self.after_read: Hook = None
        self.after_append: Hook = None

    async def get_conversation(self, owner_id: str, conversation_id: str) -> ConversationRecord:
        self.calls["get_conversation"] += 1
        result = await super().get_conversation(owner_id, conversation_id)
        if self.after_read is not None:
            await self.after_read()
        return result

    async def list_messages(
        self, owner_id: str, conversation_id: str, query: MessageQuery
    ) -> list[MessageRecord]:
        self.calls["list_messages"] += 1
        result = await super().list_messages(owner_id, conversation_id, query)
        if self.after_read is not None:
            await self.after_read()
        return result

    async def get_message(self, owner_id: str, conversation_id: str, message_id: str) -> MessageRecord:
        self.calls["get_message"] += 1
        return await super().get_message(owner_id, conversation_id, message_id)

    async def append_messages(
        self,
        owner_id: str,
        conversation_id: str,
        messages: Sequence[MessageRecord],
        token_counts: Sequence[int | None] | None = None,
    ) -> list[MessageRecord]:
        result = await super().append_messages(owner_id, conversation_id, messages, token_counts)
        if self.after_append is not None:
            await self.after_append()
        return result


def new_prefix() -> str:
    """A key prefix no other test uses."""
    return f"convoledger-test:{uuid.uuid4().hex}:"


async def keys_under(client: aioredis.Redis, prefix: str) -> list[str]:
    """Every key starting with ``prefix`` (SCAN, never KEYS)."""
    return sorted([k.decode() async for k in client.scan_iter(match=f"{prefix}*", count=500)])


class RedisProxy:
    """A TCP proxy in front of Redis that a test can ``cut`` (every open connection is closed
    and new ones are dropped) and ``restore``: a Redis outage on demand."""

    def __init__(self, redis_url: str) -> None:
        parts = urlsplit(redis_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.db = parts.path or "/0"
        self.is_cut = False
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.url = ""

    async def start(self) -> RedisProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"redis://127.0.0.1:{port}{self.db}"
        return self

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if self.is_cut:
            client_w.close()
            return
        up_r, up_w = await asyncio.open_connection(*self.target)
        self._writers += [client_w, up_w]
        for src, dst in ((client_r, up_w), (up_r, client_w)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        dst.close()

    def cut(self) -> None:
        self.is_cut = True
        for w in self._writers:
            w.close()
        self._writers.clear()

    def restore(self) -> None:
        self.is_cut = False

    async def stop(self) -> None:
        self.cut()
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
