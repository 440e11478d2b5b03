"""A private asyncio event loop in a daemon thread, for async resources that must be used from
any thread and any event loop.

An async ``Ledger`` on SQLite or PostgreSQL belongs to the loop that opened it (its connection
pool does). Framework sessions are called from many loops: the Agents SDK's ``Runner.run_sync``
runs each turn in a loop of its own, tests drive one session from worker threads. A ``LoopThread``
owns such resources: coroutines are submitted to its loop (``run`` from async code, ``run_sync``
from blocking code) and their results come back to the caller's loop or thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_shared: LoopThread | None = None
_shared_lock = threading.Lock()


class LoopThread:
    """An event loop running forever in a daemon thread named ``name``."""

    def __init__(self, name: str = "convoledger-loop") -> None:
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()
        self._started.wait()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._started.set)
        self._loop.run_forever()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop; its ``concurrent.futures.Future``. ``RuntimeError``
        when called from the loop's own thread (waiting there would deadlock)."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("LoopThread.submit called from its own thread; await the coroutine instead")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` run on the loop, from any other event loop."""
        return await asyncio.wrap_future(self.submit(coro))

    def run_sync(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and block until it is done (``timeout`` seconds at most)."""
        return self.submit(coro).result(timeout)


def shared_loop() -> LoopThread:
    """The process-wide ``LoopThread`` (started on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = LoopThread()
        return _shared


async def finish_before_cancel(awaitable: Awaitable[T]) -> T:
    """Await ``awaitable`` to its end even when the caller is cancelled meanwhile, then re-raise
    that cancellation: a write whose caller gave up still completes (or fails) as one unit, and
    the caller is never left not knowing whether it happened."""
    task = asyncio.ensure_future(awaitable)
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError as exc:
            cancelled = cancelled or exc
    if cancelled is not None:
        if not task.cancelled():
            task.exception()  # retrieved: the caller learns of the cancellation instead
        raise cancelled
    return task.result()


__all__ = ["LoopThread", "finish_before_cancel", "shared_loop"]
