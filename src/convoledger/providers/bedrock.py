"""AWS Bedrock Converse (``POST /model/{id}/converse``) bodies and ConverseStream events.

Field paths (FIELDS.md section 1; botocore ``bedrock-runtime`` shapes ``ConverseResponse``,
``TokenUsage``, ``ConverseStreamMetadataEvent``):

- identifiers: the body has no id; ``request_id`` comes from the ``x-amzn-requestid`` header (or
  boto3's ``ResponseMetadata.RequestId``); ``output.message.content[].toolUse.toolUseId`` →
  ``tool_call_ids``; the model is not in the body: pass ``model=`` (the id in the URL; a
  URL-encoded ``%3A`` is decoded);
- usage: ``inputTokens`` EXCLUDES cache, so ``input = inputTokens + cacheReadInputTokens +
  cacheWriteInputTokens`` (``totalTokens`` already includes them; real data duplicates the cache
  counts as ``cacheReadInputTokenCount``/``cacheWriteInputTokenCount``, used as fallbacks);
  ``outputTokens``; ``metrics.latencyMs`` → ``latency_ms``;
- streaming (event-stream frames, see :mod:`.streams`): ``contentBlockStart.start.toolUse`` ids,
  ``messageStop.stopReason``, and the last ``metadata`` event's ``usage``/``metrics``;
  exception events (``internalServerException``, ``throttlingException``, …) → ``error``.
"""

from __future__ import annotations

from typing import Any

from convoledger.providers.base import ParseState, ProviderAdapter
from convoledger.providers.fields import count, dig, pick, text_of

_EXCEPTION_SUFFIX = "Exception"


def apply_bedrock_usage(state: ParseState, usage: dict[str, Any]) -> None:
    """Normalise a Converse ``usage`` object into ``state`` (cache added to input)."""
    cache_read = count(pick(usage, "cacheReadInputTokens", "cacheReadInputTokenCount"))
    cache_write = count(pick(usage, "cacheWriteInputTokens", "cacheWriteInputTokenCount"))
    state.set_usage(
        input_tokens=count(usage.get("inputTokens")) + cache_read + cache_write,
        output_tokens=usage.get("outputTokens"),
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        total_tokens=usage.get("totalTokens"),
        raw=usage,
    )


class BedrockConverseAdapter(ProviderAdapter):
    """Bedrock Converse bodies (HTTP JSON or boto3 dicts) and ConverseStream events."""

    api = "converse"

    def parse_body(self, body: dict[str, Any], state: ParseState) -> None:
        """Fill ``state`` from a ``ConverseResponse`` (or an error body ``{"message": …}``)."""
        state.set_id("request_id", dig(body, "ResponseMetadata", "RequestId"))
        if "output" not in body and "usage" not in body and ("message" in body or "Message" in body):
            state.object_type = "error"
            state.error = {k: v for k, v in body.items() if k != "ResponseMetadata"}
            return
        state.object_type = "converse_response"
        for block in dig(body, "output", "message", "content") or []:
            if isinstance(block, dict):
                state.add_ids("tool_call_ids", [dig(block, "toolUse", "toolUseId")])
        state.set_stop(body.get("stopReason"))
        self._metrics(body, state)
        if isinstance(body.get("usage"), dict):
            apply_bedrock_usage(state, body["usage"])

    @staticmethod
    def _metrics(container: dict[str, Any], state: ParseState) -> None:
        latency = dig(container, "metrics", "latencyMs")
        if isinstance(latency, int | float) and not isinstance(latency, bool):
            state.latency_ms = float(latency)
        state.set_detail(
            "service_tier", dig(container, "serviceTier", "type") or container.get("serviceTier")
        )
        state.set_detail("performance_latency", dig(container, "performanceConfig", "latency"))

    def parse_stream(self, events: list[dict[str, Any]], state: ParseState) -> None:
        """Fill ``state`` from boto3-style ConverseStream events (``{"metadata": {...}}`` …)."""
        state.object_type = "converse_stream"
        last_usage: dict[str, Any] | None = None
        for event in events:
            for name, payload in event.items():
                if not isinstance(payload, dict):
                    continue
                if name == "contentBlockStart":
                    state.add_ids("tool_call_ids", [dig(payload, "start", "toolUse", "toolUseId")])
                elif name == "contentBlockDelta":
                    delta = payload.get("delta") or {}
                    state.output_texts.append(text_of(delta.get("text")))
                    state.output_texts.append(text_of(dig(delta, "toolUse", "input")))
                    state.output_texts.append(text_of(dig(delta, "reasoningContent", "text")))
                elif name == "messageStop":
                    state.set_stop(payload.get("stopReason"))
                elif name == "metadata":
                    self._metrics(payload, state)
                    if isinstance(payload.get("usage"), dict):
                        last_usage = payload["usage"]
                elif name == "exception" or name.endswith(_EXCEPTION_SUFFIX):
                    state.error = {"type": payload.get("type", name), **payload}
        if last_usage is not None:
            apply_bedrock_usage(state, last_usage)


__all__ = ["BedrockConverseAdapter", "apply_bedrock_usage"]
