"""The ``convoledger`` CLI: every command on a SQLite file, errors as one line + exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
from cli_helpers import chitchat_lines as _chitchat_lines
from typer.testing import CliRunner

from convoledger.cli import app


def test_user_create_prints_the_token_alone_and_tokens_differ(runner: CliRunner, db: str) -> None:
    first = runner.invoke(app, ["user", "create", "alice", "--database-url", db])
    second = runner.invoke(app, ["user", "create", "alice", "--database-url", db])
    assert first.exit_code == 0, first.output
    token = first.stdout.strip()
    assert "\n" not in token and len(token) >= 32
    assert second.stdout.strip() != token


def test_import_is_idempotent_and_reports_bad_lines(runner: CliRunner, db: str, tmp_path: Path) -> None:
    lines = _chitchat_lines(3)
    source = tmp_path / "chat.jsonl"
    source.write_text("\n".join([lines[0], "{not json", lines[1], '{"no": "messages"}', lines[2]]) + "\n")
    args = ["import", str(source), "--format", "chitchat", "--owner", "bob", "--database-url", db]
    first = runner.invoke(app, args)
    assert first.exit_code == 2, first.output  # some records skipped (issue 16 item 7)
    assert "imported 3 conversations" in first.stdout
    assert "line 2" in first.stderr and "line 4" in first.stderr
    second = runner.invoke(app, args)
    assert "imported 0 conversations" in second.stdout and "3 already present" in second.stdout
    stats = runner.invoke(app, ["stats", "--owner", "bob", "--database-url", db])
    assert stats.exit_code == 0
    expected_messages = sum(sum(len(turn) for turn in json.loads(line)["messages"]) for line in lines)
    assert (
        f"messages             │ {expected_messages}" in stats.stdout
        or str(expected_messages) in stats.stdout
    )
    listing = runner.invoke(app, ["sessions", "list", "--owner", "bob", "--database-url", db])
    assert "3 sessions" in listing.stdout
    assert "chitchat:" in listing.stdout


def test_export_and_show_a_session(runner: CliRunner, db: str, tmp_path: Path) -> None:
    source = tmp_path / "one.jsonl"
    source.write_text(_chitchat_lines(1)[0] + "\n")
    runner.invoke(app, ["import", str(source), "-f", "chitchat", "--owner", "carol", "--database-url", db])
    record = json.loads(source.read_text())
    first_text = record["messages"][0][0]["text"]
    bundle_path = tmp_path / "bundle.json"
    # The importers' external id: chitchat:<conversation_id>.
    session = f"chitchat:{record['conversation_id']}"
    exported = runner.invoke(
        app, ["export", session, "--owner", "carol", "-o", str(bundle_path), "--database-url", db]
    )
    assert exported.exit_code == 0, exported.output
    document = orjson.loads(bundle_path.read_bytes())
    bundle = document["convoledger_bundle"]  # the lossless bundle inside the seed's document
    assert bundle["format"] == "convoledger.bundle"
    assert bundle["messages"][0]["content"] == first_text
    assert document["session"]["session_id"] == session
    assert document["messages"][0]["content"] == first_text
    as_csv = runner.invoke(app, ["export", session, "--owner", "carol", "-f", "csv", "--database-url", db])
    header = "message_id,role,content,tool_call_id,tool_name,created_at,updated_at,seq"
    assert as_csv.stdout.splitlines()[0].startswith(header)
    shown = runner.invoke(app, ["show", session, "--owner", "carol", "--database-url", db])
    assert shown.exit_code == 0
    assert first_text[:30] in shown.stdout.replace("\n", " ") or first_text.split()[0] in shown.stdout


def test_errors_are_one_line_and_exit_1(runner: CliRunner, db: str, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["show", "nope", "--owner", "dave", "--database-url", db])
    assert missing.exit_code == 1
    assert missing.stderr.strip().startswith("error:") and len(missing.stderr.strip().splitlines()) == 1
    bad_format = tmp_path / "x.jsonl"
    bad_format.write_text("{}\n")
    wrong = runner.invoke(
        app, ["import", str(bad_format), "-f", "klingon", "--owner", "d", "--database-url", db]
    )
    assert wrong.exit_code == 1 and "klingon" in wrong.stderr
    no_file = runner.invoke(
        app, ["import", str(tmp_path / "none"), "-f", "sgd", "--owner", "d", "--database-url", db]
    )
    assert no_file.exit_code == 1 and "no such file" in no_file.stderr
    bad_url = runner.invoke(app, ["stats", "--owner", "d", "--database-url", "mysql://x"])
    assert bad_url.exit_code == 1 and "unsupported ledger URL" in bad_url.stderr


def test_db_upgrade_and_sweep(runner: CliRunner, db: str) -> None:
    up = runner.invoke(app, ["db", "upgrade", "--database-url", db])
    assert up.exit_code == 0, up.output
    assert "newest schema" in up.stdout
    again = runner.invoke(app, ["db", "upgrade", "--database-url", db])
    assert again.exit_code == 0
    swept = runner.invoke(app, ["sweep", "--database-url", db])
    assert swept.exit_code == 0 and "lifecycle transitions" in swept.stdout
    refused = runner.invoke(app, ["db", "upgrade", "--database-url", "memory://"])
    assert refused.exit_code == 1


def test_demo_prints_real_transcripts_and_a_summary(runner: CliRunner) -> None:
    result = runner.invoke(app, ["demo", "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert "Conversation" in result.stdout and "ConversationSession" in result.stdout
    assert "current_goal" in result.stdout
    # 284 records; the 30 OASST trees are 167 conversations (one per branch, issue 17)
    assert "Read 421 conversations" in result.stdout


def test_providers_lists_the_registry(runner: CliRunner) -> None:
    result = runner.invoke(app, ["providers"])
    assert result.exit_code == 0
    for name in ("openai", "anthropic", "google", "bedrock", "ollama"):
        assert name in result.stdout


def test_quickstart_imports_the_sample_without_serving(runner: CliRunner, db: str) -> None:
    result = runner.invoke(app, ["quickstart", "--no-serve", "--database-url", db, "--owner", "demo"])
    assert result.exit_code == 0, result.output
    assert "sample: 421 conversations imported" in result.stdout  # OASST trees as branches
    token_line = next(line for line in result.stdout.splitlines() if line.startswith("token for account"))
    assert len(token_line.split(": ", 1)[1].strip()) >= 32
    again = runner.invoke(app, ["quickstart", "--no-serve", "--database-url", db, "--owner", "demo"])
    assert "0 conversations imported" in again.stdout and "421 already present" in again.stdout


def test_import_detects_the_format_and_refuses_a_tie(runner: CliRunner, db: str, tmp_path: Path) -> None:
    source = tmp_path / "chat.jsonl"
    source.write_text("\n".join(_chitchat_lines(2)) + "\n")
    result = runner.invoke(app, ["import", str(source), "--owner", "ann", "--database-url", db])
    assert result.exit_code == 0, result.output
    assert "format: detected 'chitchat'" in result.stderr
    assert "imported 2 conversations" in result.stdout and "as chitchat" in result.stdout
    tie = tmp_path / "tie.jsonl"
    tie.write_text(
        json.dumps(
            {"messages_display": "user: hi", "log": [{"user utterance": "hi", "system response": "yo"}]}
        )
        + "\n"
    )
    refused = runner.invoke(app, ["import", str(tie), "--owner", "ann", "--database-url", db])
    assert refused.exit_code == 1
    assert "'dialogstudio' and 'tau-bench-few-shot' equally well" in refused.stderr
    unknown = tmp_path / "unknown.jsonl"
    unknown.write_text('{"hello": 1}\n')
    refused = runner.invoke(app, ["import", str(unknown), "--owner", "ann", "--database-url", db])
    assert refused.exit_code == 1 and "no known format fits" in refused.stderr


def test_export_then_import_bundle_restores_it_exactly(runner: CliRunner, db: str, tmp_path: Path) -> None:
    source = tmp_path / "one.jsonl"
    source.write_text(_chitchat_lines(1)[0] + "\n")
    runner.invoke(app, ["import", str(source), "--owner", "eve", "--database-url", db])
    session = json.loads(_chitchat_lines(1)[0])["conversation_id"]
    out = tmp_path / "bundle.json"
    exported = runner.invoke(
        app, ["export", f"chitchat:{session}", "--owner", "eve", "-o", str(out), "--database-url", db]
    )
    assert exported.exit_code == 0, exported.output
    for fmt in ([], ["--format", "bundle"]):
        other = f"sqlite:///{tmp_path}/other-{len(fmt)}.db"
        restored = runner.invoke(app, ["import", str(out), *fmt, "--owner", "eve", "--database-url", other])
        assert restored.exit_code == 0, restored.output
        assert "imported 1 conversations" in restored.stdout and "as bundle" in restored.stdout
        again = tmp_path / f"again-{len(fmt)}.json"
        runner.invoke(
            app,
            ["export", f"chitchat:{session}", "--owner", "eve", "-o", str(again), "--database-url", other],
        )
        assert orjson.loads(again.read_bytes()) == orjson.loads(out.read_bytes())
    twice = runner.invoke(app, ["import", str(out), "--owner", "eve", "--database-url", db])
    assert "1 already present" in twice.stdout


def test_import_with_a_map(runner: CliRunner, db: str, tmp_path: Path) -> None:
    source = tmp_path / "chat.jsonl"
    source.write_text("\n".join(_chitchat_lines(2)) + "\n")
    mapping = Path(__file__).resolve().parents[2] / "docs" / "mappings" / "chitchat.toml"
    result = runner.invoke(
        app, ["import", str(source), "--map", str(mapping), "--owner", "m", "--database-url", db]
    )
    assert result.exit_code == 0, result.output
    assert "imported 2 conversations" in result.stdout and "as map:ccc" in result.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text("[message]\nrole = 'r'\n")
    refused = runner.invoke(
        app, ["import", str(source), "--map", str(bad), "--owner", "m", "--database-url", db]
    )
    assert refused.exit_code == 1 and "bad.toml" in refused.stderr
