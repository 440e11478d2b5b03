"""Seed 004 ("Comprehensive conversation management"), Step 2 and Phase 2–3: identifier extraction
as the seed calls it — ``extract_all_identifiers(response, metadata, provider_config)``,
``extract_from_path(metadata, path)``, ``provider_config.supported_identifiers`` and
``provider_config.get(f'{identifier_type}_path', None)`` — on the recorded real responses.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import httpx
import pytest
from openai.types.beta.threads import Run

from convoledger.providers import (
    GENERIC_IDENTIFIER_KEYS,
    AIPlatform,
    extract_all_identifiers,
    extract_from_path,
    get_adapter,
    get_capabilities,
    get_provider_capabilities,
    load_capabilities,
    parse,
)
from convoledger.providers.identifiers import identifier_value
from recorded_responses import Recorded

RUN = "openai_assistants/ol__test_existing_assistant__17.json"
CONV_RESPONSE = "openai_responses/pai__test_openai_conversation_id_explicit_and_auto__1.json"
CONV_STREAM = "openai_responses/pai__test_openai_conversation_id_streaming_provider_details__1.sse"
ASSISTANT_STREAM = "openai_assistants/ol__test_streaming_new_assistant__4.sse"


def test_the_seed_signature_and_its_five_keys_in_a_response_dict() -> None:
    # "Check response dict keys": the seed's five keys, whatever provider sent them
    response = {
        "id": "gen-123",
        "thread_id": "thread_abc",
        "session_id": "sess_1",
        "conversation_id": "conv_9",
        "run_id": "run_7",
        "assistant_id": "asst_2",
    }
    identifiers = extract_all_identifiers(response, None, get_capabilities("openai", "chat"))
    for key in GENERIC_IDENTIFIER_KEYS:
        assert identifiers[key] == response[key]
    assert identifiers["response_id"] == "gen-123"  # the chat config's path for "id" says what it is


def test_response_object_attributes_sdk_object(recorded: Recorded) -> None:
    """ "Check response object attributes": an OpenAI SDK ``Run`` object (the Assistants API)."""
    body = recorded.json(RUN)
    run = Run.model_validate(body)
    identifiers = extract_all_identifiers(run, None, None)
    assert identifiers["thread_id"] == run.thread_id == body["thread_id"]
    assert identifiers["assistant_id"] == run.assistant_id
    assert identifiers["run_id"] == run.id  # a thread.run object: its own id is the run id
    assert "conversation_id" not in identifiers and "session_id" not in identifiers


def test_plain_object_with_attributes_only() -> None:
    response = SimpleNamespace(thread_id="thread_x", session_id="s-1", conversation_id=None, text="hi")
    assert extract_all_identifiers(response, None, None) == {"thread_id": "thread_x", "session_id": "s-1"}


def test_metadata_through_the_provider_config_paths(recorded: Recorded) -> None:
    """ "Check metadata": for each supported identifier, ``provider_config.get(f'{type}_path')``
    applied to the metadata with ``extract_from_path`` — and the seed's assignment wins."""
    provider_config = get_capabilities("openai", "responses")
    assert provider_config.get("conversation_id_path", None) == "conversation.id"
    assert provider_config.get("previous_response_id_path", None) == "previous_response_id"
    assert provider_config.get("thread_id_path", None) is None  # not a Responses identifier
    metadata = recorded.json(CONV_RESPONSE)
    identifiers = extract_all_identifiers({"conversation_id": "stale"}, metadata, provider_config)
    assert identifiers["conversation_id"] == metadata["conversation"]["id"]  # metadata replaces
    assert identifiers["response_id"] == metadata["id"]


def test_metadata_with_a_dict_config_and_a_header_path() -> None:
    provider_config = {
        "supported_identifiers": ["session_id", "thread_id", "request_id"],
        "session_id_path": "session.info.id",
        "thread_id_path": "threads[-1]",
        "request_id_path": "header:X-Request-Id",
    }
    metadata = {
        "session": {"info": {"id": "sess-42"}},
        "threads": ["t-1", "t-2"],
        "headers": {"x-request-id": "req-9"},
    }
    assert extract_all_identifiers({}, metadata, provider_config) == {
        "session_id": "sess-42",
        "thread_id": "t-2",
        "request_id": "req-9",
    }
    with pytest.raises(ValueError, match="supported_identifiers and get"):
        extract_all_identifiers({}, metadata, object())


def test_response_headers_when_available(recorded: Recorded) -> None:
    """ "Check response headers (if available)": given, or carried by an HTTP response object."""
    body = recorded.json(RUN)
    headers = {**recorded.headers(RUN), "X-Session-Id": "sess-from-header"}
    identifiers = extract_all_identifiers(body, None, None, headers=headers)
    assert identifiers["session_id"] == "sess-from-header"
    assert identifiers["request_id"] == recorded.headers(RUN)["x-request-id"]
    http_response = httpx.Response(200, headers=headers, text=recorded.text(RUN))
    assert extract_all_identifiers(http_response, None, None) == identifiers


def test_nested_response_objects_and_streams(recorded: Recorded) -> None:
    """ "Check nested response objects": a Responses stream (the conversation inside each
    ``response`` object) and an Assistants stream (``data`` objects)."""
    stream = extract_all_identifiers(recorded.text(CONV_STREAM), None, None)
    assert stream["conversation_id"].startswith("conv_")
    nested = {"data": {"object": "thread", "id": "thread_n"}, "meta": {"session": {"id": "s-n"}}}
    assert extract_all_identifiers(nested, None, None) == {"thread_id": "thread_n", "session_id": "s-n"}
    assistants = extract_all_identifiers(recorded.text(ASSISTANT_STREAM), None, None)
    adapter = parse(recorded.text(ASSISTANT_STREAM), "openai", "assistants").identifiers
    for key in ("thread_id", "run_id", "assistant_id"):
        assert assistants[key] == adapter[key]


def test_a_response_own_id_is_never_a_conversation_id(recorded: Recorded) -> None:
    """Across every recorded response: ``conversation_id`` (and the other four) is never the
    body's own ``id`` unless the body's ``object`` type says it is that kind of object."""
    typed = {"conversation", "conversation.deleted", "thread", "thread.deleted", "thread.run", "assistant"}
    checked = 0
    for rel, rec in recorded.index.items():
        if rec["format"] != "json":
            continue
        body = recorded.json(rel)
        if not isinstance(body, dict) or "id" not in body:
            continue
        found = extract_all_identifiers(body, None, None)
        if body.get("object") not in typed:
            assert body["id"] not in found.values(), rel
        checked += 1
    assert checked > 80


def test_extract_from_path_syntax() -> None:
    data = {
        "choices": [
            {"message": {"tool_calls": [{"id": "call_1"}, {"id": "call_2"}]}},
            {"message": {}},
            {"message": {"tool_calls": [{"id": "call_3"}]}},
        ],
        "conversation": {"id": "conv_1"},
        "headers": {"X-Request-Id": "req_1"},
    }
    assert extract_from_path(data, "conversation.id") == "conv_1"
    assert extract_from_path(data, "choices[].message.tool_calls[].id") == ["call_1", "call_2", "call_3"]
    assert extract_from_path(data, "choices[0].message.tool_calls[1].id") == "call_2"
    assert extract_from_path(data, "choices[-1].message.tool_calls[0].id") == "call_3"
    assert extract_from_path(data, "header:x-request-id") == "req_1"
    assert extract_from_path(data, "conversation.missing") is None
    assert extract_from_path(data, "choices[1].message.tool_calls[].id") is None
    assert extract_from_path(SimpleNamespace(thread=SimpleNamespace(id="t")), "thread.id") == "t"
    for bad in ("", "a..b", "a[x]", "header:"):
        with pytest.raises(ValueError):
            extract_from_path(data, bad)


def test_every_configured_path_finds_what_the_adapter_finds(recorded: Recorded) -> None:
    """The per-identifier paths of ``capabilities.json`` agree with the adapters on every recorded
    JSON body (a path that finds a value finds the adapter's value)."""
    category_api = {
        "openai_chat": ("openai", "chat"),
        "openai_responses": ("openai", "responses"),
        "openai_assistants": ("openai", "assistants"),
        "anthropic": ("anthropic", "messages"),
        "google_gemini": ("google", "generate_content"),
        "groq": ("groq", "chat"),
        "mistral": ("mistral", "chat"),
        "bedrock_converse": ("bedrock", "converse"),
        "openrouter": ("openrouter", "chat"),
        "ollama": ("ollama", "native"),
    }
    compared = 0
    for rel, rec in recorded.index.items():
        if rec["format"] != "json" or rec["category"] not in category_api or rec["http_status"] != 200:
            continue
        provider, api = category_api[rec["category"]]
        body = recorded.json(rel)
        if rec["category"] == "openrouter" and body.get("object") == "response":
            api = "responses"
        caps = get_capabilities(provider, api)
        parsed = parse(body, provider, api, recorded.headers(rel)).identifiers
        for name in caps.supported_identifiers:
            path = caps.get(f"{name}_path", None)
            if not path or path.startswith("header:"):
                continue
            value = identifier_value(extract_from_path(body, path))
            if value is not None:
                assert value == parsed[name], (rel, name, path)
                compared += 1
    assert compared > 120


def test_capability_paths_must_name_supported_identifiers() -> None:
    with pytest.raises(ValueError, match="not in supported_identifiers"):
        load_capabilities(
            overrides={"providers": {"openai": {"apis": {"chat": {"identifier_paths": {"thread_id": "x"}}}}}},
            use_env=False,
        )
    with pytest.raises(ValueError, match="malformed field path"):
        load_capabilities(
            overrides={
                "providers": {"openai": {"apis": {"chat": {"identifier_paths": {"response_id": "a..b"}}}}}
            },
            use_env=False,
        )


def test_adapter_methods_extract_all_identifiers_metadata_and_capabilities(recorded: Recorded) -> None:
    """Phase 2.1 "Enhanced Base Adapter": ``extract_all_identifiers()``,
    ``extract_all_metadata()``, ``get_provider_capabilities()``."""
    adapter = get_adapter("openai", "responses")
    body = recorded.json(CONV_RESPONSE)
    metadata = {"session": {"id": "app-session-1"}}
    config = {"supported_identifiers": ["session_id"], "session_id_path": "session.id"}
    identifiers = adapter.extract_all_identifiers(body, metadata, config)
    assert identifiers["response_id"] == body["id"]  # the adapter's own reading
    assert identifiers["conversation_id"] == body["conversation"]["id"]
    assert identifiers["session_id"] == "app-session-1"  # the seed's metadata path
    assert adapter.extract_all_identifiers(json.dumps(body)) == parse(body, "openai", "responses").identifiers
    meta = adapter.extract_all_metadata(body)
    assert meta.usage.input_tokens == body["usage"]["input_tokens"]
    assert meta.details["store"] is True
    caps = adapter.get_provider_capabilities()
    assert caps == get_provider_capabilities("openai", "responses")
    assert caps["api_stateful"] is True and caps["identifier_paths"]["conversation_id"] == "conversation.id"
    assert {"provider_notes", "sdk_session_support", "api_stateful", "cost_optimization_notes"} <= set(caps)
    assert {"supported_identifiers", "metadata_fields"} <= set(caps)


def test_every_parse_picks_up_the_generic_keys() -> None:
    """Phase 3.1: a gateway that adds ``session_id`` / ``thread_id`` to an OpenAI-compatible body
    has them in the stored identifiers too (the adapter's own keys stay as the adapter read them)."""
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4o",
        "session_id": "gw-session",
        "metadata": {"thread_id": "gw-thread"},
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }
    ids = parse(body, "openai", "chat", {"x-request-id": "req_1"}).identifiers
    assert ids == {
        "response_id": "chatcmpl-1",
        "session_id": "gw-session",
        "thread_id": "gw-thread",
        "request_id": "req_1",
    }


# -- AIPlatform: the seed's capability fields ---------------------------------------------------
def test_aiplatform_fields_and_provider_note() -> None:
    """Phase 1.1 "Enhance AIPlatform Model" and Phase 4.1 "Provider Notes Template"."""
    openai = AIPlatform.OPENAI
    assert openai.api_stateful is False and openai.sdk_session_support is True  # chat completions
    assert openai.supported_identifiers == [
        "response_id",
        "system_fingerprint",
        "tool_call_ids",
        "request_id",
    ]
    assert "usage.prompt_tokens" in openai.metadata_fields
    note = openai.provider_notes
    assert note.startswith("=== OpenAI Chat Completions")
    for heading in ("ARCHITECTURE:", "HOW IT WORKS:", "TOKEN COSTS:", "SDK:", "OPTIMIZATION:"):
        assert f"\n{heading}\n" in note
    assert "- API-Level: Stateless" in note
    assert openai.cost_optimization_notes.splitlines()[0].startswith("- Keep a stable prefix")
    responses = openai.capabilities("responses")
    assert responses.api_stateful is True
    assert "- API-Level: Stateful (server-side state: previous_response_id, conversation)" in (
        responses.provider_notes_text()
    )
    assert openai.get("response_id_path") == "id"
    assert AIPlatform.BEDROCK.get("request_id_path") == "header:x-amzn-requestid"
    assert extract_all_identifiers({"id": "x"}, {"id": "chatcmpl-9"}, AIPlatform.OPENAI) == {
        "response_id": "chatcmpl-9"
    }
