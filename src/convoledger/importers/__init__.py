"""Importers of real conversation data into ledger records.

``open_records(path)`` streams ``(line, record)`` pairs from a gzip or plain JSONL / JSON-array
file; ``parse(format, records, owner_id=…)`` turns them into results: ``ImportedConversation``
(a conversation with all its messages; a branch carries ``parent_id``/``forked_at_seq`` and only
its own messages), ``RestoredBundle`` (a convoledger export bundle), ``ReferenceData`` (a record
that describes data but holds no conversation) or ``RecordError`` (a skipped record, with its
line and reason). Ids are deterministic (see ``importers.common``), so a second import of the
same file finds every conversation already stored by its ``session_id``.

Formats (one module each; ``detect`` picks one from the records, ``mapping`` reads any other
JSON shape from a TOML description): ``openai`` (chat-completions messages incl. legacy
``function_call``, tau-bench trajectories), ``sharegpt``, ``sgd`` (Schema-Guided Dialogue),
``chitchat`` (BYU CCC), ``oasst`` / ``oasst-flat`` (Open Assistant trees, as branches),
``chatdev`` (ChatDev multi-agent logs), ``dialogstudio``, ``bfcl``, ``tooltalk``, ``swe-agent``,
``tau-bench-few-shot``, ``toolbench``, ``hh-rlhf`` (Anthropic ``Human:``/``Assistant:``
transcripts and preference pairs), ``topical-chat``, ``bundle`` (convoledger's own export),
and the reference files ``sgd-schema`` and ``bfcl-functions``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from convoledger.importers.bfcl import parse_bfcl
from convoledger.importers.bundle import parse_bundle
from convoledger.importers.chatdev import parse_chatdev
from convoledger.importers.chitchat import parse_chitchat
from convoledger.importers.common import (
    DEFAULT_OWNER,
    ImportedConversation,
    ImportResult,
    RecordError,
    ReferenceData,
    RestoredBundle,
    conversation_uuid,
    message_uuid,
)
from convoledger.importers.detect import Detection, FormatDetectionError, detect, detect_format, detect_stream
from convoledger.importers.dialogstudio import parse_dialogstudio
from convoledger.importers.hh_rlhf import parse_hh_rlhf
from convoledger.importers.oasst import parse_oasst, parse_oasst_flat
from convoledger.importers.openai import parse_openai
from convoledger.importers.reader import UnreadableRecord, open_records
from convoledger.importers.reference import parse_bfcl_functions, parse_sgd_schema
from convoledger.importers.sgd import parse_sgd
from convoledger.importers.sharegpt import parse_sharegpt
from convoledger.importers.swe_agent import parse_swe_agent
from convoledger.importers.tau_fewshot import parse_tau_fewshot
from convoledger.importers.toolbench import parse_toolbench
from convoledger.importers.tooltalk import parse_tooltalk
from convoledger.importers.topical_chat import parse_topical_chat

Parser = Callable[..., Iterator[ImportResult]]

#: Format name → importer function (``parse_<format>(records, *, owner_id, imported_at)``).
PARSERS: dict[str, Parser] = {
    "openai": parse_openai,
    "sharegpt": parse_sharegpt,
    "sgd": parse_sgd,
    "chitchat": parse_chitchat,
    "oasst": parse_oasst,
    "chatdev": parse_chatdev,
    "oasst-flat": parse_oasst_flat,
    "dialogstudio": parse_dialogstudio,
    "bfcl": parse_bfcl,
    "tooltalk": parse_tooltalk,
    "swe-agent": parse_swe_agent,
    "tau-bench-few-shot": parse_tau_fewshot,
    "toolbench": parse_toolbench,
    "hh-rlhf": parse_hh_rlhf,
    "topical-chat": parse_topical_chat,
    "bundle": parse_bundle,
    "sgd-schema": parse_sgd_schema,
    "bfcl-functions": parse_bfcl_functions,
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


__all__ = [
    "DEFAULT_OWNER",
    "FORMATS",
    "PARSERS",
    "Detection",
    "FormatDetectionError",
    "ReferenceData",
    "RestoredBundle",
    "detect",
    "detect_stream",
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
