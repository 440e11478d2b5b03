"""Benchmark: context-window assembly over a 10,000-message conversation, and token counting.

Not a test (house rule: speed targets live in bench/). Run: ``python bench/context_bench.py``
[``--runs N``]. Prints a table and writes ``bench/results/context_bench.json``.

Data: real agent trajectories, tau-bench gpt-4o airline (``shared/data/conversations/tool_calling/
tau_bench_gpt4o_airline_trajectories.jsonl.gz``, MIT), concatenated into one conversation of
10,000 messages (user, assistant, assistant tool calls and tool results). Only the first
trajectory's system prompt is kept (200 copies of a ~2,000-token policy would not fit any 4,000-token
budget); tool-call ids get a per-trajectory prefix so that every call id is unique. Timestamps are
synthetic (one second apart; the source has none). ``token_count`` is precomputed with
``count_message_tokens``, as at write time, and that pass is timed as the counting throughput.

Target (issue 5): a 4,000-token window from 10,000 messages in < 5 ms (p50 and p99 reported).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from convoledger.context import build_token_window, choose_context
from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.tokens import count_message_tokens, count_tokens, get_encoding

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "conversations" / "tool_calling"
SOURCE = DATA / "tau_bench_gpt4o_airline_trajectories.jsonl.gz"
RESULTS = ROOT / "bench" / "results" / "context_bench.json"
N_MESSAGES = 10_000
BUDGET = 4_000
TARGET_MS = 5.0


def load_conversation(n: int = N_MESSAGES) -> list[MessageRecord]:
    """``n`` real tau-bench messages as one conversation (seq 1..n), token_count unset."""
    start = datetime(2024, 5, 15, 15, 0, tzinfo=UTC)
    out: list[MessageRecord] = []
    with gzip.open(SOURCE, "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    k = 0
    while len(out) < n:
        traj = records[k % len(records)]["traj"]
        prefix = f"t{k}_"
        for raw in traj:
            if len(out) >= n:
                break
            role = raw["role"]
            if role == "system" and out:
                continue
            calls = None
            if raw.get("tool_calls"):
                calls = [{**c, "id": prefix + c["id"]} for c in raw["tool_calls"]]
            seq = len(out) + 1
            out.append(
                MessageRecord(
                    id=f"m{seq}",
                    conversation_id="bench",
                    seq=seq,
                    role=role,
                    content=raw.get("content") or "",
                    tool_calls=calls,
                    tool_call_id=prefix + raw["tool_call_id"] if raw.get("tool_call_id") else None,
                    tool_name=raw.get("name") if role == "tool" else None,
                    created_at=start + timedelta(seconds=seq),
                )
            )
        k += 1
    return out


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "p50_ms": round(q[49], 4),
        "p99_ms": round(q[98], 4),
        "min_ms": round(ordered[0], 4),
        "max_ms": round(ordered[-1], 4),
        "mean_ms": round(statistics.fmean(ordered), 4),
    }


def time_runs(fn, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and process-CPU milliseconds per call (CPU time is less disturbed by other load)."""
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()

    t0 = time.perf_counter()
    get_encoding()
    load_s = time.perf_counter() - t0

    messages = load_conversation()
    t0 = time.perf_counter()
    for m in messages:
        m.token_count = count_message_tokens(m)
    count_s = time.perf_counter() - t0
    total_tokens = sum(m.token_count or 0 for m in messages)
    t0 = time.perf_counter()
    for m in messages:
        count_tokens(m.content)
    text_s = time.perf_counter() - t0

    conversation = ConversationRecord(owner_id="bench", id="bench", last_seq=len(messages))
    cases = {
        "window 4000 tok (no summary)": lambda: build_token_window(messages, BUDGET),
        "window 4000 tok (summary)": lambda: build_token_window(messages, BUDGET, summary=True),
        "choose_context -> token_window": lambda: choose_context(
            conversation, messages, provider="openai", api="chat", api_stateful=False, budget_tokens=BUDGET
        ),
    }
    results = {}
    for name, fn in cases.items():
        wall, cpu = time_runs(fn, args.runs)
        stats = percentiles(wall)
        stats["cpu"] = percentiles(cpu)
        window = fn()
        if hasattr(window, "window"):
            window = window.window
        stats.update(
            kept_messages=len(window.messages),
            window_tokens=window.total_tokens,
            dropped=window.dropped_count,
            meets_target=stats["p99_ms"] < TARGET_MS,
        )
        results[name] = stats

    counting = {
        "encoding_load_s": round(load_s, 3),
        "count_message_tokens_msgs_per_s": round(len(messages) / count_s),
        "count_tokens_content_msgs_per_s": round(len(messages) / text_s),
        "messages": len(messages),
        "total_tokens": total_tokens,
        "mean_tokens_per_message": round(total_tokens / len(messages), 1),
    }

    print(f"context_bench: {len(messages)} tau-bench messages, {total_tokens} tokens, budget {BUDGET}, "
          f"{args.runs} runs, target p99 < {TARGET_MS} ms")
    header = (
        f"{'case':34} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'cpu p50':>8} {'cpu p99':>8} "
        f"{'kept':>5} {'tokens':>6} {'ok':>3}"
    )
    print(header)
    print("-" * len(header))
    for name, s in results.items():
        print(
            f"{name:34} {s['p50_ms']:8.3f} {s['p99_ms']:8.3f} {s['max_ms']:8.3f} {s['cpu']['p50_ms']:8.3f} "
            f"{s['cpu']['p99_ms']:8.3f} {s['kept_messages']:5d} {s['window_tokens']:6d} "
            f"{'yes' if s['meets_target'] else 'NO':>3}"
        )
    print(
        f"load average during the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs "
        "(ok = wall-clock p99 < target)"
    )
    print(f"o200k_base load (offline, once): {counting['encoding_load_s']} s")
    print(f"count_message_tokens: {counting['count_message_tokens_msgs_per_s']:,} messages/s "
          f"(mean {counting['mean_tokens_per_message']} tokens/message); "
          f"count_tokens(content): {counting['count_tokens_content_msgs_per_s']:,} messages/s")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "context_bench",
        "source": str(SOURCE.relative_to(ROOT / "..")),
        "budget_tokens": BUDGET,
        "runs": args.runs,
        "target_ms": TARGET_MS,
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "loadavg_1min_after": round(os.getloadavg()[0], 2),
        "window": results,
        "token_counting": counting,
    }
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
