"""``ProviderMetadata``: seed 004's name and fields for one stored provider call.

Seed 004 ("Comprehensive conversation management", Phase 1.3 "Create ProviderMetadata Model"):
``conversation`` (ForeignKey), ``message`` (ForeignKey), ``provider_response_raw`` ("Complete
response"), ``extracted_identifiers`` ("All IDs found"), ``usage_metrics`` ("Tokens, costs,
latency") and ``provider_specific_data`` ("Provider-unique fields"). convoledger stores one
``records.ProviderCallRecord`` row per call; this face gives it the seed's names (the foreign keys
are the conversation and message ids) and converts both ways without loss. Pure, no I/O.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from convoledger.models.records import ProviderCallRecord, new_message_id
from convoledger.models.serialization import JsonDict
from convoledger.models.timeutil import UtcDatetime, utcnow

__all__ = ["USAGE_METRIC_KEYS", "ProviderMetadata", "UsageMetrics"]


class UsageMetrics(BaseModel):
    """The ``usage_metrics`` of one call (seed: "Tokens, costs, latency").

    Tokens (never negative): ``input_tokens`` (all billed input, cache included),
    ``output_tokens`` (all output, reasoning included), ``total_tokens``,
    ``cache_read_tokens`` / ``cache_write_tokens`` (parts of the input), ``reasoning_tokens``
    (part of the output), ``estimated`` (counted locally, not reported). Cost: ``cost`` in
    ``currency`` (``None`` when the model has no price), ``provider_cost`` (what the provider
    itself reported), ``price_source``, ``cost_note``. ``latency_ms`` in milliseconds.
    """

    model_config = ConfigDict(extra="forbid")

    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    total_tokens: int = Field(default=0, ge=0)
    cache_read_tokens: int = Field(default=0, ge=0)
    cache_write_tokens: int = Field(default=0, ge=0)
    reasoning_tokens: int = Field(default=0, ge=0)
    estimated: bool = False
    cost: float | None = None
    provider_cost: float | None = None
    currency: str = "USD"
    price_source: str | None = None
    cost_note: str | None = None
    latency_ms: float | None = Field(default=None, ge=0)


#: The keys of ``ProviderMetadata.usage_metrics``, in order.
USAGE_METRIC_KEYS: tuple[str, ...] = tuple(UsageMetrics.model_fields)

#: ``usage_metrics`` key → ``ProviderCallRecord`` field (the rest have the same name).
_RECORD_NAMES = {"estimated": "usage_estimated"}


class ProviderMetadata(BaseModel):
    """One provider call with the seed's field names (seed 004 ``ProviderMetadata``).

    Seed fields: ``conversation`` (the conversation's id), ``message`` (the id of the message the
    call produced, or ``None``), ``provider_response_raw`` (the response as received: a JSON body,
    stream text or event list), ``extracted_identifiers`` (``{key: text or list of text}``),
    ``usage_metrics`` (a dict with :data:`USAGE_METRIC_KEYS`; see :class:`UsageMetrics`) and
    ``provider_specific_data`` (JSON object). convoledger adds ``id``, ``provider``, ``api``,
    ``model``, ``stop_reason``, ``error``, ``request`` and ``created_at`` (aware UTC).

    ``usage_metrics`` is validated on construction: unknown keys, negative or non-numeric counts
    raise ``ValueError``; missing keys take their defaults.
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=new_message_id, min_length=1)
    conversation: str = Field(min_length=1)
    message: str | None = None
    provider: str = Field(min_length=1)
    api: str | None = None
    model: str | None = None
    provider_response_raw: Any = None
    extracted_identifiers: dict[str, Any] = Field(default_factory=dict)
    usage_metrics: dict[str, Any] = Field(default_factory=dict)
    provider_specific_data: JsonDict = Field(default_factory=dict)
    stop_reason: str | None = None
    error: Any = None
    request: Any = None
    created_at: UtcDatetime = Field(default_factory=utcnow)

    def model_post_init(self, __context: Any) -> None:
        """Validate and complete ``usage_metrics`` (every key of :class:`UsageMetrics`)."""
        try:
            metrics = UsageMetrics.model_validate(self.usage_metrics)
        except ValidationError as exc:
            raise ValueError(f"usage_metrics: {exc}") from None
        self.usage_metrics = metrics.model_dump()

    # -- the one stored model ------------------------------------------------------------------
    def to_record(self) -> ProviderCallRecord:
        """The stored ``ProviderCallRecord`` (``conversation`` → ``conversation_id``, ``message``
        → ``message_id``, ``provider_response_raw`` → ``raw_response``, ``extracted_identifiers``
        → ``identifiers``, the usage metrics → the token/cost/latency columns)."""
        metrics = {_RECORD_NAMES.get(k, k): v for k, v in self.usage_metrics.items()}
        return ProviderCallRecord(
            id=self.id,
            conversation_id=self.conversation,
            message_id=self.message,
            provider=self.provider,
            api=self.api,
            model=self.model,
            identifiers=copy.deepcopy(self.extracted_identifiers),
            stop_reason=self.stop_reason,
            error=copy.deepcopy(self.error),
            raw_response=copy.deepcopy(self.provider_response_raw),
            request=copy.deepcopy(self.request),
            provider_specific_data=copy.deepcopy(self.provider_specific_data),
            created_at=self.created_at,
            **metrics,
        )

    @classmethod
    def from_record(cls, record: ProviderCallRecord) -> ProviderMetadata:
        """The stored call ``record`` under the seed's names (the inverse of :meth:`to_record`)."""
        metrics = {k: getattr(record, _RECORD_NAMES.get(k, k)) for k in USAGE_METRIC_KEYS}
        return cls(
            id=record.id,
            conversation=record.conversation_id,
            message=record.message_id,
            provider=record.provider,
            api=record.api,
            model=record.model,
            provider_response_raw=copy.deepcopy(record.raw_response),
            extracted_identifiers=copy.deepcopy(record.identifiers),
            usage_metrics=metrics,
            provider_specific_data=copy.deepcopy(record.provider_specific_data),
            stop_reason=record.stop_reason,
            error=copy.deepcopy(record.error),
            request=copy.deepcopy(record.request),
            created_at=record.created_at,
        )
