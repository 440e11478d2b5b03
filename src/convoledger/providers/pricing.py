"""Cost of a model call in USD, computed offline with genai-prices' bundled price data.

Rules:

- Price data: the genai-prices wheel's bundled snapshot (``genai_prices.data``), wrapped in our
  own ``DataSnapshot``; its auto-updater (``UpdatePrices``) is never started and any snapshot it
  might have installed globally is ignored, so pricing never touches the network.
- Dated prices: the request timestamp is passed as ``genai_request_timestamp`` (the ``at``
  argument, else the response's ``created_at``, else now), so a historic call is priced at the
  prices in force then (e.g. gpt-5.6-sol before and after its 2026-08-21 price cut, FIELDS.md
  section 3).
- Usage: genai-prices takes ``input_tokens`` as the TOTAL input (cache included) with
  ``cache_read_tokens`` / ``cache_write_tokens`` as parts of it — the ledger's own convention
  (:mod:`.metadata`). Extra units the adapters found (``details["price_units"]``: 1-hour cache
  writes, web searches, audio tokens) are passed too; if genai-prices rejects them the call is
  priced on the four basic counts and the note says so. Service tier / speed are passed as the
  price context (flex, priority, fast variants).
- ``cost`` is ``None`` — never 0 — when it cannot be known (provider without price data such as
  Ollama, model missing from the data, no model named), with the reason in ``note``.
  OpenRouter ``:free`` model variants cost 0.0.
- Zero cost without tokens only when nothing can have been billed: an object that is not a model
  call (Conversations object, thread, token count) or an error body; a model call that reports
  no usage yet (e.g. an Assistants run still ``queued``) has ``cost=None``.
- ``provider_reported_cost``: the provider's own figure (OpenRouter ``usage.cost``), kept next to
  the computed one — the authoritative number for OpenRouter.
- Sub-calls on another model (Anthropic advisor iterations, ``details["additional_usage"]``) are
  priced on their own model and added.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any
from urllib.parse import unquote

import genai_prices
from genai_prices.data_snapshot import DataSnapshot
from pydantic import BaseModel

from convoledger.models.timeutil import UtcDatetime, ensure_utc, utcnow
from convoledger.providers.metadata import ProviderResponseMetadata

#: ``price_source`` of every computed price, e.g. ``"genai-prices 0.2.3"``.
PRICE_SOURCE = f"genai-prices {genai_prices.__version__}"
CURRENCY = "USD"


class PriceResult(BaseModel):
    """The price of one call.

    ``cost``: total USD, or ``None`` when unknown (``note`` says why); ``input_cost`` /
    ``output_cost``: its input and output parts (USD; per-call units such as web searches are in
    ``cost`` only); ``currency``: ``"USD"``;
    ``price_source``: the price data used (``"genai-prices <version>"``); ``note``: why the cost
    is ``None`` or 0, or caveats (estimated usage, overlapping cache counts); ``provider_reported_cost``:
    the provider's own figure (OpenRouter ``usage.cost``); ``priced_model`` / ``pricing_provider``:
    the genai-prices model and provider ids matched; ``priced_at``: the timestamp the prices
    were selected for.
    """

    cost: float | None
    input_cost: float | None = None
    output_cost: float | None = None
    currency: str = CURRENCY
    price_source: str | None = PRICE_SOURCE
    note: str | None = None
    provider_reported_cost: float | None = None
    priced_model: str | None = None
    pricing_provider: str | None = None
    priced_at: UtcDatetime | None = None


@cache
def bundled_snapshot() -> DataSnapshot:
    """genai-prices' bundled price data (offline), independent of any auto-update snapshot."""
    from genai_prices.data import providers

    return DataSnapshot(providers=providers, from_auto_update=False)


def pricing_provider_id(provider: str) -> str | None:
    """genai-prices' provider id for a ledger provider (from the capability registry), or ``None``."""
    from convoledger.providers.capabilities import default_registry

    entry = default_registry().providers.get(provider)
    return entry.pricing_provider_id if entry is not None else None


def normalise_model_ref(provider: str, model: str) -> str:
    """The model reference genai-prices expects.

    Strips Gemini's ``models/`` prefix (FIELDS.md quirk 10), URL-decodes Bedrock ids
    (``…-v1%3A0`` → ``…-v1:0``) and keeps only the last path segment of a Bedrock ARN.
    """
    ref = unquote(model.strip())
    if ref.startswith("models/"):
        ref = ref.removeprefix("models/")
    if provider == "bedrock" and ref.startswith("arn:"):
        ref = ref.rsplit("/", 1)[-1]
    return ref


def _as_float(value: Decimal) -> float:
    return float(value)


def _usage_kwargs(metadata: ProviderResponseMetadata, notes: list[str]) -> dict[str, int]:
    usage = metadata.usage
    cache_read, cache_write = usage.cache_read_tokens, usage.cache_write_tokens
    if cache_read + cache_write > usage.input_tokens:
        # OpenRouter/Gemini upstream reports the same tokens as read and written (FIELDS.md):
        # price the overlap once, as cache writes.
        cache_read = max(0, usage.input_tokens - cache_write)
        notes.append("cache read and write counts overlap; the overlap was priced as cache writes")
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": cache_read,
        "cache_write_tokens": min(cache_write, usage.input_tokens),
    }


def _calc(
    usage: dict[str, int], model_ref: str, provider_id: str, when: datetime, context: dict[str, str]
) -> genai_prices.types.PriceCalculation:
    return bundled_snapshot().calc(
        genai_prices.Usage(**usage), model_ref, provider_id, None, when, context or None
    )


def _price_context(metadata: ProviderResponseMetadata) -> dict[str, str]:
    context: dict[str, str] = {}
    for key in ("service_tier", "speed"):
        value = metadata.details.get(key)
        if isinstance(value, str) and value:
            context[key] = value
    return context


def price_call(metadata: ProviderResponseMetadata, at: datetime | None = None) -> PriceResult:
    """Price one parsed call (rules in the module docstring).

    ``at``: when the request was made (aware or naive UTC); defaults to the response's
    ``created_at``, else now. Never raises for unknown models or providers (``cost=None`` with a
    ``note``); raises ``ValueError`` only for an invalid ``at``.
    """
    when = ensure_utc(at) if at is not None else (metadata.created_at or utcnow())
    reported = metadata.details.get("provider_cost")
    reported_cost = (
        float(reported) if isinstance(reported, int | float) and not isinstance(reported, bool) else None
    )
    base = {"provider_reported_cost": reported_cost, "priced_at": when}
    extra_calls: list[dict[str, Any]] = list(metadata.details.get("additional_usage") or [])

    if not metadata.is_model_call:
        note = f"not a model call ({metadata.object_type or 'object'}): nothing billed"
        return PriceResult(cost=0.0, input_cost=0.0, output_cost=0.0, note=note, **base)
    if not metadata.usage.has_tokens and not extra_calls:
        if metadata.is_error:
            note = "error response without usage: nothing billed"
            return PriceResult(cost=0.0, input_cost=0.0, output_cost=0.0, note=note, **base)
        note = f"the response reports no usage ({metadata.stop_reason or 'unfinished'}): cost unknown"
        return PriceResult(cost=None, note=note, **base)

    provider_id = pricing_provider_id(metadata.provider)
    if provider_id is None:
        return PriceResult(
            cost=None,
            note=f"no price data for provider {metadata.provider!r} (local models are not priced)",
            **base,
        )
    if not metadata.model:
        return PriceResult(cost=None, note="the response names no model; parse it with model=...", **base)
    model_ref = normalise_model_ref(metadata.provider, metadata.model)
    if metadata.provider == "openrouter" and model_ref.endswith(":free"):
        return PriceResult(
            cost=0.0,
            input_cost=0.0,
            output_cost=0.0,
            note="OpenRouter ':free' model variant",
            pricing_provider=provider_id,
            **base,
        )

    notes: list[str] = []
    usage = _usage_kwargs(metadata, notes)
    extra_units = {k: int(v) for k, v in (metadata.details.get("price_units") or {}).items() if v}
    context = _price_context(metadata)
    try:
        try:
            calc = _calc({**usage, **extra_units}, model_ref, provider_id, when, context)
        except ValueError:
            if not extra_units:
                raise
            calc = _calc(usage, model_ref, provider_id, when, context)
            notes.append(
                f"extra units {sorted(extra_units)} not priceable for this model; priced basic tokens"
            )
    except LookupError as exc:
        return PriceResult(
            cost=None,
            note=f"model {model_ref!r} not found in {PRICE_SOURCE} data for provider {provider_id!r} ({exc})",
            pricing_provider=provider_id,
            **base,
        )
    except ValueError as exc:
        return PriceResult(
            cost=None, note=f"usage could not be priced: {exc}", pricing_provider=provider_id, **base
        )

    input_cost, output_cost = calc.input_price, calc.output_price
    total = calc.total_price
    for call in extra_calls:
        sub_model = call.get("model")
        try:
            sub = _calc(
                {
                    "input_tokens": int(call.get("input_tokens", 0)),
                    "output_tokens": int(call.get("output_tokens", 0)),
                    "cache_read_tokens": int(call.get("cache_read_tokens", 0)),
                    "cache_write_tokens": int(call.get("cache_write_tokens", 0)),
                },
                normalise_model_ref(metadata.provider, str(sub_model or "")),
                provider_id,
                when,
                context,
            )
        except (LookupError, ValueError) as exc:
            return PriceResult(
                cost=None,
                note=f"sub-call on model {sub_model!r} ({call.get('type')}) could not be priced: {exc}",
                pricing_provider=provider_id,
                priced_model=calc.model.id,
                **base,
            )
        input_cost += sub.input_price
        output_cost += sub.output_price
        total += sub.total_price
        notes.append(f"includes {call.get('type') or 'sub-call'} on {sub_model}")
    if metadata.usage.estimated:
        notes.append("usage is estimated")
    return PriceResult(
        cost=_as_float(total),
        input_cost=_as_float(input_cost),
        output_cost=_as_float(output_cost),
        note="; ".join(notes) or None,
        priced_model=calc.model.id,
        pricing_provider=calc.provider.id,
        **base,
    )


__all__ = [
    "CURRENCY",
    "PRICE_SOURCE",
    "PriceResult",
    "bundled_snapshot",
    "normalise_model_ref",
    "price_call",
    "pricing_provider_id",
]
