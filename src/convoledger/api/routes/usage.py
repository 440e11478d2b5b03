"""Provider capture over HTTP: ``GET /api/providers`` (the capability registry) and, per session,
``…/usage`` (token and cost totals, per model and per message), ``…/provider-calls`` (record a
call: ``POST``; the recorded calls: ``GET``), seed 004's four conversation-level views
(``…/provider-metadata``, ``…/extracted-identifiers``, ``…/token-usage-history``,
``…/cost-tracking``, each derived from the recorded calls) and ``…/context`` (what to send to a
provider next, and why)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from convoledger.api.deps import OwnerLedger
from convoledger.api.errors import PROBLEM_RESPONSES
from convoledger.api.provider_schemas import ProviderCallIn, provider_call_out
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


IncludeRaw = Annotated[bool, Query(description="include the raw response and request bodies")]


@router.get("/api/agent-sessions/{session}/provider-calls", summary="Recorded provider calls")
async def session_provider_calls(
    ledger: OwnerLedger, session: SessionPath, include_raw: IncludeRaw = False
) -> dict[str, Any]:
    """The session's provider calls, oldest first (``items``; each with seed 004's
    ``extracted_identifiers`` and ``usage_metrics`` beside the stored fields)."""
    calls = await ledger.provider_calls(session)
    return {"items": [provider_call_out(c, include_raw=include_raw) for c in calls], "total": len(calls)}


@router.post(
    "/api/agent-sessions/{session}/provider-calls",
    status_code=201,
    summary="Record a provider call (raw response → tokens and cost)",
)
async def record_provider_call(
    ledger: OwnerLedger, session: SessionPath, body: ProviderCallIn, include_raw: IncludeRaw = False
) -> dict[str, Any]:
    """Parse the raw provider response (JSON body or complete stream), price it (genai-prices,
    USD) and store it as one provider call of the session, linked to ``message_id`` when given;
    a stateful API's new server-side handle is kept on the session in the same transaction.
    Answers 201 with the stored call (:func:`provider_call_out`: identifiers, tokens, ``cost``
    and its source, provider-specific data). 422 for an unknown provider or API or a response
    that cannot be read; 404 for an unknown session or message."""
    call = await ledger.record_provider_call(
        session,
        body.response,
        body.message_id,
        body.request,
        provider=body.provider,
        api=body.api,
        headers=body.headers,
        model=body.model,
        at=body.requested_at,
    )
    return provider_call_out(call, include_raw=include_raw)


# -- seed 004's conversation-level views, derived from the recorded calls -----------------------
@router.get("/api/agent-sessions/{session}/provider-metadata", summary="Provider metadata of every call")
async def session_provider_metadata(
    ledger: OwnerLedger, session: SessionPath, include_raw: IncludeRaw = False
) -> dict[str, Any]:
    """``{"provider_metadata": {call id: {conversation, message, provider, api, model,
    extracted_identifiers, usage_metrics, provider_specific_data, stop_reason, error, created_at}}}``
    (seed 004 ``Conversation.provider_metadata``), oldest call first."""
    views = await ledger.provider_views(session, include_raw=include_raw)
    return {"provider_metadata": views.provider_metadata}


@router.get("/api/agent-sessions/{session}/extracted-identifiers", summary="Every identifier of the calls")
async def session_extracted_identifiers(ledger: OwnerLedger, session: SessionPath) -> dict[str, Any]:
    """``{"extracted_identifiers": {thread_id, conversation_id, response_id, …}}`` (seed 004):
    the latest value of each identifier over the session's calls (list identifiers merged)."""
    views = await ledger.provider_views(session, include_raw=False)
    return {"extracted_identifiers": views.extracted_identifiers}


@router.get("/api/agent-sessions/{session}/token-usage-history", summary="Token usage per call")
async def session_token_usage_history(ledger: OwnerLedger, session: SessionPath) -> dict[str, Any]:
    """``{"token_usage_history": [{message_id, input_tokens, output_tokens, total, …}]}`` (seed
    004), one entry per call, oldest first."""
    views = await ledger.provider_views(session, include_raw=False)
    return {"token_usage_history": views.token_usage_history}


@router.get("/api/agent-sessions/{session}/cost-tracking", summary="Cost per message and in total")
async def session_cost_tracking(ledger: OwnerLedger, session: SessionPath) -> dict[str, Any]:
    """``{"cost_tracking": {total_cost, per_message_costs, currency, per_call_costs,
    provider_reported_cost, calls, unpriced_calls}}`` (seed 004; USD)."""
    views = await ledger.provider_views(session, include_raw=False)
    return {"cost_tracking": views.cost_tracking}


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
