"""Helpers of the integration tests: the real tau-bench airline trajectories (OpenAI chat
messages with tool calls) and their conversion to ledger messages."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from convoledger.models.records import MessageRecord

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "conversations"
TAU_BENCH = DATA / "tool_calling" / "tau_bench_gpt4o_airline_trajectories.jsonl.gz"


def tau_bench_trajectory(index: int) -> list[dict[str, Any]]:
    """Trajectory ``index`` of the tau-bench gpt-4o airline file: chat messages, tool calls included."""
    with gzip.open(TAU_BENCH, "rt", encoding="utf-8") as lines:
        for i, line in enumerate(lines):
            if i == index:
                return list(json.loads(line)["traj"])
    raise IndexError(index)


def chat_to_record(message: dict[str, Any]) -> MessageRecord:
    """A chat message of the data as a ledger message (null content → empty)."""
    return MessageRecord(
        role=message["role"],
        content=message.get("content") or "",
        tool_calls=message.get("tool_calls"),
        tool_call_id=message.get("tool_call_id"),
        tool_name=message.get("name") if message.get("tool_call_id") else None,
    )
