"""``GET /api/usage/daily``: the account's provider usage and cost per day (the web UI's account
chart, issue 18).

Sums the recorded provider calls (``ProviderCallRecord``: tokens, ``cost`` in USD) of the
account's sessions by the UTC day of each call's ``created_at``, for the last ``days`` days
(today included). Only sessions updated within the window are read (a call is recorded with the
message it produced, which moves the session's ``updated_at``), at most ``MAX_SESSIONS`` of them,
most recently updated first; ``truncated`` says when more would have been read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from convoledger.api.deps import OwnerLedger
from convoledger.api.errors import PROBLEM_RESPONSES
from convoledger.store.base import ConversationQuery

router = APIRouter(tags=["providers"], responses=PROBLEM_RESPONSES)

#: Most sessions one request reads (bounded work per request).
MAX_SESSIONS = 1000
_PAGE = 200


@router.get("/api/usage/daily", summary="Provider usage and cost of the account per day")
async def daily_usage(
    ledger: OwnerLedger, days: Annotated[int, Query(ge=1, le=366, description="window in days")] = 30
) -> dict[str, Any]:
    """``{"days": [{"date", "calls", "input_tokens", "output_tokens", "total_tokens", "cost"}],
    "currency": "USD", "sessions_scanned", "truncated"}``, one entry per UTC day, oldest first,
    zeros included. ``cost`` sums the calls that could be priced (USD)."""
    today = datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    buckets: dict[str, dict[str, Any]] = {}
    for i in range(days):
        day = (first + timedelta(days=i)).isoformat()
        buckets[day] = {
            "date": day,
            "calls": 0,
            "input_tokens": 0,
            "output_tokens": 0,
            "total_tokens": 0,
            "cost": 0.0,
        }
    scanned = 0
    truncated = False
    offset = 0
    while True:
        page = await ledger.list_conversations(
            ConversationQuery(updated_from=since, limit=_PAGE, offset=offset)
        )
        for conversation in page.items:
            if scanned >= MAX_SESSIONS:
                truncated = True
                break
            scanned += 1
            for call in await ledger.provider_calls(conversation.id):
                bucket = buckets.get(call.created_at.date().isoformat())
                if bucket is None:
                    continue
                bucket["calls"] += 1
                bucket["input_tokens"] += call.input_tokens
                bucket["output_tokens"] += call.output_tokens
                bucket["total_tokens"] += call.total_tokens
                bucket["cost"] += call.cost or 0.0
        offset += _PAGE
        if truncated or offset >= page.total or not page.items:
            break
    return {
        "days": list(buckets.values()),
        "currency": "USD",
        "sessions_scanned": scanned,
        "truncated": truncated,
    }
