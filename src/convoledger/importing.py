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

A file that breaks part-way (a truncated or corrupt gzip stream, a read error) cannot be read
on, but the conversations read before the break are already committed: ``import_file`` then
raises ``ImportInterrupted``, whose ``report`` counts them (issue 16 item 6). Importing the same
file again, once whole, adds only what is missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from convoledger.errors import Conflict, NotFound
from convoledger.import_formats import AUTO
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

__all__ = ["AUTO", "ImportInterrupted", "ImportReport", "import_file", "import_results", "import_sample"]


@dataclass
class ImportReport:
    """What an import did: ``format`` used (and ``detected`` = how it was chosen, for
    ``auto``), conversations ``created`` (restored bundles included), ``existing`` (already
    there, skipped), ``messages`` stored, ``records`` read, ``reference`` (records that are
    reference data, e.g. SGD schemas: nothing stored), ``errors`` (skipped records with line
    numbers), ``seconds`` taken, ``position`` = the source position (line, array item or
    document) of the last record handled."""

    format: str = ""
    detected: str | None = None
    created: int = 0
    existing: int = 0
    messages: int = 0
    records: int = 0
    reference: list[str] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    seconds: float = 0.0
    position: int = 0


class ImportInterrupted(ValueError):
    """The source broke part-way (``reason``: a truncated or corrupt gzip stream, a read error)
    after ``report.created`` conversations were committed; nothing after the break was read.
    The message says where it stopped and how much was committed. A ``ValueError`` (the type
    the reader raises for a corrupt stream), so callers catching that keep working."""

    def __init__(self, path: str | Path, reason: str, report: ImportReport) -> None:
        self.path = str(path)
        self.reason = reason.removeprefix(f"{path}: ")
        self.report = report
        where = f"after record {report.position}" if report.position else "before the first record"
        super().__init__(
            f"{path}: the import stopped {where}: {self.reason}; {report.created} conversations "
            f"({report.messages} messages) were committed before the break, {report.existing} were "
            f"already present; importing the file again adds only what is missing"
        )


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
        report.position = result.line if isinstance(result, RecordError) else result.source_line
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
    on_bytes: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import ``path`` (gzip or plain; JSONL, a JSON array or one document) in ``format``
    (see ``importers.FORMATS``; ``"auto"`` detects it) or as ``mapping`` describes (then
    ``format`` is ignored). ``on_record(n)``: called after each result with the results handled
    so far; ``on_bytes(n)``: bytes of the file read so far (see ``open_records``), for progress
    against the file size.

    Errors: ``ValueError`` for an unknown format or when detection fails (no format fits, or
    several tie: the message names them) — nothing is written then; ``OSError`` when the file
    cannot be opened; ``ImportInterrupted`` (a ``ValueError``) when the file breaks after
    reading began — its ``report`` counts what was committed before the break.
    """
    started = time.perf_counter()
    report = ImportReport()
    records: Iterable[tuple[int, object]] = open_records(Path(path), on_bytes)
    if mapping is not None:
        report.format = f"map:{mapping.name}"
        results = parse_mapped(records, mapping, owner_id=ledger.owner)
    else:
        if format == AUTO:
            detection, records = detect_stream(records)
            format, report.detected = detection.format, detection.reason
        report.format = format
        results = parse(format, records, owner_id=ledger.owner)
    try:
        await import_results(ledger, results, report, on_record)
    except (ValueError, OSError) as exc:
        # Raised by the reader under the parser: per-record problems are RecordErrors and the
        # ledger's refusals are caught per conversation, so this is the file itself breaking.
        report.seconds = time.perf_counter() - started
        raise ImportInterrupted(path, str(exc), report) from exc
    report.seconds = time.perf_counter() - started
    return report


def sample_record_count() -> int:
    """How many source records the bundled sample holds (its manifest's ``records``, summed);
    one record may give several conversations (an OASST tree gives one per branch)."""
    from convoledger.sample_data import manifest

    return sum(int(entry["records"]) for entry in manifest())


async def import_sample(ledger: Ledger, on_record: Callable[[int], None] | None = None) -> ImportReport:
    """Import the real sample bundled inside the package (all formats).

    ``on_record(n)`` is called after each stored conversation with ``n`` = source records
    reached so far, counting up to ``sample_record_count()`` (a progress total known up front).
    """
    from convoledger.sample_data import iter_sample

    started = time.perf_counter()
    report = ImportReport(format="sample")
    seen: set[tuple[str, int]] = set()

    def samples() -> Iterator[ImportResult]:
        for fmt, conv in iter_sample(owner_id=ledger.owner):
            seen.add((fmt, conv.source_line))
            yield conv

    progress = None if on_record is None else (lambda _n: on_record(len(seen)))
    await import_results(ledger, samples(), report, progress)
    report.seconds = time.perf_counter() - started
    return report
