"""The recorded real provider responses in ``../shared/data/provider_responses`` (README.md,
FIELDS.md and index.json there), for the provider and seed tests.

``shared/`` sits beside the repository (CI clones it there too), so the path is computed from this
file: ``<repo>/tests/recorded_responses.py`` → ``<repo>/../shared/data/provider_responses``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: ``../shared/data/provider_responses`` beside the repository (FIELDS.md, index.json).
PROVIDER_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "provider_responses"


class Recorded:
    """One folder of recorded responses: file text, JSON, the index record, headers, request."""

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
