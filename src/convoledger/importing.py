"""Importing real conversation files into a ledger (the use case behind ``convoledger import``).

Streaming: records are read one at a time (``importers.open_records``) and each parsed
conversation is written in its own transaction (``Ledger.import_conversation``), so memory stays
constant on any file size and a conversation is never half-imported. Idempotent: conversation ids
are derived from the source ids, so a second import of the same file adds nothing. A bad record
is reported with its line number and skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from convoledger.importers import ImportedConversation, RecordError, open_records, parse
from convoledger.ledger import Ledger


@dataclass
class ImportReport:
    """What an import did: conversations ``created``, ``existing`` (already there, skipped),
    ``messages`` stored, ``errors`` (skipped records with line numbers), ``seconds`` taken."""

    created: int = 0
    existing: int = 0
    messages: int = 0
    records: int = 0
    errors: list[RecordError] = field(default_factory=list)
    seconds: float = 0.0


async def import_results(
    ledger: Ledger,
    results: Iterable[ImportedConversation | RecordError],
    report: ImportReport,
    on_record: Callable[[int], None] | None = None,
) -> ImportReport:
    """Store parsed results into ``ledger``, adding to ``report``; returns ``report``."""
    for result in results:
        report.records += 1
        if isinstance(result, RecordError):
            report.errors.append(result)
        else:
            outcome = await ledger.import_conversation(result.conversation, result.messages)
            if outcome.created:
                report.created += 1
                report.messages += outcome.messages
            else:
                report.existing += 1
        if on_record is not None:
            on_record(report.records)
    return report


async def import_file(
    ledger: Ledger, path: str | Path, format: str, on_record: Callable[[int], None] | None = None
) -> ImportReport:
    """Import ``path`` (gzip or plain; JSONL, a JSON array or one document) in ``format``
    (see ``importers.FORMATS``). ``ValueError`` for an unknown format; ``OSError`` when the file
    cannot be read."""
    started = time.perf_counter()
    report = ImportReport()
    await import_results(
        ledger, parse(format, open_records(Path(path)), owner_id=ledger.owner), report, on_record
    )
    report.seconds = time.perf_counter() - started
    return report


async def import_sample(ledger: Ledger, on_record: Callable[[int], None] | None = None) -> ImportReport:
    """Import the real sample bundled inside the package (all formats)."""
    from convoledger.sample_data import iter_sample

    started = time.perf_counter()
    report = ImportReport()
    samples = (conv for _fmt, conv in iter_sample(owner_id=ledger.owner))
    await import_results(ledger, samples, report, on_record)
    report.seconds = time.perf_counter() - started
    return report
