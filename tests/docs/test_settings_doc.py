"""The configuration reference is generated from the settings model (issue 16 item 11): the
committed ``docs/configuration.md`` and the README's table must equal what
``python -m convoledger.settings_doc`` writes, and every setting must be described."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from convoledger.settings import Settings
from convoledger.settings_doc import (
    CONFIGURATION_DOC,
    END_MARKER,
    README,
    START_MARKER,
    configuration_markdown,
    env_name,
    main,
    readme_with_settings,
    settings_table,
    stale_files,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_configuration_doc_is_the_generated_one() -> None:
    committed = (ROOT / CONFIGURATION_DOC).read_text(encoding="utf-8")
    assert committed == configuration_markdown(), (
        "docs/configuration.md differs from src/convoledger/settings.py; "
        "run: python -m convoledger.settings_doc"
    )


def test_the_readme_table_is_the_generated_one() -> None:
    readme = (ROOT / README).read_text(encoding="utf-8")
    assert readme == readme_with_settings(readme), (
        "README.md's configuration table differs from src/convoledger/settings.py; "
        "run: python -m convoledger.settings_doc"
    )
    section = readme.split(START_MARKER, 1)[1].split(END_MARKER, 1)[0]
    assert settings_table() in section


def test_the_check_command_passes_on_the_repository() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "convoledger.settings_doc", "--check", "--root", str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_setting_is_described_and_documented() -> None:
    table = settings_table()
    for name, field in Settings.model_fields.items():
        assert field.description and len(field.description) > 20, f"{env_name(name)} has no description"
        assert f"| `{env_name(name)}` |" in table
    assert "(undocumented)" not in table
    assert table.count("\n") == len(Settings.model_fields) + 2


def test_defaults_and_types_are_rendered_from_the_model() -> None:
    rows = {line.split("|")[1].strip(): line for line in settings_table().splitlines()[2:]}
    assert "| number | `3600` |" in rows["`CONVOLEDGER_DEFAULT_TIMEOUT`"]
    assert "| `chat` \\| `responses` | `chat` |" in rows["`CONVOLEDGER_OPENAI_API`"]
    assert "| `true` \\| `false` | `false` |" in rows["`CONVOLEDGER_OPENAI_STREAM`"]
    assert "| text | unset |" in rows["`CONVOLEDGER_REDIS_URL`"]
    assert "| integer | `8000` |" in rows["`CONVOLEDGER_CONTEXT_BUDGET_TOKENS`"]


def test_a_stale_copy_is_reported_and_regenerated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / README, tmp_path / README)
    (tmp_path / CONFIGURATION_DOC).write_text("# Configuration\n\nout of date\n")
    readme = (tmp_path / README).read_text()
    (tmp_path / README).write_text(readme.replace("`CONVOLEDGER_AGENT`", "`CONVOLEDGER_AGENT_OLD`"))
    assert set(stale_files(tmp_path)) == {tmp_path / CONFIGURATION_DOC, tmp_path / README}
    assert main(["--check", "--root", str(tmp_path)]) == 1
    assert "differs from the settings model" in capsys.readouterr().out
    assert main(["--root", str(tmp_path)]) == 0
    assert stale_files(tmp_path) == []
    assert (tmp_path / README).read_text() == readme


def test_a_readme_without_markers_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / README).write_text("# no markers here\n")
    assert main(["--root", str(tmp_path)]) == 1
    assert "lacks the markers" in capsys.readouterr().err
