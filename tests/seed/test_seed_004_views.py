"""Seed 004 Phase 1.2–1.3 and 3.2 through the library on every backend: the ``ProviderMetadata``
model (``provider_response_raw``, ``extracted_identifiers``, ``usage_metrics``,
``provider_specific_data``) and the conversation's ``provider_metadata``,
``extracted_identifiers``, ``token_usage_history`` and ``cost_tracking`` — derived from the
recorded provider calls, never stored on the conversation.

Costs are checked against the hand computations of ``shared/data/provider_responses/FIELDS.md``
("Pricing"): Anthropic 11 × $3 + 2055 × $0.30 + 100 × $15 per MTok = $0.0021495; OpenAI Responses
3 × $5 + 1217 × $6.25 + 100 × $30 per MTok = $0.01062125 at the request date.
"""

from __future__ import annotations

import pytest

from convoledger import ConversationProviderViews, Ledger, MessageRecord, ProviderMetadata
from convoledger.models.records import ConversationRecord, ProviderCallRecord
from recorded_responses import Recorded

ANTHROPIC = "anthropic/dd__anthropic_completion_cache_read__0.json"  # FIELDS.md hand check
OPENAI_RESPONSES = "openai_responses/dd__responses_prompt_caching_5_6_cache_write__0.json"  # idem
CONVERSATION = "openai_responses/pai__test_openai_conversation_id_explicit_and_auto__1.json"
ANTHROPIC_COST = 0.0021495
OPENAI_COST = 0.01062125


def test_provider_metadata_model_has_the_seed_fields_and_round_trips() -> None:
    record = ProviderCallRecord(
        conversation_id="conv-1",
        message_id="m-1",
        provider="openrouter",
        api="chat",
        model="anthropic/claude-sonnet-4.6",
        identifiers={"response_id": "gen-1", "tool_call_ids": ["toolu_1"]},
        input_tokens=2168,
        output_tokens=10,
        cache_read_tokens=2161,
        total_tokens=2178,
        cost=0.0012,
        provider_cost=0.00125,
        price_source="genai-prices",
        latency_ms=321.0,
        raw_response={"id": "gen-1", "provider": "Anthropic"},
        provider_specific_data={"upstream_provider": "Anthropic"},
    )
    seed = ProviderMetadata.from_record(record)
    assert (seed.conversation, seed.message) == ("conv-1", "m-1")  # the seed's foreign keys
    assert seed.provider_response_raw == {"id": "gen-1", "provider": "Anthropic"}
    assert seed.extracted_identifiers == {"response_id": "gen-1", "tool_call_ids": ["toolu_1"]}
    assert seed.provider_specific_data == {"upstream_provider": "Anthropic"}
    assert seed.usage_metrics == {
        "input_tokens": 2168, "output_tokens": 10, "total_tokens": 2178, "cache_read_tokens": 2161,
        "cache_write_tokens": 0, "reasoning_tokens": 0, "estimated": False, "cost": 0.0012,
        "provider_cost": 0.00125, "currency": "USD", "price_source": "genai-prices", "cost_note": None,
        "latency_ms": 321.0,
    }  # fmt: skip
    assert seed.to_record() == record
    # built the seed's way, by its field names
    built = ProviderMetadata(
        conversation="conv-2",
        provider="openai",
        provider_response_raw={"id": "chatcmpl-1"},
        extracted_identifiers={"response_id": "chatcmpl-1"},
        usage_metrics={"input_tokens": 10, "output_tokens": 2, "total_tokens": 12, "cost": 0.0001},
        provider_specific_data={"service_tier": "default"},
    )
    stored = built.to_record()
    assert (stored.input_tokens, stored.total_tokens, stored.cost, stored.raw_response) == (
        10, 12, 0.0001, {"id": "chatcmpl-1"},
    )  # fmt: skip
    with pytest.raises(ValueError, match="usage_metrics"):
        ProviderMetadata(conversation="c", provider="openai", usage_metrics={"input_tokens": -1})
    with pytest.raises(ValueError, match="usage_metrics"):
        ProviderMetadata(conversation="c", provider="openai", usage_metrics={"tokens_in": 1})


async def _conversation_with_calls(
    ledger: Ledger, recorded: Recorded
) -> tuple[ConversationRecord, list[str]]:
    conv = await ledger.create_conversation(ConversationRecord(owner_id=ledger.owner, session_id="seed-004"))
    [question, first, second] = await ledger.append_batch(
        conv,
        [
            MessageRecord(role="user", content="Summarise the report."),
            MessageRecord(role="assistant", content="Here is the summary."),
            MessageRecord(role="assistant", content="And the details."),
        ],
    )
    await ledger.record_provider_call(
        conv, recorded.text(ANTHROPIC), first.id, provider="anthropic", headers=recorded.headers(ANTHROPIC)
    )
    await ledger.record_provider_call(conv, recorded.json(OPENAI_RESPONSES), second.id, provider="openai")
    await ledger.record_provider_call(conv, recorded.json(CONVERSATION), None, provider="openai")
    return conv, [question.id, first.id, second.id]


async def test_the_four_views_are_derived_from_the_calls(ledger: Ledger, recorded: Recorded) -> None:
    conv, [_, first, second] = await _conversation_with_calls(ledger, recorded)
    calls = await ledger.provider_calls(conv)
    views = await ledger.provider_views(conv)
    assert isinstance(views, ConversationProviderViews)

    # provider_metadata: complete metadata of every call, by call id, oldest first
    assert list(views.provider_metadata) == [c.id for c in calls]
    anthropic = views.provider_metadata[calls[0].id]
    assert anthropic["conversation"] == conv.id and anthropic["message"] == first
    assert anthropic["provider_response_raw"] == recorded.text(ANTHROPIC)  # exactly as received
    assert anthropic["provider_specific_data"] == {"service_tier": "standard"}
    assert anthropic["extracted_identifiers"]["request_id"] == recorded.headers(ANTHROPIC)["request-id"]
    assert anthropic["usage_metrics"]["cost"] == pytest.approx(ANTHROPIC_COST, abs=1e-12)
    lean = await ledger.provider_views(conv, include_raw=False)
    assert "provider_response_raw" not in lean.provider_metadata[calls[0].id]

    # extracted_identifiers: {thread_id, session_id, conversation_id, ...}: the latest of each
    body = recorded.json(CONVERSATION)
    assert views.extracted_identifiers["conversation_id"] == body["conversation"]["id"]
    assert views.extracted_identifiers["response_id"] == body["id"]  # the latest call's
    assert views.extracted_identifiers["request_id"] == recorded.headers(ANTHROPIC)["request-id"]

    # token_usage_history: [{message_id, input_tokens, output_tokens, total}]
    assert [
        {k: entry[k] for k in ("message_id", "input_tokens", "output_tokens", "total")}
        for entry in views.token_usage_history
    ] == [
        {"message_id": first, "input_tokens": 11 + 2055, "output_tokens": 100, "total": 2166},
        {"message_id": second, "input_tokens": 1220, "output_tokens": 100, "total": 1320},
        {"message_id": None, "input_tokens": 52, "output_tokens": 2, "total": 54},
    ]
    assert views.token_usage_history[0]["cache_read_tokens"] == 2055
    assert views.token_usage_history[1]["cache_write_tokens"] == 1217

    # cost_tracking: {total_cost, per_message_costs, currency}
    cost = views.cost_tracking
    assert cost["currency"] == "USD"
    assert cost["per_message_costs"] == {
        first: pytest.approx(ANTHROPIC_COST, abs=1e-12),
        second: pytest.approx(OPENAI_COST, abs=1e-12),
    }
    assert cost["total_cost"] == pytest.approx(sum(c.cost for c in calls if c.cost is not None), abs=1e-12)
    assert cost["per_call_costs"] == {c.id: c.cost for c in calls}
    assert (cost["calls"], cost["unpriced_calls"]) == (3, 0)
    assert cost["total_cost"] == (await ledger.usage(conv)).as_dict()["totals"]["cost"]


async def test_views_follow_new_calls_and_are_not_stored_on_the_conversation(
    ledger: Ledger, recorded: Recorded
) -> None:
    conv = await ledger.create_conversation(ConversationRecord(owner_id=ledger.owner))
    empty = await ledger.provider_views(conv)
    assert empty.as_dict() == {
        "provider_metadata": {},
        "extracted_identifiers": {},
        "token_usage_history": [],
        "cost_tracking": {
            "total_cost": 0.0, "per_message_costs": {}, "currency": "USD", "per_call_costs": {},
            "provider_reported_cost": None, "calls": 0, "unpriced_calls": 0,
        },
    }  # fmt: skip
    await ledger.record_provider_call(conv, recorded.json(ANTHROPIC), provider="anthropic")
    after = await ledger.provider_views(conv)
    assert after.cost_tracking["total_cost"] == pytest.approx(ANTHROPIC_COST, abs=1e-12)
    stored = await ledger.get_conversation(conv.id)
    dumped = stored.model_dump()
    for view in ("provider_metadata", "extracted_identifiers", "token_usage_history", "cost_tracking"):
        assert view not in dumped and view not in stored.metadata
    # the ProviderMetadata rows of the conversation, under the seed's names
    [row] = await ledger.provider_metadata_records(conv)
    assert row.provider_specific_data == {"service_tier": "standard"}
    assert row.usage_metrics["input_tokens"] == 2066


async def test_a_provider_metadata_row_is_stored_as_given(ledger: Ledger) -> None:
    conv = await ledger.create_conversation(ConversationRecord(owner_id=ledger.owner))
    [answer] = await ledger.append_batch(conv, [MessageRecord(role="assistant", content="ok")])
    row = ProviderMetadata(
        conversation=conv.id,
        message=answer.id,
        provider="mistral",
        api="conversations",
        model="mistral-medium-latest",
        provider_response_raw={"object": "conversation.response", "conversation_id": "conv_m1"},
        extracted_identifiers={"conversation_id": "conv_m1"},
        usage_metrics={"input_tokens": 40, "output_tokens": 8, "total_tokens": 48, "cost": None},
        provider_specific_data={"connector_tokens": 3},
    )
    await ledger.add_provider_call(conv, row)
    views = await ledger.provider_views(conv)
    assert views.extracted_identifiers == {"conversation_id": "conv_m1"}
    assert views.cost_tracking["total_cost"] is None and views.cost_tracking["unpriced_calls"] == 1
    assert views.provider_metadata[row.id]["provider_specific_data"] == {"connector_tokens": 3}
    assert (await ledger.provider_metadata_records(conv)) == [row]


async def test_strategy_choice_with_reasoning(ledger: Ledger, recorded: Recorded) -> None:
    """Phase 3.3 "Strategy Optimization": prefer the API's own state when the provider keeps it,
    fall back to a sliding (token) window otherwise, and say why."""
    conv = await ledger.create_conversation(ConversationRecord(owner_id=ledger.owner))
    [_, answer] = await ledger.append_batch(
        conv, [MessageRecord(role="user", content="Hi"), MessageRecord(role="assistant", content="Hello")]
    )
    before = await ledger.context_for(conv, provider="openai", api="responses")
    assert before.strategy == "token_window" and "handle" in before.reason
    await ledger.record_provider_call(conv, recorded.json(CONVERSATION), answer.id, provider="openai")
    after = await ledger.context_for(conv, provider="openai", api="responses")
    assert after.strategy == "server_state" and after.messages == []
    assert after.server_handle is not None
    assert after.server_handle["conversation_id"] == recorded.json(CONVERSATION)["conversation"]["id"]
    stateless = await ledger.context_for(conv, provider="openai", api="chat")
    assert stateless.strategy == "token_window" and "keeps no server-side history" in stateless.reason
    assert [m.content for m in stateless.messages] == ["Hi", "Hello"]
