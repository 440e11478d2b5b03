"""Helpers of the SQL-store tests (a module of its own: several ``conftest.py`` files exist)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
CONVERSATIONS = SHARED / "data" / "conversations"


def sqlite_url(path: Path) -> str:
    """The store URL of an SQLite file."""
    return f"sqlite+aiosqlite:///{path}"


def real_texts(limit: int) -> list[str]:
    """Real message texts: chitchat (casual, emoji) then SGD utterances and tool-calling text
    (names, numbers, times, addresses), interleaved, ``limit`` in all."""
    chitchat: list[str] = []
    with gzip.open(CONVERSATIONS / "open_domain" / "chitchat_byu_ccc.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            for turn in json.loads(line)["messages"]:
                chitchat.extend(m["text"] for m in turn)
            if len(chitchat) >= limit:
                break
    sgd: list[str] = []
    with gzip.open(
        CONVERSATIONS / "task_oriented" / "sgd_train_sample.jsonl.gz", "rt", encoding="utf-8"
    ) as fh:
        for line in fh:
            sgd.extend(t["utterance"] for t in json.loads(line)["turns"])
            if len(sgd) >= limit:
                break
    tools: list[str] = []
    with gzip.open(
        CONVERSATIONS / "tool_calling" / "tau_bench_gpt4o_airline_trajectories.jsonl.gz",
        "rt",
        encoding="utf-8",
    ) as fh:
        for line in fh:
            for m in json.loads(line)["traj"]:
                if isinstance(m.get("content"), str) and m["content"]:
                    tools.append(m["content"][:2000])
            if len(tools) >= limit:
                break
    mixed = [t for trio in zip(chitchat, sgd, tools, strict=False) for t in trio]
    return mixed[:limit]
