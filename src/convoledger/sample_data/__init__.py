"""The small real sample shipped inside the package (for ``convoledger demo`` and the sample import).

Files: ``<name>.jsonl.gz`` records copied unchanged from the shared data collection (see
``NOTICE.md`` for sources, commits and licences, ``LICENSES/`` for the licence texts) and
``manifest.json`` listing each file's ``format`` and record count. ``iter_sample()`` imports them
all with ``convoledger.importers``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from importlib import resources
from typing import Any

from convoledger.importers import DEFAULT_OWNER, ImportedConversation, open_records, parse

_PACKAGE = "convoledger.sample_data"


def manifest() -> list[dict[str, Any]]:
    """The sample's files: ``[{"file", "format", "records", "source", "upstream", "license", …}]``."""
    text = resources.files(_PACKAGE).joinpath("manifest.json").read_text(encoding="utf-8")
    files: list[dict[str, Any]] = json.loads(text)["files"]
    return files


def notice() -> str:
    """The text of ``NOTICE.md`` (sources and licences of the bundled data)."""
    return resources.files(_PACKAGE).joinpath("NOTICE.md").read_text(encoding="utf-8")


def iter_sample(
    *,
    owner_id: str = DEFAULT_OWNER,
    imported_at: datetime | None = None,
    formats: set[str] | None = None,
) -> Iterator[tuple[str, ImportedConversation]]:
    """Yield ``(format, conversation)`` for every conversation of the bundled sample, file by file.

    ``formats`` keeps only those formats (default: all). The ids are the importers'
    deterministic ids for ``owner_id``, so importing the sample twice adds nothing. Raises
    ``ValueError`` if a bundled record does not import (the sample is meant to be clean).
    """
    for entry in manifest():
        fmt = entry["format"]
        if formats is not None and fmt not in formats:
            continue
        with ExitStack() as stack:
            path = stack.enter_context(resources.as_file(resources.files(_PACKAGE).joinpath(entry["file"])))
            for result in parse(fmt, open_records(path), owner_id=owner_id, imported_at=imported_at):
                if not isinstance(result, ImportedConversation):
                    raise ValueError(f"bundled sample {entry['file']}: {result}")
                yield fmt, result
