"""Wire format of the provider-call routes (seed 004): recording a call over HTTP and its output.

``POST /api/agent-sessions/{session}/provider-calls`` takes :class:`ProviderCallIn` and answers
:func:`provider_call_out`. Requests forbid unknown fields (a typo is a 422 naming the field).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from convoledger.models.provider_metadata import ProviderMetadata
from convoledger.models.records import ProviderCallRecord

#: Bodies a provider-call output leaves out unless asked for (``include_raw=true``).
RAW_FIELDS = frozenset({"raw_response", "request"})


class ProviderCallIn(BaseModel):
    """Body of ``POST …/provider-calls``: one model call to record (seed 004, per-message token
    and cost tracking, for clients in any language).

    - ``provider``: ``openai``, ``azure``, ``anthropic``, ``google``, ``openrouter``, ``groq``,
      ``mistral``, ``bedrock``, ``ollama`` or ``deepseek`` (``GET /api/providers``);
    - ``api``: the provider's API (``chat``, ``responses``, ``messages``, …); detected from the
      response when omitted, else the provider's default;
    - ``response``: the response exactly as received — the JSON body (an object), the complete
      stream as text (Server-Sent Events or NDJSON), or the stream's events as a JSON array;
    - ``message_id``: the message this call produced (a message of the same session; 404 when
      it is not);
    - ``request``: the request body (stored; used only to estimate usage a stream did not report);
    - ``headers``: the HTTP response headers (request id, ``openai-processing-ms`` latency);
    - ``model``: the model, when the response does not name it (Bedrock);
    - ``requested_at``: when the request was made, for dated prices (default: the response's own
      time, else now; ISO 8601, naive = UTC).
    """

    model_config = ConfigDict(extra="forbid")

    provider: str = Field(min_length=1, max_length=50)
    api: str | None = Field(default=None, min_length=1, max_length=50)
    response: dict[str, Any] | list[Any] | str = Field(
        description="the raw response: JSON body, stream text (SSE / NDJSON) or a list of stream events"
    )
    message_id: str | None = Field(default=None, min_length=1, max_length=200)
    request: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    model: str | None = Field(default=None, min_length=1, max_length=200)
    requested_at: datetime | None = None


def provider_call_out(call: ProviderCallRecord, *, include_raw: bool = False) -> dict[str, Any]:
    """A stored call as JSON: every ``ProviderCallRecord`` field (``id``, ``message_id``,
    ``provider``, ``api``, ``model``, ``identifiers``, the token counts, ``cost`` with
    ``currency``/``price_source``/``cost_note``, ``provider_cost``, ``latency_ms``, ``stop_reason``,
    ``error``, ``provider_specific_data``, ``created_at``; ``raw_response`` and ``request`` only
    with ``include_raw``), plus seed 004's names for the same data: ``extracted_identifiers`` and
    ``usage_metrics`` (tokens, cost, latency)."""
    out = call.model_dump(mode="json", exclude=None if include_raw else set(RAW_FIELDS))
    seed = ProviderMetadata.from_record(call)
    out["extracted_identifiers"] = seed.extracted_identifiers
    out["usage_metrics"] = seed.usage_metrics
    return out


__all__ = ["RAW_FIELDS", "ProviderCallIn", "provider_call_out"]
