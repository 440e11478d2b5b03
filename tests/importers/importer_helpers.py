"""Helpers shared by the importer tests: where the real data lies, and record lookups."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from convoledger.importers import ImportedConversation, RecordError, open_records

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CONVERSATIONS = SHARED / "data" / "conversations"


def records_at(path: Path, lines: set[int]) -> list[tuple[int, Any]]:
    """The ``(line, record)`` pairs of ``path`` at the given 1-based lines (stops after the last)."""
    out = []
    last = max(lines)
    for line, record in open_records(path):
        if line in lines:
            out.append((line, record))
        if line >= last:
            break
    return out


def split(results: Iterable[Any]) -> tuple[list[ImportedConversation], list[RecordError]]:
    """Separate importer results into conversations and errors (anything else fails the test)."""
    good, bad = [], []
    for result in results:
        if isinstance(result, ImportedConversation):
            good.append(result)
        elif isinstance(result, RecordError):
            bad.append(result)
        else:
            raise AssertionError(f"unexpected importer result {result!r}")
    return good, bad
