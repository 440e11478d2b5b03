"""Scale benchmark of ``convoledger import`` (issue 15 item 6): the same 500 real conversations
(the first 500 records of ``../shared/data/conversations/task_oriented/sgd_train_sample.jsonl.gz``,
Schema-Guided Dialogue) imported through ``importing.import_file`` — what ``convoledger import``
runs — into an SQLite account holding no conversations, then into one holding ``--existing``
(default 20,000) conversations. Prints both rates (conversations/s, messages/s) and their ratio;
the target is a ratio ≥ 0.8 (import cost independent of the account's size: every duplicate
check is an indexed lookup, ``tests/store_sql/test_sql_lookup_plans.py``).

Not a test (speed figures live in bench/). Run from the repository::

    python bench/import_scale.py [--existing 20000] [--records 500] [--rounds 3] [--json]

Rounds alternate empty / full accounts on fresh databases; the figures are medians. The account
is filled with ``SqlStore.import_conversations`` (bulk; one two-message conversation each), so
the filling is not what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import statistics
import tempfile
import time
from pathlib import Path

from convoledger.backends import open_ledger
from convoledger.importing import import_file
from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.store.base import MessageQuery
from convoledger.tokens import get_encoding

SOURCE = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "conversations"
    / "task_oriented"
    / "sgd_train_sample.jsonl.gz"
)
OWNER = "bench"


def _sample(records: int, into: Path) -> Path:
    """The first ``records`` lines of the SGD sample, as a file of their own."""
    out = into / "sample.jsonl"
    with gzip.open(SOURCE, "rt", encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if i == records:
                break
            dst.write(line)
    return out


async def _fill(url: str, existing: int) -> None:
    """``existing`` conversations (two messages each) in ``OWNER``'s account, in bulk."""
    async with open_ledger(url, owner=OWNER) as ledger:
        store = ledger.store
        items = (
            (
                ConversationRecord(owner_id=OWNER, session_id=f"filler-{i}", name=f"filler {i}"),
                [
                    MessageRecord(role="user", content=f"hello {i}", seq=1, token_count=4),
                    MessageRecord(role="assistant", content=f"hi {i}", seq=2, token_count=4),
                ],
            )
            for i in range(existing)
        )
        await store.import_conversations(OWNER, items)  # type: ignore[attr-defined]
        # Settle the filling's deferred work before measuring: one search indexes every message
        # still pending for full-text search (``store/sql/search.py``), which would otherwise
        # be charged to the first measured import.
        await ledger.messages("filler-0", MessageQuery(search="hello"))


async def _import(url: str, sample: Path) -> dict[str, float]:
    async with open_ledger(url, owner=OWNER) as ledger:
        start = time.perf_counter()
        report = await import_file(ledger, sample)
        seconds = time.perf_counter() - start
    if report.errors or not report.created:
        raise RuntimeError(f"the import went wrong: {report.created} created, errors {report.errors[:3]}")
    return {
        "conversations": report.created,
        "messages": report.messages,
        "seconds": seconds,
        "conversations_per_s": report.created / seconds,
        "messages_per_s": report.messages / seconds,
    }


async def run(existing: int, records: int, rounds: int) -> dict[str, object]:
    """Measure ``rounds`` × (empty, full); medians and the ratio full ÷ empty of the rates."""
    get_encoding()  # loaded once up front, so that no measured import pays for it
    empty: list[dict[str, float]] = []
    full: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="import_scale_") as tmp:
        root = Path(tmp)
        sample = _sample(records, root)
        for r in range(rounds):
            for label, results, prefill in (("empty", empty, 0), ("full", full, existing)):
                url = f"sqlite:///{root / f'{label}-{r}.db'}"
                if prefill:
                    await _fill(url, prefill)
                results.append(await _import(url, sample))
    med_empty = statistics.median(x["conversations_per_s"] for x in empty)
    med_full = statistics.median(x["conversations_per_s"] for x in full)
    return {
        "records": records,
        "existing": existing,
        "rounds": rounds,
        "empty": {"conversations_per_s": med_empty, "runs": empty},
        "full": {"conversations_per_s": med_full, "runs": full},
        "ratio": med_full / med_empty,
        "target": 0.8,
    }


def main() -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--existing", type=int, default=20_000, help="conversations already in the account")
    parser.add_argument("--records", type=int, default=500, help="source records imported")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    result = asyncio.run(run(args.existing, args.records, args.rounds))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    empty, full = result["empty"], result["full"]
    assert isinstance(empty, dict) and isinstance(full, dict)
    print(f"import of {args.records} SGD records (medians of {args.rounds} rounds, SQLite):")
    into_full = f"into an account of {args.existing:,} conversations:"
    print(f"  {'into an empty account:':<45} {empty['conversations_per_s']:8.1f} conversations/s")
    print(f"  {into_full:<45} {full['conversations_per_s']:8.1f} conversations/s")
    verdict = "met" if result["ratio"] >= 0.8 else "NOT met"  # type: ignore[operator]
    print(f"  ratio full / empty: {result['ratio']:.2f}x (target >= 0.8x: {verdict})")


if __name__ == "__main__":
    main()
