"""The Python client of convoledger's HTTP API: ``Client`` (blocking) and ``AsyncClient`` (asyncio).

Both speak to a running ``convoledger serve`` over httpx, with the API's own pydantic schemas
(``convoledger.api.schemas``) for request bodies — validated here before anything is sent — and
for the resources that come back (``SessionOut``, ``MessageOut``, ``MessagesPage``, …).

    with Client("http://127.0.0.1:8000", token="clg_…") as api:
        session = api.create_session(session_id="support-42", name="Support")
        api.append_message(session.id, role="user", content="Hello")
        for message in api.iter_messages(session.id):
            print(message.seq, message.role, message.content)

Design (one request path, one error mapping): every method builds a :class:`Call` (method,
path, query, JSON body, how to read the answer, whether it may be re-sent) and hands it to
``call()``; a new route is one small method. ``{session}`` in a path is the session's id, its
``session_id`` or its ``session_key``, percent-encoded (a key containing ``/`` cannot be used in a
path: use the session's id).

Errors: a 4xx/5xx answer is an RFC 9457 ``application/problem+json`` body, raised as the
:class:`ApiError` subclass its ``type`` (else its status) names. They also derive from the
library's own errors, so one ``except`` serves the in-process ``Ledger`` and this client:
``NotFoundError`` is a ``convoledger.NotFound``, ``ConflictError`` a ``Conflict``,
``SessionNotActiveError`` a ``ConversationNotActive``, ``InvalidTransitionError`` an
``InvalidTransition`` and ``InvalidRequestError`` (422) a ``ValueError``.

Retries (``retries`` times, exponential back-off from ``backoff`` seconds with jitter, or the
server's ``Retry-After``, capped at 30 s): a request that never reached the server (connect
error or timeout, pool timeout) is always re-sent; after an ambiguous failure (read timeout,
dropped connection, 429/503/504, a 502 that is not the API's own problem body) only calls marked
``retry_safe`` are: reads, ``PUT``/``PATCH``/``DELETE`` and every append — the client gives each
message an id when it has none (a UUIDv7), and the ledger stores a message id once per session
(DESIGN.md invariant 4), so a re-sent append returns the first message instead of a duplicate.
A ``DELETE`` re-sent after its first attempt took effect answers 404; that counts as done.

Paging: ``iter_messages`` walks a session with keyset paging (``after_seq``: stable while others
append); ``recent_messages(session, n)`` returns the latest ``n`` in order; ``iter_sessions``
walks the session list page by page (ordered by last update, so a session updated meanwhile may
move between pages).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from convoledger.api.schemas import (
    MAX_BATCH,
    MAX_PAGE_SIZE,
    AgentMessageIn,
    ConversationIn,
    ConversationOut,
    ConversationSessionIn,
    ConversationSessionOut,
    ConversationSessionsPage,
    DeletedCount,
    EventsOut,
    HealthOut,
    MemoryEntryOut,
    MemoryPage,
    MessageIn,
    MessageOut,
    MessagePatch,
    MessagesPage,
    SessionCreate,
    SessionOut,
    SessionsPage,
    SessionUpdate,
    StatsOut,
)
from convoledger.errors import Conflict, ConversationNotActive, NotFound
from convoledger.models.records import new_message_id
from convoledger.models.status import InvalidTransition

T = TypeVar("T")
B = TypeVar("B", bound=BaseModel)

#: Statuses after which a ``retry_safe`` call is re-sent (502 only without the API's problem body).
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Longest wait between two attempts, in seconds (also caps ``Retry-After``).
MAX_RETRY_DELAY = 30.0
PROBLEM_PREFIX = "urn:convoledger:problem:"


# -- errors ------------------------------------------------------------------------------------
class ApiError(Exception):
    """An error answer of the API (RFC 9457 problem details).

    Attributes: ``status`` (HTTP status), ``type`` (the problem type URI, e.g.
    ``urn:convoledger:problem:not-found``), ``slug`` (its last part), ``title``, ``detail`` (what
    is wrong, in words), ``instance`` (the request path), ``errors`` (the per-field list of a 422,
    else ``None``), ``body`` (the decoded body), ``method`` and ``url`` of the request.
    """

    def __init__(self, status: int, body: Any, *, method: str, url: str) -> None:
        problem = body if isinstance(body, dict) else {}
        self.status = status
        self.body = body
        self.method = method
        self.url = url
        self.type = str(problem.get("type") or "about:blank")
        self.slug = self.type.removeprefix(PROBLEM_PREFIX) if self.type.startswith(PROBLEM_PREFIX) else ""
        self.title = str(problem.get("title") or "")
        self.detail = str(problem.get("detail") or (body if isinstance(body, str) else "") or self.title)
        self.instance = problem.get("instance")
        errors = problem.get("errors")
        self.errors: list[dict[str, Any]] | None = errors if isinstance(errors, list) else None
        super().__init__(f"{method} {url} → {status} {self.title or 'error'}: {self.detail}")


class AuthenticationError(ApiError):
    """401: the bearer token is missing or unknown."""


class NotFoundError(ApiError, NotFound):
    """404: no such session, message or memory key in this account (or no such route)."""


class ConflictError(ApiError, Conflict):
    """409: a duplicate id, session_id or session_key."""


class SessionNotActiveError(ConflictError, ConversationNotActive):
    """409 ``session-not-active``: the session's status refuses appends."""


class InvalidTransitionError(ApiError, InvalidTransition):
    """409 ``invalid-transition``: the lifecycle move is illegal from the session's status."""


class InvalidRequestError(ApiError, ValueError):
    """400/422: the request was malformed or broke a domain rule (``errors`` lists the fields)."""


class ModelCallFailedError(ApiError):
    """502 ``model-call-failed``: the agent's model provider failed (``body`` has its message)."""


class ServerError(ApiError):
    """Any other 5xx answer."""


_BY_SLUG: dict[str, type[ApiError]] = {
    "unauthorized": AuthenticationError,
    "not-found": NotFoundError,
    "conflict": ConflictError,
    "session-not-active": SessionNotActiveError,
    "invalid-transition": InvalidTransitionError,
    "validation-error": InvalidRequestError,
    "invalid-input": InvalidRequestError,
    "model-call-failed": ModelCallFailedError,
}
_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidRequestError,
}


def error_for(response: httpx.Response) -> ApiError:
    """The :class:`ApiError` subclass instance for an error ``response`` (by problem type, else
    by status; 5xx without a known type → :class:`ServerError`)."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    error = ApiError(
        response.status_code, body, method=response.request.method, url=str(response.request.url)
    )
    cls = _BY_SLUG.get(error.slug) or _BY_STATUS.get(response.status_code)
    if cls is None:
        cls = ServerError if response.status_code >= 500 else ApiError
    return cls(response.status_code, body, method=error.method, url=error.url)


# -- calls -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Call(Generic[T]):
    """One API request and how to read its answer.

    ``retry_safe``: re-sending it after an ambiguous failure cannot change the outcome (see the
    module docstring). ``gone_ok``: a 404 on a re-send means the first attempt succeeded.
    """

    method: str
    path: str
    read: Callable[[httpx.Response], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    retry_safe: bool = False
    gone_ok: bool = False


def _model(cls: type[B]) -> Callable[[httpx.Response], B]:
    return lambda response: cls.model_validate_json(response.content)


_MESSAGES = TypeAdapter(list[MessageOut])


def _message_list(response: httpx.Response) -> list[MessageOut]:
    return _MESSAGES.validate_json(response.content)


def _json(response: httpx.Response) -> Any:
    return response.json()


def _nothing(response: httpx.Response) -> None:
    return None


def _export(response: httpx.Response) -> Any:
    return response.json() if "json" in response.headers.get("content-type", "") else response.text


def _seg(value: str) -> str:
    """A path segment: ``value`` percent-encoded (``/`` included)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"a session, message or key reference must be a non-empty str, got {value!r}")
    return quote(value, safe="")


def _query(**params: Any) -> dict[str, Any]:
    """Query parameters without the ``None`` ones; datetimes as ISO 8601, enums as values."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Enum):
            value = value.value
        elif isinstance(value, bool):
            value = "true" if value else "false"
        out[key] = value
    return out


def _body(cls: type[B], body: B | Mapping[str, Any] | None, fields: Mapping[str, Any]) -> B:
    """``body`` (a ``cls`` instance or a dict) or ``cls(**fields)``, validated now (pydantic
    ``ValidationError``, a ``ValueError``, before anything is sent)."""
    if body is not None and fields:
        raise TypeError(f"give either a {cls.__name__} or keyword fields, not both")
    if isinstance(body, cls):
        return body
    return cls.model_validate(dict(body) if body is not None else dict(fields))


def _dump(model: BaseModel, **kwargs: Any) -> Any:
    return model.model_dump(mode="json", **kwargs)


def _with_id(message: MessageIn | Mapping[str, Any]) -> MessageIn:
    """The message as a ``MessageIn`` carrying an id (a new UUIDv7 when it had none), so that
    re-sending it is idempotent."""
    parsed = message if isinstance(message, MessageIn) else MessageIn.model_validate(dict(message))
    return parsed if parsed.id else parsed.model_copy(update={"id": new_message_id()})


def _message_filters(
    search: str | None,
    role: str | None,
    sender: str | None,
    recipient: str | None,
    message_type: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
) -> dict[str, Any]:
    return _query(
        search=search,
        role=role,
        sender=sender,
        recipient=recipient,
        message_type=message_type,
        created_from=created_from,
        created_to=created_to,
    )


class _Routes:
    """The API's routes as :class:`Call` builders (pure; shared by both clients)."""

    S = "/api/agent-sessions"

    # sessions
    @classmethod
    def list_sessions(cls, page: int, size: int, filters: Mapping[str, Any]) -> Call[SessionsPage]:
        return Call(
            "GET", cls.S, _model(SessionsPage), _query(page=page, size=size, **filters), retry_safe=True
        )

    @classmethod
    def create_session(cls, body: SessionCreate) -> Call[SessionOut]:
        return Call("POST", cls.S, _model(SessionOut), json=_dump(body, exclude_unset=True))

    @classmethod
    def get_session(cls, session: str) -> Call[SessionOut]:
        return Call("GET", f"{cls.S}/{_seg(session)}", _model(SessionOut), retry_safe=True)

    @classmethod
    def update_session(cls, session: str, body: SessionUpdate) -> Call[SessionOut]:
        path = f"{cls.S}/{_seg(session)}"
        return Call("PATCH", path, _model(SessionOut), json=_dump(body, exclude_unset=True), retry_safe=True)

    @classmethod
    def delete_session(cls, session: str) -> Call[None]:
        return Call("DELETE", f"{cls.S}/{_seg(session)}", _nothing, retry_safe=True, gone_ok=True)

    @classmethod
    def move(cls, session: str, action: str, body: dict[str, Any] | None) -> Call[SessionOut]:
        method = "POST" if action == "transition" else "PUT"
        return Call(method, f"{cls.S}/{_seg(session)}/{action}", _model(SessionOut), json=body)

    @classmethod
    def events(cls, session: str) -> Call[EventsOut]:
        return Call("GET", f"{cls.S}/{_seg(session)}/events", _model(EventsOut), retry_safe=True)

    @classmethod
    def export(cls, session: str, format: str) -> Call[Any]:
        path = f"{cls.S}/{_seg(session)}/export"
        return Call("GET", path, _export, _query(format=format), retry_safe=True)

    @classmethod
    def import_bundle(cls, bundle: Mapping[str, Any]) -> Call[SessionOut]:
        return Call("POST", f"{cls.S}/import", _model(SessionOut), json=dict(bundle))

    @classmethod
    def health(cls, session: str) -> Call[HealthOut]:
        return Call("GET", f"{cls.S}/{_seg(session)}/health", _model(HealthOut), retry_safe=True)

    @classmethod
    def conversation(cls, body: ConversationIn) -> Call[ConversationOut]:
        # Every input message carries an id, so the reply id (derived from the last one) is
        # stable and a re-sent turn returns the stored reply.
        body = body.model_copy(update={"messages": [_with_id(m) for m in body.messages]})
        payload = _dump(body, exclude_unset=True)
        payload["messages"] = [_dump(m, exclude_unset=True) | {"id": m.id} for m in body.messages]
        return Call("POST", f"{cls.S}/conversation", _model(ConversationOut), json=payload, retry_safe=True)

    # messages
    @classmethod
    def list_messages(
        cls,
        session: str,
        page: int,
        size: int,
        after_seq: int | None,
        filters: Mapping[str, Any],
        last: int | None = None,
    ) -> Call[MessagesPage]:
        params = _query(page=page, size=size, after_seq=after_seq, last=last, **filters)
        return Call("GET", f"{cls.S}/{_seg(session)}/messages", _model(MessagesPage), params, retry_safe=True)

    @classmethod
    def append(cls, session: str, message: MessageIn) -> Call[MessageOut]:
        path = f"{cls.S}/{_seg(session)}/messages"
        payload = _dump(message, exclude_unset=True) | {"id": message.id}
        return Call("POST", path, _model(MessageOut), json=payload, retry_safe=True)

    @classmethod
    def append_batch(cls, session: str, messages: Sequence[MessageIn]) -> Call[list[MessageOut]]:
        path = f"{cls.S}/{_seg(session)}/messages/batch"
        payload = {"messages": [_dump(m, exclude_unset=True) | {"id": m.id} for m in messages]}
        return Call("POST", path, _message_list, json=payload, retry_safe=True)

    @classmethod
    def message(cls, session: str, message_id: str) -> str:
        return f"{cls.S}/{_seg(session)}/messages/{_seg(message_id)}"

    @classmethod
    def get_message(cls, session: str, message_id: str) -> Call[MessageOut]:
        return Call("GET", cls.message(session, message_id), _model(MessageOut), retry_safe=True)

    @classmethod
    def edit_message(cls, session: str, message_id: str, body: MessagePatch) -> Call[MessageOut]:
        path = cls.message(session, message_id)
        return Call("PATCH", path, _model(MessageOut), json=_dump(body, exclude_unset=True), retry_safe=True)

    @classmethod
    def delete_message(cls, session: str, message_id: str) -> Call[None]:
        return Call("DELETE", cls.message(session, message_id), _nothing, retry_safe=True, gone_ok=True)

    @classmethod
    def redact_message(cls, session: str, message_id: str, marker: str | None) -> Call[MessageOut]:
        path = f"{cls.message(session, message_id)}/redact"
        body = None if marker is None else {"marker": marker}
        return Call("POST", path, _model(MessageOut), json=body, retry_safe=True)

    @classmethod
    def clear_messages(cls, session: str) -> Call[DeletedCount]:
        path = f"{cls.S}/{_seg(session)}/clear-messages"
        return Call("DELETE", path, _model(DeletedCount), retry_safe=True)

    # memory
    @classmethod
    def list_memory(cls, session: str, page: int, size: int) -> Call[MemoryPage]:
        path = f"{cls.S}/{_seg(session)}/memory"
        return Call("GET", path, _model(MemoryPage), _query(page=page, size=size), retry_safe=True)

    @classmethod
    def memory_key(cls, session: str, key: str) -> str:
        return f"{cls.S}/{_seg(session)}/memory/{_seg(key)}"

    @classmethod
    def get_memory(cls, session: str, key: str) -> Call[MemoryEntryOut]:
        return Call("GET", cls.memory_key(session, key), _model(MemoryEntryOut), retry_safe=True)

    @classmethod
    def set_memory(cls, session: str, key: str, value: Any) -> Call[MemoryEntryOut]:
        path = cls.memory_key(session, key)
        return Call("PUT", path, _model(MemoryEntryOut), json={"value": value}, retry_safe=True)

    @classmethod
    def delete_memory(cls, session: str, key: str) -> Call[None]:
        return Call("DELETE", cls.memory_key(session, key), _nothing, retry_safe=True, gone_ok=True)

    # multi-participant sessions
    M = "/api/sessions"

    @classmethod
    def create_conversation_session(cls, body: ConversationSessionIn) -> Call[ConversationSessionOut]:
        return Call("POST", cls.M, _model(ConversationSessionOut), json=_dump(body, exclude_unset=True))

    @classmethod
    def list_conversation_sessions(
        cls, page: int, size: int, filters: Mapping[str, Any]
    ) -> Call[ConversationSessionsPage]:
        params = _query(page=page, size=size, **filters)
        return Call("GET", cls.M, _model(ConversationSessionsPage), params, retry_safe=True)

    @classmethod
    def get_conversation_session(cls, session_key: str) -> Call[ConversationSessionOut]:
        path = f"{cls.M}/{_seg(session_key)}"
        return Call("GET", path, _model(ConversationSessionOut), retry_safe=True)

    @classmethod
    def post_agent_message(cls, session_key: str, body: AgentMessageIn) -> Call[MessageOut]:
        if not body.message_id:
            body = body.model_copy(update={"message_id": new_message_id()})
        payload = _dump(body, exclude_unset=True) | {"message_id": body.message_id}
        path = f"{cls.M}/{_seg(session_key)}/messages"
        return Call("POST", path, _model(MessageOut), json=payload, retry_safe=True)

    @classmethod
    def list_agent_messages(
        cls, session_key: str, page: int, size: int, after_seq: int | None, filters: Mapping[str, Any]
    ) -> Call[MessagesPage]:
        params = _query(page=page, size=size, after_seq=after_seq, **filters)
        path = f"{cls.M}/{_seg(session_key)}/messages"
        return Call("GET", path, _model(MessagesPage), params, retry_safe=True)

    # system and provider capture
    @classmethod
    def get(cls, path: str, read: Callable[[httpx.Response], T], **params: Any) -> Call[T]:
        return Call("GET", path, read, _query(**params), retry_safe=True)


def _check_size(size: int) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PAGE_SIZE:
        raise ValueError(f"page size must be an int from 1 to {MAX_PAGE_SIZE}, got {size!r}")
    return size


def _check_last(last: int | None) -> int | None:
    if last is None:
        return None
    if isinstance(last, bool) or not isinstance(last, int) or not 1 <= last <= MAX_PAGE_SIZE:
        raise ValueError(f"last must be an int from 1 to {MAX_PAGE_SIZE}, got {last!r}")
    return last


def _retry_delay(attempt: int, backoff: float, response: httpx.Response | None) -> float:
    """Seconds to wait before attempt ``attempt + 1``: the answer's ``Retry-After`` (seconds)
    when given, else ``backoff * 2**attempt`` with 50–100 % jitter; at most ``MAX_RETRY_DELAY``."""
    if response is not None:
        after = response.headers.get("retry-after", "")
        try:
            return min(MAX_RETRY_DELAY, max(0.0, float(after)))
        except ValueError:
            pass
    return min(MAX_RETRY_DELAY, float(backoff * 2.0**attempt * random.uniform(0.5, 1.0)))


def _never_sent(exc: httpx.TransportError) -> bool:
    """True when the request surely did not reach the server (safe to re-send any call)."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _resend_status(call: Call[Any], response: httpx.Response) -> bool:
    if not call.retry_safe or response.status_code not in RETRY_STATUSES:
        return False
    problem = "problem+json" in response.headers.get("content-type", "")
    return not (response.status_code == 502 and problem)  # the API's own 502: the model failed


def _finish(call: Call[T], response: httpx.Response, attempt: int) -> T:
    if response.status_code == 404 and call.gone_ok and attempt > 0:
        return call.read(response)  # an earlier attempt deleted it: done
    if response.is_error:
        raise error_for(response)
    return call.read(response)


def _headers(token: str | None, headers: Mapping[str, str] | None) -> dict[str, str]:
    out = {"Accept": "application/json", **(headers or {})}
    if token:
        out["Authorization"] = f"Bearer {token}"
    return out


def _check_retries(retries: int, backoff: float) -> None:
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be an int >= 0, got {retries!r}")
    if backoff < 0:
        raise ValueError(f"backoff must be >= 0 seconds, got {backoff!r}")


class Client:
    """Blocking client of the convoledger API (see the module docstring for errors and retries).

    ``base_url``: e.g. ``http://127.0.0.1:8000``; ``token``: an API key from ``convoledger user
    create NAME`` (sent as ``Authorization: Bearer``); ``timeout`` in seconds; ``retries`` and
    ``backoff`` (seconds) as described above; ``headers``: extra headers; ``transport``: an httpx
    transport (tests, proxies). Thread-safe (httpx.Client is); close it, or use ``with``.
    Raises ``ValueError`` for negative ``retries``/``backoff``.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.25,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        _check_retries(retries, backoff)
        self.retries = retries
        self.backoff = backoff
        self._http = httpx.Client(
            base_url=base_url, headers=_headers(token, headers), timeout=timeout, transport=transport
        )

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, call: Call[T]) -> T:
        """Send ``call`` (re-sending it as the module docstring says) and return its answer read
        by ``call.read``. Raises an :class:`ApiError` subclass for an error answer and the httpx
        error when the last attempt failed in transport."""
        attempt = 0
        while True:
            try:
                response = self._http.request(call.method, call.path, params=call.params, json=call.json)
            except httpx.TransportError as exc:
                if attempt >= self.retries or not (call.retry_safe or _never_sent(exc)):
                    raise
                time.sleep(_retry_delay(attempt, self.backoff, None))
                attempt += 1
                continue
            if attempt < self.retries and _resend_status(call, response):
                time.sleep(_retry_delay(attempt, self.backoff, response))
                attempt += 1
                continue
            return _finish(call, response, attempt)

    # -- sessions -------------------------------------------------------------------------------
    def list_sessions(self, *, page: int = 1, size: int = 50, **filters: Any) -> SessionsPage:
        """``GET /api/agent-sessions``: one page; ``filters``: ``search``, ``status``, ``kind``,
        ``participant_id``, ``created_from``/``created_to``, ``updated_from``/``updated_to``."""
        return self.call(_Routes.list_sessions(page, _check_size(size), filters))

    def iter_sessions(self, *, page_size: int = MAX_PAGE_SIZE, **filters: Any) -> Iterator[SessionOut]:
        """Every session matching ``filters`` (as ``list_sessions``), page after page."""
        page = 1
        while True:
            result = self.list_sessions(page=page, size=page_size, **filters)
            yield from result.items
            if len(result.items) < page_size or page * page_size >= result.total:
                return
            page += 1

    def create_session(
        self, body: SessionCreate | Mapping[str, Any] | None = None, **fields: Any
    ) -> SessionOut:
        """``POST /api/agent-sessions`` with a ``SessionCreate`` (or its fields); ``ConflictError``
        when the ``session_id`` is taken."""
        return self.call(_Routes.create_session(_body(SessionCreate, body, fields)))

    def get_session(self, session: str) -> SessionOut:
        """``GET /api/agent-sessions/{session}``; ``NotFoundError``."""
        return self.call(_Routes.get_session(session))

    def update_session(
        self, session: str, body: SessionUpdate | Mapping[str, Any] | None = None, **fields: Any
    ) -> SessionOut:
        """``PATCH /api/agent-sessions/{session}``: only the fields given change."""
        return self.call(_Routes.update_session(session, _body(SessionUpdate, body, fields)))

    def delete_session(self, session: str) -> None:
        """``DELETE /api/agent-sessions/{session}`` with everything recorded about it."""
        self.call(_Routes.delete_session(session))

    def activate_session(self, session: str, reason: str | None = None) -> SessionOut:
        """``PUT …/activate`` (inactive → active); ``InvalidTransitionError`` otherwise."""
        return self.call(_Routes.move(session, "activate", _query(reason=reason) or None))

    def deactivate_session(self, session: str, reason: str | None = None) -> SessionOut:
        """``PUT …/deactivate`` (active → inactive); ``InvalidTransitionError`` otherwise."""
        return self.call(_Routes.move(session, "deactivate", _query(reason=reason) or None))

    def transition_session(self, session: str, status: str, reason: str | None = None) -> SessionOut:
        """``POST …/transition`` to ``status`` (any legal lifecycle move)."""
        return self.call(_Routes.move(session, "transition", _query(status=status, reason=reason)))

    def session_events(self, session: str) -> EventsOut:
        """``GET …/events``: the session's lifecycle events, oldest first."""
        return self.call(_Routes.events(session))

    def export_session(self, session: str, format: str = "json") -> Any:
        """``GET …/export?format=…``: a dict for JSON formats (``json``, ``a2a``), text for ``csv``."""
        return self.call(_Routes.export(session, format))

    def import_session(self, bundle: Mapping[str, Any]) -> SessionOut:
        """``POST /api/agent-sessions/import``: restore an exported bundle."""
        return self.call(_Routes.import_bundle(bundle))

    def session_health(self, session: str) -> HealthOut:
        """``GET …/health``: the 0–100 health score with its factors."""
        return self.call(_Routes.health(session))

    def conversation(
        self, body: ConversationIn | Mapping[str, Any] | None = None, **fields: Any
    ) -> ConversationOut:
        """``POST /api/agent-sessions/conversation``: append the messages (ids assigned here when
        missing) and get the agent's reply; re-sent safely."""
        return self.call(_Routes.conversation(_body(ConversationIn, body, fields)))

    # -- messages -------------------------------------------------------------------------------
    def list_messages(
        self,
        session: str,
        *,
        page: int = 1,
        size: int = 50,
        after_seq: int | None = None,
        search: str | None = None,
        role: str | None = None,
        sender: str | None = None,
        recipient: str | None = None,
        message_type: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        last: int | None = None,
    ) -> MessagesPage:
        """``GET …/messages``: one page in ``seq`` order, filtered before paging; ``last=N``
        (1–100): the N most recent matching messages instead of a page (oldest first)."""
        filters = _message_filters(search, role, sender, recipient, message_type, created_from, created_to)
        return self.call(
            _Routes.list_messages(session, page, _check_size(size), after_seq, filters, _check_last(last))
        )

    def iter_messages(
        self, session: str, *, after_seq: int = 0, page_size: int = MAX_PAGE_SIZE, **filters: Any
    ) -> Iterator[MessageOut]:
        """Every message with ``seq > after_seq`` matching ``filters`` (as ``list_messages``), in
        ``seq`` order, by keyset pages (messages appended meanwhile are included, none twice)."""
        while True:
            result = self.list_messages(session, size=page_size, after_seq=after_seq, **filters)
            yield from result.items
            if len(result.items) < page_size:
                return
            after_seq = result.items[-1].seq

    def recent_messages(self, session: str, n: int) -> list[MessageOut]:
        """The latest ``n`` messages (``n`` ≥ 0) in ``seq`` order: the count, the message at
        position ``total - n``, then keyset pages from there (so appends in between are seen and
        the last ``n`` are returned)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be an int >= 0, got {n!r}")
        if n == 0:
            return []
        if n <= MAX_PAGE_SIZE:  # one request: ?last=n
            return self.list_messages(session, last=n).items
        total = self.list_messages(session, size=1).total
        after = 0
        if total > n:
            start = self.list_messages(session, page=total - n + 1, size=1).items
            after = start[0].seq - 1 if start else 0
        return list(self.iter_messages(session, after_seq=after))[-n:]

    def append_message(
        self, session: str, message: MessageIn | Mapping[str, Any] | None = None, **fields: Any
    ) -> MessageOut:
        """``POST …/messages``: append one message (given an id here when it has none, so a
        re-send returns the stored message); ``SessionNotActiveError`` when the session refuses it."""
        return self.call(_Routes.append(session, _with_id(_body(MessageIn, message, fields))))

    def append_messages(
        self, session: str, messages: Sequence[MessageIn | Mapping[str, Any]]
    ) -> list[MessageOut]:
        """``POST …/messages/batch``: append up to 500 messages, all or none, in order (ids
        assigned here when missing)."""
        if not 1 <= len(messages) <= MAX_BATCH:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH} messages, got {len(messages)}")
        return self.call(_Routes.append_batch(session, [_with_id(m) for m in messages]))

    def get_message(self, session: str, message_id: str) -> MessageOut:
        """``GET …/messages/{message_id}``."""
        return self.call(_Routes.get_message(session, message_id))

    def edit_message(
        self,
        session: str,
        message_id: str,
        body: MessagePatch | Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> MessageOut:
        """``PATCH …/messages/{message_id}``: new ``content`` and/or ``extra_data``."""
        return self.call(_Routes.edit_message(session, message_id, _body(MessagePatch, body, fields)))

    def delete_message(self, session: str, message_id: str) -> None:
        """``DELETE …/messages/{message_id}`` (its seq is never reused)."""
        self.call(_Routes.delete_message(session, message_id))

    def redact_message(self, session: str, message_id: str, marker: str | None = None) -> MessageOut:
        """``POST …/messages/{message_id}/redact``: replace the content with ``marker``."""
        return self.call(_Routes.redact_message(session, message_id, marker))

    def clear_messages(self, session: str) -> int:
        """``DELETE …/clear-messages``: delete every message; how many were deleted."""
        return self.call(_Routes.clear_messages(session)).deleted_count

    def pop_message(self, session: str) -> MessageOut | None:
        """Delete and return the latest message, or ``None`` when there is none. Two requests
        (read the latest, delete it by id): a message appended by someone else in between is not
        the one removed."""
        latest = self.recent_messages(session, 1)
        if not latest:
            return None
        self.delete_message(session, latest[0].id)
        return latest[0]

    # -- memory ---------------------------------------------------------------------------------
    def list_memory(self, session: str, *, page: int = 1, size: int = 50) -> MemoryPage:
        """``GET …/memory``: the session memory entries, ordered by key."""
        return self.call(_Routes.list_memory(session, page, _check_size(size)))

    def get_memory(self, session: str, key: str) -> MemoryEntryOut:
        """``GET …/memory/{key}``; ``NotFoundError`` when not set."""
        return self.call(_Routes.get_memory(session, key))

    def set_memory(self, session: str, key: str, value: Any) -> MemoryEntryOut:
        """``PUT …/memory/{key}`` with any JSON ``value``."""
        return self.call(_Routes.set_memory(session, key, value))

    def delete_memory(self, session: str, key: str) -> None:
        """``DELETE …/memory/{key}``."""
        self.call(_Routes.delete_memory(session, key))

    # -- multi-participant sessions -------------------------------------------------------------
    def create_conversation_session(
        self, body: ConversationSessionIn | Mapping[str, Any] | None = None, **fields: Any
    ) -> ConversationSessionOut:
        """``POST /api/sessions``: a ``ConversationSession`` (its ``session_key`` is derived)."""
        return self.call(_Routes.create_conversation_session(_body(ConversationSessionIn, body, fields)))

    def list_conversation_sessions(
        self, *, page: int = 1, size: int = 50, **filters: Any
    ) -> ConversationSessionsPage:
        """``GET /api/sessions``; ``filters``: ``participant_id``, ``status``, ``search``."""
        return self.call(_Routes.list_conversation_sessions(page, _check_size(size), filters))

    def get_conversation_session(self, session_key: str) -> ConversationSessionOut:
        """``GET /api/sessions/{session_key}``."""
        return self.call(_Routes.get_conversation_session(session_key))

    def post_agent_message(
        self, session_key: str, body: AgentMessageIn | Mapping[str, Any] | None = None, **fields: Any
    ) -> MessageOut:
        """``POST /api/sessions/{session_key}/messages``: an ``AgentCommunicationMessage``
        (``message_id`` assigned here when missing, so a re-send is idempotent)."""
        return self.call(_Routes.post_agent_message(session_key, _body(AgentMessageIn, body, fields)))

    def list_agent_messages(
        self, session_key: str, *, page: int = 1, size: int = 50, after_seq: int | None = None, **filters: Any
    ) -> MessagesPage:
        """``GET /api/sessions/{session_key}/messages`` (filters as ``list_messages``)."""
        return self.call(
            _Routes.list_agent_messages(session_key, page, _check_size(size), after_seq, filters)
        )

    # -- system and provider capture ------------------------------------------------------------
    def healthz(self) -> dict[str, Any]:
        """``GET /healthz`` (no auth needed)."""
        result: dict[str, Any] = self.call(_Routes.get("/healthz", _json))
        return result

    def stats(self) -> StatsOut:
        """``GET /api/stats``: the account's session and message counts."""
        return self.call(_Routes.get("/api/stats", _model(StatsOut)))

    def providers(self) -> dict[str, Any]:
        """``GET /api/providers``: the provider capability registry."""
        result: dict[str, Any] = self.call(_Routes.get("/api/providers", _json))
        return result

    def usage(self, session: str) -> dict[str, Any]:
        """``GET …/usage``: token and cost totals (``totals``, ``by_model``, ``by_message``)."""
        result: dict[str, Any] = self.call(_Routes.get(f"{_Routes.S}/{_seg(session)}/usage", _json))
        return result

    def provider_calls(self, session: str, include_raw: bool = False) -> dict[str, Any]:
        """``GET …/provider-calls``: the recorded model calls (``items``, ``total``)."""
        path = f"{_Routes.S}/{_seg(session)}/provider-calls"
        result: dict[str, Any] = self.call(_Routes.get(path, _json, include_raw=include_raw))
        return result

    def context(
        self, session: str, provider: str, api: str | None = None, budget_tokens: int = 8000
    ) -> dict[str, Any]:
        """``GET …/context``: what to send to ``provider`` next (strategy, reason, messages)."""
        path = f"{_Routes.S}/{_seg(session)}/context"
        read = _Routes.get(path, _json, provider=provider, api=api, budget_tokens=budget_tokens)
        result: dict[str, Any] = self.call(read)
        return result


class AsyncClient:
    """The asyncio form of :class:`Client`: the same methods, awaited (``iter_*`` are async
    iterators). Bound to the event loop it is first used in (httpx.AsyncClient is); use
    ``async with`` or ``await aclose()``."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.25,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        _check_retries(retries, backoff)
        self.retries = retries
        self.backoff = backoff
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=_headers(token, headers), timeout=timeout, transport=transport
        )

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def call(self, call: Call[T]) -> T:
        """As :meth:`Client.call`, awaited."""
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    call.method, call.path, params=call.params, json=call.json
                )
            except httpx.TransportError as exc:
                if attempt >= self.retries or not (call.retry_safe or _never_sent(exc)):
                    raise
                await asyncio.sleep(_retry_delay(attempt, self.backoff, None))
                attempt += 1
                continue
            if attempt < self.retries and _resend_status(call, response):
                await asyncio.sleep(_retry_delay(attempt, self.backoff, response))
                attempt += 1
                continue
            return _finish(call, response, attempt)

    # -- sessions -------------------------------------------------------------------------------
    async def list_sessions(self, *, page: int = 1, size: int = 50, **filters: Any) -> SessionsPage:
        """See :meth:`Client.list_sessions`."""
        return await self.call(_Routes.list_sessions(page, _check_size(size), filters))

    async def iter_sessions(
        self, *, page_size: int = MAX_PAGE_SIZE, **filters: Any
    ) -> AsyncIterator[SessionOut]:
        """See :meth:`Client.iter_sessions`."""
        page = 1
        while True:
            result = await self.list_sessions(page=page, size=page_size, **filters)
            for item in result.items:
                yield item
            if len(result.items) < page_size or page * page_size >= result.total:
                return
            page += 1

    async def create_session(
        self, body: SessionCreate | Mapping[str, Any] | None = None, **fields: Any
    ) -> SessionOut:
        """See :meth:`Client.create_session`."""
        return await self.call(_Routes.create_session(_body(SessionCreate, body, fields)))

    async def get_session(self, session: str) -> SessionOut:
        """See :meth:`Client.get_session`."""
        return await self.call(_Routes.get_session(session))

    async def update_session(
        self, session: str, body: SessionUpdate | Mapping[str, Any] | None = None, **fields: Any
    ) -> SessionOut:
        """See :meth:`Client.update_session`."""
        return await self.call(_Routes.update_session(session, _body(SessionUpdate, body, fields)))

    async def delete_session(self, session: str) -> None:
        """See :meth:`Client.delete_session`."""
        await self.call(_Routes.delete_session(session))

    async def activate_session(self, session: str, reason: str | None = None) -> SessionOut:
        """See :meth:`Client.activate_session`."""
        return await self.call(_Routes.move(session, "activate", _query(reason=reason) or None))

    async def deactivate_session(self, session: str, reason: str | None = None) -> SessionOut:
        """See :meth:`Client.deactivate_session`."""
        return await self.call(_Routes.move(session, "deactivate", _query(reason=reason) or None))

    async def transition_session(self, session: str, status: str, reason: str | None = None) -> SessionOut:
        """See :meth:`Client.transition_session`."""
        return await self.call(_Routes.move(session, "transition", _query(status=status, reason=reason)))

    async def session_events(self, session: str) -> EventsOut:
        """See :meth:`Client.session_events`."""
        return await self.call(_Routes.events(session))

    async def export_session(self, session: str, format: str = "json") -> Any:
        """See :meth:`Client.export_session`."""
        return await self.call(_Routes.export(session, format))

    async def import_session(self, bundle: Mapping[str, Any]) -> SessionOut:
        """See :meth:`Client.import_session`."""
        return await self.call(_Routes.import_bundle(bundle))

    async def session_health(self, session: str) -> HealthOut:
        """See :meth:`Client.session_health`."""
        return await self.call(_Routes.health(session))

    async def conversation(
        self, body: ConversationIn | Mapping[str, Any] | None = None, **fields: Any
    ) -> ConversationOut:
        """See :meth:`Client.conversation`."""
        return await self.call(_Routes.conversation(_body(ConversationIn, body, fields)))

    # -- messages -------------------------------------------------------------------------------
    async def list_messages(
        self,
        session: str,
        *,
        page: int = 1,
        size: int = 50,
        after_seq: int | None = None,
        search: str | None = None,
        role: str | None = None,
        sender: str | None = None,
        recipient: str | None = None,
        message_type: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        last: int | None = None,
    ) -> MessagesPage:
        """See :meth:`Client.list_messages`."""
        filters = _message_filters(search, role, sender, recipient, message_type, created_from, created_to)
        return await self.call(
            _Routes.list_messages(session, page, _check_size(size), after_seq, filters, _check_last(last))
        )

    async def iter_messages(
        self, session: str, *, after_seq: int = 0, page_size: int = MAX_PAGE_SIZE, **filters: Any
    ) -> AsyncIterator[MessageOut]:
        """See :meth:`Client.iter_messages`."""
        while True:
            result = await self.list_messages(session, size=page_size, after_seq=after_seq, **filters)
            for item in result.items:
                yield item
            if len(result.items) < page_size:
                return
            after_seq = result.items[-1].seq

    async def recent_messages(self, session: str, n: int) -> list[MessageOut]:
        """See :meth:`Client.recent_messages`."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be an int >= 0, got {n!r}")
        if n == 0:
            return []
        if n <= MAX_PAGE_SIZE:  # one request: ?last=n
            return (await self.list_messages(session, last=n)).items
        total = (await self.list_messages(session, size=1)).total
        after = 0
        if total > n:
            start = (await self.list_messages(session, page=total - n + 1, size=1)).items
            after = start[0].seq - 1 if start else 0
        return [m async for m in self.iter_messages(session, after_seq=after)][-n:]

    async def append_message(
        self, session: str, message: MessageIn | Mapping[str, Any] | None = None, **fields: Any
    ) -> MessageOut:
        """See :meth:`Client.append_message`."""
        return await self.call(_Routes.append(session, _with_id(_body(MessageIn, message, fields))))

    async def append_messages(
        self, session: str, messages: Sequence[MessageIn | Mapping[str, Any]]
    ) -> list[MessageOut]:
        """See :meth:`Client.append_messages`."""
        if not 1 <= len(messages) <= MAX_BATCH:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH} messages, got {len(messages)}")
        return await self.call(_Routes.append_batch(session, [_with_id(m) for m in messages]))

    async def get_message(self, session: str, message_id: str) -> MessageOut:
        """See :meth:`Client.get_message`."""
        return await self.call(_Routes.get_message(session, message_id))

    async def edit_message(
        self,
        session: str,
        message_id: str,
        body: MessagePatch | Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> MessageOut:
        """See :meth:`Client.edit_message`."""
        return await self.call(_Routes.edit_message(session, message_id, _body(MessagePatch, body, fields)))

    async def delete_message(self, session: str, message_id: str) -> None:
        """See :meth:`Client.delete_message`."""
        await self.call(_Routes.delete_message(session, message_id))

    async def redact_message(self, session: str, message_id: str, marker: str | None = None) -> MessageOut:
        """See :meth:`Client.redact_message`."""
        return await self.call(_Routes.redact_message(session, message_id, marker))

    async def clear_messages(self, session: str) -> int:
        """See :meth:`Client.clear_messages`."""
        return (await self.call(_Routes.clear_messages(session))).deleted_count

    async def pop_message(self, session: str) -> MessageOut | None:
        """See :meth:`Client.pop_message`."""
        latest = await self.recent_messages(session, 1)
        if not latest:
            return None
        await self.delete_message(session, latest[0].id)
        return latest[0]

    # -- memory ---------------------------------------------------------------------------------
    async def list_memory(self, session: str, *, page: int = 1, size: int = 50) -> MemoryPage:
        """See :meth:`Client.list_memory`."""
        return await self.call(_Routes.list_memory(session, page, _check_size(size)))

    async def get_memory(self, session: str, key: str) -> MemoryEntryOut:
        """See :meth:`Client.get_memory`."""
        return await self.call(_Routes.get_memory(session, key))

    async def set_memory(self, session: str, key: str, value: Any) -> MemoryEntryOut:
        """See :meth:`Client.set_memory`."""
        return await self.call(_Routes.set_memory(session, key, value))

    async def delete_memory(self, session: str, key: str) -> None:
        """See :meth:`Client.delete_memory`."""
        await self.call(_Routes.delete_memory(session, key))

    # -- multi-participant sessions -------------------------------------------------------------
    async def create_conversation_session(
        self, body: ConversationSessionIn | Mapping[str, Any] | None = None, **fields: Any
    ) -> ConversationSessionOut:
        """See :meth:`Client.create_conversation_session`."""
        return await self.call(
            _Routes.create_conversation_session(_body(ConversationSessionIn, body, fields))
        )

    async def list_conversation_sessions(
        self, *, page: int = 1, size: int = 50, **filters: Any
    ) -> ConversationSessionsPage:
        """See :meth:`Client.list_conversation_sessions`."""
        return await self.call(_Routes.list_conversation_sessions(page, _check_size(size), filters))

    async def get_conversation_session(self, session_key: str) -> ConversationSessionOut:
        """See :meth:`Client.get_conversation_session`."""
        return await self.call(_Routes.get_conversation_session(session_key))

    async def post_agent_message(
        self, session_key: str, body: AgentMessageIn | Mapping[str, Any] | None = None, **fields: Any
    ) -> MessageOut:
        """See :meth:`Client.post_agent_message`."""
        return await self.call(_Routes.post_agent_message(session_key, _body(AgentMessageIn, body, fields)))

    async def list_agent_messages(
        self, session_key: str, *, page: int = 1, size: int = 50, after_seq: int | None = None, **filters: Any
    ) -> MessagesPage:
        """See :meth:`Client.list_agent_messages`."""
        call = _Routes.list_agent_messages(session_key, page, _check_size(size), after_seq, filters)
        return await self.call(call)

    # -- system and provider capture ------------------------------------------------------------
    async def healthz(self) -> dict[str, Any]:
        """See :meth:`Client.healthz`."""
        result: dict[str, Any] = await self.call(_Routes.get("/healthz", _json))
        return result

    async def stats(self) -> StatsOut:
        """See :meth:`Client.stats`."""
        return await self.call(_Routes.get("/api/stats", _model(StatsOut)))

    async def providers(self) -> dict[str, Any]:
        """See :meth:`Client.providers`."""
        result: dict[str, Any] = await self.call(_Routes.get("/api/providers", _json))
        return result

    async def usage(self, session: str) -> dict[str, Any]:
        """See :meth:`Client.usage`."""
        result: dict[str, Any] = await self.call(_Routes.get(f"{_Routes.S}/{_seg(session)}/usage", _json))
        return result

    async def provider_calls(self, session: str, include_raw: bool = False) -> dict[str, Any]:
        """See :meth:`Client.provider_calls`."""
        path = f"{_Routes.S}/{_seg(session)}/provider-calls"
        result: dict[str, Any] = await self.call(_Routes.get(path, _json, include_raw=include_raw))
        return result

    async def context(
        self, session: str, provider: str, api: str | None = None, budget_tokens: int = 8000
    ) -> dict[str, Any]:
        """See :meth:`Client.context`."""
        path = f"{_Routes.S}/{_seg(session)}/context"
        read = _Routes.get(path, _json, provider=provider, api=api, budget_tokens=budget_tokens)
        result: dict[str, Any] = await self.call(read)
        return result


__all__ = [
    "ApiError",
    "AsyncClient",
    "AuthenticationError",
    "Call",
    "Client",
    "ConflictError",
    "InvalidRequestError",
    "InvalidTransitionError",
    "ModelCallFailedError",
    "NotFoundError",
    "ServerError",
    "SessionNotActiveError",
    "error_for",
]
