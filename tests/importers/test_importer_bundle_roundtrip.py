"""Export → import → export is identical for every format's output (issue 17, Deliver 5).

A record of each format (real records from ``../shared/data``; published-shape records for the
formats whose files are held aside) is imported, every resulting conversation is exported as a
bundle (parents before branches), the bundles are written as JSONL and as a JSON array and
imported again with ``--format auto`` / ``bundle`` into an empty ledger, and exported again: the
bundles must be equal. Hypothesis picks the records and the file layout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from importer_helpers import CONVERSATIONS, records_at, split
from test_importer_public_shapes import HH, LEGACY, TOPICAL, _toolbench

from convoledger.backends import open_ledger
from convoledger.importers import ImportedConversation, open_records, parse
from convoledger.importing import import_file

REAL = {
    "sgd": ("task_oriented/sgd_train_sample.jsonl.gz", range(1, 6)),
    "chitchat": ("open_domain/chitchat_byu_ccc.jsonl.gz", range(1, 6)),
    "oasst": ("assistant_chat/oasst_en_100_tree.jsonl.gz", range(1, 8)),
    "sharegpt": ("assistant_chat/fastchat_dummy_sharegpt.jsonl.gz", range(1, 6)),
    "openai": ("tool_calling/tau_bench_gpt4o_airline_trajectories.jsonl.gz", range(1, 4)),
    "chatdev": ("multi_agent/chatdev_warehouse_logs.jsonl.gz", range(2, 4)),
    "dialogstudio": ("task_oriented/dialogstudio_tod_examples.jsonl.gz", range(1, 6)),
    "bfcl": ("tool_calling/bfcl_v4_multi_turn.jsonl.gz", range(1, 6)),
    "tooltalk": ("tool_calling/tooltalk.jsonl.gz", range(1, 6)),
    "swe-agent": ("tool_calling/swe_agent_trajectories.jsonl.gz", range(1, 3)),
    "tau-bench-few-shot": ("tool_calling/tau_bench_few_shot_MockAirlineDomainEnv.jsonl.gz", range(1, 4)),
}


def _records() -> dict[str, list[list[tuple[int, Any]]]]:
    """Per format, a few inputs (each a list of ``(line, record)`` pairs)."""
    out: dict[str, list[list[tuple[int, Any]]]] = {}
    for fmt, (path, lines) in REAL.items():
        out[fmt] = [[pair] for pair in records_at(CONVERSATIONS / path, set(lines))]
    flat = list(open_records(CONVERSATIONS / "assistant_chat/oasst_backend_realistic_seed_data.json.gz"))
    out["oasst-flat"] = [flat[:40]]
    out["hh-rlhf"] = [[(1, HH)]]
    out["topical-chat"] = [[(1, TOPICAL)]]
    branchy = [LEGACY[:3], [*LEGACY[:3], {"role": "function", "name": "get_weather", "content": "timeout"}]]
    out["toolbench"] = [[(1, _toolbench([LEGACY]))], [(1, _toolbench(branchy))]]
    out["openai-legacy"] = [[(1, {"messages": LEGACY})]]
    return out


RECORDS = _records()
FORMAT_OF = {"openai-legacy": "openai"}


async def _round_trip(
    fmt: str, records: list[tuple[int, Any]], layout: str, tmp: Path, url_a: str, url_b: str
) -> None:
    convs, errors = split(parse(FORMAT_OF.get(fmt, fmt), records, owner_id="alice"))
    assert errors == [] and convs
    async with open_ledger(url_a, owner="alice") as a:
        for c in convs:
            assert (await a.import_conversation(c.conversation, c.messages)).created
        first = [await a.export_bundle(c.conversation.id) for c in convs]
    path = tmp / f"bundles.{layout}"
    if layout == "jsonl":
        path.write_bytes(b"".join(orjson.dumps(b) + b"\n" for b in first))
    elif layout == "json":
        path.write_bytes(orjson.dumps(first, option=orjson.OPT_INDENT_2))
    else:  # each bundle wrapped in an export document beside another shape, under a versioned key
        path.write_bytes(
            b"".join(orjson.dumps({"session": {"x": 1}, "convoledger_bundle_v1": b}) + b"\n" for b in first)
        )
    async with open_ledger(url_b, owner="alice") as b:
        report = await import_file(b, path)  # auto-detected
        assert report.format == "bundle" and report.errors == [] and report.created == len(first)
        again = [await b.export_bundle(c.conversation.id) for c in convs]
        assert again == first
        repeat = await import_file(b, path, "bundle")
        assert repeat.existing == len(first) and repeat.created == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_export_import_export_is_identical_for_every_format(
    data: st.DataObject, tmp_path_factory: Any
) -> None:
    fmt = data.draw(st.sampled_from(sorted(RECORDS)), label="format")
    records = data.draw(st.sampled_from(RECORDS[fmt]), label="records")
    layout = data.draw(st.sampled_from(["jsonl", "json", "wrapped"]), label="layout")
    tmp = tmp_path_factory.mktemp("rt")
    await _round_trip(fmt, records, layout, tmp, "memory://", f"jsonfiles://{tmp / 'b'}")


@pytest.mark.parametrize("fmt", sorted(RECORDS))
async def test_round_trip_on_sqlite_for_each_format(fmt: str, tmp_path: Path) -> None:
    await _round_trip(
        fmt, RECORDS[fmt][-1], "jsonl", tmp_path, f"sqlite:///{tmp_path}/a.db", f"sqlite:///{tmp_path}/b.db"
    )


def test_every_conversation_format_is_covered() -> None:
    from convoledger.importers import FORMATS

    not_conversations = {"bundle", "sgd-schema", "bfcl-functions"}
    assert set(FORMATS) - not_conversations == {FORMAT_OF.get(f, f) for f in RECORDS}


def test_a_wrong_bundle_is_reported_not_half_restored(tmp_path: Path) -> None:
    convs: list[ImportedConversation] = split(parse("sharegpt", RECORDS["sharegpt"][0]))[0]
    assert convs
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"format": "convoledger.bundle", "bundle_version": 99}) + "\n" + '{"x": 1}\n')
    import asyncio

    async def run() -> Any:
        async with open_ledger("memory://", owner="o") as ledger:
            report = await import_file(ledger, path, "bundle")
            return report, (await ledger.list_conversations()).total

    report, total = asyncio.run(run())
    assert [e.line for e in report.errors] == [1, 2] and total == 0
    assert (
        "bundle_version" in report.errors[0].reason and "not a convoledger bundle" in report.errors[1].reason
    )
