"""Google Gemini ``generateContent`` / ``streamGenerateContent`` (AI Studio and Vertex AI) and
``countTokens`` bodies.

Field paths (FIELDS.md section 1; google-genai ``types.GenerateContentResponse`` and
``GenerateContentResponseUsageMetadata``, whose docstring gives total = prompt + candidates +
tool_use_prompt + thoughts):

- identifiers: ``responseId`` → ``response_id``; ``candidates[].content.parts[].functionCall.id``
  → ``tool_call_ids`` (when the API assigns ids); ``modelVersion`` is the model (a ``models/``
  prefix is kept here and stripped for pricing); ``createTime`` (Vertex);
- usage: ``input = promptTokenCount (cache included) + toolUsePromptTokenCount``;
  ``cache_read = cachedContentTokenCount``; ``output = candidatesTokenCount (may be absent) +
  thoughtsTokenCount`` — thoughts are NOT inside ``candidatesTokenCount``;
  ``reasoning = thoughtsTokenCount``; ``total = totalTokenCount``; AUDIO prompt modality counts go
  to ``details["price_units"]["input_audio_tokens"]`` (audio input is priced differently);
- streaming: every chunk repeats ``usageMetadata``; the LAST chunk's values are the totals (never
  summed; FIELDS.md quirk 5).

SDK dumps in snake_case (``usage_metadata``, ``prompt_token_count``) are accepted too.
"""

from __future__ import annotations

from typing import Any

from convoledger.providers.base import ParseState, ProviderAdapter
from convoledger.providers.fields import count, pick


def _modality_count(details: Any, modality: str) -> int:
    total = 0
    for entry in details or []:
        if isinstance(entry, dict) and str(entry.get("modality", "")).upper() == modality:
            total += count(pick(entry, "tokenCount", "token_count"))
    return total


def apply_gemini_usage(state: ParseState, usage: dict[str, Any]) -> None:
    """Normalise a ``usageMetadata`` object into ``state`` (rules in the module docstring)."""
    prompt = count(pick(usage, "promptTokenCount", "prompt_token_count"))
    tool_prompt = count(pick(usage, "toolUsePromptTokenCount", "tool_use_prompt_token_count"))
    candidates = count(pick(usage, "candidatesTokenCount", "candidates_token_count"))
    thoughts = count(pick(usage, "thoughtsTokenCount", "thoughts_token_count"))
    state.set_usage(
        input_tokens=prompt + tool_prompt,
        output_tokens=candidates + thoughts,
        cache_read_tokens=pick(usage, "cachedContentTokenCount", "cached_content_token_count"),
        reasoning_tokens=thoughts,
        total_tokens=pick(usage, "totalTokenCount", "total_token_count"),
        raw=usage,
    )
    state.details.pop("price_units", None)
    state.add_price_units(
        input_audio_tokens=_modality_count(
            pick(usage, "promptTokensDetails", "prompt_tokens_details"), "AUDIO"
        ),
        cache_audio_read_tokens=_modality_count(
            pick(usage, "cacheTokensDetails", "cache_tokens_details"), "AUDIO"
        ),
    )
    state.set_detail("service_tier", pick(usage, "serviceTier", "service_tier"))
    state.set_detail("traffic_type", pick(usage, "trafficType", "traffic_type"))


class GeminiAdapter(ProviderAdapter):
    """Gemini generateContent bodies, stream chunks (SSE or JSON array) and countTokens results."""

    api = "generate_content"

    def parse_body(self, body: dict[str, Any], state: ParseState) -> None:
        """Fill ``state`` from a ``GenerateContentResponse``, an error or a countTokens body."""
        if isinstance(body.get("error"), dict) and "candidates" not in body:
            state.object_type = "error"
            state.error = body["error"]
            return
        if "totalTokens" in body or "total_tokens" in body:
            if not any(k in body for k in ("candidates", "usageMetadata", "usage_metadata")):
                state.object_type = "count_tokens"
                state.is_model_call = False
                state.set_detail("counted_input_tokens", count(pick(body, "totalTokens", "total_tokens")))
                return
        state.object_type = "generate_content_response"
        self._chunk(body, state)
        usage = pick(body, "usageMetadata", "usage_metadata")
        if isinstance(usage, dict):
            apply_gemini_usage(state, usage)

    def _chunk(self, chunk: dict[str, Any], state: ParseState) -> None:
        state.set_id("response_id", pick(chunk, "responseId", "response_id"))
        state.set_model(pick(chunk, "modelVersion", "model_version"))
        state.set_created(pick(chunk, "createTime", "create_time"))
        for candidate in chunk.get("candidates") or []:
            if not isinstance(candidate, dict):
                continue
            if candidate.get("index", 0) == 0:
                state.set_stop(pick(candidate, "finishReason", "finish_reason"))
            for part in (candidate.get("content") or {}).get("parts") or []:
                if not isinstance(part, dict):
                    continue
                call = pick(part, "functionCall", "function_call")
                if isinstance(call, dict):
                    state.add_ids("tool_call_ids", [call.get("id")])
                    state.output_texts.append(str(call.get("name") or "") + str(call.get("args") or ""))
                if isinstance(part.get("text"), str):
                    state.output_texts.append(part["text"])
        feedback = pick(chunk, "promptFeedback", "prompt_feedback")
        if isinstance(feedback, dict) and pick(feedback, "blockReason", "block_reason"):
            state.set_stop(pick(feedback, "blockReason", "block_reason"))

    def parse_stream(self, events: list[dict[str, Any]], state: ParseState) -> None:
        """Fill ``state`` from stream chunks; usage = the last chunk's ``usageMetadata``."""
        state.object_type = "generate_content_response"
        last_usage: dict[str, Any] | None = None
        for chunk in events:
            if isinstance(chunk.get("error"), dict):
                state.error = chunk["error"]
                continue
            self._chunk(chunk, state)
            usage = pick(chunk, "usageMetadata", "usage_metadata")
            if isinstance(usage, dict):
                last_usage = usage
        if last_usage is not None:
            apply_gemini_usage(state, last_usage)


__all__ = ["GeminiAdapter", "apply_gemini_usage"]
