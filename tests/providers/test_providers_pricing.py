"""Cost of recorded real calls, checked against hand calculations (USD = Σ tokens × $/MTok ÷ 1e6).

Prices per million tokens are written next to each case with their source: the provider's pricing
page as recorded in the genai-prices 0.2.3 bundled data (whose price comments cite those pages)
or FIELDS.md section 3 where it gives the hand check. Token counts are the normalised ones
checked in test_providers_exact.py (read from the files).
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import genai_prices
import pytest

from convoledger.models.records import ProviderCallRecord
from convoledger.providers import (
    PRICE_SOURCE,
    ProviderResponseMetadata,
    Usage,
    parse,
    price_call,
    to_provider_call_record,
)
from convoledger.providers import pricing as pricing_module


def usd(*items: tuple[float, float]) -> float:
    """Σ tokens × price-per-MTok ÷ 1e6 — the hand calculation."""
    return sum(tokens * per_mtok for tokens, per_mtok in items) / 1_000_000


# (file, provider, model_arg, at, expected USD)
COST_CASES = [
    pytest.param(
        "openai_chat/dd__chat_completion_stream_prompt_caching_cache_read__0.sse",
        "openai",
        None,
        None,
        # OpenAI pricing, gpt-4o: $2.50 input, $1.25 cached input, $10 output
        usd((1420 - 1280, 2.50), (1280, 1.25), (100, 10.0)),
        id="openai-chat-stream-cached-gpt-4o",
    ),
    pytest.param(
        "openai_chat/dd__chat_completion_prompt_caching_5_6_cache_write__0.json",
        "openai",
        None,
        None,
        # FIELDS.md §3: gpt-5.6-sol before the 2026-08-21 cut: $5 input, $6.25 cache write, $30 output
        usd((1220 - 1217, 5.0), (1217, 6.25), (100, 30.0)),
        id="openai-chat-cache-write-gpt-5.6-sol",
    ),
    pytest.param(
        "openai_responses/dd__responses_prompt_caching_5_6_cache_write__0.json",
        "openai",
        None,
        datetime(2026, 9, 1, tzinfo=UTC),
        # FIELDS.md §3: after the 2026-08-21 Sol cut ($4 input, $5 cache write, $20 output) = $0.008097
        usd((3, 4.0), (1217, 5.0), (100, 20.0)),
        id="openai-responses-dated-price-after-cut",
    ),
    pytest.param(
        "openai_responses/pai__test_openai_responses_model_web_search_tool_without_external_access__0.json",
        "openai",
        None,
        None,
        # OpenAI pricing, gpt-5.6-sol (2026-07): $5 input, $6.25 cache write, $30 output;
        # web search tool calls $10 / 1K calls
        usd((8576 - 4418, 5.0), (4418, 6.25), (52, 30.0)) + 1 * 10.0 / 1000,
        id="openai-responses-web-search-call",
    ),
    pytest.param(
        "anthropic/dd__anthropic_completion_cache_read__0.json",
        "anthropic",
        None,
        None,
        # FIELDS.md §3: claude-sonnet-4 $3 input, $0.30 cache read, $15 output = $0.0021495
        usd((11, 3.0), (2055, 0.30), (100, 15.0)),
        id="anthropic-cache-read",
    ),
    pytest.param(
        "anthropic/dd__anthropic_completion_stream_cache_write__0.sse",
        "anthropic",
        None,
        None,
        # Anthropic pricing, claude-sonnet-4: $3 input, $3.75 5-minute cache write, $15 output
        usd((18, 3.0), (1031, 3.75), (100, 15.0)),
        id="anthropic-stream-cache-write",
    ),
    pytest.param(
        "anthropic/pai__test_anthropic_advisor_tool__0.json",
        "anthropic",
        None,
        None,
        # Anthropic pricing: claude-sonnet-5 $2 / $10; the advisor sub-call on claude-opus-4-8 $5 / $25
        usd((2390, 2.0), (121, 10.0)) + usd((2518, 5.0), (22, 25.0)),
        id="anthropic-advisor-sub-call-on-other-model",
    ),
    pytest.param(
        "anthropic/pai__test_anthropic_compaction_usage_with_cache__0.json",
        "anthropic",
        None,
        None,
        # Anthropic pricing, claude-sonnet-4-6: $3 input, $3.75 cache write, $15 output;
        # both iterations (compaction + message) billed
        usd((100 + 229, 3.0), (55096, 3.75), (131 + 5, 15.0)),
        id="anthropic-compaction-iterations",
    ),
    pytest.param(
        "google_gemini/pai__test_google_model_cached_content__1.json",
        "google",
        None,
        None,
        # Gemini API pricing, gemini-2.5-flash: $0.30 input, $0.03 cached input,
        # $2.50 output (thoughts included)
        usd((3520 - 3512, 0.30), (3512, 0.03), (2 + 42, 2.50)),
        id="gemini-cached-and-thoughts",
    ),
    pytest.param(
        "google_gemini/pai__test_google_model_file_search_tool_stream__3.sse",
        "google",
        None,
        None,
        # Gemini API pricing, gemini-2.5-pro (prompts <= 200K): $1.25 input, $10 output
        usd((15 + 770, 1.25), (37 + 742, 10.0)),
        id="gemini-stream-last-chunk",
    ),
    pytest.param(
        "bedrock_converse/dd__bedrock_converse_prompt_caching__0.json",
        "bedrock",
        "us.anthropic.claude-3-7-sonnet-20250219-v1%3A0",
        None,
        # AWS Bedrock pricing, Claude 3.7 Sonnet: $3 input, $3.75 cache write, $15 output
        usd((11, 3.0), (1028, 3.75), (264, 15.0)),
        id="bedrock-claude-cache-write",
    ),
    pytest.param(
        "bedrock_converse/pai__test_bedrock_single_tool_choice_preserves_cache_nova___2.json",
        "bedrock",
        "us.amazon.nova-lite-v1%3A0",
        None,
        # AWS Bedrock pricing, Nova Lite: $0.06 input, $0.015 cache read, $0.24 output
        usd((2514 - 2492, 0.06), (2492, 0.015), (13, 0.24)),
        id="bedrock-nova-cache-read",
    ),
    pytest.param(
        "groq/pai__test_tool_use_failed_error__2.json",
        "groq",
        None,
        None,
        # Groq pricing, openai/gpt-oss-120b: $0.15 input, $0.075 cached input, $0.60 output
        usd((336 - 256, 0.15), (256, 0.075), (96, 0.60)),
        id="groq-cached-reasoning",
    ),
    pytest.param(
        "mistral/pai__test_mistral_history_uses_prompt_cache__1.json",
        "mistral",
        None,
        None,
        # Mistral pricing, mistral-large: $2 input, $6 output (no cached-input price in the data: full rate)
        usd((268, 2.0), (5, 6.0)),
        id="mistral-large",
    ),
    pytest.param(
        "openrouter/pai__test_openrouter_cache_all_settings_real_api__2.json",
        "openrouter",
        None,
        None,
        # OpenRouter, anthropic/claude-sonnet-4.6: $3 input, $0.30 cache read, $3.75 cache write, $15 output
        usd((2572 - 2240 - 329, 3.0), (2240, 0.30), (329, 3.75), (100, 15.0)),
        id="openrouter-anthropic-cache",
    ),
    pytest.param(
        "azure_openai/ol__test_chat_reasoning__0.json",
        "azure",
        None,
        None,
        # Azure OpenAI pricing, gpt-5-nano: $0.05 input, $0.40 output
        usd((11, 0.05), (203, 0.40)),
        id="azure-gpt-5-nano-reasoning",
    ),
    pytest.param(
        "openrouter/pai__test_openrouter_cache_instructions_gemini_real_api__0.json",
        "openrouter",
        None,
        None,
        # OpenRouter, google/gemini-2.5-flash: $0.075 cache read, $0.3833 cache write, $2.50 output. The
        # 2161 tokens reported both read and written are priced once, as writes; 7 remain as reads.
        usd((2168 - 2161, 0.075), (2161, 0.3833), (100, 2.50)),
        id="openrouter-gemini-overlapping-cache-counts",
    ),
]


@pytest.mark.parametrize(("rel", "provider", "model_arg", "at", "expected"), COST_CASES)
def test_cost_matches_hand_calculation(recorded, rel, provider, model_arg, at, expected) -> None:
    meta = parse(recorded.text(rel), provider, headers=recorded.headers(rel), model=model_arg)
    price = price_call(meta, at)
    assert price.cost == pytest.approx(expected, rel=1e-9, abs=1e-12)
    # per-call units (web searches) are in the total but neither input nor output
    assert price.input_cost + price.output_cost <= price.cost * (1 + 1e-9)
    assert price.currency == "USD"
    assert price.price_source == f"genai-prices {genai_prices.__version__}"


def test_ten_or_more_cost_cases() -> None:
    assert len(COST_CASES) >= 10


def test_openrouter_reported_cost_kept_next_to_computed(recorded) -> None:
    rel = "openrouter/pai__test_openrouter_cache_all_settings_real_api__2.json"
    price = price_call(parse(recorded.text(rel), "openrouter"))
    assert price.provider_reported_cost == 0.00341475  # usage.cost in the file
    assert price.cost == pytest.approx(0.00341475, rel=1e-9)  # and the hand calculation agrees


def test_dated_prices_use_response_time_by_default(recorded) -> None:
    rel = "openai_responses/dd__responses_prompt_caching_5_6_cache_write__0.json"
    meta = parse(recorded.text(rel), "openai")
    before_cut = price_call(meta)  # created_at 1783709656 = 2026-07-10
    assert before_cut.priced_at == datetime(2026, 7, 10, 18, 54, 16, tzinfo=UTC)
    assert before_cut.cost == pytest.approx(usd((3, 5.0), (1217, 6.25), (100, 30.0)))
    naive_after = price_call(meta, datetime(2026, 9, 1))  # naive = UTC
    assert naive_after.priced_at == datetime(2026, 9, 1, tzinfo=UTC)
    assert naive_after.cost == pytest.approx(0.008097)


def test_unknown_model_in_real_response_is_none_with_reason(recorded) -> None:
    # OpenRouter answered with model "x-ai/grok-4", absent from the bundled price data
    rel = "openrouter/pai__test_openrouter_stream_with_native_options__0.sse"
    price = price_call(parse(recorded.text(rel), "openrouter"))
    assert price.cost is None
    assert "x-ai/grok-4" in price.note and "not found" in price.note
    assert price.provider_reported_cost == 0.00333825


def test_unknown_model_is_never_priced_zero(recorded) -> None:
    body = recorded.json("openai_chat/dd__chat_completion_custom_tool_call__0.json")
    body["model"] = "gpt-imaginary-9"
    price = price_call(parse(body, "openai"))
    assert price.cost is None
    assert "gpt-imaginary-9" in price.note


def test_no_model_and_unpriced_provider_give_reasons(recorded) -> None:
    rel = "bedrock_converse/dd__bedrock_converse_prompt_caching__0.json"
    price = price_call(parse(recorded.text(rel), "bedrock"))  # no model= given, body names none
    assert price.cost is None and "no model" in price.note
    price = price_call(parse(recorded.text("ollama/ol__test_ollama_chat_legacy__0.json"), "ollama"))
    assert price.cost is None and "ollama" in price.note


def test_zero_only_when_nothing_can_be_billed(recorded) -> None:
    error = price_call(
        parse(recorded.text("openai_chat/pai__test_model_name_suggestion_openai-chat___0.json"), "openai")
    )
    assert error.cost == 0.0 and "error" in error.note
    conversation = price_call(
        parse(
            recorded.text("openai_conversations/pai__test_openai_conversation_id_explicit_and_auto__0.json"),
            "openai",
        )
    )
    assert conversation.cost == 0.0 and "not a model call" in conversation.note
    count = price_call(
        parse(recorded.text("token_counting/pai__test_responses_count_tokens__0.json"), "openai")
    )
    assert count.cost == 0.0
    # a run that is still queued has no usage yet: unknown, not free
    queued = price_call(
        parse(recorded.text("openai_assistants/ol__test_existing_assistant__2.json"), "openai")
    )
    assert queued.cost is None and "no usage" in queued.note
    free = price_call(
        parse(recorded.text("openrouter/pai__test_openrouter_stream_error__0.sse"), "openrouter")
    )
    assert free.cost == 0.0 and ":free" in free.note


def test_unpriceable_sub_call_makes_the_cost_unknown() -> None:
    meta = ProviderResponseMetadata(
        provider="anthropic",
        api="messages",
        model="claude-sonnet-5",
        usage=Usage(input_tokens=10, output_tokens=5, total_tokens=15),
        details={
            "additional_usage": [
                {
                    "model": "claude-nonexistent-1",
                    "type": "advisor_message",
                    "input_tokens": 100,
                    "output_tokens": 10,
                }
            ]
        },
    )
    price = price_call(meta)
    assert price.cost is None and "claude-nonexistent-1" in price.note


def test_pricing_works_without_network(recorded, monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    pricing_module.bundled_snapshot.cache_clear()
    meta = parse(recorded.text("anthropic/dd__anthropic_completion_cache_read__0.json"), "anthropic")
    assert price_call(meta).cost == pytest.approx(0.0021495)
    assert PRICE_SOURCE.startswith("genai-prices ")


def test_to_provider_call_record(recorded) -> None:
    rel = "openrouter/pai__test_openrouter_streaming_reasoning__0.sse"
    raw = recorded.text(rel)
    meta = parse(raw, "openrouter")
    price = price_call(meta)
    record = to_provider_call_record(meta, price, "conv-1", "msg-9", raw_response=raw, request={"model": "x"})
    assert isinstance(record, ProviderCallRecord)
    assert (record.conversation_id, record.message_id, record.provider, record.api) == (
        "conv-1",
        "msg-9",
        "openrouter",
        "chat",
    )
    assert record.identifiers == {"response_id": "gen-1765226419-AGrwjunAftQIAgweibL8"}
    assert (record.input_tokens, record.output_tokens, record.reasoning_tokens, record.total_tokens) == (
        43,
        36,
        13,
        79,
    )
    assert record.cost == pytest.approx(usd((43, 3.0), (36, 15.0)))  # OpenRouter claude-sonnet-4.5: $3 / $15
    assert record.provider_cost == 0.000669
    assert record.currency == "USD" and record.price_source == PRICE_SOURCE
    assert record.raw_response == raw and record.request == {"model": "x"}
    assert record.created_at == datetime.fromtimestamp(1765226419, UTC)
    assert record.model_dump(mode="json")["usage_estimated"] is False
    with pytest.raises(ValueError, match="conversation_id"):
        to_provider_call_record(meta, price, "")


def test_anthropic_web_search_requests_are_priced(recorded) -> None:
    rel = "anthropic/pai__test_thinking_with_native_tool_wire_contract_anthropic___0.json"
    meta = parse(recorded.text(rel), "anthropic")
    assert meta.details["price_units"] == {"web_searches": 1}  # usage.server_tool_use.web_search_requests
    # Anthropic pricing, claude-sonnet-4-5: $3 input, $15 output; web search $10 / 1K searches
    assert price_call(meta).cost == pytest.approx(usd((7744, 3.0), (353, 15.0)) + 1 * 10.0 / 1000)


def test_anthropic_one_hour_cache_writes_use_their_own_price() -> None:
    body = {
        "type": "message",
        "id": "msg_x",
        "model": "claude-sonnet-4-20250514",
        "content": [],
        "stop_reason": "end_turn",
        "usage": {
            "input_tokens": 400,
            "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 600,
            "cache_creation": {"ephemeral_5m_input_tokens": 400, "ephemeral_1h_input_tokens": 200},
            "output_tokens": 100,
        },
    }
    meta = parse(body, "anthropic")
    assert (meta.usage.input_tokens, meta.usage.cache_write_tokens) == (1000, 600)
    # Anthropic pricing, claude-sonnet-4: $3 input, $3.75 5-minute write, $6 1-hour write, $15 output
    expected = usd((400, 3.0), (400, 3.75), (200, 6.0), (100, 15.0))
    assert price_call(meta, datetime(2026, 1, 1, tzinfo=UTC)).cost == pytest.approx(expected)


def test_service_tier_selects_the_price_variant() -> None:
    body = {
        "id": "chatcmpl-tier",
        "object": "chat.completion",
        "created": 1793000000,
        "model": "gpt-4.1",
        "service_tier": "priority",
        "choices": [],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100},
    }
    # OpenAI pricing, gpt-4.1: standard $2 / $8, priority tier $3.50 / $14 (the priority variant is dated
    # in genai-prices 0.2.3; created 1793000000 = 2026-10-26 is inside it)
    assert price_call(parse(body, "openai")).cost == pytest.approx(usd((1000, 3.5), (100, 14.0)))
    body["service_tier"] = "default"
    assert price_call(parse(body, "openai")).cost == pytest.approx(usd((1000, 2.0), (100, 8.0)))
