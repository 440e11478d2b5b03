"""Ollama native API (``/api/chat``, ``/api/generate``) bodies and NDJSON streams.

Field paths (FIELDS.md section 1; ollama-python ``ollama/_types.py`` ``BaseGenerateResponse``):
no response id; ``model``, ``created_at``, ``done_reason``; ``message.tool_calls`` (ids only in
newer servers); usage ``prompt_eval_count`` (input), ``eval_count`` (output) and durations in
nanoseconds (``total_duration`` → ``latency_ms``). Streams: the last object (``done: true``)
carries the counts.

``prompt_eval_count`` is OMITTED when the prompt was served from Ollama's KV cache (FIELDS.md
quirk 7; ``ollama/ol__test_ollama_async_streaming_generation_legacy__0.ndjson``) — that is not
zero input. The adapter then marks the usage ``estimated`` and derives the input from
``len(context) - eval_count`` when ``/api/generate`` returned its ``context`` token array (the
prompt and the reply tokens), else from the request body when given, else leaves 0; the method
used is in ``details["usage_note"]``. Ollama has no cache read/write or reasoning counts.
"""

from __future__ import annotations

from typing import Any

from convoledger.providers.base import ParseState, ProviderAdapter
from convoledger.providers.estimate import estimate_request_input_tokens
from convoledger.providers.fields import count, text_of

_COUNT_FIELDS = (
    "prompt_eval_count",
    "eval_count",
    "total_duration",
    "load_duration",
    "prompt_eval_duration",
    "eval_duration",
)


class OllamaNativeAdapter(ProviderAdapter):
    """Ollama ``/api/chat`` and ``/api/generate`` responses (single body or NDJSON stream)."""

    api = "native"

    def parse_body(self, body: dict[str, Any], state: ParseState) -> None:
        """Fill ``state`` from one response object (or ``{"error": "…"}``)."""
        if "error" in body and "model" not in body:
            state.object_type = "error"
            state.error = body["error"]
            return
        state.object_type = "chat" if "message" in body else "generate"
        self._final(body, state)

    def _final(self, body: dict[str, Any], state: ParseState) -> None:
        state.set_model(body.get("model"))
        state.set_created(body.get("created_at"), overwrite=True)
        state.set_stop(body.get("done_reason"))
        message = body.get("message") or {}
        calls = message.get("tool_calls") or []
        state.add_ids("tool_call_ids", [c.get("id") for c in calls if isinstance(c, dict)])
        if not body.get("done", True):
            return
        raw = {key: body[key] for key in _COUNT_FIELDS if key in body}
        duration = body.get("total_duration")
        if isinstance(duration, int | float) and not isinstance(duration, bool) and duration > 0:
            state.latency_ms = round(duration / 1_000_000, 3)
        output = count(body.get("eval_count"))
        if "prompt_eval_count" in body:
            state.set_usage(input_tokens=body["prompt_eval_count"], output_tokens=output, raw=raw)
            return
        context = body.get("context")
        if isinstance(context, list) and len(context) >= output and "eval_count" in body:
            state.set_usage(input_tokens=len(context) - output, output_tokens=output, raw=raw)
            note = "prompt_eval_count omitted (KV-cache hit); input_tokens = len(context) - eval_count"
        elif state.request is not None:
            estimate = estimate_request_input_tokens(state.request, state.model)
            state.set_usage(input_tokens=estimate, output_tokens=output, raw=raw)
            note = "prompt_eval_count omitted (KV-cache hit); input_tokens estimated from the request body"
        else:
            state.set_usage(input_tokens=0, output_tokens=output, raw=raw)
            note = "prompt_eval_count omitted (KV-cache hit); input_tokens unknown (0)"
        state.usage.estimated = True
        state.details["usage_note"] = note
        state.details["input_tokens_missing"] = True

    def parse_stream(self, events: list[dict[str, Any]], state: ParseState) -> None:
        """Fill ``state`` from NDJSON objects; the ``done: true`` object has the counts."""
        state.object_type = "chat" if any("message" in e for e in events) else "generate"
        final: dict[str, Any] | None = None
        for event in events:
            if "error" in event and "model" not in event:
                state.error = event["error"]
                continue
            state.set_model(event.get("model"))
            state.set_created(event.get("created_at"))
            state.output_texts.append(text_of(event.get("response")) or text_of(dig_message(event)))
            calls = (event.get("message") or {}).get("tool_calls") or []
            state.add_ids("tool_call_ids", [c.get("id") for c in calls if isinstance(c, dict)])
            if event.get("done"):
                final = event
        if final is not None:
            self._final(final, state)


def dig_message(event: dict[str, Any]) -> Any:
    """The ``message.content`` of a chat stream object (``None`` when absent)."""
    message = event.get("message")
    return message.get("content") if isinstance(message, dict) else None


__all__ = ["OllamaNativeAdapter"]
