"""Import every file of ``../shared/data/conversations`` into a fresh SQLite ledger; print, per
file, the detected format, conversations, branches, messages, rejected records and time.

Not a test (the house rule: figures live in bench/). Run from the repository:
``python bench/import_all.py`` [``--data DIR``] [``--keep DIR``]. Each file goes into its own new
SQLite database (``--keep`` keeps them there; default: a temporary directory), through
``importing.import_file`` with ``--format auto``, exactly as ``convoledger import`` does.
Columns: ``conversations`` = stored conversations (a branch counts as one: OASST trees, ToolBench
paths, hh-rlhf pairs), ``branches`` = how many of them are branches, ``messages`` = messages
stored (a branch stores only its own), ``rejected`` = records skipped with a reason (listed under
the table), ``reference`` = records that are reference data (nothing to store), ``seconds`` =
wall time of the import (this machine is shared: compare, do not quote as a speed figure).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from convoledger.backends import open_ledger
from convoledger.importing import ImportReport, import_file
from convoledger.store.base import ConversationQuery

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "conversations"


async def _one(path: Path, db: Path) -> tuple[ImportReport, int]:
    async with open_ledger(f"sqlite:///{db}", owner="bench") as ledger:
        report = await import_file(ledger, path)
        branches, offset = 0, 0
        while True:
            page = await ledger.list_conversations(ConversationQuery(limit=1000, offset=offset))
            branches += sum(1 for c in page.items if c.parent_id is not None)
            offset += len(page.items)
            if not page.items:
                return report, branches


async def main(data: Path, keep: Path | None) -> None:
    files = sorted(p for p in data.rglob("*") if p.is_file() and p.name.endswith((".json.gz", ".jsonl.gz")))
    with tempfile.TemporaryDirectory() as tmp:
        out = keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        header = (
            "file",
            "format",
            "conversations",
            "branches",
            "messages",
            "rejected",
            "reference",
            "seconds",
        )
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" for _ in header) + "|")
        rejected: list[str] = []
        totals = [0, 0, 0, 0, 0, 0.0]
        for path in files:
            report, branches = await _one(path, out / f"{path.name.split('.')[0]}.db")
            row = [report.created, branches, report.messages, len(report.errors), len(report.reference)]
            for i, v in enumerate(row):
                totals[i] += v
            totals[5] += report.seconds
            print(
                f"| {path.relative_to(data)} | {report.format} | "
                + " | ".join(map(str, row))
                + f" | {report.seconds:.1f} |"
            )
            rejected += [f"{path.name} line {e.line}: {e.reason}" for e in report.errors]
        print(
            f"| **total** ({len(files)} files) | | "
            + " | ".join(str(int(t)) for t in totals[:5])
            + f" | {totals[5]:.1f} |"
        )
        if rejected:
            print("\nrejected records:")
            for line in rejected:
                print(f"- {line}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the conversations folder")
    parser.add_argument("--keep", type=Path, default=None, help="keep the SQLite databases in this directory")
    args = parser.parse_args()
    asyncio.run(main(args.data, args.keep))
