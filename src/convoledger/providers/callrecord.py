"""Build the stored ``ProviderCallRecord`` (models/records.py) from parsed metadata and its price."""

from __future__ import annotations

from typing import Any

import orjson

from convoledger.models.records import ProviderCallRecord, new_message_id
from convoledger.providers.metadata import ProviderResponseMetadata
from convoledger.providers.pricing import PriceResult
from convoledger.providers.streams import dump_sdk_object


def jsonable_response(raw: Any) -> Any:
    """``raw`` in a form a JSON column can hold.

    dict/list/str/number/None as is; SDK objects via ``model_dump``; bytes as UTF-8 text (or a
    ``{"base64": …}`` object when not text); other iterables (event lists, SDK stream chunks)
    as lists of their dumped items.
    """
    value = dump_sdk_object(raw)
    if value is None or isinstance(value, dict | str | int | float | bool):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            import base64

            return {"base64": base64.b64encode(data).decode("ascii")}
    if isinstance(value, list | tuple):
        return [jsonable_response(item) for item in value]
    raise ValueError(f"raw response of type {type(raw).__name__} cannot be stored as JSON")


def jsonable_details(details: dict[str, Any]) -> dict[str, Any]:
    """The adapter's ``details`` as plain JSON (datetimes as ISO 8601 text, SDK objects dumped);
    ``ValueError`` when a value cannot be stored as JSON."""
    try:
        data: dict[str, Any] = orjson.loads(orjson.dumps(details, default=dump_sdk_object))
    except TypeError as exc:
        raise ValueError(f"provider-specific details cannot be stored as JSON: {exc}") from exc
    return data


def to_provider_call_record(
    metadata: ProviderResponseMetadata,
    price: PriceResult,
    conversation_id: str,
    message_id: str | None = None,
    raw_response: Any = None,
    request: Any = None,
    *,
    record_id: str | None = None,
) -> ProviderCallRecord:
    """A ``ProviderCallRecord`` row for one model call.

    Copies provider, API, model, identifiers, the usage counts (tokens), ``usage_estimated``,
    cost/currency/price source/note and the provider-reported cost (USD), ``latency_ms``, stop
    reason and error, and the adapter's ``details`` as ``provider_specific_data`` (seed 004);
    ``raw_response`` and ``request`` are stored JSON-able (see :func:`jsonable_response`).
    ``created_at`` is the response's own timestamp when it has one (else now). Raises
    ``ValueError`` for an empty ``conversation_id`` or a raw response that cannot be stored as
    JSON.
    """
    if not conversation_id:
        raise ValueError("conversation_id is required")
    usage = metadata.usage
    fields: dict[str, Any] = {
        "id": record_id or new_message_id(),
        "conversation_id": conversation_id,
        "message_id": message_id,
        "provider": metadata.provider,
        "api": metadata.api,
        "model": metadata.model,
        "identifiers": dict(metadata.identifiers),
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "total_tokens": usage.total_tokens,
        "usage_estimated": usage.estimated,
        "cost": price.cost,
        "provider_cost": price.provider_reported_cost,
        "currency": price.currency,
        "price_source": price.price_source,
        "cost_note": price.note,
        "latency_ms": metadata.latency_ms,
        "stop_reason": metadata.stop_reason,
        "error": metadata.error,
        "raw_response": jsonable_response(raw_response),
        "request": jsonable_response(request),
        "provider_specific_data": jsonable_details(metadata.details),
    }
    if metadata.created_at is not None:
        fields["created_at"] = metadata.created_at
    return ProviderCallRecord(**fields)


__all__ = ["jsonable_details", "jsonable_response", "to_provider_call_record"]
