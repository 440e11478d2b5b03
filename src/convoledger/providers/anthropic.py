"""Anthropic Messages (``POST /v1/messages``) bodies and SSE streams, and ``count_tokens`` bodies.

Field paths (FIELDS.md section 1; Anthropic SDK ``anthropic/types/message.py``, ``usage.py``,
``message_delta_usage.py``, ``raw_message_start_event.py``):

- identifiers: ``id`` (``msg_…``) → ``response_id``; ``content[].id`` of ``tool_use`` /
  ``server_tool_use`` blocks (``toolu_…``/``srvtoolu_…``) → ``tool_call_ids``; ``container.id`` →
  ``container_id``; header ``request-id`` (error bodies carry ``request_id``);
- usage: ``input_tokens`` EXCLUDES cache, so ``input = input_tokens + cache_read_input_tokens +
  cache_creation_input_tokens``; ``output_tokens`` includes thinking
  (``output_tokens_details.thinking_tokens`` = reasoning); ``cache_creation.ephemeral_1h_input_tokens``
  (1-hour writes, priced higher) and ``server_tool_use.web_search_requests`` go to
  ``details["price_units"]``;
- ``usage.iterations[]`` (compaction, advisor tool): the top-level counts cover only the final
  sampling step, while every iteration is billed (Anthropic docs, "Compaction": the summary is an
  extra sampling step counted for billing). The adapter therefore sums the iterations run on the
  response's model; an iteration on another model (``advisor_message`` with its own ``model``) is
  a separate call listed in ``details["additional_usage"]`` and priced on its own model;
- streaming: ``message_start.message.usage`` has input and cache counts, then each
  ``message_delta.usage`` carries cumulative values — fields are overwritten with the latest
  value, never summed (FIELDS.md quirk 4).
"""

from __future__ import annotations

from typing import Any

from convoledger.providers.base import ParseState, ProviderAdapter
from convoledger.providers.estimate import estimate_output_tokens
from convoledger.providers.fields import as_str, count, dig


def normalise_anthropic_counts(usage: dict[str, Any]) -> dict[str, int]:
    """``{input, cache_read, cache_write, cache_write_1h, output, reasoning}`` of one usage object."""
    cache_read = count(usage.get("cache_read_input_tokens"))
    cache_write = count(usage.get("cache_creation_input_tokens"))
    return {
        "input": count(usage.get("input_tokens")) + cache_read + cache_write,
        "cache_read": cache_read,
        "cache_write": cache_write,
        "cache_write_1h": count(dig(usage, "cache_creation", "ephemeral_1h_input_tokens")),
        "output": count(usage.get("output_tokens")),
        "reasoning": count(dig(usage, "output_tokens_details", "thinking_tokens")),
    }


def apply_anthropic_usage(state: ParseState, usage: dict[str, Any]) -> None:
    """Normalise an Anthropic usage object (iterations included) into ``state``."""
    totals = normalise_anthropic_counts(usage)
    iterations = [it for it in usage.get("iterations") or [] if isinstance(it, dict)]
    if iterations:
        own = [it for it in iterations if not it.get("model") or it.get("model") == state.model]
        other = [it for it in iterations if it not in own]
        if own:
            summed = {key: 0 for key in totals}
            for iteration in own:
                for key, value in normalise_anthropic_counts(iteration).items():
                    summed[key] += value
            summed["reasoning"] = totals["reasoning"]
            totals = summed
        extra = []
        for iteration in other:
            counts = normalise_anthropic_counts(iteration)
            extra.append(
                {
                    "model": iteration.get("model"),
                    "type": iteration.get("type"),
                    "input_tokens": counts["input"],
                    "cache_read_tokens": counts["cache_read"],
                    "cache_write_tokens": counts["cache_write"],
                    "output_tokens": counts["output"],
                }
            )
        if extra:
            state.details["additional_usage"] = extra
    state.set_usage(
        input_tokens=totals["input"],
        output_tokens=totals["output"],
        cache_read_tokens=totals["cache_read"],
        cache_write_tokens=totals["cache_write"],
        reasoning_tokens=totals["reasoning"],
        raw=usage,
    )
    state.details.pop("price_units", None)
    state.add_price_units(
        cache_write_1h_tokens=totals["cache_write_1h"],
        web_searches=count(dig(usage, "server_tool_use", "web_search_requests")),
    )
    state.set_detail("service_tier", usage.get("service_tier"))
    state.set_detail("speed", usage.get("speed"))
    state.set_detail("inference_geo", usage.get("inference_geo"))


def _content_ids(blocks: Any) -> list[Any]:
    return [
        block.get("id")
        for block in blocks or []
        if isinstance(block, dict) and str(block.get("type", "")).endswith("tool_use")
    ]


class AnthropicMessagesAdapter(ProviderAdapter):
    """Anthropic Messages bodies, SSE streams, error bodies and ``count_tokens`` results."""

    api = "messages"

    def parse_body(self, body: dict[str, Any], state: ParseState) -> None:
        """Fill ``state`` from a ``message``, ``error`` or ``count_tokens`` body."""
        kind = body.get("type")
        if kind == "error" or (kind is None and isinstance(body.get("error"), dict)):
            state.object_type = "error"
            state.error = body.get("error")
            state.set_id("request_id", body.get("request_id"))
            return
        if kind is None and set(body) <= {"input_tokens", "context_management"}:
            state.object_type = "count_tokens"
            state.is_model_call = False
            state.set_detail("counted_input_tokens", count(body.get("input_tokens")))
            return
        state.object_type = kind or "message"
        self._message(body, state)
        if isinstance(body.get("usage"), dict):
            apply_anthropic_usage(state, body["usage"])

    def _message(self, message: dict[str, Any], state: ParseState) -> None:
        state.set_id("response_id", message.get("id"))
        state.set_model(message.get("model"))
        state.set_stop(message.get("stop_reason"))
        state.add_ids("tool_call_ids", _content_ids(message.get("content")))
        state.set_id("container_id", dig(message, "container", "id"))

    def parse_stream(self, events: list[dict[str, Any]], state: ParseState) -> None:
        """Fill ``state`` from SSE events; usage = ``message_start`` usage overlaid by each
        cumulative ``message_delta`` usage (latest value per field)."""
        state.object_type = "message"
        merged: dict[str, Any] | None = None
        saw_delta_usage = False
        for event in events:
            kind = event.get("type")
            if kind == "message_start":
                message = event.get("message") or {}
                self._message(message, state)
                if isinstance(message.get("usage"), dict):
                    merged = dict(message["usage"])
            elif kind == "content_block_start":
                block = event.get("content_block") or {}
                state.add_ids("tool_call_ids", _content_ids([block]))
                state.set_id("container_id", dig(block, "container", "id"), overwrite=False)
            elif kind == "content_block_delta":
                delta = event.get("delta") or {}
                for key in ("text", "thinking", "partial_json"):
                    text = as_str(delta.get(key))
                    if text:
                        state.output_texts.append(text)
            elif kind == "message_delta":
                state.set_stop(dig(event, "delta", "stop_reason"))
                state.set_id("container_id", dig(event, "delta", "container", "id"))
                if isinstance(event.get("usage"), dict):
                    merged = {**(merged or {}), **event["usage"]}
                    saw_delta_usage = True
            elif kind == "error":
                state.error = event.get("error", event)
        if merged is not None:
            apply_anthropic_usage(state, merged)
            if not saw_delta_usage:
                # Cut stream: message_start's output_tokens is a placeholder (≈1); estimate instead.
                estimate = estimate_output_tokens(state.output_texts, state.model)
                if estimate > state.usage.output_tokens:
                    state.usage.total_tokens += estimate - state.usage.output_tokens
                    state.usage.output_tokens = estimate
                state.usage.estimated = True
                state.details["usage_note"] = (
                    "stream ended before message_delta: output_tokens estimated from the streamed text"
                )


__all__ = ["AnthropicMessagesAdapter", "apply_anthropic_usage", "normalise_anthropic_counts"]
