"""Fixtures of the CLI tests: a ``CliRunner`` and a fresh SQLite ledger URL per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner


@pytest.fixture
def runner() -> CliRunner:
    """Invokes ``convoledger.cli.app`` in-process (stdout and stderr captured apart)."""
    return CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A SQLite ledger URL under ``tmp_path`` (the file does not exist yet)."""
    return f"sqlite:///{tmp_path / 'cli.db'}"
