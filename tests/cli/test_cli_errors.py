"""Errors of the CLI (issue 16 item 8) and its help (item 10): every error is one line on stderr
with exit status 1 and no traceback; read commands never create a ledger for a mistyped
``--database-url``; ``--version``; flags show no value placeholder in ``--help``."""

from __future__ import annotations

import uuid
from importlib.metadata import version
from pathlib import Path

import pytest
import typer
from cli_helpers import chitchat_lines, one_error_line
from typer.testing import CliRunner

from convoledger.cli import app


@pytest.fixture
def ledger(runner: CliRunner, db: str, tmp_path: Path) -> str:
    """A SQLite ledger holding one chitchat conversation of account ``ann``; its URL."""
    source = tmp_path / "one.jsonl"
    source.write_text(chitchat_lines(1)[0] + "\n")
    done = runner.invoke(app, ["import", str(source), "--owner", "ann", "--database-url", db])
    assert done.exit_code == 0, done.output
    return db


def test_an_unknown_status_is_one_line(runner: CliRunner, ledger: str) -> None:
    result = runner.invoke(
        app, ["sessions", "list", "--owner", "ann", "--status", "bogus", "--database-url", ledger]
    )
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert "'--status'" in line and "bogus" in line and "inactive_timeout" in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["stats", "--bogus"], "No such option: --bogus"),
        (["stats"], "Missing option '--owner'"),
        (["statz"], "Did you mean 'stats'"),
        (["sessions", "list", "--owner", "a", "--limit", "0"], "'--limit'"),
        (["show", "x", "--owner", "a", "--last", "0"], "'--last'"),
        (["export", "x", "--owner", "a", "--format", "xml"], "'--format'"),
    ],
)
def test_usage_errors_are_one_line_exit_1(runner: CliRunner, db: str, args: list[str], expected: str) -> None:
    result = runner.invoke(app, [*args, "--database-url", db] if args[0] != "statz" else args)
    assert result.exit_code == 1, result.output
    assert expected in one_error_line(result.stderr)


def test_ledger_errors_are_one_line_and_never_read_as_markup(runner: CliRunner, ledger: str) -> None:
    result = runner.invoke(app, ["show", "[bold]nope", "--owner", "ann", "--database-url", ledger])
    assert result.exit_code == 1
    assert "[bold]nope" in one_error_line(result.stderr)
    wrong_owner = runner.invoke(
        app, ["export", "chitchat:x", "--owner", "nobody", "--database-url", ledger, "-o", "/dev/null"]
    )
    assert wrong_owner.exit_code == 1 and "not found" in one_error_line(wrong_owner.stderr)


def test_an_unwritable_output_is_one_line(runner: CliRunner, ledger: str, tmp_path: Path) -> None:
    session = runner.invoke(app, ["sessions", "list", "--owner", "ann", "--database-url", ledger])
    name = next(w for w in session.stdout.split() if w.startswith("chitchat:"))
    target = tmp_path / "missing-dir" / "out.json"
    result = runner.invoke(
        app, ["export", name, "--owner", "ann", "-o", str(target), "--database-url", ledger]
    )
    assert result.exit_code == 1
    assert "No such file or directory" in one_error_line(result.stderr)


READ_COMMANDS = [
    ["stats", "--owner", "ann"],
    ["sessions", "list", "--owner", "ann"],
    ["show", "chitchat:x", "--owner", "ann"],
    ["export", "chitchat:x", "--owner", "ann"],
    ["sweep"],
    ["user", "tokens", "ann"],
    ["user", "revoke", "0123456789ab"],
]


@pytest.mark.parametrize("args", READ_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_read_commands_refuse_a_missing_sqlite_ledger(
    runner: CliRunner, tmp_path: Path, args: list[str]
) -> None:
    typo = tmp_path / "no-such-dir" / "ledger.db"
    result = runner.invoke(app, [*args, "--database-url", f"sqlite:///{typo}"])
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert f"no ledger at sqlite:///{typo}" in line and "does not exist" in line and "--database-url" in line
    assert not typo.parent.exists()  # nothing created


@pytest.mark.parametrize("args", READ_COMMANDS[:3], ids=lambda a: " ".join(a[:2]))
def test_read_commands_refuse_a_missing_jsonfiles_directory(
    runner: CliRunner, tmp_path: Path, args: list[str]
) -> None:
    typo = tmp_path / "no-such-ledger"
    result = runner.invoke(app, [*args, "--database-url", f"jsonfiles://{typo}"])
    assert result.exit_code == 1
    assert "the directory" in one_error_line(result.stderr) and not typo.exists()
    typo.mkdir()  # an existing directory is a (here: empty) JSON-files ledger
    ok = runner.invoke(app, ["stats", "--owner", "ann", "--database-url", f"jsonfiles://{typo}"])
    assert ok.exit_code == 0, ok.output


def test_a_file_that_is_no_ledger_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()  # a valid, empty SQLite database without convoledger's schema
    result = runner.invoke(app, ["stats", "--owner", "a", "--database-url", f"sqlite:///{empty}"])
    assert "no convoledger schema" in one_error_line(result.stderr)
    assert empty.stat().st_size == 0  # not migrated
    text = tmp_path / "notes.db"
    text.write_text("these are my notes, not a database\n" * 100)
    result = runner.invoke(app, ["stats", "--owner", "a", "--database-url", f"sqlite:///{text}"])
    assert result.exit_code == 1 and "is not a SQLite database" in one_error_line(result.stderr)


def test_write_commands_still_create_the_ledger(runner: CliRunner, tmp_path: Path) -> None:
    fresh = tmp_path / "new-dir" / "ledger.db"
    created = runner.invoke(app, ["user", "create", "zed", "--database-url", f"sqlite:///{fresh}"])
    assert created.exit_code == 0 and fresh.is_file()
    listed = runner.invoke(app, ["stats", "--owner", "zed", "--database-url", f"sqlite:///{fresh}"])
    assert listed.exit_code == 0, listed.output


@pytest.mark.postgres
def test_postgres_without_the_schema_or_the_database_is_one_line(
    runner: CliRunner, postgres_url: str
) -> None:
    # A search_path naming no schema: the database exists but holds no convoledger tables there.
    no_schema = f"{postgres_url}?search_path=h16b_no_such_schema_{uuid.uuid4().hex[:8]}"
    result = runner.invoke(app, ["stats", "--owner", "a", "--database-url", no_schema])
    assert result.exit_code == 1
    assert "no convoledger schema" in one_error_line(result.stderr)
    missing_db = postgres_url.rsplit("/", 1)[0] + f"/h16b_missing_{uuid.uuid4().hex[:8]}"
    result = runner.invoke(app, ["stats", "--owner", "a", "--database-url", missing_db])
    assert result.exit_code == 1
    assert "does not exist" in one_error_line(result.stderr)


def test_an_unreachable_database_server_is_one_line_without_the_password(runner: CliRunner) -> None:
    url = "postgresql+asyncpg://postgres:s3cret@127.0.0.1:1/x"  # nothing listens on port 1
    result = runner.invoke(app, ["stats", "--owner", "a", "--database-url", url])
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert "cannot open the ledger at postgresql+asyncpg://postgres:***@127.0.0.1:1/x" in line
    assert "s3cret" not in result.stderr


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"convoledger {version('convoledger')}"


def _every_command_path() -> list[list[str]]:
    root = typer.main.get_command(app)
    paths: list[list[str]] = [[]]
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        paths += [[name, s] for s in sub] if sub else [[name]]
    return paths


@pytest.mark.parametrize("path", _every_command_path(), ids=lambda p: " ".join(p) or "convoledger")
def test_help_shows_no_bool_placeholder(runner: CliRunner, path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.stdout
    assert "--help" in result.stdout
