"""The normalised result of parsing one provider response: ``ProviderResponseMetadata`` and ``Usage``.

Every adapter in :mod:`convoledger.providers` returns these shapes, whatever the provider's wire
format. The token conventions are the ledger's, not the providers' (rules verified against the
recorded responses in ``shared/data/provider_responses/FIELDS.md``, section "Normalisation rules"):

- ``input_tokens`` is ALL billed input: uncached + cache reads + cache writes (+ Gemini's
  ``toolUsePromptTokenCount``). Anthropic and Bedrock report input *excluding* cache, so their
  adapters add the cache counts; OpenAI-style APIs and Gemini already include them.
- ``cache_read_tokens`` and ``cache_write_tokens`` are parts of ``input_tokens``.
- ``output_tokens`` is ALL output including reasoning/thinking; ``reasoning_tokens`` is the part
  of it spent on reasoning. Gemini reports thoughts outside ``candidatesTokenCount``, so its
  adapter adds ``thoughtsTokenCount``.
- ``total_tokens`` is the provider's total when it reports one, else ``input + output``.
- ``estimated`` is True when the provider reported no (or incomplete) usage and the adapter
  estimated it (see :mod:`convoledger.providers.estimate`); ``details["usage_note"]`` says how.

Pure types, no I/O.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from convoledger.models.timeutil import UtcDatetime

#: Identifier keys the adapters use (only those present in a response appear in ``identifiers``).
IDENTIFIER_KEYS = (
    "response_id",
    "previous_response_id",
    "conversation_id",
    "session_id",
    "thread_id",
    "run_id",
    "assistant_id",
    "message_id",
    "message_ids",
    "step_ids",
    "request_id",
    "system_fingerprint",
    "tool_call_ids",
    "output_item_ids",
    "container_id",
    "prompt_cache_key",
    "safety_identifier",
    "user",
)


class Usage(BaseModel):
    """Token usage of one model call, normalised (all counts in tokens, never negative).

    Fields: ``input_tokens`` (all billed input, cache included), ``cache_read_tokens`` and
    ``cache_write_tokens`` (parts of the input), ``output_tokens`` (all output, reasoning
    included), ``reasoning_tokens`` (part of the output), ``total_tokens``, ``estimated`` (True
    when estimated rather than reported) and ``raw`` (the provider's usage object verbatim; for a
    stream, the final usage object or the merge of the cumulative ones; ``None`` when the
    response has none).

    Note: OpenRouter may report overlapping cache read and write counts for Gemini upstreams
    (both 2161 of 2168 input tokens, FIELDS.md quirk); the counts are kept as reported and the
    pricing step resolves the overlap.
    """

    model_config = ConfigDict(frozen=False)

    input_tokens: int = Field(default=0, ge=0)
    cache_read_tokens: int = Field(default=0, ge=0)
    cache_write_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    reasoning_tokens: int = Field(default=0, ge=0)
    total_tokens: int = Field(default=0, ge=0)
    estimated: bool = False
    raw: dict[str, Any] | None = None

    @property
    def uncached_input_tokens(self) -> int:
        """Input tokens billed at the full input rate (input minus cache reads and writes, ≥ 0)."""
        return max(0, self.input_tokens - self.cache_read_tokens - self.cache_write_tokens)

    @property
    def has_tokens(self) -> bool:
        """True when any input or output token was reported or estimated."""
        return bool(self.input_tokens or self.output_tokens or self.total_tokens)


class ProviderResponseMetadata(BaseModel):
    """Everything the ledger keeps from one provider response, as parsed (stored as a
    ``ProviderCallRecord``; seed 004's names for that row: ``models.provider_metadata.ProviderMetadata``).

    - ``provider``: one of :data:`convoledger.providers.PROVIDERS` (``openai``, ``anthropic``, …);
    - ``api``: the API family parsed (``chat``, ``responses``, ``messages``, …);
    - ``model``: the model as the response names it (else as the caller supplied it);
    - ``identifiers``: ``{key: str | list[str]}`` for the keys in :data:`IDENTIFIER_KEYS` that
      the response (or its headers) carries — the adapter's own reading, completed by seed 004's
      generic keys wherever they sit (``providers.identifiers``); a generic ``id`` is only ever a
      ``response_id`` (or the id of the object it names), never a ``conversation_id``;
    - ``usage``: :class:`Usage`;
    - ``stop_reason``: the provider's finish/stop reason (``stop``, ``end_turn``, ``length``,
      ``tool_calls``, ``max_output_tokens``, a run status, …);
    - ``latency_ms``: milliseconds, when known (``openai-processing-ms`` header, Bedrock
      ``metrics.latencyMs``, Groq ``usage.total_time``, Ollama ``total_duration``);
    - ``error``: the error object of an error body or error stream event, else ``None``;
    - ``created_at``: aware UTC time the provider stamped on the response, if any;
    - ``streamed``: True when parsed from a stream;
    - ``object_type``: what the body is (``chat.completion``, ``response``, ``conversation``,
      ``thread.run``, ``count_tokens``, …) when known;
    - ``is_model_call``: False for objects that are not a (billable) model call: Conversations
      objects, Assistants/threads/messages, token counts;
    - ``details``: provider-specific extras, stored as ``provider_specific_data``
      (``service_tier``, ``upstream_provider``, ``usage_note``, ``counted_input_tokens``,
      ``price_units`` for genai-prices, ``additional_usage`` for sub-calls billed on another
      model, …).
    """

    provider: str
    api: str
    model: str | None = None
    identifiers: dict[str, str | list[str]] = Field(default_factory=dict)
    usage: Usage = Field(default_factory=Usage)
    stop_reason: str | None = None
    latency_ms: float | None = None
    error: Any = None
    created_at: UtcDatetime | None = None
    streamed: bool = False
    object_type: str | None = None
    is_model_call: bool = True
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_error(self) -> bool:
        """True when the response is (or the stream ended with) an error."""
        return self.error is not None


__all__ = ["IDENTIFIER_KEYS", "ProviderResponseMetadata", "Usage"]
