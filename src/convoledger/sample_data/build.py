"""Maintainer tool: rebuild the bundled sample from the shared data collection.

Usage: ``python -m convoledger.sample_data.build ../shared/data/conversations``. It copies the
selected records **byte for byte** (whole JSONL lines, never cut inside a record) from the
collection's gzip files into ``<format>.jsonl.gz`` files beside this module (gzip with mtime 0,
so the build is reproducible) and writes ``manifest.json``. The selection rules are the
``SOURCES`` table below; ``NOTICE.md`` and ``LICENSES/`` are maintained by hand.
"""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Source:
    """One sample file: where its records come from and which lines are kept (1-based)."""

    file: str
    format: str
    source: str
    upstream: str
    license: str
    selection: str
    keep: Callable[[int, bytes], bool]


_CHATDEV_PROJECTS = frozenset(
    {
        "RandomPick_ModelBest1024_20231022154124",
        "Website_THUNLP_20230725154612",
        "Gomoku_THUNLP_20230625201030",
        "pingpong_THUNLP_20230817193956",
    }
)

SOURCES = (
    Source(
        "sgd.jsonl.gz",
        "sgd",
        "task_oriented/sgd_train_sample.jsonl.gz",
        "google-research-datasets/dstc8-schema-guided-dialogue @ e852981ae34990f4358979625854259302feaa78"
        " : train/dialogues_NNN.json",
        "CC-BY-SA-4.0",
        "20 dialogues: lines 1, 205, 409, … (every 204th line) of the collection file",
        lambda n, _: (n - 1) % 204 == 0 and n <= 204 * 19 + 1,
    ),
    Source(
        "chatdev.jsonl.gz",
        "chatdev",
        "multi_agent/chatdev_warehouse_logs.jsonl.gz",
        "OpenBMB/ChatDev (branch chatdev1.0) @ 31fd994416a251ecdeb1f0a73c329271743bfb56 : WareHouse/*/*.log",
        "Apache-2.0",
        "4 whole project logs: RandomPick_ModelBest1024_20231022154124, Website_THUNLP_20230725154612,"
        " Gomoku_THUNLP_20230625201030, pingpong_THUNLP_20230817193956 (one per log dialect)",
        lambda _, line: json.loads(line).get("project") in _CHATDEV_PROJECTS,
    ),
    Source(
        "chitchat.jsonl.gz",
        "chitchat",
        "open_domain/chitchat_byu_ccc.jsonl.gz",
        "PyPI chitchat-dataset==0.9.0 : chitchat_dataset/dataset.json (upstream BYU-PCCL/chitchat-dataset)",
        "MIT",
        "the first 100 conversations",
        lambda n, _: n <= 100,
    ),
    Source(
        "oasst.jsonl.gz",
        "oasst",
        "assistant_chat/oasst_en_100_tree.jsonl.gz",
        "LAION-AI/Open-Assistant @ f1e6ed9526f5817531f3ab85441a40b3671ddccb"
        " : model/model_eval/manual/data/en_100_tree.jsonl",
        "Apache-2.0",
        "the first 30 message trees",
        lambda n, _: n <= 30,
    ),
    Source(
        "tau_bench.jsonl.gz",
        "openai",
        "tool_calling/tau_bench_gpt4o_airline_trajectories.jsonl.gz",
        "sierra-research/tau-bench @ 59a200c6d575d595120f1cb70fea53cef0632f6b"
        " : historical_trajectories/gpt-4o-airline.json",
        "MIT",
        "the first 30 trajectories",
        lambda n, _: n <= 30,
    ),
    Source(
        "sharegpt.jsonl.gz",
        "sharegpt",
        "assistant_chat/fastchat_dummy_sharegpt.jsonl.gz",
        "lm-sys/FastChat @ 0e6d3e4beaab66f4d3f93db72541a4abab8af28d : data/dummy_conversation.json",
        "Apache-2.0",
        "the first 50 conversations",
        lambda n, _: n <= 50,
    ),
)


def build(collection: Path) -> list[dict[str, object]]:
    """Write the sample files and ``manifest.json``; return the manifest entries."""
    manifest = []
    for src in SOURCES:
        kept = 0
        target = HERE / src.file
        with gzip.open(collection / src.source, "rb") as fin, open(target, "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as fout:
                for number, line in enumerate(fin, 1):
                    if src.keep(number, line):
                        fout.write(line if line.endswith(b"\n") else line + b"\n")
                        kept += 1
        manifest.append(
            {
                "file": src.file,
                "format": src.format,
                "records": kept,
                "source": f"shared/data/conversations/{src.source}",
                "upstream": src.upstream,
                "license": src.license,
                "selection": src.selection,
                "bytes": target.stat().st_size,
            }
        )
    (HERE / "manifest.json").write_text(json.dumps({"files": manifest}, indent=2) + "\n", encoding="utf-8")
    return manifest


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m convoledger.sample_data.build <path to shared/data/conversations>")
    for entry in build(Path(sys.argv[1])):
        print(f"{entry['file']:20s} {entry['records']:4d} records {entry['bytes']:8d} bytes")
