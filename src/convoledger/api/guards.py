"""ASGI guards in front of every route: NUL characters in the URL, and slow request bodies.

- ``NulGuardMiddleware``: a NUL character (``%00``) in the path or in a query parameter (name or
  value) is answered 422 problem+json naming where it is, before any route runs: no backend
  stores or looks up such text (``models.storable``, issue 16 item 1).
- ``BodyTimeoutMiddleware``: each chunk of a request body must arrive within ``timeout``
  seconds, else the request is answered 408 problem+json and the server closes the
  connection (uvicorn has keep-alive and header-size limits but no body read timeout). The
  request body *size* limit is FastAPI's own ``max_body_size`` (413; see ``api.app``).

Both are pure ASGI (no buffering of the body), cheap enough for every request.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl, unquote

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
                return f"query.{unquote(name).replace(NUL, '')} (name)"
            if NUL in value:
                return f"query.{name}"
        return "query"
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


class BodyTimeoutMiddleware:
    """Bound the wait for each ``http.request`` message (a chunk of the body) to ``timeout``
    seconds; on expiry ``BodyTimeout`` is raised inside the route's body read, which the API
    answers 408 problem+json (``request-timeout``) with ``Connection: close``.

    Only reads of the body are timed: a ``receive()`` made once the body is complete (waiting
    for a disconnect, as streaming responses do) is passed through untouched."""

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        if timeout <= 0:
            raise ValueError(f"body timeout must be > 0 seconds, got {timeout}")
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = False
        timeout = self.timeout

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), timeout)
            except TimeoutError:
                raise BodyTimeout(timeout) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await self.app(scope, timed_receive, send)
