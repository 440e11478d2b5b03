"""Seed 004's four conversation-level provider views, derived from the provider-call rows.

Seed 004 ("Comprehensive conversation management", Phase 1.2 "Enhance Conversation Model") adds
four JSON fields to a conversation:

- ``provider_metadata`` — "Complete provider response metadata for all messages" (a dict);
- ``extracted_identifiers`` — "All extracted identifiers: {thread_id: '...', session_id: '...',
  etc.}";
- ``token_usage_history`` — "Token usage per message: [{message_id, input_tokens,
  output_tokens, total}]";
- ``cost_tracking`` — "Cost tracking: {total_cost, per_message_costs, currency}".

Deviation, on purpose: they are not stored on the conversation row (a JSON column rewritten and
growing with every call, DESIGN.md). Each is computed on read from the conversation's
``ProviderCallRecord`` rows (one per call, oldest first), so they can never disagree with the
calls. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from convoledger.models.provider_metadata import ProviderMetadata
from convoledger.models.records import ProviderCallRecord
from convoledger.models.serialization import dump_datetime

__all__ = ["ConversationProviderViews", "merge_identifiers"]

#: Bodies left out of ``provider_metadata`` when the raw bodies are not asked for.
RAW_FIELDS = frozenset({"provider_response_raw", "request"})


def merge_identifiers(calls: Sequence[ProviderCallRecord]) -> dict[str, Any]:
    """All identifiers of ``calls`` in one dict: a text identifier takes the value of the latest
    call that has it (the current ``response_id``, ``thread_id``, …); list identifiers
    (``tool_call_ids``, ``output_item_ids``, …) are the union of every call's, in order."""
    merged: dict[str, Any] = {}
    for call in calls:
        for key, value in call.identifiers.items():
            if isinstance(value, list):
                current = merged.get(key)
                items = list(current) if isinstance(current, list) else []
                items.extend(v for v in value if v not in items)
                merged[key] = items
            else:
                merged[key] = value
    return merged


@dataclass(frozen=True)
class ConversationProviderViews:
    """The four views (see the module docstring), JSON-ready.

    - ``provider_metadata``: ``{provider call id: ProviderMetadata as a dict}`` (``conversation``,
      ``message``, ``provider``, ``api``, ``model``, ``extracted_identifiers``,
      ``usage_metrics``, ``provider_specific_data``, ``stop_reason``, ``error``, ``created_at``,
      and ``provider_response_raw`` / ``request`` unless left out), oldest call first;
    - ``extracted_identifiers``: :func:`merge_identifiers`;
    - ``token_usage_history``: one entry per call, oldest first: the seed's ``message_id``,
      ``input_tokens``, ``output_tokens``, ``total`` (tokens), plus ``provider_call_id``,
      ``provider``, ``model``, ``cache_read_tokens``, ``cache_write_tokens``,
      ``reasoning_tokens``, ``estimated`` and ``created_at`` (ISO 8601 UTC);
    - ``cost_tracking``: the seed's ``total_cost`` (USD summed over the calls that could be
      priced; ``None`` when none could), ``per_message_costs`` (``{message id: cost}``, the calls
      of one message summed) and ``currency`` (the calls' currency, USD for every price
      convoledger computes; several would be listed comma-separated), plus ``per_call_costs``
      (``{call id: cost}``, which also covers calls not linked to a message),
      ``provider_reported_cost``, ``calls`` and ``unpriced_calls`` (so a partial sum is never
      mistaken for a full one).
    """

    provider_metadata: dict[str, dict[str, Any]]
    extracted_identifiers: dict[str, Any]
    token_usage_history: list[dict[str, Any]]
    cost_tracking: dict[str, Any]

    @classmethod
    def from_calls(
        cls,
        calls: Sequence[ProviderCallRecord],
        usage: Mapping[str, Any],
        *,
        include_raw: bool = True,
    ) -> ConversationProviderViews:
        """The views of one conversation's ``calls`` (oldest first).

        ``usage`` is the same calls' usage summary as ``Ledger.usage(...).as_dict()`` gives it
        (``{"totals": {...}, "by_message": {...}}``): the cost sums come from there, so both
        agree. ``include_raw=False`` leaves the raw response and request bodies out of
        ``provider_metadata``.
        """
        exclude = None if include_raw else set(RAW_FIELDS)
        metadata = {
            call.id: ProviderMetadata.from_record(call).model_dump(mode="json", exclude=exclude)
            for call in calls
        }
        history = [
            {
                "message_id": call.message_id,
                "input_tokens": call.input_tokens,
                "output_tokens": call.output_tokens,
                "total": call.total_tokens,
                "provider_call_id": call.id,
                "provider": call.provider,
                "model": call.model,
                "cache_read_tokens": call.cache_read_tokens,
                "cache_write_tokens": call.cache_write_tokens,
                "reasoning_tokens": call.reasoning_tokens,
                "estimated": call.usage_estimated,
                "created_at": dump_datetime(call.created_at),
            }
            for call in calls
        ]
        totals = usage.get("totals", {})
        currencies = ",".join(sorted({call.currency for call in calls})) or "USD"
        cost_tracking = {
            "total_cost": totals.get("cost"),
            "per_message_costs": {mid: t.get("cost") for mid, t in usage.get("by_message", {}).items()},
            "currency": currencies,
            "per_call_costs": {call.id: call.cost for call in calls},
            "provider_reported_cost": totals.get("provider_cost"),
            "calls": len(calls),
            "unpriced_calls": totals.get("unpriced_calls", 0),
        }
        return cls(metadata, merge_identifiers(calls), history, cost_tracking)

    def as_dict(self) -> dict[str, Any]:
        """The four views under their seed names."""
        return {
            "provider_metadata": self.provider_metadata,
            "extracted_identifiers": self.extracted_identifiers,
            "token_usage_history": self.token_usage_history,
            "cost_tracking": self.cost_tracking,
        }
