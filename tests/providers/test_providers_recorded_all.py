"""Every recorded real response in ../shared/data/provider_responses parses (one test per file).

The provider comes from the file's category, the API from the recorded endpoint; both are
written here, not derived by the code under test. Besides "parses without error", each file is
checked against facts that hold for every provider once usage is normalised (total = input +
output, cache counts inside the input) and against the curator's ``features`` in index.json
(non-zero cached / cache-write / reasoning counts, previous_response_id, conversation, cost).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from convoledger.providers import IDENTIFIER_KEYS, parse, price_call

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "provider_responses"
INDEX = json.loads((DATA / "index.json").read_text())

CATEGORY_PROVIDER = {
    "anthropic": "anthropic",
    "azure_openai": "azure",
    "bedrock_converse": "bedrock",
    "google_gemini": "google",
    "groq": "groq",
    "mistral": "mistral",
    "ollama": "ollama",
    "openai_assistants": "openai",
    "openai_chat": "openai",
    "openai_conversations": "openai",
    "openai_responses": "openai",
    "openrouter": "openrouter",
    "other_openai_compatible": "deepseek",
}
# A 200 stream that ends with an in-band error event (OpenRouter "Token limit reached"); its usage
# also reports reasoning_tokens 11 > completion_tokens 10, as recorded.
IN_BAND_ERROR = "openrouter/pai__test_openrouter_stream_error__0.sse"
# Header carrying the request id, in the parser's documented priority order.
REQUEST_ID_HEADERS = (
    "x-request-id",
    "request-id",
    "x-amzn-requestid",
    "apim-request-id",
    "x-kong-request-id",
)


def provider_of(rec: dict) -> str:
    if rec["category"] == "token_counting":
        endpoint = rec["endpoint"]
        if "anthropic.com" in endpoint:
            return "anthropic"
        return "google" if "googleapis.com" in endpoint else "openai"
    return CATEGORY_PROVIDER[rec["category"]]


def api_of(rec: dict, provider: str) -> str:
    endpoint = rec["endpoint"]
    if provider == "anthropic":
        return "messages"
    if provider == "google":
        return "generate_content"
    if provider == "bedrock":
        return "converse"
    for marker, api in (
        ("/chat/completions", "chat"),
        ("/responses", "responses"),
        ("/conversations", "conversations"),
        ("/threads", "assistants"),
        ("/assistants", "assistants"),
        ("/api/", "native"),
    ):
        if marker in endpoint:
            return api
    raise AssertionError(f"no API for endpoint {endpoint}")


def test_index_lists_every_category() -> None:
    categories = {rec["category"] for rec in INDEX}
    assert categories == set(CATEGORY_PROVIDER) | {"token_counting"}
    assert len(INDEX) == 170


@pytest.mark.parametrize("rec", INDEX, ids=[rec["file"] for rec in INDEX])
def test_recorded_response_parses(rec: dict) -> None:
    provider = provider_of(rec)
    api = api_of(rec, provider)
    text = (DATA / rec["file"]).read_text(encoding="utf-8")
    headers = rec.get("response_headers") or {}

    meta = parse(text, provider, api, headers, model=rec.get("model"))

    assert (meta.provider, meta.api) == (provider, api)
    # api=None detects the same API from the body shape
    assert parse(text, provider, headers=headers, model=rec.get("model")).api == api
    assert meta.streamed == (rec["format"] in ("sse", "ndjson", "eventstream"))

    if rec["http_status"] >= 400 or rec["file"] == IN_BAND_ERROR:
        assert meta.error is not None
    else:
        assert meta.error is None

    for key, value in meta.identifiers.items():
        assert key in IDENTIFIER_KEYS
        assert isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    if "conversation_id" in meta.identifiers and "response_id" in meta.identifiers:
        assert meta.identifiers["conversation_id"] != meta.identifiers["response_id"]
    for name in REQUEST_ID_HEADERS:
        if name in headers:
            assert meta.identifiers["request_id"] == headers[name]
            break

    usage = meta.usage
    if usage.has_tokens:
        assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.cache_read_tokens <= usage.input_tokens
    assert usage.cache_write_tokens <= usage.input_tokens
    if rec["file"] != IN_BAND_ERROR:
        assert usage.reasoning_tokens <= usage.output_tokens

    features = set(rec.get("features") or [])
    assert ("cached" in features) == (usage.cache_read_tokens > 0)
    assert ("cache_write" in features) == (usage.cache_write_tokens > 0)
    assert ("reasoning" in features) == (usage.reasoning_tokens > 0)
    if "previous_response_id" in features:
        assert meta.identifiers["previous_response_id"].startswith("resp_")
    if "conversation" in features:
        assert meta.identifiers["conversation_id"].startswith("conv_")
    if "cost" in features:
        assert isinstance(meta.details["provider_cost"], float)

    price = price_call(meta)
    if price.cost is None:
        assert price.note
    else:
        assert price.cost >= 0
