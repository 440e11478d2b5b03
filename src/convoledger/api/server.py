"""Running the API under uvicorn with the connection limits of ``Settings`` (``convoledger serve``).

uvicorn closes idle keep-alive connections (``timeout_keep_alive``), bounds the request head
(h11 ``max_incomplete_event_size``) and the number of connections (``limit_concurrency``), but
it never times out a connection that has sent nothing, or only part of its request head.
``HeadTimeoutH11Protocol`` adds that: from the moment a connection opens, or a keep-alive
connection starts its next request, the whole request head must arrive within
``header_timeout`` seconds (a fixed deadline, not reset by each byte, so a slowloris client
trickling one header line at a time is closed too). Body stalls are the app's
``BodyGuardMiddleware`` (408). What remains (TLS, per-client rate limits, slow readers of
responses) is the reverse proxy's job: ``docs/deployment.md``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from convoledger.settings import Settings

#: Largest request head (request line + headers) read, bytes (h11's limit; uvicorn's default too).
HEADER_LIMIT_BYTES = 16 * 1024


class HeadTimeoutH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head (``header_timeout`` s):
    a connection whose head is not complete by then is closed without an answer."""

    header_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:
            self._arm_head_timer()  # the head of the next request is still incomplete
        else:
            self._cancel_head_timer()

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def protocol_class(header_timeout: float) -> type[HeadTimeoutH11Protocol]:
    """A ``HeadTimeoutH11Protocol`` subclass with this ``header_timeout`` (seconds, > 0;
    ``ValueError`` otherwise), to pass to uvicorn as ``http=``."""
    if header_timeout <= 0:
        raise ValueError(f"header_timeout must be > 0 seconds, got {header_timeout}")
    return type("ConvoledgerH11Protocol", (HeadTimeoutH11Protocol,), {"header_timeout": header_timeout})


def run(app: FastAPI, *, host: str, port: int, settings: Settings) -> None:
    """Serve ``app`` on ``host:port`` until interrupted, with ``settings``' limits:
    ``keep_alive_timeout`` and ``header_timeout`` (seconds), ``max_concurrency`` (uvicorn
    answers 503 beyond it) and a 16 KiB request head (h11)."""
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        http=protocol_class(settings.header_timeout),
        timeout_keep_alive=max(1, round(settings.keep_alive_timeout)),
        limit_concurrency=settings.max_concurrency,
        h11_max_incomplete_event_size=HEADER_LIMIT_BYTES,
    )
