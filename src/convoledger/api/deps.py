"""FastAPI dependencies: the app's ledger, the authenticated account, per-request owner views,
and the paging/filter query parameters shared by the list routes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from convoledger.agent import Agent
from convoledger.api.auth import authenticate
from convoledger.api.errors import AuthError
from convoledger.api.metrics import ApiMetrics
from convoledger.api.schemas import MAX_PAGE_SIZE, AnyRole
from convoledger.ledger import Ledger
from convoledger.models.agent_messages import MessageType
from convoledger.models.timeutil import ensure_utc
from convoledger.settings import Settings
from convoledger.store.base import MessageQuery

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `convoledger user create NAME`, sent as `Authorization: Bearer <token>`.",
)


def root_ledger(request: Request) -> Ledger:
    """The app's ledger (opened by the lifespan); its owner is not the caller's."""
    ledger: Ledger | None = getattr(request.app.state, "ledger", None)
    if ledger is None:
        raise RuntimeError("the app's ledger is not open (was the lifespan run?)")
    return ledger


def app_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


def app_agent(request: Request) -> Agent:
    """The agent answering ``POST /api/agent-sessions/conversation``."""
    agent: Agent = request.app.state.agent
    return agent


def app_metrics(request: Request) -> ApiMetrics:
    """The app's Prometheus metrics."""
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


async def current_account(
    ledger: Annotated[Ledger, Depends(root_ledger)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> str:
    """The account name the bearer token is bound to; ``AuthError`` (→ 401) when the header is
    missing, not a Bearer token, or the token is unknown."""
    if credentials is None or not credentials.credentials:
        raise AuthError("missing credentials: send 'Authorization: Bearer <token>'")
    account = await authenticate(ledger.store, credentials.credentials)
    if account is None:
        raise AuthError("unknown API token")
    return account


def owner_ledger(
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


def paging(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="items per page (max 100)")] = 50,
) -> Paging:
    """The paging parameters of a list route (422 for size > 100 or page < 1)."""
    return Paging(page, size)


def check_range(
    name: str, start: datetime | None, end: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """Both bounds as aware UTC (naive = UTC); ``ValueError`` when ``start`` is after ``end``."""
    start_utc = ensure_utc(start) if start is not None else None
    end_utc = ensure_utc(end) if end is not None else None
    if start_utc is not None and end_utc is not None and start_utc > end_utc:
        raise ValueError(f"{name}_from ({start_utc.isoformat()}) is after {name}_to ({end_utc.isoformat()})")
    return start_utc, end_utc


def message_filters(
    search: Annotated[
        str | None, Query(min_length=1, max_length=500, description="full-text: every word must occur")
    ] = None,
    role: Annotated[AnyRole | None, Query(description="chat role or participant type")] = None,
    sender: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    recipient: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    message_type: Annotated[MessageType | None, Query()] = None,
    created_from: Annotated[
        datetime | None, Query(description="created_at ≥ this (ISO 8601; naive = UTC)")
    ] = None,
    created_to: Annotated[
        datetime | None, Query(description="created_at ≤ this (ISO 8601; naive = UTC)")
    ] = None,
    after_seq: Annotated[int | None, Query(ge=0, description="keyset paging: only seq > after_seq")] = None,
) -> MessageQuery:
    """The message filters of a list route as a ``MessageQuery`` without a window."""
    since, until = check_range("created", created_from, created_to)
    return MessageQuery(
        role=role,
        sender=sender,
        recipient=recipient,
        message_type=message_type.value if message_type is not None else None,
        since=since,
        until=until,
        search=search,
        after_seq=after_seq,
    )
