"""``show --last N`` says "N of M messages" and ``sessions list`` reads at 80 columns (issue 16
item 10), on real chitchat conversations (their ids are the longest of the sample: 45
characters)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import chitchat_lines
from typer.testing import CliRunner

from convoledger.cli import app


@pytest.fixture
def chats(runner: CliRunner, db: str, tmp_path: Path) -> list[dict[str, object]]:
    """Six chitchat conversations imported for account ``ann``; their source records."""
    lines = chitchat_lines(6)
    source = tmp_path / "chat.jsonl"
    source.write_text("\n".join(lines) + "\n")
    done = runner.invoke(app, ["import", str(source), "--owner", "ann", "--database-url", db])
    assert done.exit_code == 0, done.output
    return [json.loads(line) for line in lines]


def _size(record: dict[str, object]) -> int:
    turns = record["messages"]
    assert isinstance(turns, list)
    return sum(len(turn) for turn in turns)


def test_show_last_says_how_many_of_how_many(
    runner: CliRunner, db: str, chats: list[dict[str, object]]
) -> None:
    longest = max(chats, key=_size)
    total = _size(longest)
    assert total > 8
    session = f"chitchat:{longest['conversation_id']}"
    part = runner.invoke(app, ["show", session, "--owner", "ann", "--last", "8", "--database-url", db])
    assert part.exit_code == 0, part.output
    assert f"messages      8 of {total}" in part.stdout
    assert part.stdout.count("\n#") == 8
    whole = runner.invoke(app, ["show", session, "--owner", "ann", "--database-url", db])
    assert (
        f"messages      {total} " in whole.stdout and " of " not in whole.stdout.split("messages", 1)[1][:20]
    )
    beyond = runner.invoke(
        app, ["show", session, "--owner", "ann", "--last", str(total + 5), "--database-url", db]
    )
    assert f"messages      {total} " in beyond.stdout


def test_sessions_list_fits_80_columns_with_whole_session_names(
    runner: CliRunner, db: str, chats: list[dict[str, object]]
) -> None:
    result = runner.invoke(
        app, ["sessions", "list", "--owner", "ann", "--database-url", db], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "6 sessions" in result.stdout
    for record in chats:
        name = f"chitchat:{record['conversation_id']}"
        (row,) = [line for line in lines if name in line]  # the whole name, on one line
        assert row.split()[1:3] == ["active", str(_size(record))]
        title = " ".join(str(record["prompt"]).split())
        under = lines[lines.index(row) + 1].strip()
        assert title.startswith(under.rstrip("…")) and len(under) <= len(name)
    assert "kind" not in lines[1]


def test_sessions_list_shows_the_kind_on_a_wide_terminal(
    runner: CliRunner, db: str, chats: list[dict[str, object]]
) -> None:
    result = runner.invoke(
        app, ["sessions", "list", "--owner", "ann", "--database-url", db], env={"COLUMNS": "120"}
    )
    assert result.exit_code == 0, result.output
    assert "kind" in result.stdout and "chat_session" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 120
