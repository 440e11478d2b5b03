"""Helpers of the client tests: tokens of a running server's accounts and the real tau-bench
airline trajectories (OpenAI chat messages with tool calls) as ``MessageIn`` bodies."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from serve_process import ServeProcess

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "conversations"
TAU_BENCH = DATA / "tool_calling" / "tau_bench_gpt4o_airline_trajectories.jsonl.gz"


def token_of(proc: ServeProcess, account: str) -> str:
    """The bearer token of ``account`` (``a`` or ``b``) of a running server."""
    return proc.headers[account]["Authorization"].removeprefix("Bearer ")


def tau_bench_trajectory(index: int) -> list[dict[str, Any]]:
    """Trajectory ``index`` of the tau-bench gpt-4o airline file: chat messages, tool calls included."""
    with gzip.open(TAU_BENCH, "rt", encoding="utf-8") as lines:
        for i, line in enumerate(lines):
            if i == index:
                return list(json.loads(line)["traj"])
    raise IndexError(index)


def as_message_in(message: dict[str, Any]) -> dict[str, Any]:
    """A chat message of the data as a ``MessageIn`` body (null content → empty; ``name`` of a
    tool result → ``tool_name``)."""
    body: dict[str, Any] = {"role": message["role"], "content": message.get("content") or ""}
    if message.get("tool_calls"):
        body["tool_calls"] = message["tool_calls"]
    if message.get("tool_call_id"):
        body["tool_call_id"] = message["tool_call_id"]
        body["tool_name"] = message.get("name")
    return body
