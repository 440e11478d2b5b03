"""Provider capture for the ledger: from a raw model response to a stored ``ProviderCallRecord``.

``capture_call`` parses the response (``providers.parse``), prices it (``providers.price_call``,
genai-prices offline, at the request time) and builds the row; ``next_server_state`` derives the
conversation's new server-side state handle when the provider API keeps history on its servers
(capability registry ``api_stateful`` + ``server_state_handles``; e.g. OpenAI Responses: the
response id becomes the next call's ``previous_response_id``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from convoledger.models.records import MessageRecord, ProviderCallRecord
from convoledger.providers import (
    ProviderResponseMetadata,
    get_capabilities,
    parse,
    price_call,
    to_provider_call_record,
)


def capture_call(
    conversation_id: str,
    response: Any,
    *,
    provider: str | None = None,
    api: str | None = None,
    headers: Any = None,
    model: str | None = None,
    message: MessageRecord | None = None,
    request: Any = None,
    at: datetime | None = None,
) -> tuple[ProviderResponseMetadata, ProviderCallRecord]:
    """Parse and price ``response`` and return ``(metadata, record)`` for ``conversation_id``.

    ``response`` may already be a ``ProviderResponseMetadata`` (then ``provider`` is not needed
    and no raw body is stored). ``at`` is the request time used for dated prices (default: the
    response's own timestamp, else now). ``ValueError`` when ``provider`` is missing for a raw
    response, or the response cannot be parsed.
    """
    if isinstance(response, ProviderResponseMetadata):
        metadata, raw = response, None
    else:
        if not provider:
            raise ValueError("provider is required to parse a raw response (e.g. provider='openai')")
        req = request if isinstance(request, dict) else None
        metadata = parse(response, provider, api=api, headers=headers, model=model, request=req)
        raw = response
    price = price_call(metadata, at)
    record = to_provider_call_record(
        metadata,
        price,
        conversation_id,
        message.id if message is not None else None,
        raw_response=raw,
        request=request,
    )
    return metadata, record


def next_server_state(
    metadata: ProviderResponseMetadata, message: MessageRecord | None
) -> dict[str, Any] | None:
    """The conversation's new ``server_state`` after this call, or ``None`` to leave it as is.

    Only for a successful model call on a stateful API (capability registry). The handle keeps
    ``provider``, ``api``, ``model``, ``previous_response_id`` (this response's id, for
    Responses-style chaining), ``conversation_id``/``thread_id`` when the response names one,
    and ``last_message_seq``: the seq of the message this call produced — messages after it are
    what a server-state continuation must still send.
    """
    if metadata.is_error or not metadata.is_model_call:
        return None
    try:
        caps = get_capabilities(metadata.provider, metadata.api)
    except ValueError:
        return None
    if not caps.api_stateful:
        return None
    ids = metadata.identifiers
    state: dict[str, Any] = {"provider": metadata.provider, "api": metadata.api, "model": metadata.model}
    if "response_id" in ids and "previous_response_id" in caps.server_state_handles:
        state["previous_response_id"] = ids["response_id"]
    for key in ("conversation_id", "thread_id"):
        if key in ids:
            state[key] = ids[key]
    if len(state) == 3:
        return None
    if message is not None:
        state["last_message_seq"] = message.seq
        state["last_message_id"] = message.id
    return state
