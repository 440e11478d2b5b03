"""Fixtures for the provider tests: the recorded real responses in ``../shared``.

``shared/`` sits beside the repository (CI clones it there too), so the path is computed from this
file: ``<repo>/tests/providers/conftest.py`` → ``<repo>/../shared/data/provider_responses``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "provider_responses"


class Recorded:
    """Access to one recorded response: its text, index record, headers and request body."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.index = {rec["file"]: rec for rec in json.loads((root / "index.json").read_text())}

    def text(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    def json(self, rel: str) -> Any:
        return json.loads(self.text(rel))

    def headers(self, rel: str) -> dict[str, str]:
        return dict(self.index[rel].get("response_headers") or {})

    def request(self, rel: str) -> dict[str, Any]:
        request_file = self.index[rel]["request_file"]
        assert request_file, f"{rel} has no recorded request"
        return self.json(request_file)


@pytest.fixture(scope="session")
def recorded() -> Recorded:
    """The recorded provider responses (fails loudly when ../shared is missing)."""
    assert DATA.is_dir(), f"shared provider responses not found at {DATA}"
    return Recorded(DATA)
