"""``/healthz`` latency while ``convoledger serve`` appends a 10 × 1 MB batch (issue 15 item 1:
target < 100 ms). Starts ``convoledger serve`` (the one on PATH next to this Python) on a fresh
SQLite file (or ``--database-url``), posts the batch from one thread and polls ``/healthz`` from
another until the batch is stored; prints the batch time and the health-check latencies.

Not a test (speed figures live in bench/; ``tests/service/test_serve_responsive.py`` checks the
behaviour). Run from the repository::

    python bench/healthz_under_load.py [--rounds 3] [--database-url URL] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

WORDS = "the agent plans weekly tasks, checks 42 invoices and writes notes for the team; ".split()


def _text(seed: int) -> str:
    """~1 MB of varied prose-like text."""
    return " ".join(f"{WORDS[(i * 7 + seed) % len(WORDS)]}{i % 97}" for i in range(110_000))[:999_000]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli() -> str:
    here = Path(sys.executable).parent / "convoledger"
    found = str(here) if here.exists() else shutil.which("convoledger")
    if not found:
        raise SystemExit("convoledger is not installed next to this Python nor on PATH")
    return found


def one_round(database_url: str, serve_args: list[str]) -> dict[str, float]:
    """Serve, append the batch once while polling ``/healthz``; latencies in milliseconds."""
    cli = _cli()
    token = subprocess.run(
        [cli, "user", "create", "bench", "--database-url", database_url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip().splitlines()[-1]
    port = _free_port()
    server = subprocess.Popen(
        [cli, "serve", "--port", str(port), "--database-url", database_url, *serve_args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        headers = {"Authorization": f"Bearer {token}"}
        session = f"big-{time.time_ns()}"
        created = httpx.post(f"{base}/api/agent-sessions", json={"session_id": session}, headers=headers)
        created.raise_for_status()
        body = {"messages": [{"role": "user", "content": _text(i)} for i in range(10)]}
        done: dict[str, float] = {}

        def append() -> None:
            start = time.perf_counter()
            r = httpx.post(
                f"{base}/api/agent-sessions/{session}/messages/batch", json=body, headers=headers, timeout=300
            )
            r.raise_for_status()
            done["batch_s"] = time.perf_counter() - start

        worker = threading.Thread(target=append)
        worker.start()
        latencies: list[float] = []
        with httpx.Client(base_url=base, timeout=60) as probe:
            while worker.is_alive():
                start = time.perf_counter()
                probe.get("/healthz").raise_for_status()
                latencies.append((time.perf_counter() - start) * 1000)
                time.sleep(0.005)
        worker.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    latencies.sort()
    return {
        "batch_s": done["batch_s"],
        "checks": len(latencies),
        "healthz_p50_ms": statistics.median(latencies),
        "healthz_p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "healthz_max_ms": latencies[-1],
    }


def main() -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file per round")
    parser.add_argument("--serve-args", default="", help='extra arguments of serve, e.g. "--workers 2"')
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rounds = []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="healthz_") as tmp:
            url = args.database_url or f"sqlite:///{Path(tmp) / 'ledger.db'}"
            rounds.append(one_round(url, args.serve_args.split()))
    summary = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    if args.json:
        print(json.dumps({"rounds": rounds, "median": summary}, indent=2))
        return
    for r in rounds:
        print(
            f"batch {r['batch_s']:.2f} s; /healthz during it: {r['checks']:.0f} checks, "
            f"p50 {r['healthz_p50_ms']:.1f} ms, p99 {r['healthz_p99_ms']:.1f} ms, "
            f"max {r['healthz_max_ms']:.1f} ms"
        )
    verdict = "met" if summary["healthz_max_ms"] < 100 else "NOT met"
    print(f"median of rounds: max /healthz {summary['healthz_max_ms']:.1f} ms (target < 100 ms: {verdict})")


if __name__ == "__main__":
    main()
