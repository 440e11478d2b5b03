"""Exact identifiers and normalised usage for hand-checked recorded responses, per provider.

Every expected value below was read from the recorded file (and its index.json headers) by hand;
normalised counts show their arithmetic (e.g. Anthropic input = input_tokens +
cache_read_input_tokens + cache_creation_input_tokens). Each provider has at least three cases,
including a cached, a reasoning, a tool-call and a streaming one where the data has them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from convoledger.providers import parse


@dataclass(frozen=True)
class Case:
    file: str
    provider: str
    api: str | None
    identifiers: dict[str, Any]
    # input, cache_read, cache_write, output, reasoning, total
    usage: tuple[int, int, int, int, int, int]
    estimated: bool = False
    model: str | None = None
    stop_reason: str | None = None
    latency_ms: float | None = None
    model_arg: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


CASES = [
    # ---------------------------------------------------------------- OpenAI
    Case(  # chat stream with stream_options.include_usage, cached: 1420 in, 1280 cached
        "openai_chat/dd__chat_completion_stream_prompt_caching_cache_read__0.sse",
        "openai",
        "chat",
        {
            "response_id": "chatcmpl-BpJBM4XqgLRpLxmTeun39ESCNhQwb",
            "system_fingerprint": "fp_07871e2ad8",
            "request_id": "req_d3ecdcde6af5cffc142b6d0fd885f0b3",
        },
        (1420, 1280, 0, 100, 0, 1520),
        model="gpt-4o-2024-08-06",
        stop_reason="length",
        latency_ms=365.0,
    ),
    Case(  # chat, custom tool call + reasoning 192 of 214 output tokens
        "openai_chat/dd__chat_completion_custom_tool_call__0.json",
        "openai",
        "chat",
        {
            "response_id": "chatcmpl-C6kAsNPg913qfMOD9hFN60JhdZNlz",
            "tool_call_ids": ["call_QpgJRI5C9DcjExMNU6lrJPcu"],
            "request_id": "req_611954e1d30494f191e4680d1c99b6e2",
        },
        (241, 0, 0, 214, 192, 455),
        model="gpt-5-2025-08-07",
        stop_reason="tool_calls",
        latency_ms=8067.0,
    ),
    Case(  # chat, cache write 1217 of 1220 (gpt-5.6-sol); system_fingerprint null -> absent
        "openai_chat/dd__chat_completion_prompt_caching_5_6_cache_write__0.json",
        "openai",
        "chat",
        {
            "response_id": "chatcmpl-E0AeOu004E5onbvs8LtrVv7w8NYn2",
            "request_id": "req_ed1692f28b27414ebc298d2b377f052d",
        },
        (1220, 0, 1217, 100, 100, 1320),
        model="gpt-5.6-sol",
        stop_reason="length",
        latency_ms=4355.0,
    ),
    Case(  # Responses, incomplete (max_output_tokens), cache write, reasoning 54
        "openai_responses/dd__responses_prompt_caching_5_6_cache_write__0.json",
        "openai",
        "responses",
        {
            "response_id": "resp_0e43f2340229131f016a513fd83808819280e0015a42a56ba2",
            "output_item_ids": [
                "rs_0e43f2340229131f016a513fd8e8408192ac4f65b55010a798",
                "msg_0e43f2340229131f016a513fd9c79c8192b285506fc10d69d2",
            ],
            "request_id": "req_52ba3534e6e0406abd04d9bb92a1ab54",
        },
        (1220, 0, 1217, 100, 54, 1320),
        model="gpt-5.6-sol",
        stop_reason="max_output_tokens",
        latency_ms=2449.0,
        extra={"store": False},
    ),
    Case(  # Responses SSE stream: totals from response.completed; function call + reasoning 448
        "openai_responses/pai__test_openai_responses_streaming_usage__0.sse",
        "openai",
        "responses",
        {
            "response_id": "resp_0050471a34b36ae60068c97b94a480819587a9d70cf2979b33",
            "output_item_ids": [
                "rs_0050471a34b36ae60068c97bac4dcc819595fd0f80d6b3c405",
                "fc_0050471a34b36ae60068c97bf19d9c819590eaf42c0edc1042",
            ],
            "tool_call_ids": ["call_CWXgs68YprAjp6t0371hiPOI"],
        },
        (53, 0, 0, 469, 448, 522),
        model="gpt-5-2025-08-07",
        stop_reason="completed",
        latency_ms=255.0,
    ),
    Case(  # Responses, cached 2048 of 2087
        "openai_responses/pai__test_openai_responses_thinking_with_tool_calls__1.json",
        "openai",
        "responses",
        {
            "response_id": "resp_68c42d3fd6a08196bce23d6be960ff8a0e8bc41441c948f6",
            "output_item_ids": ["msg_68c42d408eec8196ae1c5883e07c093e0e8bc41441c948f6"],
        },
        (2087, 2048, 0, 124, 0, 2211),
        latency_ms=1610.0,
    ),
    Case(  # Responses chain: previous_response_id echoed, function call
        "openai_responses/pai__test_openai_previous_response_id_seed_auto_chains_through_retries__1.json",
        "openai",
        "responses",
        {
            "response_id": "resp_0435eb6c2aa8e9eb0069e15ffeb3fc81959cd2d1e915a8c7ea",
            "previous_response_id": "resp_0435eb6c2aa8e9eb0069e15ffdbb848195ab503209f100317f",
            "output_item_ids": ["fc_0435eb6c2aa8e9eb0069e15fffae50819597bbbe870015ea70"],
            "tool_call_ids": ["call_P1vN20XNjvNyIm0VshHYzmSA"],
        },
        (56, 0, 0, 16, 0, 72),
        latency_ms=1205.0,
    ),
    Case(  # Responses in a Conversations-API conversation: conversation.id, never the response id
        "openai_responses/pai__test_openai_conversation_id_explicit_and_auto__1.json",
        "openai",
        "responses",
        {
            "response_id": "resp_01000000000000000000000000000000000000000000000000",
            "conversation_id": "conv_010000000000000000000000000000000000000000000000",
            "output_item_ids": ["msg_01000000000000000000000000000000000000000000000000"],
        },
        (52, 0, 0, 2, 0, 54),
        latency_ms=1414.0,
    ),
    Case(  # Conversations object: its id IS the conversation id; no usage, not a model call
        "openai_conversations/pai__test_openai_conversation_id_explicit_and_auto__0.json",
        "openai",
        "conversations",
        {"conversation_id": "conv_010000000000000000000000000000000000000000000000"},
        (0, 0, 0, 0, 0, 0),
        latency_ms=359.0,
        extra={"_is_model_call": False},
    ),
    Case(  # Assistants run: usage with the real-data "prompt_token_details" spelling
        "openai_assistants/ol__test_existing_assistant__17.json",
        "openai",
        "assistants",
        {
            "run_id": "run_IL2XI2vtDTds9edMVscOwprV",
            "thread_id": "thread_T6qwGAxh0EaHsPrcHZ7JCJ1k",
            "assistant_id": "asst_D2BqLQ9rNgOjd5A3NpS9m9s4",
            "request_id": "req_c0cd7cebeade422e90373ba9925b116c",
        },
        (381, 0, 0, 88, 0, 469),
        model="gpt-4o-mini",
        stop_reason="completed",
        latency_ms=105.0,
    ),
    Case(  # Assistants run stream: run usage 381/88, NOT run + step usages (154+227 = 381 again)
        "openai_assistants/ol__test_streaming_new_assistant__4.sse",
        "openai",
        "assistants",
        {
            "step_ids": ["step_swXK2ebQ3TtY6NlhcKjepIEL", "step_mus62zEh9JQqUZf7k1B5F65N"],
            "tool_call_ids": ["call_Sn70VjjVrk8Vf7VKCi1W3OYA"],
            "message_ids": ["msg_jgiXcjHqUsRCj2RmdC13r5xN"],
            "thread_id": "thread_1HjgF1qM3kuRK2aviYYaLlxF",
            "run_id": "run_PS0ksndVoX7DxtmdXn66ZMXU",
            "assistant_id": "asst_eXyrYQvlVGnRBIVYf7r9U1FN",
            "request_id": "req_0a9d3398865f4d3a808a79f24a7f3256",
        },
        (381, 0, 0, 88, 0, 469),
        model="gpt-4o-mini",
        stop_reason="completed",
        latency_ms=709.0,
    ),
    # ---------------------------------------------------------------- Azure OpenAI
    Case(  # chat, reasoning 192 of 203; x-request-id preferred over apim-request-id
        "azure_openai/ol__test_chat_reasoning__0.json",
        "azure",
        "chat",
        {
            "response_id": "chatcmpl-C6EJeKZdEaC0VeeKH3lWwJBjCTcpd",
            "request_id": "7acf5821-70fa-4fab-b202-ba3700578d08",
        },
        (11, 0, 0, 203, 192, 214),
        model="gpt-5-nano-2025-08-07",
        stop_reason="stop",
    ),
    Case(  # 404 error body; request id from apim-request-id
        "azure_openai/ol__test_chat_reasoning__1.json",
        "azure",
        "chat",
        {"request_id": "229984e1-2885-42a2-9668-09b5037db6ea"},
        (0, 0, 0, 0, 0, 0),
        extra={"_error_code": "DeploymentNotFound"},
    ),
    Case(  # Azure Responses, reasoning 9 of 16
        "azure_openai/pai__test_azure_responses_reasoning_context_default_wire_contract_gpt-5.5___0.json",
        "azure",
        "responses",
        {
            "response_id": "resp_0bb4c92b9ee53ce5006a6771221ca08195be1955289fa07890",
            "output_item_ids": [
                "rs_0bb4c92b9ee53ce5006a677122b34c8195a75850e455531675",
                "msg_0bb4c92b9ee53ce5006a677122d7f0819590b4ecef32f797cb",
            ],
            "request_id": "3b330e1f-f052-44da-a474-0c4f848a76cf",
        },
        (18, 0, 0, 16, 9, 34),
        model="gpt-5.5",
    ),
    # ---------------------------------------------------------------- Anthropic
    Case(  # cache read: input 11 + 2055 read + 0 written = 2066 (FIELDS.md example)
        "anthropic/dd__anthropic_completion_cache_read__0.json",
        "anthropic",
        "messages",
        {"response_id": "msg_01YUFu6WCB8ZHZBNCMemdJ2B", "request_id": "req_011CQkYXWEaYLtjyRLVfhAKc"},
        (2066, 2055, 0, 100, 0, 2166),
        model="claude-sonnet-4-20250514",
        stop_reason="max_tokens",
    ),
    Case(  # stream, cache write: message_start input 18 + 1031 written; message_delta output 100
        "anthropic/dd__anthropic_completion_stream_cache_write__0.sse",
        "anthropic",
        "messages",
        {"response_id": "msg_01N1s2vim6CWk85jtJPHcuea", "request_id": "req_011CQkYajyQnyY9eu2Fgbk1o"},
        (1049, 0, 1031, 100, 0, 1149),
        stop_reason="max_tokens",
    ),
    Case(  # advisor tool: thinking 28; the advisor iteration on claude-opus-4-8 is a separate sub-call
        "anthropic/pai__test_anthropic_advisor_tool__0.json",
        "anthropic",
        "messages",
        {
            "response_id": "msg_011CdD8kCHePDwkWhKt6aCDv",
            "tool_call_ids": ["srvtoolu_01HjzmxWnLPCkNoLmrowWNBc"],
        },
        (1128 + 1262, 0, 0, 110 + 11, 28, 2390 + 121),
        model="claude-sonnet-5",
        stop_reason="end_turn",
        extra={
            "additional_usage": [
                {
                    "model": "claude-opus-4-8",
                    "type": "advisor_message",
                    "input_tokens": 2518,
                    "cache_read_tokens": 0,
                    "cache_write_tokens": 0,
                    "output_tokens": 22,
                }
            ]
        },
    ),
    Case(  # compaction: top level covers only the last step (229 in / 5 out); both iterations billed
        "anthropic/pai__test_anthropic_compaction_usage_with_cache__0.json",
        "anthropic",
        "messages",
        {"response_id": "msg_011CduoCGqnmwXgi7jhzyVZM"},
        (100 + 55096 + 229, 0, 55096, 131 + 5, 0, 55425 + 136),
    ),
    Case(  # code execution: server tool use id, container id, cached 9116 + written 219 + 4
        "anthropic/pai__test_anthropic_code_execution_files_cache_prefix_stable_automatic-sonnet-4-6___2.json",
        "anthropic",
        "messages",
        {
            "response_id": "msg_016rKd9qFTRLsPvKXH1Cw3bd",
            "tool_call_ids": ["srvtoolu_0184XpDPgz8eXBzXzkQq5hyi"],
            "container_id": "container_01DUWjeFPcZi9R3b5ykYTuFx",
        },
        (4 + 9116 + 219, 9116, 219, 156, 0, 9339 + 156),
    ),
    Case(  # 404 error body: request_id from the body
        "anthropic/pai__test_model_name_suggestion_anthropic___0.json",
        "anthropic",
        "messages",
        {"request_id": "req_011CdufXo8Y2LVfY2veyuQWG"},
        (0, 0, 0, 0, 0, 0),
        extra={"_error": {"message": "model: claude-sonet-4-5", "type": "not_found_error"}},
    ),
    # ---------------------------------------------------------------- Google Gemini
    Case(  # cached 3512 of 3520; output = 2 candidates + 42 thoughts (FIELDS.md example)
        "google_gemini/pai__test_google_model_cached_content__1.json",
        "google",
        "generate_content",
        {"response_id": "_VQYaqvRGbW6qtsPg4TDoAg"},
        (3520, 3512, 0, 2 + 42, 42, 3564),
        model="gemini-2.5-flash",
        stop_reason="STOP",
    ),
    Case(  # stream: LAST chunk's totals (candidates 37, thoughts 742, toolUsePrompt 770), never summed
        "google_gemini/pai__test_google_model_file_search_tool_stream__3.sse",
        "google",
        "generate_content",
        {"response_id": "6hkqaYC5BbGEz7IPwb3ggA8"},
        (15 + 770, 0, 0, 37 + 742, 742, 1564),
        model="gemini-2.5-pro",
        stop_reason="STOP",
    ),
    Case(  # function call with an id; thoughts 40
        "google_gemini/pai__test_google_deferred_capability_announcement_live__1.json",
        "google",
        "generate_content",
        {"response_id": "MRZyaoPoApODz7IP3PyuuAc", "tool_call_ids": ["grBScFvZ"]},
        (341, 0, 0, 25 + 40, 40, 406),
        model="gemini-3.6-flash",
    ),
    Case(  # modelVersion with the models/ prefix, kept as the response names it
        "google_gemini/pai__test_google_model_thinking_config__0.json",
        "google",
        "generate_content",
        {"response_id": "1FpeaOWpAs-lkdUP_4eY2QY"},
        (15, 0, 0, 8 + 275, 275, 298),
        model="models/gemini-2.5-pro",
    ),
    # ---------------------------------------------------------------- OpenRouter
    Case(  # cached 2240 + cache write 329 of 2572; provider-reported cost
        "openrouter/pai__test_openrouter_cache_all_settings_real_api__2.json",
        "openrouter",
        "chat",
        {"response_id": "gen-1773012776-5nafgQyaQZJWyIfxbWUG"},
        (2572, 2240, 329, 100, 0, 2672),
        model="anthropic/claude-4.6-sonnet-20260217",
        stop_reason="length",
        extra={"provider_cost": 0.00341475, "upstream_provider": "Anthropic"},
    ),
    Case(  # tool call (Anthropic upstream id)
        "openrouter/pai__test_openrouter_cache_all_settings_real_api__0.json",
        "openrouter",
        "chat",
        {
            "response_id": "gen-1773012771-kAGK501FZdViiY8GCFjy",
            "tool_call_ids": ["toolu_01QXVkPZYABFNhTASu9uBdEM"],
        },
        (2572, 0, 2569, 63, 0, 2635),
        extra={"provider_cost": 0.01058775},
    ),
    Case(  # stream with reasoning 13; usage (with cost) in the last chunk
        "openrouter/pai__test_openrouter_streaming_reasoning__0.sse",
        "openrouter",
        "chat",
        {"response_id": "gen-1765226419-AGrwjunAftQIAgweibL8"},
        (43, 0, 0, 36, 13, 79),
        model="anthropic/claude-sonnet-4.5",
        stop_reason="stop",
        extra={"provider_cost": 0.000669, "upstream_provider": "Google"},
    ),
    Case(  # Responses stream: output ids from response.completed (streamed items had other tmp ids)
        "openrouter/pai__test_openai_responses_raw_cot_stream_openrouter__0.sse",
        "openrouter",
        "responses",
        {
            "response_id": "gen-1764265411-Fu1iEX7h5MRWiL79lb94",
            "output_item_ids": ["rs_tmp_ku4i7pagjwn", "msg_tmp_8cjof4f6zpw"],
        },
        (78, 0, 0, 37, 22, 115),
        model="openai/gpt-oss-20b",
        extra={"provider_cost": 0.0000113},
    ),
    Case(  # Gemini upstream quirk: cached and cache-write both 2161 of 2168, kept as reported
        "openrouter/pai__test_openrouter_cache_instructions_gemini_real_api__0.json",
        "openrouter",
        "chat",
        {"response_id": "gen-1773011493-dQNZ1wvMJgB2Ga9XKPPE"},
        (2168, 2161, 2161, 100, 0, 2268),
        extra={"upstream_provider": "Google AI Studio"},
    ),
    # ---------------------------------------------------------------- Groq
    Case(  # stream without include_usage: x_groq.usage in the final chunk; latency = total_time 0.063531507 s
        "groq/ol__test_chat_streaming_legacy__0.sse",
        "groq",
        "chat",
        {
            "response_id": "chatcmpl-532a6640-2e18-4a4c-8406-8437a857ce48",
            "system_fingerprint": "fp_179b0f92c9",
            "request_id": "req_01jmefve36eajb6c1x6k8ppv5m",
        },
        (18, 0, 0, 73, 0, 91),
        model="llama3-8b-8192",
        stop_reason="stop",
        latency_ms=63.532,
    ),
    Case(  # cached 256 of 336, reasoning 59 of 96; request id from x_groq.id
        "groq/pai__test_tool_use_failed_error__2.json",
        "groq",
        "chat",
        {
            "response_id": "chatcmpl-c7c67aaa-6e09-4a05-a43c-664a9db28d52",
            "system_fingerprint": "fp_699d877a58",
            "request_id": "req_01khrvt137e9qtvva4t9mk7bzr",
        },
        (336, 256, 0, 96, 59, 432),
        model="openai/gpt-oss-120b",
        latency_ms=1140.181,
    ),
    Case(  # stream with a tool call; reasoning 23
        "groq/pai__test_tool_use_failed_error_streaming__1.sse",
        "groq",
        "chat",
        {
            "response_id": "chatcmpl-e35442a8-12c0-4fb4-8be4-0e51727ce7b7",
            "system_fingerprint": "fp_caa2017b29",
            "request_id": "req_01khrvt32ze9rb75za4xqmdz13",
            "tool_call_ids": ["fc_bfb39741-3748-4def-9886-a93fc9c64a90"],
        },
        (304, 0, 0, 49, 23, 353),
        stop_reason="tool_calls",
        latency_ms=126.766,
    ),
    # ---------------------------------------------------------------- Mistral
    Case(  # stream, cached 5 of 10 (magistral thinking parts in content)
        "mistral/dd__mistral_v1_chat_completions_post_ccfa08da__0.sse",
        "mistral",
        "chat",
        {
            "response_id": "0804a9a8a6274b54bbd1f8bba06af9d8",
            "request_id": "019f8077-1dac-791a-85e6-dc0996d33292",
        },
        (10, 5, 0, 63, 0, 73),
        model="magistral-medium-latest",
        stop_reason="stop",
    ),
    Case(  # stream with a tool call
        "mistral/dd__mistral_v1_chat_completions_post_1798d156__0.sse",
        "mistral",
        "chat",
        {
            "response_id": "378d4d9fd4914db088d7c448257ed0d2",
            "tool_call_ids": ["aX2gaLIyo"],
            "request_id": "019f807c-e39a-7224-8dfb-0e93d8d8f651",
        },
        (72, 0, 0, 14, 0, 86),
        stop_reason="tool_calls",
    ),
    Case(  # cached 224 of 268 (prompt_tokens_details.cached_tokens)
        "mistral/pai__test_mistral_history_uses_prompt_cache__1.json",
        "mistral",
        "chat",
        {"response_id": "23271c0215f547dcb5d5e2950f354f9d"},
        (268, 224, 0, 5, 0, 273),
        model="mistral-large-latest",
    ),
    Case(  # older usage shape with num_cached_tokens
        "mistral/pai__test_model_sees_multiple_images_mistral___1.json",
        "mistral",
        "chat",
        {"response_id": "995b8071b5d4498784ded61e85836478"},
        (781, 0, 0, 3, 0, 784),
    ),
    # ---------------------------------------------------------------- Bedrock Converse
    Case(  # cache write: 11 + 0 + 1028 = 1039 (FIELDS.md example); model from the URL, %3A decoded
        "bedrock_converse/dd__bedrock_converse_prompt_caching__0.json",
        "bedrock",
        "converse",
        {"request_id": "4a2a2d5f-003c-4434-bccb-325b23b43fe1"},
        (11 + 1028, 0, 1028, 264, 0, 1303),
        model="us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        stop_reason="end_turn",
        latency_ms=8844.0,
        model_arg="us.anthropic.claude-3-7-sonnet-20250219-v1%3A0",
    ),
    Case(  # event stream, cache read: 12 + 1028; metadata event has usage and latency
        "bedrock_converse/dd__bedrock_converse_stream_prompt_caching__1.eventstream.jsonl",
        "bedrock",
        "converse",
        {"request_id": "ee982f25-af6f-4714-b85d-7e0958e4e403"},
        (12 + 1028, 1028, 0, 250, 0, 1290),
        stop_reason="end_turn",
        latency_ms=9613.0,
    ),
    Case(  # event stream with a tool use
        "bedrock_converse/ol__test_anthropic_converse_stream_with_tool_use__0.eventstream.jsonl",
        "bedrock",
        "converse",
        {
            "tool_call_ids": ["tooluse_yypYDr71TwCwByoyao4-Vg"],
            "request_id": "c1136034-9602-49a2-8b55-4034878dda8a",
        },
        (236, 0, 0, 58, 0, 294),
        stop_reason="tool_use",
        latency_ms=1176.0,
    ),
    Case(  # Nova cached: 458 + 2098 read
        "bedrock_converse/pai__test_bedrock_single_tool_choice_preserves_cache_nova___3.json",
        "bedrock",
        "converse",
        {},
        (458 + 2098, 2098, 0, 4, 0, 2560),
        latency_ms=363.0,
    ),
    # ---------------------------------------------------------------- Ollama
    Case(  # /api/generate stream without prompt_eval_count (KV-cache hit): input = len(context) 75 - 58
        "ollama/ol__test_ollama_async_streaming_generation_legacy__0.ndjson",
        "ollama",
        "native",
        {},
        (75 - 58, 0, 0, 58, 0, 75),
        estimated=True,
        model="llama3",
        stop_reason="stop",
        latency_ms=1880.837,
    ),
    Case(  # /api/chat body; total_duration 10386172208 ns
        "ollama/ol__test_ollama_chat_legacy__0.json",
        "ollama",
        "native",
        {},
        (17, 0, 0, 66, 0, 83),
        model="llama3",
        stop_reason="stop",
        latency_ms=10386.172,
    ),
    Case(  # /api/generate NDJSON stream with counts in the done object
        "ollama/ol__test_ollama_streaming_metrics__0.ndjson",
        "ollama",
        "native",
        {},
        (16, 0, 0, 51, 0, 67),
        model="gemma3:1b",
        latency_ms=482.008,
    ),
    Case(  # OpenAI-compatible /v1/chat/completions with a tool call
        "ollama/pai__test_ollama_cloud_tool_output__1.json",
        "ollama",
        "chat",
        {
            "response_id": "chatcmpl-273",
            "system_fingerprint": "fp_ollama",
            "tool_call_ids": ["call_o2vnpxrw"],
        },
        (206, 0, 0, 194, 0, 400),
        model="gpt-oss:20b",
        stop_reason="tool_calls",
    ),
    # ---------------------------------------------------------------- DeepSeek
    Case(  # cached 512 (= prompt_cache_hit_tokens) of 563, reasoning 60, tool call
        "other_openai_compatible/pai__test_deepseek_deferred_capability_with_thinking__0.json",
        "deepseek",
        "chat",
        {
            "response_id": "0841b0a3-0321-47fa-a8a5-f08e5a4b3cb3",
            "system_fingerprint": "fp_8b330d02d0_prod0820_fp8_kvcache_20260402",
            "tool_call_ids": ["call_00_sXqYgMESDht75NCLLZtt9804"],
        },
        (563, 512, 0, 116, 60, 679),
        model="deepseek-v4-flash",
        stop_reason="tool_calls",
    ),
    Case(
        "other_openai_compatible/pai__test_deepseek_deferred_capability_with_thinking__2.json",
        "deepseek",
        "chat",
        {
            "response_id": "7f1f7abf-dc61-4260-9d2a-d1dd7f475127",
            "system_fingerprint": "fp_8b330d02d0_prod0820_fp8_kvcache_20260402",
        },
        (976, 896, 0, 61, 25, 1037),
        stop_reason="stop",
    ),
    Case(  # DeepSeek Responses endpoint
        "other_openai_compatible/pai__test_deepseek_responses_function_tool___0.json",
        "deepseek",
        "responses",
        {
            "response_id": "92471b7c-94ad-452f-a3f5-c29aa74a95e1",
            "output_item_ids": [
                "76f8b89e-4a41-46fb-86ae-546cc1e4ba6c",
                "8fc1af85-3010-42b2-bcb8-1a6d5003ad3b",
            ],
            "tool_call_ids": ["call_00_iD0U8IMtyIljI0ET7GLz1318"],
        },
        (366, 256, 0, 63, 18, 429),
        model="deepseek-v4-flash",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.file.split("/", 1)[1] for c in CASES])
def test_exact_identifiers_and_usage(case: Case, recorded) -> None:
    meta = parse(
        recorded.text(case.file), case.provider, case.api, recorded.headers(case.file), model=case.model_arg
    )
    assert meta.identifiers == case.identifiers
    usage = meta.usage
    got = (
        usage.input_tokens,
        usage.cache_read_tokens,
        usage.cache_write_tokens,
        usage.output_tokens,
        usage.reasoning_tokens,
        usage.total_tokens,
    )
    assert got == case.usage
    assert usage.estimated is case.estimated
    if case.model is not None:
        assert meta.model == case.model
    if case.stop_reason is not None:
        assert meta.stop_reason == case.stop_reason
    assert meta.latency_ms == case.latency_ms
    for key, expected in case.extra.items():
        if key == "_is_model_call":
            assert meta.is_model_call is expected
        elif key == "_error_code":
            assert meta.error["code"] == expected
        elif key == "_error":
            assert meta.error == expected
        else:
            assert meta.details[key] == expected


def test_every_provider_has_three_exact_cases() -> None:
    per_provider: dict[str, int] = {}
    for case in CASES:
        per_provider[case.provider] = per_provider.get(case.provider, 0) + 1
    assert set(per_provider) == {
        "openai",
        "azure",
        "anthropic",
        "google",
        "openrouter",
        "groq",
        "mistral",
        "bedrock",
        "ollama",
        "deepseek",
    }
    assert min(per_provider.values()) >= 3


def test_usage_raw_is_the_provider_object_verbatim(recorded) -> None:
    rel = "anthropic/dd__anthropic_completion_cache_read__0.json"
    meta = parse(recorded.text(rel), "anthropic")
    assert meta.usage.raw == recorded.json(rel)["usage"]
    rel = "google_gemini/pai__test_google_model_cached_content__1.json"
    assert parse(recorded.text(rel), "google").usage.raw == recorded.json(rel)["usageMetadata"]


def test_created_at_is_aware_utc(recorded) -> None:
    # chat.completion "created": 1755723498 (epoch seconds)
    meta = parse(recorded.text("openai_chat/dd__chat_completion_custom_tool_call__0.json"), "openai")
    assert meta.created_at is not None and meta.created_at.isoformat() == "2025-08-20T20:58:18+00:00"
    # Ollama "created_at": "2024-05-24T20:01:31.01558Z"
    meta = parse(recorded.text("ollama/ol__test_ollama_chat_legacy__0.json"), "ollama")
    assert meta.created_at is not None and meta.created_at.isoformat() == "2024-05-24T20:01:31.015580+00:00"


def test_anthropic_stream_merges_cumulative_usage_not_summed(recorded) -> None:
    # message_start: input 1128, output 2; message_delta (cumulative): input 2411, output 145,
    # thinking 47. The merge keeps the latest values: 2411 / 145, never 1128 + 2411.
    meta = parse(recorded.text("anthropic/pai__test_anthropic_advisor_tool_stream__0.sse"), "anthropic")
    assert (meta.usage.input_tokens, meta.usage.output_tokens, meta.usage.reasoning_tokens) == (2411, 145, 47)
    # advisor iteration recorded in the stream's final usage: 2543 in / 18 out on claude-opus-4-8
    assert meta.details["additional_usage"] == [
        {
            "model": "claude-opus-4-8",
            "type": "advisor_message",
            "input_tokens": 2543,
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
            "output_tokens": 18,
        },
    ]
