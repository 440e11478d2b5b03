"""FastAPI dependencies: the app's ledger, the authenticated account, per-request owner views,
and the paging/filter query parameters shared by the list routes.

Every dependency is ``async def`` although none awaits anything: FastAPI runs a plain ``def``
dependency in its thread pool, one thread hop per dependency per request (measured under wrk:
~9 % of the event loop's time went to those hops; issue 15). They do no I/O and no heavy work,
so they run on the loop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import TypeAdapter

from convoledger.agent import Agent
from convoledger.api.auth import TokenCache, authenticate
from convoledger.api.errors import AuthError
from convoledger.api.metrics import ApiMetrics
from convoledger.api.schemas import ANY_ROLES, MAX_PAGE_SIZE
from convoledger.ledger import Ledger
from convoledger.models.agent_messages import MessageType
from convoledger.models.timeutil import UtcDatetime, ensure_utc
from convoledger.settings import Settings
from convoledger.store.base import MessageQuery

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `convoledger user create NAME`, sent as `Authorization: Bearer <token>`.",
)


async def root_ledger(request: Request) -> Ledger:
    """The app's ledger (opened by the lifespan); its owner is not the caller's."""
    ledger: Ledger | None = getattr(request.app.state, "ledger", None)
    if ledger is None:
        raise RuntimeError("the app's ledger is not open (was the lifespan run?)")
    return ledger


async def app_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def app_agent(request: Request) -> Agent:
    """The agent answering ``POST /api/agent-sessions/conversation``."""
    agent: Agent = request.app.state.agent
    return agent


async def app_metrics(request: Request) -> ApiMetrics:
    """The app's Prometheus metrics."""
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


async def current_account(
    request: Request,
    ledger: Annotated[Ledger, Depends(root_ledger)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> str:
    """The account name the bearer token is bound to (through the app's ``TokenCache``); ``AuthError``
    (→ 401) when the header is missing, not a Bearer token, or the token is unknown."""
    if credentials is None or not credentials.credentials:
        raise AuthError("missing credentials: send 'Authorization: Bearer <token>'")
    cache: TokenCache | None = getattr(request.app.state, "token_cache", None)
    if cache is None:
        account = await authenticate(ledger.store, credentials.credentials)
    else:
        account = await cache.account(ledger.store, credentials.credentials)
    if account is None:
        raise AuthError("unknown API token")
    return account


async def owner_ledger(
    ledger: Annotated[Ledger, Depends(root_ledger)],
    account: Annotated[str, Depends(current_account)],
) -> Ledger:
    """The ledger seen by the caller's account: every read and write is scoped to it."""
    return ledger.for_owner(account)


OwnerLedger = Annotated[Ledger, Depends(owner_ledger)]


@dataclass(frozen=True)
class Paging:
    """``page`` (1-based) and ``size`` (1–100) query parameters."""

    page: int
    size: int

    @property
    def offset(self) -> int:
        """How many items precede the page."""
        return (self.page - 1) * self.size


async def paging(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="items per page (max 100)")] = 50,
) -> Paging:
    """The paging parameters of a list route (422 for size > 100 or page < 1); ``size``
    defaults to 50 (the agent-session seed's default for messages)."""
    return Paging(page, size)


async def session_paging(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="items per page (max 100)")] = 20,
) -> Paging:
    """``paging`` for the session list, whose ``size`` defaults to 20 (the agent-session seed,
    section 12 "List Sessions")."""
    return Paging(page, size)


#: The largest ``seq`` (and other integer query value) the stores hold: a signed 64-bit integer
#: (SQLite INTEGER, PostgreSQL BIGINT), 2^63 - 1.
MAX_SEQ = 2**63 - 1

_DATETIME: TypeAdapter[datetime] = TypeAdapter(UtcDatetime)

#: How a ``created_at`` / ``updated_at`` range is written (the seed says "datetime range").
RANGE_HELP = (
    "datetime range, inclusive: '<from>,<to>' (either side may be empty: '<from>,' or ',<to>'), "
    "or the parameter twice (from, then to); ISO 8601, naive = UTC"
)


def _range_bound(name: str, text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        return _DATETIME.validate_python(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not an ISO 8601 datetime ({RANGE_HELP})") from None


def parse_range(name: str, values: list[str] | None) -> tuple[datetime | None, datetime | None]:
    """The (from, to) bounds of a seed-style range parameter ``name`` (see :data:`RANGE_HELP`):
    one value ``'<from>,<to>'`` or two values ``from``, ``to``. ``ValueError`` (→ 422) for any
    other shape, an unparsable datetime, or ``from`` after ``to``."""
    if not values:
        return None, None
    if len(values) == 1:
        parts = values[0].split(",")
        if len(parts) != 2:
            raise ValueError(f"{name} is a range: {RANGE_HELP}; got {values[0]!r}")
    elif len(values) == 2:
        if any("," in v for v in values):
            raise ValueError(f"{name}: give either '<from>,<to>' once or two plain datetimes ({RANGE_HELP})")
        parts = values
    else:
        raise ValueError(f"{name} given {len(values)} times: {RANGE_HELP}")
    start, end = _range_bound(name, parts[0]), _range_bound(name, parts[1])
    if start is not None and end is not None and start > end:
        raise ValueError(f"{name}: from ({start.isoformat()}) is after to ({end.isoformat()})")
    return start, end


def combine_ranges(
    name: str, *ranges: tuple[datetime | None, datetime | None]
) -> tuple[datetime | None, datetime | None]:
    """The intersection of several (from, to) ranges of one field (e.g. the seed's
    ``created_at=…`` and convoledger's ``created_from`` / ``created_to``): the latest start and
    the earliest end. ``ValueError`` when they do not overlap."""
    starts = [s for s, _ in ranges if s is not None]
    ends = [e for _, e in ranges if e is not None]
    start, end = (max(starts) if starts else None), (min(ends) if ends else None)
    if start is not None and end is not None and start > end:
        raise ValueError(
            f"the {name} filters do not overlap: from {start.isoformat()} is after to {end.isoformat()}"
        )
    return start, end


def parse_role(value: str | None) -> str | None:
    """A role filter: a chat role or participant type, by value or enum member name, in any
    case (the seed's ``role=USER``); ``ValueError`` (→ 422) naming the accepted roles."""
    if value is None:
        return None
    role = value.strip().lower()
    if role not in ANY_ROLES:
        raise ValueError(f"role must be one of {', '.join(ANY_ROLES)} (any case), got {value!r}")
    return role


def check_range(
    name: str, start: datetime | None, end: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """Both bounds as aware UTC (naive = UTC); ``ValueError`` when ``start`` is after ``end``."""
    start_utc = ensure_utc(start) if start is not None else None
    end_utc = ensure_utc(end) if end is not None else None
    if start_utc is not None and end_utc is not None and start_utc > end_utc:
        raise ValueError(f"{name}_from ({start_utc.isoformat()}) is after {name}_to ({end_utc.isoformat()})")
    return start_utc, end_utc


async def message_filters(
    search: Annotated[
        str | None, Query(min_length=1, max_length=500, description="full-text: every word must occur")
    ] = None,
    role: Annotated[
        str | None,
        Query(
            max_length=50,
            description="chat role or participant type, any case (user, USER, assistant, system, tool, "
            "master_controller, agent)",
        ),
    ] = None,
    sender: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    recipient: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    message_type: Annotated[MessageType | None, Query()] = None,
    created_from: Annotated[
        UtcDatetime | None, Query(description="created_at ≥ this (ISO 8601; naive = UTC)")
    ] = None,
    created_to: Annotated[
        UtcDatetime | None, Query(description="created_at ≤ this (ISO 8601; naive = UTC)")
    ] = None,
    created_at: Annotated[list[str] | None, Query(description=f"the seed's filter: {RANGE_HELP}")] = None,
    after_seq: Annotated[
        int | None, Query(ge=0, le=MAX_SEQ, description="keyset paging: only seq > after_seq")
    ] = None,
) -> MessageQuery:
    """The message filters of a list route as a ``MessageQuery`` without a window (the seed's
    ``created_at`` range and convoledger's ``created_from`` / ``created_to`` combine)."""
    since, until = combine_ranges(
        "created_at", check_range("created", created_from, created_to), parse_range("created_at", created_at)
    )
    return MessageQuery(
        role=parse_role(role),
        sender=sender,
        recipient=recipient,
        message_type=message_type.value if message_type is not None else None,
        since=since,
        until=until,
        search=search,
        after_seq=after_seq,
    )
