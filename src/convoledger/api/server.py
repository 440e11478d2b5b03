"""Running the API under uvicorn with the connection limits of ``Settings`` (``convoledger serve``).

uvicorn closes idle keep-alive connections (``timeout_keep_alive``), bounds the request head
(h11 ``max_incomplete_event_size``) and the number of connections (``limit_concurrency``), but
it never times out a connection that has sent nothing, or only part of its request head.
``HeadTimeoutHttpToolsProtocol`` (the parser ``serve`` runs) and ``HeadTimeoutH11Protocol`` (its
fallback) add that: from the moment a connection opens, or a keep-alive
connection starts its next request, the whole request head must arrive within
``header_timeout`` seconds (a fixed deadline, not reset by each byte, so a slowloris client
trickling one header line at a time is closed too). Body stalls are the app's
``BodyGuardMiddleware`` (408). What remains (TLS, per-client rate limits, slow readers of
responses) is the reverse proxy's job: ``docs/deployment.md``.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
from enum import Enum
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from convoledger.settings import Settings

#: Largest request head (request line + headers) read, bytes (h11's limit; uvicorn's default too).
HEADER_LIMIT_BYTES = 16 * 1024


class _HeadDeadline:
    """The head deadline shared by both protocols: ``_arm_head_timer`` starts a fixed deadline
    of ``_head_timeout()`` seconds (re-arming replaces it), ``_cancel_head_timer`` clears it;
    on expiry the connection is closed when ``_head_incomplete()`` still holds."""

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    _head_timer: asyncio.TimerHandle | None = None

    def _head_timeout(self) -> float:
        raise NotImplementedError

    def _head_incomplete(self) -> bool:
        raise NotImplementedError

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self._head_timeout(), self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._head_incomplete() and not self.transport.is_closing():
            self.transport.close()


class HeadTimeoutH11Protocol(_HeadDeadline, H11Protocol):
    """uvicorn's h11 protocol (the fallback when ``httptools`` is missing) with a deadline for
    each request head (``configured_header_timeout()`` seconds): a connection whose head is not
    complete by then is closed without an answer."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self._head_incomplete():
            self._cancel_head_timer()
        elif self._head_timer is None:
            self._arm_head_timer()  # the head of the next request is still incomplete

    def _head_timeout(self) -> float:
        return configured_header_timeout()

    def _head_incomplete(self) -> bool:
        return bool(self.conn.their_state is h11.IDLE)


@functools.cache
def configured_header_timeout() -> float:
    """``Settings().header_timeout`` of this process (seconds), read once: worker processes
    started by ``serve --workers`` get the CLI's values through the ``CONVOLEDGER_*``
    environment (see ``settings_environment``)."""
    return Settings().header_timeout


class HeadTimeoutHttpToolsProtocol(_HeadDeadline, HttpToolsProtocol):
    """uvicorn's httptools protocol (the fast C parser, used when ``httptools`` is installed)
    with the same head deadline as ``HeadTimeoutH11Protocol``: armed when the connection opens
    and when a response completes with no request queued behind it, cleared when a request's
    headers are complete. The deadline is ``configured_header_timeout()`` (an importable class,
    so ``--workers`` can name it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        self._in_head = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.pipeline and not self.transport.is_closing():
            self._in_head = True  # waiting for the next request's head
            self._arm_head_timer()

    def _head_timeout(self) -> float:
        return configured_header_timeout()

    def _head_incomplete(self) -> bool:
        return self._in_head


def http_protocol_name() -> str:
    """The import string of the HTTP protocol ``serve`` runs: the httptools one when
    ``httptools`` is installed (a default dependency; ~30 % more requests/s than h11 measured
    with ``../shared/bench/http``, issue 15), else the h11 one."""
    if importlib.util.find_spec("httptools") is not None:
        return f"{__name__}:HeadTimeoutHttpToolsProtocol"
    return f"{__name__}:HeadTimeoutH11Protocol"


#: The app factory each server process calls (``create_served_app``).
APP_FACTORY = "convoledger.api.app:create_served_app"


def run(*, host: str, port: int, settings: Settings, workers: int = 1, access_log: bool = False) -> None:
    """Serve ``APP_FACTORY`` on ``host:port`` until interrupted, in ``workers`` processes (each
    builds its app from the ``CONVOLEDGER_*`` environment, which the caller fills from its
    options with ``settings_environment``), with ``settings``' limits: ``keep_alive_timeout``
    and ``header_timeout`` (seconds), ``max_concurrency`` (uvicorn answers 503 beyond it) and
    a 16 KiB request head. ``access_log``: uvicorn's line per request."""
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=access_log,
        http=http_protocol_name(),
        timeout_keep_alive=max(1, round(settings.keep_alive_timeout)),
        limit_concurrency=settings.max_concurrency,
        h11_max_incomplete_event_size=HEADER_LIMIT_BYTES,
    )


def settings_environment(settings: Settings) -> dict[str, str]:
    """``CONVOLEDGER_<FIELD>`` → value for every field of ``settings`` that was set explicitly
    (CLI options or the environment), so worker processes rebuild the same ``Settings``."""
    env: dict[str, str] = {}
    for name in settings.model_fields_set:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, Enum):
            text = str(value.value)
        else:
            text = str(value)
        env[f"CONVOLEDGER_{name.upper()}"] = text
    return env
