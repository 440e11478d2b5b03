"""Fixtures for the importer tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from importer_helpers import CONVERSATIONS


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``../shared/data/conversations`` beside the repository (fails clearly if missing)."""
    if not CONVERSATIONS.is_dir():
        pytest.fail(f"the shared data folder is missing: {CONVERSATIONS}")
    return CONVERSATIONS
