"""Shared data helpers of the CLI tests: real records from ``../shared/data``."""

from __future__ import annotations

import gzip
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CONVERSATIONS = SHARED / "data" / "conversations"
CHITCHAT = CONVERSATIONS / "open_domain" / "chitchat_byu_ccc.jsonl.gz"


def chitchat_lines(n: int) -> list[str]:
    """The first ``n`` lines (JSON records) of the BYU chitchat collection."""
    with gzip.open(CHITCHAT, "rt", encoding="utf-8") as fh:
        return [next(fh).rstrip("\n") for _ in range(n)]


def one_error_line(stderr: str) -> str:
    """The single line of an error on stderr (asserts there is exactly one, ``error: …``)."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in stderr
    return lines[0]
