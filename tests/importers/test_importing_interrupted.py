"""``importing.import_file`` on a file that breaks part-way (issue 16 item 6): the conversations
read before the break are committed, and ``ImportInterrupted`` (a ``ValueError``) carries a
report counting them; a re-import of the whole file adds exactly the rest."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from importer_helpers import CONVERSATIONS

from convoledger.backends import open_ledger
from convoledger.importing import ImportInterrupted, import_file

CHITCHAT = CONVERSATIONS / "open_domain" / "chitchat_byu_ccc.jsonl.gz"


def _first_lines(n: int) -> bytes:
    with gzip.open(CHITCHAT, "rb") as fh:
        return b"".join(next(fh) for _ in range(n))


async def test_a_truncated_file_raises_with_the_committed_count(tmp_path: Path) -> None:
    whole = gzip.compress(_first_lines(40), mtime=0)
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    positions: list[int] = []
    async with open_ledger("memory://", owner="o") as ledger:
        with pytest.raises(ImportInterrupted) as caught:
            await import_file(ledger, cut, "chitchat", on_bytes=positions.append)
        report = caught.value.report
        stored = await ledger.stats()
        assert 0 < report.created == stored.conversations < 40
        assert report.messages == stored.messages
        assert report.position == report.created  # one conversation per JSONL line, none skipped
        assert isinstance(caught.value, ValueError)
        assert "truncated gzip stream" in caught.value.reason and str(cut) not in caught.value.reason
        assert f"after record {report.position}" in str(caught.value)
        assert positions == sorted(positions) and 0 < positions[-1] <= cut.stat().st_size
        whole_file = tmp_path / "whole.jsonl.gz"
        whole_file.write_bytes(whole)
        done: list[int] = []
        again = await import_file(ledger, whole_file, on_bytes=done.append)
        assert (again.created, again.existing) == (40 - report.created, report.created)
        assert done[-1] == whole_file.stat().st_size  # the last call reports the whole file


async def test_a_file_that_cannot_be_detected_writes_nothing(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(gzip.compress(_first_lines(3), mtime=0)[:40])  # breaks inside the first record
    async with open_ledger("memory://", owner="o") as ledger:
        with pytest.raises(ValueError) as caught:
            await import_file(ledger, broken)
        assert not isinstance(caught.value, ImportInterrupted)
        assert (await ledger.stats()).conversations == 0
