"""The Python client of convoledger's HTTP API: ``Client`` (blocking) and ``AsyncClient`` (asyncio).

Both speak to a running ``convoledger serve`` over httpx, with the API's own pydantic schemas
(``convoledger.api.schemas``) for request bodies — validated here before anything is sent — and
for the resources that come back (``SessionOut``, ``MessageOut``, ``MessagesPage``, …).

    with Client("http://127.0.0.1:8000", token="clg_…") as api:
        session = api.create_session(session_id="support-42", name="Support")
        api.append_message(session.id, role="user", content="Hello")
        for message in api.iter_messages(session.id):
            print(message.seq, message.role, message.content)

Design (one description per call, thin sync/async wrappers): every route is one
:class:`Endpoint` in ``_Routes`` — the app's method and path template and a pure function
turning the method's arguments into a :class:`Call` (path, query, JSON body validated with the
API's own schemas, how to read the answer, whether it may be re-sent). ``Client`` and
``AsyncClient`` expose each as a method of the same name (``name = _sync(_Routes.name)`` /
``_async(…)``), so a new route is one function and two lines; ``routes()`` lists what the
clients reach (``tests/client/test_client_routes.py`` compares it with the app). Helpers that
take several requests (paging, ``recent_messages``) are written once as plans (generators that
yield calls and receive answers), driven by each client. ``{session}`` in a path is the
session's id, its ``session_id`` or its ``session_key``, percent-encoded (a key containing
``/`` cannot be used in a path: use the session's id). Adding a route, e.g. ``GET /api/alerts``::

    @endpoint("GET", "/api/alerts")                      # in _Routes
    def list_alerts(r: Route, /, *, page: int = 1) -> Call[dict[str, Any]]:
        # docstring: ``GET /api/alerts``: one page of the account's alerts.
        return r.call(_json, params=_query(page=page))

    list_alerts = _sync(_Routes.list_alerts)              # in Client
    list_alerts = _async(_Routes.list_alerts)             # in AsyncClient

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
``retry_safe`` are: reads, edits, memory writes, deletes and every append — the client gives
each message an id when it has none (a UUIDv7), and the ledger stores a message id once per
session (DESIGN.md invariant 4), so a re-sent append returns the first message instead of a
duplicate. A ``DELETE`` re-sent after its first attempt took effect answers 404; that counts as
done. Never re-sent after an ambiguous failure: ``pop_message`` (it would remove the next
message), ``fork_session`` (a second branch), ``record_provider_call`` (counted twice),
lifecycle moves and session creation/import.

Paging: ``iter_messages`` / ``iter_agent_messages`` walk a session with keyset paging
(``after_seq``: stable while others append); ``recent_messages(session, n)`` returns the latest
``n`` in order; ``iter_sessions`` / ``iter_conversation_sessions`` walk a list page by page
(ordered by last update, so a session updated meanwhile may move between pages).

Live events: ``stream(session=None, after=None)`` yields the account's (or one session's)
events over Server-Sent Events, resuming with ``Last-Event-ID`` after a dropped connection;
``follow(session)`` yields the session's messages, then each new one as it is appended.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar, overload
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from convoledger.api.provider_schemas import ProviderCallIn
from convoledger.api.schemas import (
    MAX_BATCH,
    MAX_PAGE_SIZE,
    AgentMessageIn,
    BranchesOut,
    ConversationIn,
    ConversationOut,
    ConversationSessionIn,
    ConversationSessionOut,
    ConversationSessionsPage,
    DeletedCount,
    EventsOut,
    ForkIn,
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
from convoledger.events.client_stream import (
    astream_position,
    stream_events,
    stream_events_sync,
    stream_position,
)
from convoledger.models.events import EventKind, EventRecord
from convoledger.models.maintenance import Alert, DeletionRecord
from convoledger.models.records import new_message_id
from convoledger.models.status import InvalidTransition

T = TypeVar("T")
B = TypeVar("B", bound=BaseModel)
Item = TypeVar("Item")
P = ParamSpec("P")

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


@dataclass(frozen=True)
class Route:
    """One route of the API: its HTTP ``method`` and ``path`` template exactly as the app
    declares it (``/api/agent-sessions/{session}/fork``); :meth:`call` fills the template."""

    method: str
    path: str

    def call(
        self,
        read: Callable[[httpx.Response], T],
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        retry_safe: bool | None = None,
        gone_ok: bool = False,
        **segments: str,
    ) -> Call[T]:
        """The :class:`Call` of this route with its ``{name}`` segments percent-encoded
        (``ValueError`` for an empty or non-str one); ``retry_safe`` defaults to ``GET`` only."""
        path = self.path.format(**{name: _seg(value) for name, value in segments.items()})
        safe = self.method == "GET" if retry_safe is None else retry_safe
        return Call(self.method, path, read, params, json, safe, gone_ok)


class Endpoint(Generic[P, T]):
    """A route and the pure function building its :class:`Call` from the method's arguments:
    the one description both :class:`Client` and :class:`AsyncClient` send (``_sync`` /
    ``_async`` turn it into their methods). Calling it builds the ``Call``."""

    def __init__(self, route: Route, build: Callable[Concatenate[Route, P], Call[T]]) -> None:
        self.route = route
        self.build = build
        self.__name__ = build.__name__
        self.__doc__ = build.__doc__
        parameters = list(inspect.signature(build).parameters.values())[1:]
        self.__signature__ = inspect.signature(build).replace(parameters=parameters)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Call[T]:
        return self.build(self.route, *args, **kwargs)


def endpoint(method: str, path: str) -> Callable[[Callable[Concatenate[Route, P], Call[T]]], Endpoint[P, T]]:
    """Declare an :class:`Endpoint` for ``method path`` (the app's path template)."""

    def declare(build: Callable[Concatenate[Route, P], Call[T]]) -> Endpoint[P, T]:
        return Endpoint(Route(method, path), build)

    return declare


class _Sender(Protocol):
    def call(self, call: Call[T]) -> T: ...


class _AsyncSender(Protocol):
    def call(self, call: Call[T]) -> Coroutine[Any, Any, T]: ...


class _sync(Generic[P, T]):  # noqa: N801 - used like a decorator
    """A :class:`Client` method sending one :class:`Endpoint`'s call."""

    def __init__(self, ep: Endpoint[P, T]) -> None:
        self.endpoint = ep
        self.__name__ = ep.__name__
        self.__doc__ = ep.__doc__

    def __call__(self, client: _Sender, /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Called on the class (``Client.get_session(api, "s1")``), as a plain method would be."""
        return client.call(self.endpoint(*args, **kwargs))

    @overload
    def __get__(self, obj: None, owner: type) -> _sync[P, T]: ...
    @overload
    def __get__(self, obj: _Sender, owner: type) -> Callable[P, T]: ...
    def __get__(self, obj: _Sender | None, owner: type) -> _sync[P, T] | Callable[P, T]:
        if obj is None:
            return self
        ep = self.endpoint

        def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return obj.call(ep(*args, **kwargs))

        _describe(method, ep)
        return method


class _async(Generic[P, T]):  # noqa: N801 - used like a decorator
    """An :class:`AsyncClient` method sending one :class:`Endpoint`'s call (awaited)."""

    def __init__(self, ep: Endpoint[P, T]) -> None:
        self.endpoint = ep
        self.__name__ = ep.__name__
        self.__doc__ = ep.__doc__

    async def __call__(self, client: _AsyncSender, /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Called on the class (``await AsyncClient.get_session(api, "s1")``)."""
        return await client.call(self.endpoint(*args, **kwargs))

    @overload
    def __get__(self, obj: None, owner: type) -> _async[P, T]: ...
    @overload
    def __get__(self, obj: _AsyncSender, owner: type) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(
        self, obj: _AsyncSender | None, owner: type
    ) -> _async[P, T] | Callable[P, Coroutine[Any, Any, T]]:
        if obj is None:
            return self
        ep = self.endpoint

        async def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return await obj.call(ep(*args, **kwargs))

        _describe(method, ep)
        return method


def _describe(method: Any, ep: Endpoint[Any, Any]) -> None:
    method.__name__ = method.__qualname__ = ep.__name__
    method.__doc__ = ep.__doc__
    method.__signature__ = ep.__signature__


# -- reading answers ---------------------------------------------------------------------------
def _model(cls: type[B]) -> Callable[[httpx.Response], B]:
    return lambda response: cls.model_validate_json(response.content)


_MESSAGES = TypeAdapter(list[MessageOut])


def _message_list(response: httpx.Response) -> list[MessageOut]:
    return _MESSAGES.validate_json(response.content)


def _list_of(cls: type[B]) -> Callable[[httpx.Response], list[B]]:
    adapter = TypeAdapter(list[cls])  # type: ignore[valid-type]
    return lambda response: adapter.validate_json(response.content)


def _json_list(response: httpx.Response) -> list[dict[str, Any]]:
    body = response.json()
    if not isinstance(body, list):
        raise ValueError(f"expected a JSON array from {response.request.url}, got {type(body).__name__}")
    return body


def _json(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError(f"expected a JSON object from {response.request.url}, got {type(body).__name__}")
    return body


def _text(response: httpx.Response) -> str:
    return response.text


def _nothing(response: httpx.Response) -> None:
    return None


def _maybe_message(response: httpx.Response) -> MessageOut | None:
    return None if response.status_code == 204 else MessageOut.model_validate_json(response.content)


def _deleted_count(response: httpx.Response) -> int:
    return DeletedCount.model_validate_json(response.content).deleted_count


def _export(response: httpx.Response) -> Any:
    return response.json() if "json" in response.headers.get("content-type", "") else response.text


# -- building requests -------------------------------------------------------------------------
def _seg(value: str) -> str:
    """A path segment: ``value`` percent-encoded (``/`` included)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"a session, message or key reference must be a non-empty str, got {value!r}")
    return quote(value, safe="")


def _query(**params: Any) -> dict[str, Any]:
    """Query parameters without the ``None`` ones; datetimes as ISO 8601, enums as values,
    a ``(from, to)`` pair as the seed's ``<from>,<to>`` range (either side may be ``None``)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = _param(value)
    return out


def _param(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        if len(value) != 2:
            raise ValueError(f"a range is a (from, to) pair, got {value!r}")
        return ",".join("" if side is None else str(_param(side)) for side in value)
    return value


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


def _message_payload(message: MessageIn) -> dict[str, Any]:
    payload: dict[str, Any] = _dump(message, exclude_unset=True) | {"id": message.id}
    return payload


def _check_size(size: int) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PAGE_SIZE:
        raise ValueError(f"page size must be an int from 1 to {MAX_PAGE_SIZE}, got {size!r}")
    return size


Range = tuple[datetime | str | None, datetime | str | None] | str
"""The seed's time range filter: ``"<from>,<to>"`` or a ``(from, to)`` pair; either side may
be empty (``None``); inclusive (seed 002, section 4 list filters)."""

_S = "/api/agent-sessions"
_ONE = _S + "/{session}"
_MSG = _ONE + "/messages/{message_id}"
_MEM = _ONE + "/memory/{key}"
_CS = "/api/sessions/{session_key}"


class _Routes:
    """Every route of the API as an :class:`Endpoint` (pure; both clients send these). The
    method names are the clients' method names; adding a route is one function here and one
    line in each client class (``tests/client/test_client_routes.py`` checks both)."""

    # -- sessions (seed 002) ------------------------------------------------------------------
    @endpoint("GET", _S)
    def list_sessions(
        r: Route,
        /,
        *,
        page: int = 1,
        size: int = 50,
        search: str | None = None,
        status: str | None = None,
        kind: str | None = None,
        participant_id: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        updated_from: datetime | None = None,
        updated_to: datetime | None = None,
        created_at: Range | None = None,
        updated_at: Range | None = None,
    ) -> Call[SessionsPage]:
        """``GET /api/agent-sessions``: one page of the account's sessions, most recently
        updated first. Filters: ``search`` (substring of name / session_id), ``status``,
        ``kind``, ``participant_id``, ``created_from``/``created_to``,
        ``updated_from``/``updated_to`` and the seed's ranges ``created_at``/``updated_at``."""
        params = _query(
            page=page,
            size=_check_size(size),
            search=search,
            status=status,
            kind=kind,
            participant_id=participant_id,
            created_from=created_from,
            created_to=created_to,
            updated_from=updated_from,
            updated_to=updated_to,
            created_at=created_at,
            updated_at=updated_at,
        )
        return r.call(_model(SessionsPage), params=params)

    @endpoint("POST", _S)
    def create_session(
        r: Route, /, body: SessionCreate | Mapping[str, Any] | None = None, **fields: Any
    ) -> Call[SessionOut]:
        """``POST /api/agent-sessions`` with a ``SessionCreate`` (or its fields);
        ``ConflictError`` when the ``session_id`` is taken."""
        return r.call(_model(SessionOut), json=_dump(_body(SessionCreate, body, fields), exclude_unset=True))

    @endpoint("POST", _S + "/conversation")
    def conversation(
        r: Route, /, body: ConversationIn | Mapping[str, Any] | None = None, **fields: Any
    ) -> Call[ConversationOut]:
        """``POST /api/agent-sessions/conversation``: append the messages (ids assigned here when
        missing, so the reply id — derived from the last one — is stable and a re-send returns
        the stored reply) and get the agent's reply."""
        parsed = _body(ConversationIn, body, fields)
        parsed = parsed.model_copy(update={"messages": [_with_id(m) for m in parsed.messages]})
        payload = _dump(parsed, exclude_unset=True)
        payload["messages"] = [_message_payload(m) for m in parsed.messages]
        return r.call(_model(ConversationOut), json=payload, retry_safe=True)

    @endpoint("POST", _S + "/import")
    def import_session(r: Route, /, bundle: Mapping[str, Any]) -> Call[SessionOut]:
        """``POST /api/agent-sessions/import``: restore an exported bundle."""
        return r.call(_model(SessionOut), json=dict(bundle))

    @endpoint("GET", _ONE)
    def get_session(r: Route, /, session: str) -> Call[SessionOut]:
        """``GET /api/agent-sessions/{session}``; ``NotFoundError``."""
        return r.call(_model(SessionOut), session=session)

    @endpoint("PATCH", _ONE)
    def update_session(
        r: Route, /, session: str, body: SessionUpdate | Mapping[str, Any] | None = None, **fields: Any
    ) -> Call[SessionOut]:
        """``PATCH /api/agent-sessions/{session}``: only the fields given change."""
        payload = _dump(_body(SessionUpdate, body, fields), exclude_unset=True)
        return r.call(_model(SessionOut), json=payload, retry_safe=True, session=session)

    @endpoint("DELETE", _ONE)
    def delete_session(r: Route, /, session: str) -> Call[None]:
        """``DELETE /api/agent-sessions/{session}`` with everything recorded about it."""
        return r.call(_nothing, retry_safe=True, gone_ok=True, session=session)

    @endpoint("PUT", _ONE + "/activate")
    def activate_session(r: Route, /, session: str, reason: str | None = None) -> Call[SessionOut]:
        """``PUT …/activate`` (inactive → active); ``InvalidTransitionError`` otherwise."""
        return r.call(_model(SessionOut), json=_query(reason=reason) or None, session=session)

    @endpoint("PUT", _ONE + "/deactivate")
    def deactivate_session(r: Route, /, session: str, reason: str | None = None) -> Call[SessionOut]:
        """``PUT …/deactivate`` (active → inactive); ``InvalidTransitionError`` otherwise."""
        return r.call(_model(SessionOut), json=_query(reason=reason) or None, session=session)

    @endpoint("POST", _ONE + "/transition")
    def transition_session(
        r: Route, /, session: str, status: str, reason: str | None = None
    ) -> Call[SessionOut]:
        """``POST …/transition`` to ``status`` (any legal lifecycle move)."""
        return r.call(_model(SessionOut), json=_query(status=status, reason=reason), session=session)

    @endpoint("GET", _ONE + "/events")
    def session_events(r: Route, /, session: str) -> Call[EventsOut]:
        """``GET …/events``: the session's lifecycle events, oldest first."""
        return r.call(_model(EventsOut), session=session)

    @endpoint("GET", _ONE + "/export")
    def export_session(r: Route, /, session: str, format: str = "json") -> Call[Any]:
        """``GET …/export?format=…``: a dict for JSON formats (``json``, ``a2a``), text for ``csv``."""
        return r.call(_export, params=_query(format=format), session=session)

    @endpoint("GET", _ONE + "/health")
    def session_health(r: Route, /, session: str) -> Call[HealthOut]:
        """``GET …/health``: the 0–100 health score with its factors (seed 002, section 13)."""
        return r.call(_model(HealthOut), session=session)

    # -- branches (issue 17) ------------------------------------------------------------------
    @endpoint("POST", _ONE + "/fork")
    def fork_session(
        r: Route, /, session: str, body: ForkIn | Mapping[str, Any] | None = None, **fields: Any
    ) -> Call[SessionOut]:
        """``POST …/fork``: a new branch sharing the session's history up to ``at_seq``
        (default: its last seq), optionally with its own ``session_id`` and ``name``.
        ``InvalidRequestError`` for a fork point outside ``1..last_seq``; ``ConflictError`` when
        the ``session_id`` is taken. Not re-sent after an ambiguous failure (a second branch)."""
        payload = _dump(_body(ForkIn, body, fields), exclude_unset=True)
        return r.call(_model(SessionOut), json=payload, session=session)

    @endpoint("GET", _ONE + "/branches")
    def branches(r: Route, /, session: str) -> Call[BranchesOut]:
        """``GET …/branches``: the sessions forked directly from this one, oldest first."""
        return r.call(_model(BranchesOut), session=session)

    # -- messages -----------------------------------------------------------------------------
    @endpoint("GET", _ONE + "/messages")
    def list_messages(
        r: Route,
        /,
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
        created_at: Range | None = None,
        last: int | None = None,
    ) -> Call[MessagesPage]:
        """``GET …/messages``: one page in ``seq`` order, filtered before paging (full-text
        ``search``, ``role`` — a value or the seed's member name —, ``sender``, ``recipient``,
        ``message_type``, ``created_from``/``created_to`` and the seed's ``created_at`` range);
        ``after_seq``: keyset paging, only ``seq > after_seq``; ``last=N`` (1–100): the ``N`` most
        recent matching messages instead of a page, oldest first (``ValueError`` outside)."""
        bad_last = isinstance(last, bool) or not isinstance(last, int) or not 1 <= last <= MAX_PAGE_SIZE
        if last is not None and bad_last:
            raise ValueError(f"last must be an int from 1 to {MAX_PAGE_SIZE}, got {last!r}")
        params = _query(
            page=page,
            size=_check_size(size),
            after_seq=after_seq,
            search=search,
            role=role,
            sender=sender,
            recipient=recipient,
            message_type=message_type,
            created_from=created_from,
            created_to=created_to,
            created_at=created_at,
            last=last,
        )
        return r.call(_model(MessagesPage), params=params, session=session)

    @endpoint("POST", _ONE + "/messages")
    def append_message(
        r: Route, /, session: str, message: MessageIn | Mapping[str, Any] | None = None, **fields: Any
    ) -> Call[MessageOut]:
        """``POST …/messages``: append one message (given an id here when it has none, so a
        re-send returns the stored message); ``SessionNotActiveError`` when the session refuses it."""
        payload = _message_payload(_with_id(_body(MessageIn, message, fields)))
        return r.call(_model(MessageOut), json=payload, retry_safe=True, session=session)

    @endpoint("POST", _ONE + "/messages/batch")
    def append_messages(
        r: Route, /, session: str, messages: Sequence[MessageIn | Mapping[str, Any]]
    ) -> Call[list[MessageOut]]:
        """``POST …/messages/batch``: append 1 to 500 messages, all or none, in order (ids
        assigned here when missing; ``ValueError`` for an empty or too large batch)."""
        if not 1 <= len(messages) <= MAX_BATCH:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH} messages, got {len(messages)}")
        payload = {"messages": [_message_payload(_with_id(m)) for m in messages]}
        return r.call(_message_list, json=payload, retry_safe=True, session=session)

    @endpoint("POST", _ONE + "/messages/pop")
    def pop_message(r: Route, /, session: str) -> Call[MessageOut | None]:
        """``POST …/messages/pop``: delete and return the newest message in one server-side
        transaction (two concurrent pops remove two different messages), ``None`` when there is
        none; ``ConflictError`` when a branch shares it. Never re-sent after an ambiguous
        failure (a re-send would remove the next one)."""
        return r.call(_maybe_message, retry_safe=False, session=session)

    @endpoint("GET", _MSG)
    def get_message(r: Route, /, session: str, message_id: str) -> Call[MessageOut]:
        """``GET …/messages/{message_id}``."""
        return r.call(_model(MessageOut), session=session, message_id=message_id)

    @endpoint("PATCH", _MSG)
    def edit_message(
        r: Route,
        /,
        session: str,
        message_id: str,
        body: MessagePatch | Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> Call[MessageOut]:
        """``PATCH …/messages/{message_id}``: new ``content`` and/or ``extra_data``."""
        payload = _dump(_body(MessagePatch, body, fields), exclude_unset=True)
        return r.call(
            _model(MessageOut), json=payload, retry_safe=True, session=session, message_id=message_id
        )

    @endpoint("DELETE", _MSG)
    def delete_message(r: Route, /, session: str, message_id: str) -> Call[None]:
        """``DELETE …/messages/{message_id}`` (its seq is never reused)."""
        return r.call(_nothing, retry_safe=True, gone_ok=True, session=session, message_id=message_id)

    @endpoint("POST", _MSG + "/redact")
    def redact_message(
        r: Route, /, session: str, message_id: str, marker: str | None = None
    ) -> Call[MessageOut]:
        """``POST …/messages/{message_id}/redact``: replace the content with ``marker``."""
        body = None if marker is None else {"marker": marker}
        return r.call(_model(MessageOut), json=body, retry_safe=True, session=session, message_id=message_id)

    @endpoint("DELETE", _ONE + "/clear-messages")
    def clear_messages(r: Route, /, session: str) -> Call[int]:
        """``DELETE …/clear-messages``: delete every message; how many were deleted."""
        return r.call(_deleted_count, retry_safe=True, session=session)

    # -- memory -------------------------------------------------------------------------------
    @endpoint("GET", _ONE + "/memory")
    def list_memory(r: Route, /, session: str, *, page: int = 1, size: int = 50) -> Call[MemoryPage]:
        """``GET …/memory``: the session memory entries, ordered by key."""
        return r.call(_model(MemoryPage), params=_query(page=page, size=_check_size(size)), session=session)

    @endpoint("GET", _MEM)
    def get_memory(r: Route, /, session: str, key: str) -> Call[MemoryEntryOut]:
        """``GET …/memory/{key}``; ``NotFoundError`` when not set."""
        return r.call(_model(MemoryEntryOut), session=session, key=key)

    @endpoint("PUT", _MEM)
    def set_memory(r: Route, /, session: str, key: str, value: Any) -> Call[MemoryEntryOut]:
        """``PUT …/memory/{key}`` with any JSON ``value``."""
        return r.call(
            _model(MemoryEntryOut), json={"value": value}, retry_safe=True, session=session, key=key
        )

    @endpoint("DELETE", _MEM)
    def delete_memory(r: Route, /, session: str, key: str) -> Call[None]:
        """``DELETE …/memory/{key}``."""
        return r.call(_nothing, retry_safe=True, gone_ok=True, session=session, key=key)

    # -- multi-participant sessions (seed 002 ConversationSession) ----------------------------
    @endpoint("POST", "/api/sessions")
    def create_conversation_session(
        r: Route, /, body: ConversationSessionIn | Mapping[str, Any] | None = None, **fields: Any
    ) -> Call[ConversationSessionOut]:
        """``POST /api/sessions``: a ``ConversationSession`` (its ``session_key`` is derived)."""
        payload = _dump(_body(ConversationSessionIn, body, fields), exclude_unset=True)
        return r.call(_model(ConversationSessionOut), json=payload)

    @endpoint("GET", "/api/sessions")
    def list_conversation_sessions(
        r: Route,
        /,
        *,
        page: int = 1,
        size: int = 50,
        participant_id: str | None = None,
        status: str | None = None,
        search: str | None = None,
    ) -> Call[ConversationSessionsPage]:
        """``GET /api/sessions``; filters ``participant_id``, ``status``, ``search``."""
        params = _query(
            page=page, size=_check_size(size), participant_id=participant_id, status=status, search=search
        )
        return r.call(_model(ConversationSessionsPage), params=params)

    @endpoint("GET", _CS)
    def get_conversation_session(r: Route, /, session_key: str) -> Call[ConversationSessionOut]:
        """``GET /api/sessions/{session_key}``."""
        return r.call(_model(ConversationSessionOut), session_key=session_key)

    @endpoint("POST", _CS + "/messages")
    def post_agent_message(
        r: Route, /, session_key: str, body: AgentMessageIn | Mapping[str, Any] | None = None, **fields: Any
    ) -> Call[MessageOut]:
        """``POST /api/sessions/{session_key}/messages``: an ``AgentCommunicationMessage``
        (``message_id`` assigned here when missing, so a re-send is idempotent)."""
        parsed = _body(AgentMessageIn, body, fields)
        if not parsed.message_id:
            parsed = parsed.model_copy(update={"message_id": new_message_id()})
        payload = _dump(parsed, exclude_unset=True) | {"message_id": parsed.message_id}
        return r.call(_model(MessageOut), json=payload, retry_safe=True, session_key=session_key)

    @endpoint("GET", _CS + "/messages")
    def list_agent_messages(
        r: Route,
        /,
        session_key: str,
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
        created_at: Range | None = None,
    ) -> Call[MessagesPage]:
        """``GET /api/sessions/{session_key}/messages`` (filters as ``list_messages``)."""
        params = _query(
            page=page,
            size=_check_size(size),
            after_seq=after_seq,
            search=search,
            role=role,
            sender=sender,
            recipient=recipient,
            message_type=message_type,
            created_from=created_from,
            created_to=created_to,
            created_at=created_at,
        )
        return r.call(_model(MessagesPage), params=params, session_key=session_key)

    # -- provider usage and cost (seed 004) ---------------------------------------------------
    @endpoint("GET", "/api/providers")
    def providers(r: Route, /) -> Call[dict[str, Any]]:
        """``GET /api/providers``: the provider capability registry."""
        return r.call(_json)

    @endpoint("GET", _ONE + "/usage")
    def usage(r: Route, /, session: str) -> Call[dict[str, Any]]:
        """``GET …/usage``: token and cost (USD) totals: ``totals``, ``by_model``, ``by_message``."""
        return r.call(_json, session=session)

    @endpoint("GET", _ONE + "/provider-calls")
    def provider_calls(r: Route, /, session: str, include_raw: bool = False) -> Call[dict[str, Any]]:
        """``GET …/provider-calls``: the recorded model calls, oldest first (``items``, ``total``)."""
        return r.call(_json, params=_query(include_raw=include_raw), session=session)

    @endpoint("POST", _ONE + "/provider-calls")
    def record_provider_call(
        r: Route,
        /,
        session: str,
        body: ProviderCallIn | Mapping[str, Any] | None = None,
        *,
        include_raw: bool = False,
        **fields: Any,
    ) -> Call[dict[str, Any]]:
        """``POST …/provider-calls``: record one model call from its raw provider response
        (``ProviderCallIn``: ``provider``, ``api``, ``response``, ``message_id``, ``request``,
        ``headers``, ``model``, ``requested_at``); the server parses and prices it (USD) and
        answers with the stored call. ``InvalidRequestError`` for an unknown provider or an
        unreadable response. Not re-sent after an ambiguous failure (it would count twice)."""
        payload = _dump(_body(ProviderCallIn, body, fields), exclude_unset=True)
        return r.call(_json, params=_query(include_raw=include_raw), json=payload, session=session)

    @endpoint("GET", _ONE + "/provider-metadata")
    def provider_metadata(r: Route, /, session: str, include_raw: bool = False) -> Call[dict[str, Any]]:
        """``GET …/provider-metadata``: seed 004's ``provider_metadata`` per call id."""
        return r.call(_json, params=_query(include_raw=include_raw), session=session)

    @endpoint("GET", _ONE + "/extracted-identifiers")
    def extracted_identifiers(r: Route, /, session: str) -> Call[dict[str, Any]]:
        """``GET …/extracted-identifiers``: the latest value of each provider identifier (seed 004)."""
        return r.call(_json, session=session)

    @endpoint("GET", _ONE + "/token-usage-history")
    def token_usage_history(r: Route, /, session: str) -> Call[dict[str, Any]]:
        """``GET …/token-usage-history``: tokens per call, oldest first (seed 004)."""
        return r.call(_json, session=session)

    @endpoint("GET", _ONE + "/cost-tracking")
    def cost_tracking(r: Route, /, session: str) -> Call[dict[str, Any]]:
        """``GET …/cost-tracking``: cost per message and in total, USD (seed 004)."""
        return r.call(_json, session=session)

    @endpoint("GET", _ONE + "/context")
    def context(
        r: Route, /, session: str, provider: str, api: str | None = None, budget_tokens: int = 8000
    ) -> Call[dict[str, Any]]:
        """``GET …/context``: what to send to ``provider`` next (strategy, reason, messages)
        within ``budget_tokens`` tokens."""
        params = _query(provider=provider, api=api, budget_tokens=budget_tokens)
        return r.call(_json, params=params, session=session)

    @endpoint("GET", "/api/usage/daily")
    def daily_usage(r: Route, /, days: int = 30) -> Call[dict[str, Any]]:
        """``GET /api/usage/daily``: the account's calls, tokens and cost (USD) per UTC day for
        the last ``days`` days (1–366), oldest first."""
        return r.call(_json, params=_query(days=days))

    # -- system -------------------------------------------------------------------------------
    @endpoint("GET", "/healthz")
    def healthz(r: Route, /) -> Call[dict[str, Any]]:
        """``GET /healthz`` (no auth needed); ``ServerError`` (503) when the store does not answer."""
        return r.call(_json)

    @endpoint("GET", "/metrics")
    def metrics(r: Route, /) -> Call[str]:
        """``GET /metrics``: the API's Prometheus metrics (text exposition format; no auth)."""
        return r.call(_text)

    @endpoint("GET", "/api/stats")
    def stats(r: Route, /) -> Call[StatsOut]:
        """``GET /api/stats``: the account's session and message counts (seed 002, section 9)."""
        return r.call(_model(StatsOut))

    # -- maintenance (issue 13: backups, cleanup records, alerts, performance) ------------------
    @endpoint("GET", "/api/backups")
    def list_backups(r: Route, /, limit: int = 100) -> Call[list[dict[str, Any]]]:
        """``GET /api/backups``: the account's backups, newest first (``backup_id``,
        ``conversation_id``, ``session_id``, ``reason``, ``policy``, ``created_at``,
        ``size_bytes``)."""
        return r.call(_json_list, params=_query(limit=limit))

    @endpoint("POST", "/api/backups/{backup_id}/restore")
    def restore_backup(r: Route, /, backup_id: str) -> Call[dict[str, Any]]:
        """``POST /api/backups/{backup_id}/restore``: restore the backed-up session exactly
        (``{"backup_id", "conversation_id", "session_id"}``). ``NotFoundError`` for an unknown
        backup, ``ConflictError`` when the session exists. Not re-sent after an ambiguous
        failure (the second attempt would answer 409)."""
        return r.call(_json, backup_id=backup_id)

    @endpoint("GET", "/api/deletions")
    def list_deletions(r: Route, /, limit: int = 100) -> Call[list[DeletionRecord]]:
        """``GET /api/deletions``: the sessions a cleanup policy deleted or archived, newest
        first, with the policy, action, actor, time and the backup written first."""
        return r.call(_list_of(DeletionRecord), params=_query(limit=limit))

    @endpoint("GET", "/api/alerts")
    def list_alerts(r: Route, /, limit: int = 100) -> Call[list[Alert]]:
        """``GET /api/alerts``: the account's alerts (``high_message_rate``,
        ``long_inactive_session``; seed 002 section 9), newest first."""
        return r.call(_list_of(Alert), params=_query(limit=limit))

    @endpoint("GET", "/api/performance")
    def performance(r: Route, /, operation: str | None = None) -> Call[dict[str, Any]]:
        """``GET /api/performance``: per-operation durations of the server process (seconds), in
        the seed's ``get_performance_summary`` shape for one ``operation``, else for all."""
        return r.call(_json, params=_query(operation=operation))


#: The live event streams (Server-Sent Events), read by ``stream`` / ``follow`` rather than sent
#: as one :class:`Call`.
ACCOUNT_STREAM = Route("GET", "/api/stream")
SESSION_STREAM = Route("GET", _ONE + "/stream")


def endpoints() -> dict[str, Endpoint[Any, Any]]:
    """Every :class:`Endpoint`, by the client method name that sends it."""
    return {name: ep for name, ep in vars(_Routes).items() if isinstance(ep, Endpoint)}


def routes() -> dict[tuple[str, str], str]:
    """Every route the clients reach, ``(method, path template)`` → the ``Client`` /
    ``AsyncClient`` method name (the route coverage test compares it with the app's routes)."""
    table = {(ep.route.method, ep.route.path): name for name, ep in endpoints().items()}
    table[(ACCOUNT_STREAM.method, ACCOUNT_STREAM.path)] = "stream"
    table[(SESSION_STREAM.method, SESSION_STREAM.path)] = "stream"
    return table


# -- multi-request helpers, written once (the clients drive them) ---------------------------------
@dataclass(frozen=True)
class _Emit(Generic[Item]):
    items: Sequence[Item]


#: A multi-request plan: yields the calls to send (receiving each answer) and ``_Emit``s of results.
Plan = Generator["Call[Any] | _Emit[Item]", Any, None]


def _offset_pages(list_page: Callable[[int], Call[Any]], page_size: int) -> Plan[Any]:
    """Page after page (``page=1, 2, …``) until a short page or ``total`` is reached."""
    page = 1
    while True:
        result = yield list_page(page)
        yield _Emit(result.items)
        if len(result.items) < page_size or page * page_size >= result.total:
            return
        page += 1


def _keyset_pages(list_after: Callable[[int], Call[Any]], after_seq: int, page_size: int) -> Plan[Any]:
    """Keyset pages: each asks for ``seq > `` the last seq seen, until a short page."""
    while True:
        result = yield list_after(after_seq)
        yield _Emit(result.items)
        if len(result.items) < page_size:
            return
        after_seq = result.items[-1].seq


def _recent_plan(session: str, n: int) -> Plan[MessageOut]:
    """The latest ``n`` messages in ``seq`` order: one ``?last=n`` request when ``n`` fits a page
    (at most 100); else the count, the message at position ``total - n``, then keyset pages from
    there (appends in between are seen; the last ``n`` are emitted)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be an int >= 0, got {n!r}")
    if n == 0:
        return
    if n <= MAX_PAGE_SIZE:
        yield _Emit((yield _Routes.list_messages(session, last=n)).items)
        return
    total = (yield _Routes.list_messages(session, size=1)).total
    after = 0
    if total > n:
        start = (yield _Routes.list_messages(session, page=total - n + 1, size=1)).items
        after = start[0].seq - 1 if start else 0
    found: list[MessageOut] = []
    pages = _keyset_pages(
        lambda seq: _Routes.list_messages(session, size=MAX_PAGE_SIZE, after_seq=seq), after, MAX_PAGE_SIZE
    )
    answer: Any = None
    while True:
        try:
            step = pages.send(answer)
        except StopIteration:
            break
        if isinstance(step, _Emit):
            found.extend(step.items)
            answer = None
        else:
            answer = yield step
    yield _Emit(found[-n:])


def _sessions_plan(page_size: int, filters: Mapping[str, Any]) -> Plan[SessionOut]:
    _check_size(page_size)
    return _offset_pages(lambda page: _Routes.list_sessions(page=page, size=page_size, **filters), page_size)


def _messages_plan(
    session: str, after_seq: int, page_size: int, filters: Mapping[str, Any]
) -> Plan[MessageOut]:
    _check_size(page_size)
    return _keyset_pages(
        lambda seq: _Routes.list_messages(session, size=page_size, after_seq=seq, **filters),
        after_seq,
        page_size,
    )


def _agent_messages_plan(
    session_key: str, after_seq: int, page_size: int, filters: Mapping[str, Any]
) -> Plan[MessageOut]:
    _check_size(page_size)
    return _keyset_pages(
        lambda seq: _Routes.list_agent_messages(session_key, size=page_size, after_seq=seq, **filters),
        after_seq,
        page_size,
    )


def _conversation_sessions_plan(page_size: int, filters: Mapping[str, Any]) -> Plan[ConversationSessionOut]:
    _check_size(page_size)
    return _offset_pages(
        lambda page: _Routes.list_conversation_sessions(page=page, size=page_size, **filters), page_size
    )


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

    Each route's method is its :class:`Endpoint` in ``_Routes`` (same name, same arguments, its
    docstring); the helpers below walk pages and streams.
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

    def _walk(self, plan: Plan[Item]) -> Iterator[Item]:
        answer: Any = None
        while True:
            try:
                step = plan.send(answer)
            except StopIteration:
                return
            if isinstance(step, _Emit):
                answer = None
                yield from step.items
            else:
                answer = self.call(step)

    # -- routes (one line each: the Endpoint says everything) ---------------------------------
    list_sessions = _sync(_Routes.list_sessions)
    create_session = _sync(_Routes.create_session)
    conversation = _sync(_Routes.conversation)
    import_session = _sync(_Routes.import_session)
    get_session = _sync(_Routes.get_session)
    update_session = _sync(_Routes.update_session)
    delete_session = _sync(_Routes.delete_session)
    activate_session = _sync(_Routes.activate_session)
    deactivate_session = _sync(_Routes.deactivate_session)
    transition_session = _sync(_Routes.transition_session)
    session_events = _sync(_Routes.session_events)
    export_session = _sync(_Routes.export_session)
    session_health = _sync(_Routes.session_health)
    fork_session = _sync(_Routes.fork_session)
    branches = _sync(_Routes.branches)
    list_messages = _sync(_Routes.list_messages)
    append_message = _sync(_Routes.append_message)
    append_messages = _sync(_Routes.append_messages)
    pop_message = _sync(_Routes.pop_message)
    get_message = _sync(_Routes.get_message)
    edit_message = _sync(_Routes.edit_message)
    delete_message = _sync(_Routes.delete_message)
    redact_message = _sync(_Routes.redact_message)
    clear_messages = _sync(_Routes.clear_messages)
    list_memory = _sync(_Routes.list_memory)
    get_memory = _sync(_Routes.get_memory)
    set_memory = _sync(_Routes.set_memory)
    delete_memory = _sync(_Routes.delete_memory)
    create_conversation_session = _sync(_Routes.create_conversation_session)
    list_conversation_sessions = _sync(_Routes.list_conversation_sessions)
    get_conversation_session = _sync(_Routes.get_conversation_session)
    post_agent_message = _sync(_Routes.post_agent_message)
    list_agent_messages = _sync(_Routes.list_agent_messages)
    providers = _sync(_Routes.providers)
    usage = _sync(_Routes.usage)
    provider_calls = _sync(_Routes.provider_calls)
    record_provider_call = _sync(_Routes.record_provider_call)
    provider_metadata = _sync(_Routes.provider_metadata)
    extracted_identifiers = _sync(_Routes.extracted_identifiers)
    token_usage_history = _sync(_Routes.token_usage_history)
    cost_tracking = _sync(_Routes.cost_tracking)
    context = _sync(_Routes.context)
    daily_usage = _sync(_Routes.daily_usage)
    healthz = _sync(_Routes.healthz)
    metrics = _sync(_Routes.metrics)
    stats = _sync(_Routes.stats)
    list_backups = _sync(_Routes.list_backups)
    restore_backup = _sync(_Routes.restore_backup)
    list_deletions = _sync(_Routes.list_deletions)
    list_alerts = _sync(_Routes.list_alerts)
    performance = _sync(_Routes.performance)

    # -- iteration helpers ----------------------------------------------------------------------
    def iter_sessions(self, *, page_size: int = MAX_PAGE_SIZE, **filters: Any) -> Iterator[SessionOut]:
        """Every session matching ``filters`` (as ``list_sessions``), page after page (ordered
        by last update, so a session updated meanwhile may move between pages)."""
        return self._walk(_sessions_plan(page_size, filters))

    def iter_messages(
        self, session: str, *, after_seq: int = 0, page_size: int = MAX_PAGE_SIZE, **filters: Any
    ) -> Iterator[MessageOut]:
        """Every message with ``seq > after_seq`` matching ``filters`` (as ``list_messages``), in
        ``seq`` order, by keyset pages (messages appended meanwhile are included, none twice)."""
        return self._walk(_messages_plan(session, after_seq, page_size, filters))

    def iter_agent_messages(
        self, session_key: str, *, after_seq: int = 0, page_size: int = MAX_PAGE_SIZE, **filters: Any
    ) -> Iterator[MessageOut]:
        """Every message of a multi-participant session (as ``list_agent_messages``), keyset paged."""
        return self._walk(_agent_messages_plan(session_key, after_seq, page_size, filters))

    def iter_conversation_sessions(
        self, *, page_size: int = MAX_PAGE_SIZE, **filters: Any
    ) -> Iterator[ConversationSessionOut]:
        """Every multi-participant session matching ``filters`` (as ``list_conversation_sessions``)."""
        return self._walk(_conversation_sessions_plan(page_size, filters))

    def recent_messages(self, session: str, n: int) -> list[MessageOut]:
        """The latest ``n`` messages (``n`` ≥ 0) in ``seq`` order (``ValueError`` for a bad ``n``)."""
        return list(self._walk(_recent_plan(session, n)))

    # -- live events ----------------------------------------------------------------------------
    def stream(
        self,
        session: str | None = None,
        *,
        after: int | None = None,
        reconnect_delay: float = 1.0,
        max_reconnects: int | None = None,
    ) -> Iterator[EventRecord]:
        """The account's live events (``GET /api/stream``), or one session's (``GET
        …/{session}/stream``), as ``EventRecord``s in commit order, reconnecting with
        ``Last-Event-ID`` (none lost or repeated; ``events.client_stream``). ``after``: start
        after this event id (``0``: the whole history; ``None``: only new events). Endless
        for the account; a session's ends after its deletion. Close the iterator to disconnect.
        HTTP errors are raised as :class:`ApiError` subclasses."""
        return _typed_stream_errors(
            stream_events_sync(
                self._http,
                session=session,
                after=after,
                reconnect_delay=reconnect_delay,
                max_reconnects=max_reconnects,
            )
        )

    def follow(self, session: str, *, after_seq: int = 0) -> Iterator[MessageOut]:
        """The session's messages with ``seq > after_seq``, then each new one as it is appended
        (``message.appended`` events). The stream's position is taken before the history is
        read and each event's gap is read back by keyset, so a message appended meanwhile is
        seen once, in ``seq`` order. Endless until the session is deleted; close the iterator
        to stop."""
        try:
            start = stream_position(self._http, session)
        except httpx.HTTPStatusError as exc:
            raise error_for(exc.response) from exc
        last = after_seq
        for message in self.iter_messages(session, after_seq=after_seq):
            last = message.seq
            yield message
        events = self.stream(session, after=start)
        try:
            for event in events:
                if event.kind != EventKind.MESSAGE_APPENDED or int(event.payload.get("seq", 0)) <= last:
                    continue
                for message in self.iter_messages(session, after_seq=last):
                    last = message.seq
                    yield message
        finally:
            events.close()  # type: ignore[attr-defined]


class AsyncClient:
    """The asyncio form of :class:`Client`: the same methods, awaited (``iter_*``, ``stream``
    and ``follow`` are async iterators). Bound to the event loop it is first used in
    (httpx.AsyncClient is); use ``async with`` or ``await aclose()``."""

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

    async def _walk(self, plan: Plan[Item]) -> AsyncIterator[Item]:
        answer: Any = None
        while True:
            try:
                step = plan.send(answer)
            except StopIteration:
                return
            if isinstance(step, _Emit):
                answer = None
                for item in step.items:
                    yield item
            else:
                answer = await self.call(step)

    # -- routes (one line each: the Endpoint says everything) ---------------------------------
    list_sessions = _async(_Routes.list_sessions)
    create_session = _async(_Routes.create_session)
    conversation = _async(_Routes.conversation)
    import_session = _async(_Routes.import_session)
    get_session = _async(_Routes.get_session)
    update_session = _async(_Routes.update_session)
    delete_session = _async(_Routes.delete_session)
    activate_session = _async(_Routes.activate_session)
    deactivate_session = _async(_Routes.deactivate_session)
    transition_session = _async(_Routes.transition_session)
    session_events = _async(_Routes.session_events)
    export_session = _async(_Routes.export_session)
    session_health = _async(_Routes.session_health)
    fork_session = _async(_Routes.fork_session)
    branches = _async(_Routes.branches)
    list_messages = _async(_Routes.list_messages)
    append_message = _async(_Routes.append_message)
    append_messages = _async(_Routes.append_messages)
    pop_message = _async(_Routes.pop_message)
    get_message = _async(_Routes.get_message)
    edit_message = _async(_Routes.edit_message)
    delete_message = _async(_Routes.delete_message)
    redact_message = _async(_Routes.redact_message)
    clear_messages = _async(_Routes.clear_messages)
    list_memory = _async(_Routes.list_memory)
    get_memory = _async(_Routes.get_memory)
    set_memory = _async(_Routes.set_memory)
    delete_memory = _async(_Routes.delete_memory)
    create_conversation_session = _async(_Routes.create_conversation_session)
    list_conversation_sessions = _async(_Routes.list_conversation_sessions)
    get_conversation_session = _async(_Routes.get_conversation_session)
    post_agent_message = _async(_Routes.post_agent_message)
    list_agent_messages = _async(_Routes.list_agent_messages)
    providers = _async(_Routes.providers)
    usage = _async(_Routes.usage)
    provider_calls = _async(_Routes.provider_calls)
    record_provider_call = _async(_Routes.record_provider_call)
    provider_metadata = _async(_Routes.provider_metadata)
    extracted_identifiers = _async(_Routes.extracted_identifiers)
    token_usage_history = _async(_Routes.token_usage_history)
    cost_tracking = _async(_Routes.cost_tracking)
    context = _async(_Routes.context)
    daily_usage = _async(_Routes.daily_usage)
    healthz = _async(_Routes.healthz)
    metrics = _async(_Routes.metrics)
    stats = _async(_Routes.stats)
    list_backups = _async(_Routes.list_backups)
    restore_backup = _async(_Routes.restore_backup)
    list_deletions = _async(_Routes.list_deletions)
    list_alerts = _async(_Routes.list_alerts)
    performance = _async(_Routes.performance)

    # -- iteration helpers ----------------------------------------------------------------------
    def iter_sessions(self, *, page_size: int = MAX_PAGE_SIZE, **filters: Any) -> AsyncIterator[SessionOut]:
        """See :meth:`Client.iter_sessions`."""
        return self._walk(_sessions_plan(page_size, filters))

    def iter_messages(
        self, session: str, *, after_seq: int = 0, page_size: int = MAX_PAGE_SIZE, **filters: Any
    ) -> AsyncIterator[MessageOut]:
        """See :meth:`Client.iter_messages`."""
        return self._walk(_messages_plan(session, after_seq, page_size, filters))

    def iter_agent_messages(
        self, session_key: str, *, after_seq: int = 0, page_size: int = MAX_PAGE_SIZE, **filters: Any
    ) -> AsyncIterator[MessageOut]:
        """See :meth:`Client.iter_agent_messages`."""
        return self._walk(_agent_messages_plan(session_key, after_seq, page_size, filters))

    def iter_conversation_sessions(
        self, *, page_size: int = MAX_PAGE_SIZE, **filters: Any
    ) -> AsyncIterator[ConversationSessionOut]:
        """See :meth:`Client.iter_conversation_sessions`."""
        return self._walk(_conversation_sessions_plan(page_size, filters))

    async def recent_messages(self, session: str, n: int) -> list[MessageOut]:
        """See :meth:`Client.recent_messages`."""
        return [m async for m in self._walk(_recent_plan(session, n))]

    # -- live events ----------------------------------------------------------------------------
    def stream(
        self,
        session: str | None = None,
        *,
        after: int | None = None,
        reconnect_delay: float = 1.0,
        max_reconnects: int | None = None,
    ) -> AsyncIterator[EventRecord]:
        """See :meth:`Client.stream` (``contextlib.aclosing`` it to disconnect early)."""
        return _typed_astream_errors(
            stream_events(
                self._http,
                session=session,
                after=after,
                reconnect_delay=reconnect_delay,
                max_reconnects=max_reconnects,
            )
        )

    async def follow(self, session: str, *, after_seq: int = 0) -> AsyncIterator[MessageOut]:
        """See :meth:`Client.follow`."""
        try:
            start = await astream_position(self._http, session)
        except httpx.HTTPStatusError as exc:
            raise error_for(exc.response) from exc
        last = after_seq
        async for message in self.iter_messages(session, after_seq=after_seq):
            last = message.seq
            yield message
        events = self.stream(session, after=start)
        try:
            async for event in events:
                if event.kind != EventKind.MESSAGE_APPENDED or int(event.payload.get("seq", 0)) <= last:
                    continue
                async for message in self.iter_messages(session, after_seq=last):
                    last = message.seq
                    yield message
        finally:
            await events.aclose()  # type: ignore[attr-defined]


def _typed_stream_errors(events: Iterator[EventRecord]) -> Iterator[EventRecord]:
    try:
        yield from events
    except httpx.HTTPStatusError as exc:
        raise error_for(exc.response) from exc
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()


async def _typed_astream_errors(events: AsyncIterator[EventRecord]) -> AsyncIterator[EventRecord]:
    try:
        async for event in events:
            yield event
    except httpx.HTTPStatusError as exc:
        raise error_for(exc.response) from exc
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


__all__ = [
    "ACCOUNT_STREAM",
    "SESSION_STREAM",
    "ApiError",
    "AsyncClient",
    "AuthenticationError",
    "Call",
    "Client",
    "ConflictError",
    "Endpoint",
    "InvalidRequestError",
    "InvalidTransitionError",
    "ModelCallFailedError",
    "NotFoundError",
    "Route",
    "ServerError",
    "SessionNotActiveError",
    "endpoint",
    "endpoints",
    "error_for",
    "routes",
]
