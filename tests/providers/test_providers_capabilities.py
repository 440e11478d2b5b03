"""The capability registry: packaged data file, validation, overrides (dict, file, env var)."""

from __future__ import annotations

import json

import pytest
from genai_prices.data import providers as genai_providers

from convoledger.providers import (
    ADAPTERS,
    DEFAULT_API,
    IDENTIFIER_KEYS,
    PROVIDERS,
    AIPlatform,
    capabilities_as_dict,
    get_adapter,
    get_capabilities,
    load_capabilities,
    reload_capabilities,
)
from convoledger.providers.capabilities import CAPABILITIES_ENV

NOTE_PARTS = {"architecture", "implementation", "cost_implications", "sdk"}


def test_every_adapter_has_a_capability_entry() -> None:
    registry = load_capabilities(use_env=False)
    assert set(registry.providers) == set(PROVIDERS) == {p.value for p in AIPlatform}
    for provider, apis in ADAPTERS.items():
        entry = registry.providers[provider]
        assert set(entry.apis) == set(apis), provider
        assert entry.default_api == DEFAULT_API[provider]
        for api in apis:
            caps = registry.get(provider, api)
            assert set(caps.supported_identifiers) <= set(IDENTIFIER_KEYS), (provider, api)
            assert caps.metadata_fields and caps.streaming_usage
            assert set(caps.provider_notes.model_dump()) == NOTE_PARTS
            assert all(caps.provider_notes.model_dump().values())


def test_pricing_provider_ids_exist_in_genai_prices() -> None:
    known = {p.id for p in genai_providers}
    registry = load_capabilities(use_env=False)
    for name, entry in registry.providers.items():
        if name == "ollama":
            assert entry.pricing_provider_id is None  # local models: no price data
        else:
            assert entry.pricing_provider_id in known, name


def test_context_strategy_facts() -> None:
    responses = get_capabilities("openai", "responses")
    assert responses.api_stateful and responses.context_strategy == "server_state"
    assert responses.server_state_handles == ["previous_response_id", "conversation"]
    assert get_capabilities("openai").api == "chat"
    assert get_capabilities("openai", "chat").context_strategy == "token_window"
    assert get_capabilities("openai", "assistants").deprecated is True
    assert get_capabilities("mistral", "conversations").server_state_handles == ["conversation_id"]
    assert get_capabilities("anthropic").token_estimate_ratio == 1.3
    for provider in ("anthropic", "google", "bedrock", "groq", "deepseek", "ollama"):
        assert get_capabilities(provider).api_stateful is False


def test_unknown_provider_or_api_in_registry() -> None:
    with pytest.raises(ValueError, match="unknown provider 'nope'"):
        get_capabilities("nope")
    with pytest.raises(ValueError, match="has no API 'messages'"):
        get_capabilities("openai", "messages")


def test_capabilities_as_dict_is_json_listing() -> None:
    listing = capabilities_as_dict()
    text = json.dumps(listing)  # JSON-serialisable as is
    assert json.loads(text) == listing
    names = [p["provider"] for p in listing["providers"]]
    assert names == sorted(PROVIDERS)
    openai = next(p for p in listing["providers"] if p["provider"] == "openai")
    assert [a["api"] for a in openai["apis"]] == ["chat", "responses", "conversations", "assistants"]
    assert openai["pricing_provider_id"] == "openai"
    assert set(openai["apis"][1]["provider_notes"]) == NOTE_PARTS


def test_dict_overrides_merge_deeply() -> None:
    registry = load_capabilities(
        overrides={
            "providers": {
                "groq": {"apis": {"chat": {"cost_optimization_notes": ["use batch"]}}},
                "acme": {
                    "display_name": "Acme",
                    "default_api": "chat",
                    "apis": {
                        "chat": {
                            "display_name": "Acme chat",
                            "api_stateful": False,
                            "context_strategy": "token_window",
                            "sdk_session_support": False,
                            "supported_identifiers": ["response_id"],
                            "metadata_fields": ["id"],
                            "streaming_usage": "none",
                            "provider_notes": {
                                "architecture": "a",
                                "implementation": "i",
                                "cost_implications": "c",
                                "sdk": "s",
                            },
                        }
                    },
                },
            }
        },
        use_env=False,
    )
    groq = registry.get("groq", "chat")
    assert groq.cost_optimization_notes == ["use batch"]
    assert groq.api_stateful is False and groq.supported_identifiers  # untouched fields kept
    assert registry.get("acme").display_name == "Acme chat"


@pytest.mark.parametrize(
    "overrides",
    [
        {"providers": {"openai": {"apis": {"chat": {"context_strategy": "telepathy"}}}}},
        {"providers": {"openai": {"apis": {"chat": {"unknown_field": 1}}}}},
        {"providers": {"openai": {"default_api": "messages"}}},
        {"providers": {"openai": {"apis": {"chat": {"context_strategy": "server_state"}}}}},  # stateless API
        {"providers": {"openai": {"apis": {"chat": {"token_estimate_ratio": 0}}}}},
    ],
)
def test_invalid_overrides_raise_value_error(overrides) -> None:
    with pytest.raises(ValueError, match="invalid capabilities data"):
        load_capabilities(overrides=overrides, use_env=False)


def test_file_and_env_var_overrides(tmp_path, monkeypatch) -> None:
    json_file = tmp_path / "caps.json"
    json_file.write_text(json.dumps({"providers": {"deepseek": {"display_name": "DeepSeek (EU proxy)"}}}))
    assert load_capabilities(json_file).providers["deepseek"].display_name == "DeepSeek (EU proxy)"

    toml_file = tmp_path / "caps.toml"
    toml_file.write_text("[providers.bedrock.apis.converse]\ntoken_estimate_ratio = 1.4\n")
    monkeypatch.setenv(CAPABILITIES_ENV, str(toml_file))
    try:
        assert load_capabilities().get("bedrock").token_estimate_ratio == 1.4
        assert reload_capabilities().get("bedrock").token_estimate_ratio == 1.4
        assert get_adapter("bedrock").get_provider_capabilities()["token_estimate_ratio"] == 1.4
        assert load_capabilities(use_env=False).get("bedrock").token_estimate_ratio == 1.3
    finally:
        monkeypatch.delenv(CAPABILITIES_ENV)
        reload_capabilities()
    assert get_capabilities("bedrock").token_estimate_ratio == 1.3


def test_bad_files_raise_value_error(tmp_path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        load_capabilities(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match="not valid"):
        load_capabilities(broken)
    listing = tmp_path / "list.json"
    listing.write_text("[1, 2]")
    with pytest.raises(ValueError, match="object at the top level"):
        load_capabilities(listing)
