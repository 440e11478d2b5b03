"""Reference files that sit beside conversation data but hold none (formats ``sgd-schema`` and
``bfcl-functions``).

- ``sgd-schema``: the Schema-Guided Dialogue service schemas (``{train,dev,test}/schema.json``, a
  JSON array of ``{service_name, description, slots[], intents[]}``): what each service's intents
  and slots mean;
- ``bfcl-functions``: BFCL's multi-turn function docs (``multi_turn_func_doc/*.json`` joined into
  one object ``{api class file stem: [{name, description, parameters, response}]}``).

Importing one is not an error and stores nothing: each record is recognised, counted and
reported as ``ReferenceData`` (so an import of every file of a data folder reads these too and
says what they are); a record that does not have the shape is a ``RecordError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from convoledger.importers.common import DEFAULT_OWNER, ImportResult, RecordError, ReferenceData
from convoledger.importers.reader import UnreadableRecord


def is_sgd_schema(record: Any) -> bool:
    """An SGD service schema: ``service_name`` with ``intents`` and ``slots`` lists."""
    return (
        isinstance(record, dict)
        and isinstance(record.get("service_name"), str)
        and isinstance(record.get("intents"), list)
        and isinstance(record.get("slots"), list)
    )


def is_bfcl_functions(record: Any) -> bool:
    """BFCL function docs: an object of lists of ``{name, description, parameters}``."""
    return (
        isinstance(record, dict)
        and bool(record)
        and all(
            isinstance(docs, list)
            and bool(docs)
            and all(isinstance(d, dict) and "name" in d and "parameters" in d for d in docs)
            for docs in record.values()
        )
    )


def _reference(
    records: Iterable[tuple[int, Any]], check: Any, what: str, describe: Any
) -> Iterator[ImportResult]:
    for line, record in records:
        if isinstance(record, UnreadableRecord):
            yield RecordError(line, record.reason)
        elif not check(record):
            yield RecordError(line, f"not {what}")
        else:
            yield ReferenceData(describe(record), line)


def parse_sgd_schema(
    records: Iterable[tuple[int, Any]], *, owner_id: str = DEFAULT_OWNER, imported_at: datetime | None = None
) -> Iterator[ImportResult]:
    """One ``ReferenceData`` per SGD service schema (nothing is stored; module docstring)."""
    return _reference(
        records,
        is_sgd_schema,
        "an SGD service schema",
        lambda r: (
            f"SGD service schema {r['service_name']} ({len(r['intents'])} intents, {len(r['slots'])} slots)"
        ),
    )


def parse_bfcl_functions(
    records: Iterable[tuple[int, Any]], *, owner_id: str = DEFAULT_OWNER, imported_at: datetime | None = None
) -> Iterator[ImportResult]:
    """One ``ReferenceData`` per BFCL function-doc object (nothing is stored; module docstring)."""
    return _reference(
        records,
        is_bfcl_functions,
        "BFCL function docs",
        lambda r: f"BFCL function docs: {sum(len(v) for v in r.values())} functions of {len(r)} API classes",
    )
