"""Which importer fits a file (``convoledger import --format auto``, the default).

Every format has a *sniffer*: ``sniff(record) -> 0..3`` — 3 when the record carries the
format's signature (keys no other format has together, e.g. ``dialogue_id`` + ``turns`` for SGD),
2 when it has the format's structure, 1 for a weak guess, 0 when it does not fit. ``detect``
looks at the first records of a file (``SAMPLE`` = 20, unreadable lines skipped): a format fits
when it scores above 0 on every one of them, and its score is its lowest. The best score wins;
**two or more formats tied at the best score are refused** (``FormatDetectionError`` naming
them: pass ``--format``), as is a file no format fits (pass ``--format`` or ``--map``).
``detect_stream`` does the same on a stream of records and gives back a stream that still
yields every record, the sampled ones included.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from convoledger.importers.bundle import find_bundle
from convoledger.importers.hh_rlhf import MARKER
from convoledger.importers.reader import UnreadableRecord
from convoledger.importers.reference import is_bfcl_functions, is_sgd_schema
from convoledger.importers.topical_chat import is_keyed_file

#: How many records ``detect_stream`` looks at.
SAMPLE = 20

Sniffer = Callable[[Any], int]


class FormatDetectionError(ValueError):
    """No known format fits the records, or several fit equally well."""


@dataclass(frozen=True)
class Detection:
    """The detected ``format``, its ``score`` (1-3), how many records were ``sampled`` and a
    one-line ``reason`` for the user."""

    format: str
    score: int
    sampled: int
    reason: str


def _dicts(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _get(record: Any, key: str) -> Any:
    return record.get(key) if isinstance(record, dict) else None


def _openai(r: Any) -> int:
    if isinstance(_get(r, "traj"), list):
        return 3
    messages = _get(r, "messages")
    return 2 if _dicts(messages) and all("role" in m for m in messages) else 0


def _chitchat(r: Any) -> int:
    messages = _get(r, "messages")
    if isinstance(messages, list) and messages and all(isinstance(m, list) for m in messages):
        return 3
    return 0


def _sharegpt(r: Any) -> int:
    turns = _get(r, "conversations")
    if _dicts(turns) and all("from" in t and "value" in t for t in turns):
        return 3
    return 2 if isinstance(turns, list) else 0


def _oasst(r: Any) -> int:
    if not isinstance(r, dict):
        return 0
    prompt = r.get("prompt")
    if "message_tree_id" in r or (isinstance(prompt, dict) and "replies" in prompt):
        return 3
    return 3 if "message_id" in r and "replies" in r else 0


def _oasst_flat(r: Any) -> int:
    if isinstance(r, dict) and "user_message_id" in r and "parent_message_id" in r and "text" in r:
        return 3
    return 0


def _sgd(r: Any) -> int:
    return 3 if isinstance(r, dict) and "dialogue_id" in r and isinstance(r.get("turns"), list) else 0


def _chatdev(r: Any) -> int:
    if not isinstance(_get(r, "log"), str):
        return 0
    return 3 if "project" in r or "_source_path" in r else 2


def _hh_rlhf(r: Any) -> int:
    if not isinstance(r, dict):
        return 0
    chosen, rejected = r.get("chosen"), r.get("rejected")
    if isinstance(chosen, str) and isinstance(rejected, str):
        prompt = r.get("prompt")
        marked = MARKER.search(chosen) or (isinstance(prompt, str) and MARKER.search(prompt))
        return 3 if marked else 1
    for key in ("transcript", "text"):
        if isinstance(r.get(key), str) and MARKER.search(r[key]) and len(r) <= 3:
            return 2
    return 0


def _topical_chat(r: Any) -> int:
    content = _get(r, "content")
    if _dicts(content) and all("agent" in t and "message" in t for t in content):
        return 3
    return 3 if is_keyed_file(r) else 0


def _dialogstudio(r: Any) -> int:
    log = _get(r, "log")
    return 3 if _dicts(log) and all("user utterance" in t or "system response" in t for t in log) else 0


def _bfcl(r: Any) -> int:
    question = _get(r, "question")
    if not (isinstance(question, list) and question and all(isinstance(t, list) for t in question)):
        return 0
    return 3 if "ground_truth" in r or "initial_config" in r or "involved_classes" in r else 2


def _tooltalk(r: Any) -> int:
    turns = _get(r, "conversation")
    if not (_dicts(turns) and all("role" in t and "text" in t for t in turns)):
        return 0
    return 3 if "apis_used" in r or "suites_used" in r else 2


def _swe_agent(r: Any) -> int:
    history = _get(r, "history")
    if not (_dicts(history) and all("role" in h for h in history)):
        return 0
    return 3 if any(k in r for k in ("trajectory", "info", "environment", "replay_config")) else 2


def _tau_fewshot(r: Any) -> int:
    return 3 if isinstance(_get(r, "messages_display"), str) else 0


def _toolbench(r: Any) -> int:
    answer = _get(r, "answer_generation")
    return 3 if isinstance(answer, dict) and isinstance(answer.get("train_messages"), list) else 0


def _bundle(r: Any) -> int:
    return 3 if find_bundle(r) is not None else 0


def _sgd_schema(r: Any) -> int:
    return 3 if is_sgd_schema(r) else 0


def _bfcl_functions(r: Any) -> int:
    return 2 if is_bfcl_functions(r) else 0


#: Format name → sniffer. Every name is a key of ``importers.PARSERS``.
SNIFFERS: dict[str, Sniffer] = {
    "bundle": _bundle,
    "openai": _openai,
    "sharegpt": _sharegpt,
    "sgd": _sgd,
    "chitchat": _chitchat,
    "oasst": _oasst,
    "oasst-flat": _oasst_flat,
    "chatdev": _chatdev,
    "hh-rlhf": _hh_rlhf,
    "topical-chat": _topical_chat,
    "dialogstudio": _dialogstudio,
    "bfcl": _bfcl,
    "tooltalk": _tooltalk,
    "swe-agent": _swe_agent,
    "tau-bench-few-shot": _tau_fewshot,
    "toolbench": _toolbench,
    "sgd-schema": _sgd_schema,
    "bfcl-functions": _bfcl_functions,
}

_STRENGTH = {3: "its signature", 2: "its structure", 1: "a weak match"}


def detect(records: list[Any]) -> Detection:
    """The format of ``records`` (decoded JSON values; module docstring for the rule).
    ``FormatDetectionError`` when none fits or several tie."""
    sample = [r for r in records if not isinstance(r, UnreadableRecord)]
    if not sample:
        raise FormatDetectionError("the file has no readable record to detect its format from")
    scores = {}
    for name, sniff in SNIFFERS.items():
        lowest = min(sniff(r) for r in sample)
        if lowest > 0:
            scores[name] = lowest
    if not scores:
        raise FormatDetectionError(
            f"no known format fits the first {len(sample)} record(s); pass --format "
            f"({', '.join(SNIFFERS)}) or describe the records with --map FILE.toml"
        )
    best = max(scores.values())
    top = sorted(n for n, s in scores.items() if s == best)
    if len(top) > 1:
        raise FormatDetectionError(
            f"the records fit {' and '.join(repr(n) for n in top)} equally well; choose one with --format"
        )
    name = top[0]
    reason = f"{name!r}: {_STRENGTH[best]} in {len(sample)} of {len(sample)} sampled record(s)"
    return Detection(name, best, len(sample), reason)


def detect_format(record: Any) -> str | None:
    """The format of one record, or ``None`` when none fits or several tie."""
    try:
        return detect([record]).format
    except FormatDetectionError:
        return None


def detect_stream(records: Iterable[tuple[int, Any]]) -> tuple[Detection, Iterator[tuple[int, Any]]]:
    """Detect the format from the first ``SAMPLE`` records of ``records`` (``(line, record)``
    pairs); return it with an iterator over *all* the records. ``FormatDetectionError`` as
    ``detect``."""
    stream = iter(records)
    head = list(itertools.islice(stream, SAMPLE))
    detection = detect([r for _, r in head])
    return detection, itertools.chain(head, stream)
