"""Importers of real conversation data into ledger records.

``open_records(path)`` streams ``(line, record)`` pairs from a gzip or plain JSONL / JSON-array
file; ``parse(format, records, owner_id=…)`` turns them into ``ImportedConversation`` results
(a conversation with all its messages) or ``RecordError`` results (a skipped record, with its
line and reason). Ids are deterministic (see ``importers.common``), so a second import of the
same file finds every conversation already stored by its ``session_id``.

Formats (one module each): ``openai`` (chat-completions messages, tau-bench trajectories),
``sharegpt``, ``sgd`` (Schema-Guided Dialogue), ``chitchat`` (BYU CCC), ``oasst`` (Open
Assistant trees), ``chatdev`` (ChatDev multi-agent logs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from convoledger.importers.chatdev import parse_chatdev
from convoledger.importers.chitchat import parse_chitchat
from convoledger.importers.common import (
    DEFAULT_OWNER,
    ImportedConversation,
    ImportResult,
    RecordError,
    conversation_uuid,
    message_uuid,
)
from convoledger.importers.oasst import parse_oasst
from convoledger.importers.openai import parse_openai
from convoledger.importers.reader import UnreadableRecord, open_records
from convoledger.importers.sgd import parse_sgd
from convoledger.importers.sharegpt import parse_sharegpt

Parser = Callable[..., Iterator[ImportResult]]

#: Format name → importer function (``parse_<format>(records, *, owner_id, imported_at)``).
PARSERS: dict[str, Parser] = {
    "openai": parse_openai,
    "sharegpt": parse_sharegpt,
    "sgd": parse_sgd,
    "chitchat": parse_chitchat,
    "oasst": parse_oasst,
    "chatdev": parse_chatdev,
}
FORMATS: tuple[str, ...] = tuple(PARSERS)


def parse(
    format: str,
    records: Iterable[tuple[int, Any]],
    *,
    owner_id: str = DEFAULT_OWNER,
    imported_at: datetime | None = None,
) -> Iterator[ImportResult]:
    """Run the importer of ``format`` over ``(line, record)`` pairs (lazily, record by record).

    ``owner_id`` is the account the conversations belong to (part of every derived id);
    ``imported_at`` is the time given to messages whose source has none (default: now, UTC).
    ``ValueError`` naming the known formats when ``format`` is unknown.
    """
    try:
        parser = PARSERS[format]
    except KeyError:
        raise ValueError(f"unknown import format {format!r}; expected one of: {', '.join(FORMATS)}") from None
    return parser(records, owner_id=owner_id, imported_at=imported_at)


def detect_format(record: Any) -> str | None:
    """Guess the format of one record from its keys; ``None`` when it fits none.

    Rules (checked in order): ``log`` → chatdev; ``turns`` + ``dialogue_id`` → sgd;
    ``conversations`` (a list) → sharegpt; ``message_tree_id`` or a ``prompt`` object with
    ``replies``, or a bare node with ``message_id`` + ``replies`` → oasst; ``messages`` as a
    list of lists → chitchat; ``messages`` (list of objects) or ``traj`` → openai.
    """
    if not isinstance(record, dict):
        return None
    if isinstance(record.get("log"), str):
        return "chatdev"
    if "dialogue_id" in record and isinstance(record.get("turns"), list):
        return "sgd"
    if isinstance(record.get("conversations"), list):
        return "sharegpt"
    prompt = record.get("prompt")
    if "message_tree_id" in record or (isinstance(prompt, dict) and "replies" in prompt):
        return "oasst"
    if "message_id" in record and "replies" in record:
        return "oasst"
    messages = record.get("messages")
    if isinstance(messages, list) and messages:
        if all(isinstance(m, list) for m in messages):
            return "chitchat"
        if all(isinstance(m, dict) for m in messages):
            return "openai"
    if isinstance(record.get("traj"), list):
        return "openai"
    return None


__all__ = [
    "DEFAULT_OWNER",
    "FORMATS",
    "PARSERS",
    "ImportResult",
    "ImportedConversation",
    "RecordError",
    "UnreadableRecord",
    "conversation_uuid",
    "detect_format",
    "message_uuid",
    "open_records",
    "parse",
    "parse_chatdev",
    "parse_chitchat",
    "parse_oasst",
    "parse_openai",
    "parse_sgd",
    "parse_sharegpt",
]
