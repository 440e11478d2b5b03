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
        if model is None and req is not None and isinstance(req.get("model"), str):
            model = req["model"]  # e.g. a Responses compaction body names no model
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


#: ``server_state`` value meaning "the provider holds no history for this conversation any more"
#: (an empty handle; ``context.choose_context`` reads it as "no handle"). ``None`` instead means
#: "leave the stored handle as it is".
CLEARED_STATE: dict[str, Any] = {}


def next_server_state(
    metadata: ProviderResponseMetadata, message: MessageRecord | None, current_last_seq: int = 0
) -> dict[str, Any] | None:
    """The conversation's new ``server_state`` after this call: a handle, ``CLEARED_STATE``, or
    ``None`` to leave the stored one as it is.

    Rules (OpenAI Responses and Conversations docs; ``providers/capabilities.json``):

    - an error, or a stateless API (capability ``api_stateful`` false): ``None``;
    - a Conversations object (``POST /v1/conversations``): a ``conversation_id`` handle for the
      Responses API with ``last_message_seq`` = ``current_last_seq`` (the new server
      conversation holds none of the messages recorded so far, so they are all still to send
      when ``current_last_seq`` is 0 — the usual case);
    - ``conversation.deleted``, or a Responses compaction (``response.compaction``: the history
      was compacted into an item the client re-sends, with no handle): ``CLEARED_STATE``;
    - a Responses model call: the response names a ``conversation`` → that ``conversation_id``
      handle (the one to send: OpenAI refuses ``conversation`` together with
      ``previous_response_id``); else its id becomes the next ``previous_response_id``;
      Assistants runs keep ``thread_id``.

    Handles carry ``provider``, ``api``, ``model`` and ``last_message_seq``/``last_message_id``:
    the message this call produced (messages after it are what a continuation must send).
    """
    if metadata.is_error:
        return None
    object_type = metadata.object_type or ""
    if object_type in ("conversation.deleted", "response.compaction"):
        return CLEARED_STATE
    try:
        caps = get_capabilities(metadata.provider, metadata.api)
    except ValueError:
        return None
    if not caps.api_stateful:
        return None
    ids = metadata.identifiers
    if object_type == "conversation" and "conversation_id" in ids:
        return {
            "provider": metadata.provider,
            "api": "responses",
            "model": metadata.model,
            "conversation_id": ids["conversation_id"],
            "last_message_seq": current_last_seq,
        }
    if not metadata.is_model_call:
        return None
    state: dict[str, Any] = {"provider": metadata.provider, "api": metadata.api, "model": metadata.model}
    if "conversation_id" in ids:
        state["conversation_id"] = ids["conversation_id"]
    elif "thread_id" in ids:
        state["thread_id"] = ids["thread_id"]
    elif "response_id" in ids and "previous_response_id" in caps.server_state_handles:
        state["previous_response_id"] = ids["response_id"]
    else:
        return None
    if message is not None:
        state["last_message_seq"] = message.seq
        state["last_message_id"] = message.id
    return state
