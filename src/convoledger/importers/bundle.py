"""Reader of convoledger's own export bundles (format ``bundle``).

A bundle is what ``Ledger.export_bundle`` (``convoledger export``, ``GET …/export?format=json``)
writes: ``{"format": "convoledger.bundle", "bundle_version", "schema_version", "conversation",
"messages", "lifecycle_events", "memory", "provider_calls"}``. Accepted records: a bundle as it
is, or a document that carries one under any top-level key (an export document that wraps the
bundle beside another shape, e.g. the agent-session seed's ``session``/``messages`` document
with the bundle under a versioned key); one bundle per JSONL line, a JSON array of them, or one
document. Each is restored exactly as it was by ``Ledger.restore_bundle`` (same ids, seqs,
statuses, times, events, memory and provider calls), so export → import → export gives the same
bundle. A branch's bundle restores as a branch of its parent, which must be restored first
(export order: parents before branches). A record holding no bundle is a ``RecordError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from convoledger.importers.common import DEFAULT_OWNER, ImportResult, RecordError, RestoredBundle
from convoledger.importers.reader import UnreadableRecord
from convoledger.ledger import BUNDLE_FORMAT

FORMAT = "bundle"


def find_bundle(record: Any) -> dict[str, Any] | None:
    """The bundle in ``record``: the record itself when its ``format`` is
    ``"convoledger.bundle"``, else the first top-level value that is one; ``None`` otherwise."""
    if not isinstance(record, dict):
        return None
    if record.get("format") == BUNDLE_FORMAT:
        return record
    for value in record.values():
        if isinstance(value, dict) and value.get("format") == BUNDLE_FORMAT:
            return value
    return None


def parse_bundle(
    records: Iterable[tuple[int, Any]],
    *,
    owner_id: str = DEFAULT_OWNER,
    imported_at: datetime | None = None,
) -> Iterator[ImportResult]:
    """Yield a ``RestoredBundle`` per record holding a bundle, a ``RecordError`` otherwise.
    ``owner_id`` and ``imported_at`` are accepted for a uniform signature: a bundle keeps its own
    times, and its owner is the ledger's that restores it."""
    for line, record in records:
        if isinstance(record, UnreadableRecord):
            yield RecordError(line, record.reason)
            continue
        bundle = find_bundle(record)
        if bundle is None:
            yield RecordError(line, f"not a convoledger bundle (no object with format {BUNDLE_FORMAT!r})")
        else:
            yield RestoredBundle(bundle, line)
