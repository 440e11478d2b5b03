"""The streaming reader: gzip/plain detection, JSONL vs JSON array vs documents, errors, memory."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from pathlib import Path

import pytest

from convoledger.importers import UnreadableRecord, open_records


def _write(path: Path, data: bytes, *, gz: bool) -> Path:
    if gz:
        with gzip.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_jsonl_lines_are_numbered_and_blank_lines_skipped(tmp_path: Path, gz: bool) -> None:
    data = b'{"a": 1}\n\n{"a": 2}\n   \n{"a": 3.5}\n'
    # the file name says nothing: compression is detected from the magic bytes
    path = _write(tmp_path / "records.data", data, gz=gz)
    assert list(open_records(path)) == [(1, {"a": 1}), (3, {"a": 2}), (5, {"a": 3.5})]


@pytest.mark.parametrize("gz", [False, True])
def test_json_array_items_are_streamed_with_positions(tmp_path: Path, gz: bool) -> None:
    data = b'  \n[{"x": 1.25}, {"x": [1, 2]}, "text", 7]'
    path = _write(tmp_path / "array.json", data, gz=gz)
    got = list(open_records(path))
    assert got == [(1, {"x": 1.25}), (2, {"x": [1, 2]}), (3, "text"), (4, 7)]
    assert type(got[0][1]["x"]) is float  # never Decimal


def test_pretty_printed_documents_are_read_whole(tmp_path: Path) -> None:
    doc = json.dumps({"id": "a", "messages": [{"role": "user", "content": "hi"}]}, indent=2)
    path = _write(tmp_path / "doc.json", (doc + "\n" + doc.replace('"a"', '"b"')).encode(), gz=False)
    got = list(open_records(path))
    assert [(pos, rec["id"]) for pos, rec in got] == [(1, "a"), (2, "b")]


def test_bom_and_leading_blank_lines_keep_line_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path / "bom.jsonl", b'\xef\xbb\xbf\n\n{"k": "v"}\n{"k": "w"}\n', gz=True)
    assert list(open_records(path)) == [(3, {"k": "v"}), (4, {"k": "w"})]


def test_bad_jsonl_line_is_reported_and_reading_goes_on(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.jsonl.gz", b'{"n": 1}\n{"n": 2,\n{"n": 3}\n', gz=True)
    got = list(open_records(path))
    assert got[0] == (1, {"n": 1})
    assert got[1][0] == 2 and isinstance(got[1][1], UnreadableRecord)
    assert "invalid JSON" in got[1][1].reason
    assert got[2] == (3, {"n": 3})


def test_first_line_corrupt_is_still_jsonl(tmp_path: Path) -> None:
    path = _write(tmp_path / "first_bad.jsonl", b'{"n": 1,, }\n{"n": 2}\n', gz=False)
    got = list(open_records(path))
    assert isinstance(got[0][1], UnreadableRecord) and got[0][0] == 1
    assert got[1] == (2, {"n": 2})


def test_broken_array_stops_with_one_error_at_the_failing_item(tmp_path: Path) -> None:
    path = _write(tmp_path / "broken.json", b'[{"n": 1}, {"n": 2}, {"n": oops}, {"n": 4}]', gz=False)
    got = list(open_records(path))
    assert got[:2] == [(1, {"n": 1}), (2, {"n": 2})]
    assert len(got) == 3 and got[2][0] == 3 and isinstance(got[2][1], UnreadableRecord)


def test_empty_file_yields_nothing(tmp_path: Path) -> None:
    assert list(open_records(_write(tmp_path / "empty", b"  \n\n", gz=True))) == []


def test_truncated_gzip_is_a_clear_value_error(tmp_path: Path) -> None:
    whole = gzip.compress(b"".join(b'{"n": %d, "pad": "%s"}\n' % (i, b"x" * 50) for i in range(2000)))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match="corrupt or truncated gzip"):
        list(open_records(path))


def test_real_json_document_file_is_streamed_as_array(data_dir: Path) -> None:
    # oasst_backend_realistic_seed_data.json.gz holds one JSON array (README: 444 messages)
    got = list(open_records(data_dir / "assistant_chat" / "oasst_backend_realistic_seed_data.json.gz"))
    assert len(got) == 444
    assert [pos for pos, _ in got[:3]] == [1, 2, 3]
    assert {"task_message_id", "parent_message_id", "text", "role"} <= set(got[0][1])


def _big_jsonl(path: Path, n: int) -> int:
    pad = "y" * 150
    with gzip.open(path, "wb", compresslevel=1) as fh:
        for i in range(n):
            fh.write(b'{"id": %d, "text": "%s", "n": [%d, %d]}\n' % (i, pad.encode(), i, i * 2))
    return n


def _big_array(path: Path, n: int) -> int:
    pad = "z" * 150
    with gzip.open(path, "wb", compresslevel=1) as fh:
        fh.write(b"[")
        for i in range(n):
            fh.write(b'%s{"id": %d, "text": "%s"}' % (b"," if i else b"", i, pad.encode()))
        fh.write(b"]")
    return n


@pytest.mark.parametrize("make", [_big_jsonl, _big_array], ids=["jsonl", "array"])
def test_reader_streams_in_bounded_memory(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "big.gz"
    n = make(path, 80_000)  # ~ 14 MB of JSON once decompressed
    tracemalloc.start()
    try:
        count = 0
        last = None
        for pos, record in open_records(path):
            count += 1
            last = (pos, record["id"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == n and last == (n, n - 1)
    # Holding the records (or the decompressed text) would need well over 14 MB.
    assert peak < 4 * 1024 * 1024, f"peak traced memory {peak / 1e6:.1f} MB"


def test_reader_is_lazy(tmp_path: Path) -> None:
    path = tmp_path / "lazy.gz"
    _big_jsonl(path, 50_000)
    tracemalloc.start()
    try:
        first = next(iter(open_records(path)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert first[0] == 1 and first[1]["id"] == 0
    assert peak < 1024 * 1024
