"""``convoledger import`` (issue 16 items 6, 7 and the progress part of 10): a file that breaks
part-way says how much was committed and exits non-zero; exit statuses say whether everything,
some or nothing was imported; ``--format`` is a choice checked before any work; the progress
bar runs against the file's size."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from cli_helpers import CONVERSATIONS, chitchat_lines, one_error_line
from rich.filesize import decimal
from typer.testing import CliRunner

from convoledger.cli import app
from convoledger.import_formats import FORMAT_NAMES


def _gzip_of(lines: list[str]) -> bytes:
    return gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)


def _stats_sessions(runner: CliRunner, owner: str, db: str) -> int:
    result = runner.invoke(app, ["sessions", "list", "--owner", owner, "--database-url", db, "--limit", "1"])
    assert result.exit_code == 0, result.output
    return int(result.stdout.split(" sessions", 1)[0].split()[-1])


def test_format_names_are_the_importers(runner: CliRunner) -> None:
    from convoledger.importers import FORMATS

    assert FORMAT_NAMES == FORMATS
    shown = runner.invoke(app, ["import", "--help"], env={"COLUMNS": "200"})
    for name in ("auto", *FORMAT_NAMES):
        assert name in shown.stdout


def test_a_truncated_gzip_reports_what_was_committed_and_exits_1(
    runner: CliRunner, db: str, tmp_path: Path
) -> None:
    lines = chitchat_lines(50)
    whole = _gzip_of(lines)
    broken = tmp_path / "chat.jsonl.gz"
    broken.write_bytes(whole[: len(whole) // 2])  # cut in the middle of the deflate stream
    result = runner.invoke(app, ["import", str(broken), "--owner", "ann", "--database-url", db])
    assert result.exit_code == 1
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("error: ") and "truncated gzip stream" in error
    committed = _stats_sessions(runner, "ann", db)
    assert 0 < committed < 50
    assert f"{committed} conversations (" in error and "were committed before the break" in error
    assert "importing the file again adds only what is missing" in error
    # The same data, whole: the import adds exactly the rest.
    fixed = tmp_path / "fixed.jsonl.gz"
    fixed.write_bytes(whole)
    again = runner.invoke(app, ["import", str(fixed), "--owner", "ann", "--database-url", db])
    assert again.exit_code == 0, again.output
    assert f"imported {50 - committed} conversations" in again.stdout
    assert f"{committed} already present" in again.stdout
    assert _stats_sessions(runner, "ann", db) == 50


def test_a_bad_crc_reports_the_break_and_exits_1(runner: CliRunner, db: str, tmp_path: Path) -> None:
    data = bytearray(_gzip_of(chitchat_lines(30)))
    data[-8] ^= 0xFF  # the CRC-32 of the gzip trailer (RFC 1952 section 2.3.1)
    broken = tmp_path / "crc.jsonl.gz"
    broken.write_bytes(bytes(data))
    result = runner.invoke(app, ["import", str(broken), "--owner", "bo", "--database-url", db])
    assert result.exit_code == 1
    error = result.stderr.strip().splitlines()[-1]
    assert "CRC check failed" in error
    committed = _stats_sessions(runner, "bo", db)
    assert f"{committed} conversations (" in error and "committed before the break" in error


def test_exit_status_0_when_everything_imported_or_present(
    runner: CliRunner, db: str, tmp_path: Path
) -> None:
    source = tmp_path / "chat.jsonl"
    source.write_text("\n".join(chitchat_lines(3)) + "\n")
    args = ["import", str(source), "--owner", "cy", "--database-url", db]
    first = runner.invoke(app, args)
    assert first.exit_code == 0 and "imported 3 conversations" in first.stdout
    second = runner.invoke(app, args)  # idempotent: all already present is a success
    assert second.exit_code == 0 and "3 already present" in second.stdout


def test_exit_status_2_when_some_records_were_skipped(runner: CliRunner, db: str, tmp_path: Path) -> None:
    good = chitchat_lines(2)
    source = tmp_path / "mixed.jsonl"
    source.write_text("\n".join([good[0], "{broken", good[1]]) + "\n")
    result = runner.invoke(
        app, ["import", str(source), "-f", "chitchat", "--owner", "di", "--database-url", db]
    )
    assert result.exit_code == 2, result.output
    assert "imported 2 conversations" in result.stdout and "1 skipped" in result.stdout
    assert "skipped line 2: invalid JSON" in result.stderr
    assert "1 of the 3 records" in result.stderr.strip().splitlines()[-1]
    help_text = " ".join(runner.invoke(app, ["import", "--help"]).stdout.split())
    assert "2 = some records were skipped" in help_text and "1 = nothing was imported" in help_text


@pytest.mark.parametrize(
    ("content", "fmt"),
    [
        ("\n".join(chitchat_lines(3)) + "\n", "sharegpt"),  # the wrong --format: every record skipped
        ('{"text": "hello"}\n{"text": "world"}\n', "openai"),  # garbage for that format
    ],
)
def test_exit_status_1_when_nothing_was_imported(
    runner: CliRunner, db: str, tmp_path: Path, content: str, fmt: str
) -> None:
    source = tmp_path / "wrong.jsonl"
    source.write_text(content)
    result = runner.invoke(app, ["import", str(source), "-f", fmt, "--owner", "ed", "--database-url", db])
    assert result.exit_code == 1, result.output
    assert "imported 0 conversations" in result.stdout
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("error: nothing imported from") and "held a conversation" in error


def test_reference_data_alone_imports_nothing_and_exits_1(runner: CliRunner, db: str) -> None:
    schema = CONVERSATIONS / "task_oriented" / "sgd_schema_dev.json.gz"
    result = runner.invoke(app, ["import", str(schema), "--owner", "fe", "--database-url", db])
    assert result.exit_code == 1, result.output
    assert "reference record(s), not conversations" in result.stdout
    assert "nothing imported" in result.stderr


def test_an_unknown_format_is_refused_before_any_work(runner: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "chat.jsonl"
    source.write_text(chitchat_lines(1)[0] + "\n")
    ledger = tmp_path / "never.db"
    result = runner.invoke(
        app, ["import", str(source), "-f", "klingon", "--owner", "g", "--database-url", f"sqlite:///{ledger}"]
    )
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert "'--format'" in line and "klingon" in line and "sharegpt" in line
    assert not ledger.exists()  # nothing opened, nothing created


def test_the_progress_bar_counts_bytes_against_the_file_size(
    runner: CliRunner, db: str, tmp_path: Path
) -> None:
    source = tmp_path / "chat.jsonl.gz"
    source.write_bytes(_gzip_of(chitchat_lines(40)))
    size = source.stat().st_size
    result = runner.invoke(app, ["import", str(source), "--owner", "hu", "--database-url", db])
    assert result.exit_code == 0, result.output
    bar = next(line for line in result.stderr.splitlines() if line.startswith("importing chat.jsonl.gz"))
    total = decimal(size).split()[0]  # e.g. "31.6/31.6 kB"
    assert f"{total}/{total} kB" in bar and "40 records" in bar and "?" not in bar


def test_a_plain_json_array_file_reports_bytes_too(runner: CliRunner, db: str, tmp_path: Path) -> None:
    source = tmp_path / "chat.json"
    source.write_text("[" + ",\n".join(chitchat_lines(5)) + "]")
    result = runner.invoke(app, ["import", str(source), "--owner", "iv", "--database-url", db])
    assert result.exit_code == 0, result.output
    total = decimal(source.stat().st_size).split()[0]
    assert f"{total}/{total} kB" in result.stderr
    assert json.loads(source.read_text())  # sanity: a real JSON array
