"""OpenAI Chat Completions (``POST /v1/chat/completions``) and the providers that copy its shape.

Field paths (FIELDS.md section 1, OpenAI SDK ``openai/types/chat/chat_completion.py``,
``chat_completion_chunk.py``, ``completion_usage.py``):

- identifiers: ``id`` (``chatcmpl-…``) → ``response_id``; ``system_fingerprint``;
  ``choices[].message.tool_calls[].id`` → ``tool_call_ids``; header ``x-request-id``;
- usage: ``prompt_tokens`` (all input, cache included) with
  ``prompt_tokens_details.{cached_tokens, cache_write_tokens, audio_tokens}``;
  ``completion_tokens`` (reasoning included) with ``completion_tokens_details.reasoning_tokens``;
  ``total_tokens``;
- streaming: usage only in the extra last chunk when the request set
  ``stream_options.include_usage`` (all earlier chunks ``usage: null``) — the last non-null usage
  is taken, never a sum; without it the usage is estimated (``Usage.estimated``).

Compatible providers are thin variants (same parser, a few extra fields):
:class:`AzureChatAdapter`, :class:`OpenRouterChatAdapter` (``usage.cost`` = provider-reported
USD cost, upstream ``provider``), :class:`GroqChatAdapter` (``x_groq.id`` request id,
``x_groq.usage`` in the final stream chunk, timings in seconds), :class:`MistralChatAdapter`
(older ``usage.num_cached_tokens``, content given as a list of parts),
:class:`DeepSeekChatAdapter` (``prompt_cache_hit_tokens``/``prompt_cache_miss_tokens``) and
:class:`OllamaCompatChatAdapter` (Ollama's ``/v1/chat/completions``).
"""

from __future__ import annotations

from typing import Any

from convoledger.providers.base import ParseState, ProviderAdapter
from convoledger.providers.fields import count, dig, pick, text_of


def apply_openai_usage(state: ParseState, usage: dict[str, Any]) -> None:
    """Normalise an OpenAI-shaped usage object (chat completions, Assistants runs, compatibles).

    Handles the real-data variants: Assistants' ``prompt_token_details`` (singular "token"),
    DeepSeek's ``prompt_cache_hit_tokens``/``prompt_cache_miss_tokens``, Mistral's older
    ``num_cached_tokens``, OpenRouter's ``cost`` and Groq's timings (seconds).
    """
    prompt_details = pick(usage, "prompt_tokens_details", "prompt_token_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    cached = pick(prompt_details, "cached_tokens")
    if cached is None:
        cached = pick(usage, "prompt_cache_hit_tokens", "num_cached_tokens")
    input_tokens = usage.get("prompt_tokens")
    if input_tokens is None and "prompt_cache_miss_tokens" in usage:
        input_tokens = count(usage.get("prompt_cache_hit_tokens")) + count(
            usage.get("prompt_cache_miss_tokens")
        )
    state.set_usage(
        input_tokens=input_tokens,
        output_tokens=usage.get("completion_tokens"),
        cache_read_tokens=cached,
        cache_write_tokens=prompt_details.get("cache_write_tokens"),
        reasoning_tokens=completion_details.get("reasoning_tokens"),
        total_tokens=usage.get("total_tokens"),
        raw=usage,
    )
    state.add_price_units(
        input_audio_tokens=count(prompt_details.get("audio_tokens")),
        output_audio_tokens=count(completion_details.get("audio_tokens")),
    )
    cost = usage.get("cost")
    if isinstance(cost, int | float) and not isinstance(cost, bool):
        state.set_detail("provider_cost", float(cost))
    if state.latency_ms is None and isinstance(usage.get("total_time"), int | float):
        state.latency_ms = round(float(usage["total_time"]) * 1000.0, 3)


def _tool_call_ids(tool_calls: Any) -> list[Any]:
    return [call.get("id") for call in tool_calls or [] if isinstance(call, dict)]


class OpenAIChatAdapter(ProviderAdapter):
    """OpenAI Chat Completions bodies and chunk streams (also the base of compatible providers)."""

    api = "chat"

    # -- bodies ----------------------------------------------------------------------------------
    def parse_body(self, body: dict[str, Any], state: ParseState) -> None:
        """Fill ``state`` from a ``chat.completion`` body (or an ``{"error": …}`` body)."""
        state.object_type = body.get("object") or ("error" if "error" in body else None)
        if body.get("error") is not None and not body.get("choices"):
            state.error = body["error"]
        self._common(body, state)
        for choice in body.get("choices") or []:
            message = choice.get("message") or {}
            state.add_ids("tool_call_ids", _tool_call_ids(message.get("tool_calls")))
            if choice.get("index", 0) == 0:
                state.set_stop(choice.get("finish_reason"))
        usage = body.get("usage")
        if isinstance(usage, dict):
            apply_openai_usage(state, usage)
        self.parse_extra(body, state, final=True)

    def _common(self, chunk: dict[str, Any], state: ParseState) -> None:
        state.set_id("response_id", chunk.get("id"))
        state.set_id("system_fingerprint", chunk.get("system_fingerprint"))
        state.set_model(chunk.get("model"))
        state.set_created(chunk.get("created"))
        state.set_detail("service_tier", chunk.get("service_tier"))

    def parse_extra(self, chunk: dict[str, Any], state: ParseState, *, final: bool) -> None:
        """Hook for provider-specific fields of a body or chunk (``final``: a whole body)."""

    # -- streams ---------------------------------------------------------------------------------
    def parse_stream(self, events: list[dict[str, Any]], state: ParseState) -> None:
        """Fill ``state`` from ``chat.completion.chunk`` events; usage = the last non-null one."""
        state.object_type = "chat.completion.chunk"
        last_usage: dict[str, Any] | None = None
        for chunk in events:
            if chunk.get("error") is not None:
                state.error = chunk["error"]
            self._common(chunk, state)
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                self._collect_delta(delta, state)
                if choice.get("finish_reason"):
                    state.set_stop(choice["finish_reason"])
            if isinstance(chunk.get("usage"), dict):
                last_usage = chunk["usage"]
            self.parse_extra(chunk, state, final=False)
        if last_usage is not None:
            apply_openai_usage(state, last_usage)
        else:
            fallback = self.stream_usage_fallback(events)
            if fallback is not None:
                apply_openai_usage(state, fallback)

    def stream_usage_fallback(self, events: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Usage to use when no chunk had a top-level ``usage`` (Groq: ``x_groq.usage``)."""
        return None

    @staticmethod
    def _collect_delta(delta: dict[str, Any], state: ParseState) -> None:
        for key in ("content", "reasoning", "reasoning_content", "refusal"):
            text = text_of(delta.get(key))
            if text:
                state.output_texts.append(text)
        for call in delta.get("tool_calls") or []:
            if not isinstance(call, dict):
                continue
            state.add_ids("tool_call_ids", [call.get("id")])
            function = call.get("function") or {}
            for key in ("name", "arguments"):
                if isinstance(function.get(key), str) and function[key]:
                    state.output_texts.append(function[key])
        function_call = delta.get("function_call") or {}
        for key in ("name", "arguments"):
            if isinstance(function_call.get(key), str) and function_call[key]:
                state.output_texts.append(function_call[key])


class AzureChatAdapter(OpenAIChatAdapter):
    """Azure OpenAI chat completions: OpenAI's shape plus content-filter results.

    Request id from ``apim-request-id``/``x-request-id``; ``prompt_filter_results`` and
    ``choices[].content_filter_results`` are kept in ``details["content_filter"]`` when a filter
    triggered.
    """

    def parse_extra(self, chunk: dict[str, Any], state: ParseState, *, final: bool) -> None:
        """Record triggered content filters."""
        filtered = [
            result
            for result in chunk.get("prompt_filter_results") or []
            if isinstance(result, dict)
            and any(
                isinstance(v, dict) and v.get("filtered")
                for v in (result.get("content_filter_results") or {}).values()
            )
        ]
        if filtered:
            state.set_detail("content_filter", filtered)


class OpenRouterChatAdapter(OpenAIChatAdapter):
    """OpenRouter chat completions: ``id`` ``gen-…``, upstream ``provider``, ``usage.cost`` (USD).

    ``usage.cost`` is stored as ``details["provider_cost"]`` (the provider-reported cost the
    pricing step keeps next to the computed one); ``native_finish_reason`` in ``details``.
    """

    def parse_extra(self, chunk: dict[str, Any], state: ParseState, *, final: bool) -> None:
        """Record the upstream provider and native finish reason."""
        state.set_detail("upstream_provider", chunk.get("provider"))
        native = dig(chunk, "choices", 0, "native_finish_reason")
        state.set_detail("native_finish_reason", native)


class GroqChatAdapter(OpenAIChatAdapter):
    """Groq chat completions: ``x_groq.id`` (``req_…``) request id, ``x_groq.usage`` in streams.

    Groq's SDK: ``x_groq.usage`` is "only sent in the final chunk" (seen in recordings without
    ``stream_options``); it is used when no chunk has a top-level ``usage``. Timings
    (``usage.total_time`` in seconds) give ``latency_ms``; ``usage_breakdown`` (compound models)
    is kept in ``details``.
    """

    def parse_extra(self, chunk: dict[str, Any], state: ParseState, *, final: bool) -> None:
        """Record ``x_groq`` ids and the compound-model usage breakdown."""
        x_groq = chunk.get("x_groq") or {}
        state.set_id("request_id", x_groq.get("id"), overwrite=False)
        state.set_detail("seed", x_groq.get("seed"))
        state.set_detail("usage_breakdown", chunk.get("usage_breakdown"))

    def stream_usage_fallback(self, events: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The last ``x_groq.usage`` of the stream, if any."""
        found = None
        for chunk in events:
            usage = dig(chunk, "x_groq", "usage")
            if isinstance(usage, dict):
                found = usage
        return found


class MistralChatAdapter(OpenAIChatAdapter):
    """Mistral chat completions (OpenAI-like; ``usage.num_cached_tokens`` in older responses;
    magistral streams content as a list of ``thinking``/``text`` parts)."""


class DeepSeekChatAdapter(OpenAIChatAdapter):
    """DeepSeek chat completions (``prompt_cache_hit_tokens`` = cached part of ``prompt_tokens``;
    ``reasoning_content`` deltas for reasoner models)."""


class OllamaCompatChatAdapter(OpenAIChatAdapter):
    """Ollama's OpenAI-compatible ``/v1/chat/completions`` (``id`` ``chatcmpl-N``,
    ``system_fingerprint`` ``fp_ollama``)."""


__all__ = [
    "AzureChatAdapter",
    "DeepSeekChatAdapter",
    "GroqChatAdapter",
    "MistralChatAdapter",
    "OllamaCompatChatAdapter",
    "OpenAIChatAdapter",
    "OpenRouterChatAdapter",
    "apply_openai_usage",
]
