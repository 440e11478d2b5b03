"""The bundled sample: every format, unchanged records, licence notices, small size."""

from __future__ import annotations

import gzip
import hashlib
from collections import Counter
from importlib import resources
from pathlib import Path

from convoledger.sample_data import iter_sample, manifest, notice

SAMPLE = resources.files("convoledger.sample_data")


def test_sample_covers_every_format() -> None:
    conversations: Counter[str] = Counter()
    messages: Counter[str] = Counter()
    kinds: set[str] = set()
    for fmt, item in iter_sample(owner_id="demo"):
        if item.conversation.parent_id is not None:  # an OASST branch: counted with its tree
            assert fmt == "oasst"
            continue
        conversations[fmt] += 1
        messages[fmt] += len(item.messages)
        kinds.add(item.conversation.kind.value)
        assert item.conversation.owner_id == "demo"
    assert set(conversations) == {"openai", "sharegpt", "sgd", "chitchat", "oasst", "chatdev"}
    assert conversations["sgd"] == 20 and conversations["chitchat"] == 100 and conversations["oasst"] == 30
    assert conversations["openai"] == 30 and conversations["sharegpt"] == 50
    assert conversations["chatdev"] >= 3  # one conversation per phase of 4 project logs
    assert 250 <= sum(conversations.values()) <= 400
    assert kinds == {"conversation", "conversation_session", "agent_session", "chat_session"}


def test_manifest_matches_files_and_notice() -> None:
    entries = manifest()
    text = notice()
    total = 0
    for entry in entries:
        data = SAMPLE.joinpath(entry["file"]).read_bytes()
        total += len(data)
        lines = [ln for ln in gzip.decompress(data).split(b"\n") if ln.strip()]
        assert len(lines) == entry["records"], entry["file"]
        assert f"`{entry['file']}`" in text
    for licence in ("CC BY-SA 4.0", "Apache-2.0", "MIT"):
        assert licence in text
    for commit in (
        "e852981ae34990f4358979625854259302feaa78",
        "31fd994416a251ecdeb1f0a73c329271743bfb56",
        "f1e6ed9526f5817531f3ab85441a40b3671ddccb",
        "59a200c6d575d595120f1cb70fea53cef0632f6b",
        "0e6d3e4beaab66f4d3f93db72541a4abab8af28d",
    ):
        assert commit in text
    for name in ("Apache-2.0.txt", "CC-BY-SA-4.0.txt", "MIT-chitchat-dataset.txt", "MIT-tau-bench.txt"):
        assert SAMPLE.joinpath("LICENSES", name).read_text(encoding="utf-8").strip()
    assert total < 1_500_000


def test_sample_records_are_copied_unchanged(data_dir: Path) -> None:
    for entry in manifest():
        source = data_dir / entry["source"].removeprefix("shared/data/conversations/")
        with gzip.open(source, "rb") as fh:
            originals = {hashlib.sha256(line.rstrip(b"\n")).digest() for line in fh}
        data = gzip.decompress(SAMPLE.joinpath(entry["file"]).read_bytes())
        for line in data.split(b"\n"):
            if line.strip():
                assert hashlib.sha256(line).digest() in originals, entry["file"]
