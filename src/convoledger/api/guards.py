"""ASGI guards in front of every route: NUL characters in the URL, and slow request bodies.

- ``NulGuardMiddleware``: a NUL character (``%00``) in the path or in a query parameter (name or
  value) is answered 422 problem+json naming where it is, before any route runs: no backend
  stores or looks up such text (``models.storable``, issue 16 item 1).
- ``BodyGuardMiddleware``: a request body larger than ``max_bytes`` is answered 413
  problem+json — from its ``Content-Length`` before anything is read, else as soon as the
  bytes received so far exceed it — and each chunk of a body must arrive within ``timeout``
  seconds, else 408 problem+json and the server closes the connection (uvicorn has keep-alive
  and header-size limits but no body limits). Why not FastAPI's ``max_body_size``: its
  Content-Length check replaces the app's response with a plain-text 413, not a problem.

Both are pure ASGI (no buffering of the body), cheap enough for every request.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from convoledger.api.errors import problem
from convoledger.models.storable import NUL


def nul_location(scope: Scope) -> str | None:
    """Where a NUL character is in the request's URL: ``path`` or ``query.<name>``, or ``None``.

    The path is checked as ASGI decoded it (``scope["path"]``); the query string is decoded the
    way Starlette reads query parameters (``parse_qsl``, ``+`` is a space)."""
    if NUL in scope.get("path", ""):
        return "path"
    raw = scope.get("query_string", b"")
    if raw and (b"%00" in raw or b"\x00" in raw):
        text = raw.decode("latin-1")
        for name, value in parse_qsl(text, keep_blank_values=True):
            if NUL in name:
                shown = name.replace(NUL, r"\u0000")
                return f"query.{shown} (name)"
            if NUL in value:
                return f"query.{name}"
    return None


class NulGuardMiddleware:
    """Answer 422 problem+json (``nul-character``) to a request whose path or query string holds
    a NUL character; pass every other request through unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            where = nul_location(scope)
            if where is not None:
                response = problem(
                    Request(scope),
                    422,
                    "nul-character",
                    f"{where}: text must not contain the NUL character (U+0000, %00)",
                    extra={"errors": [{"loc": where.split(".", 1), "msg": "NUL character", "type": "nul"}]},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodyTimeout(HTTPException):
    """The client sent part of a request body and then nothing for ``timeout`` seconds (→ 408)."""

    def __init__(self, timeout: float) -> None:
        super().__init__(
            status_code=408,
            detail=f"the request body did not arrive in time (no data for {timeout:g} s)",
            headers={"Connection": "close"},
        )


class BodyTooLarge(HTTPException):
    """The request body is larger than the server accepts (→ 413, RFC 9110 §15.5.14)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            status_code=413,
            detail=f"the request body is larger than {max_bytes} bytes (the server's max_body_bytes)",
            headers={"Connection": "close"},
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyGuardMiddleware:
    """Limit each request body to ``max_bytes`` (413) and each wait for a chunk of it to
    ``timeout`` seconds (408).

    A ``Content-Length`` above the limit is answered at once, before the app runs. Otherwise
    the limits are enforced inside the route's body read: ``BodyTooLarge`` / ``BodyTimeout``
    (``HTTPException`` subclasses, which FastAPI lets through its body parsing) become
    problem+json responses with ``Connection: close``. Only reads of the body are timed: a
    ``receive()`` made once the body is complete (waiting for a disconnect, as streaming
    responses do) is passed through untouched. ``ValueError`` for a limit ≤ 0."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout: float) -> None:
        if max_bytes <= 0 or timeout <= 0:
            raise ValueError(f"body limits must be > 0, got max_bytes={max_bytes}, timeout={timeout}")
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes, timeout = self.max_bytes, self.timeout
        length = _content_length(scope)
        if length is not None and length > max_bytes:
            too_large = BodyTooLarge(max_bytes)
            response = problem(
                Request(scope),
                413,
                "content-too-large",
                f"{too_large.detail}: Content-Length is {length}",
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        body_done = False
        received = 0

        async def guarded_receive() -> Message:
            nonlocal body_done, received
            if body_done:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), timeout)
            except TimeoutError:
                raise BodyTimeout(timeout) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge(max_bytes)
            return message

        await self.app(scope, guarded_receive, send)
