"""Importing real conversation files into a ledger (the use case behind ``convoledger import``).

Streaming: records are read one at a time (``importers.open_records``) and each parsed
conversation is written in its own transaction (``Ledger.import_conversation``), so memory stays
constant on any file size and a conversation is never half-imported. Idempotent: conversation ids
are derived from the source ids, so a second import of the same file adds nothing; a bundle
already restored counts as present. A bad record is reported with its line number and skipped;
a conversation the ledger refuses (e.g. a branch whose parent record was bad) is reported the
same way and the import goes on.

Format: a name of ``importers.FORMATS``, ``"auto"`` (the default: ``importers.detect``, which
refuses a tie), or a TOML mapping (``importers.mapping``) given as ``mapping=``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from convoledger.errors import Conflict, NotFound
from convoledger.importers import (
    ImportedConversation,
    RecordError,
    ReferenceData,
    RestoredBundle,
    detect_stream,
    open_records,
    parse,
)
from convoledger.importers.common import ImportResult
from convoledger.importers.mapping import Mapping, parse_mapped
from convoledger.ledger import Ledger

#: The ``format`` value that asks for detection.
AUTO = "auto"


@dataclass
class ImportReport:
    """What an import did: ``format`` used (and ``detected`` = how it was chosen, for
    ``auto``), conversations ``created`` (restored bundles included), ``existing`` (already
    there, skipped), ``messages`` stored, ``records`` read, ``reference`` (records that are
    reference data, e.g. SGD schemas: nothing stored), ``errors`` (skipped records with line
    numbers), ``seconds`` taken."""

    format: str = ""
    detected: str | None = None
    created: int = 0
    existing: int = 0
    messages: int = 0
    records: int = 0
    reference: list[str] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    seconds: float = 0.0


async def import_results(
    ledger: Ledger,
    results: Iterable[ImportResult],
    report: ImportReport,
    on_record: Callable[[int], None] | None = None,
) -> ImportReport:
    """Store parsed results into ``ledger``, adding to ``report``; returns ``report``.

    ``report.records`` counts results (one source record may give several conversations)."""
    for result in results:
        report.records += 1
        if isinstance(result, RecordError):
            report.errors.append(result)
        elif isinstance(result, ReferenceData):
            report.reference.append(result.what)
        elif isinstance(result, RestoredBundle):
            await _restore(ledger, result, report)
        else:
            await _store(ledger, result, report)
        if on_record is not None:
            on_record(report.records)
    return report


async def _store(ledger: Ledger, result: ImportedConversation, report: ImportReport) -> None:
    try:
        outcome = await ledger.import_conversation(result.conversation, result.messages)
    except (ValueError, NotFound) as exc:
        report.errors.append(
            RecordError(result.source_line, f"conversation {result.conversation.session_id}: {exc}")
        )
        return
    if outcome.created:
        report.created += 1
        report.messages += outcome.messages
    else:
        report.existing += 1


async def _restore(ledger: Ledger, result: RestoredBundle, report: ImportReport) -> None:
    bundle = result.bundle
    try:
        restored = await ledger.restore_bundle(bundle)
    except Conflict:
        report.existing += 1
        return
    except (ValueError, NotFound) as exc:
        report.errors.append(RecordError(result.source_line, str(exc)))
        return
    report.created += 1
    point = restored.forked_at_seq or 0
    report.messages += sum(
        1 for m in bundle.get("messages", []) if isinstance(m, dict) and int(m.get("seq", 0)) > point
    )


async def import_file(
    ledger: Ledger,
    path: str | Path,
    format: str = AUTO,
    on_record: Callable[[int], None] | None = None,
    *,
    mapping: Mapping | None = None,
) -> ImportReport:
    """Import ``path`` (gzip or plain; JSONL, a JSON array or one document) in ``format``
    (see ``importers.FORMATS``; ``"auto"`` detects it) or as ``mapping`` describes (then
    ``format`` is ignored). ``ValueError`` for an unknown format or when detection fails (no
    format fits, or several tie: the message names them); ``OSError`` when the file cannot be
    read."""
    started = time.perf_counter()
    report = ImportReport()
    records: Iterable[tuple[int, object]] = open_records(Path(path))
    if mapping is not None:
        report.format = f"map:{mapping.name}"
        results = parse_mapped(records, mapping, owner_id=ledger.owner)
    else:
        if format == AUTO:
            detection, records = detect_stream(records)
            format, report.detected = detection.format, detection.reason
        report.format = format
        results = parse(format, records, owner_id=ledger.owner)
    await import_results(ledger, results, report, on_record)
    report.seconds = time.perf_counter() - started
    return report


async def import_sample(ledger: Ledger, on_record: Callable[[int], None] | None = None) -> ImportReport:
    """Import the real sample bundled inside the package (all formats)."""
    from convoledger.sample_data import iter_sample

    started = time.perf_counter()
    report = ImportReport(format="sample")
    samples = (conv for _fmt, conv in iter_sample(owner_id=ledger.owner))
    await import_results(ledger, samples, report, on_record)
    report.seconds = time.perf_counter() - started
    return report
