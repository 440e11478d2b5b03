"""Provider capture over HTTP: ``GET /api/providers`` (the capability registry) and, per session,
``…/usage`` (token and cost totals, per model and per message), ``…/provider-calls`` (the
recorded calls) and ``…/context`` (what to send to a provider next, and why)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from convoledger.api.deps import OwnerLedger
from convoledger.api.errors import PROBLEM_RESPONSES
from convoledger.api.routes.agent_sessions import SessionPath
from convoledger.api.schemas import MessageOut
from convoledger.providers import capabilities_as_dict

router = APIRouter(tags=["providers"], responses=PROBLEM_RESPONSES)


@router.get("/api/providers", summary="Provider capability registry")
async def providers(_ledger: OwnerLedger) -> dict[str, Any]:
    """Per provider and API: api_stateful, sdk_session_support, supported_identifiers,
    metadata_fields, provider_notes (architecture, implementation, cost implications, SDK) and
    cost_optimization_notes (``providers/capabilities.json``, overridable)."""
    return capabilities_as_dict()


@router.get("/api/agent-sessions/{session}/usage", summary="Token and cost totals of a session")
async def session_usage(ledger: OwnerLedger, session: SessionPath) -> dict[str, Any]:
    """``{"totals", "by_model", "by_message"}``: tokens (input incl. cache, output incl.
    reasoning, cache read/write, reasoning), cost in USD (``null`` when no call could be priced)
    and the provider-reported cost, summed over the session's recorded provider calls."""
    return (await ledger.usage(session)).as_dict()


@router.get("/api/agent-sessions/{session}/provider-calls", summary="Recorded provider calls")
async def session_provider_calls(
    ledger: OwnerLedger,
    session: SessionPath,
    include_raw: Annotated[bool, Query(description="include the raw response and request bodies")] = False,
) -> dict[str, Any]:
    """The session's provider calls, oldest first (``items``)."""
    calls = await ledger.provider_calls(session)
    exclude = None if include_raw else {"raw_response", "request"}
    return {"items": [c.model_dump(mode="json", exclude=exclude) for c in calls], "total": len(calls)}


@router.get("/api/agent-sessions/{session}/context", summary="Context to send to a provider next")
async def session_context(
    ledger: OwnerLedger,
    session: SessionPath,
    provider: Annotated[str, Query(min_length=1, description="openai, anthropic, google, …")],
    api: Annotated[str | None, Query(description="chat, responses, messages, … (default: per provider)")] = (
        None
    ),
    budget_tokens: Annotated[int, Query(ge=1, le=10_000_000, description="token budget")] = 8000,
) -> dict[str, Any]:
    """The strategy (``server_state`` or ``token_window``), the reason, the server-side handle
    and the messages to send. 422 for an unknown provider or API."""
    plan = await ledger.context_for(session, provider=provider, api=api, budget_tokens=budget_tokens)
    return {
        "strategy": plan.strategy,
        "reason": plan.reason,
        "server_handle": plan.server_handle,
        "messages": [MessageOut.of(m).model_dump(mode="json") for m in plan.messages],
    }
