"""The names ``convoledger import --format`` accepts, without loading any importer.

``FORMAT_NAMES`` lists the formats of ``convoledger.importers.FORMATS`` in the same order (a test,
``tests/cli/test_cli_import.py``, fails when they differ); ``AUTO`` asks for detection. The CLI
reads these names to offer ``--format`` as a choice checked before any work starts, while the
importers themselves (~70 ms of imports) load only when a command imports something.
"""

from __future__ import annotations

#: The ``format`` value that asks for detection from the first records.
AUTO = "auto"

#: Every importer's format name, in ``importers.PARSERS`` order.
FORMAT_NAMES: tuple[str, ...] = (
    "openai",
    "sharegpt",
    "sgd",
    "chitchat",
    "oasst",
    "chatdev",
    "oasst-flat",
    "dialogstudio",
    "bfcl",
    "tooltalk",
    "swe-agent",
    "tau-bench-few-shot",
    "toolbench",
    "hh-rlhf",
    "topical-chat",
    "bundle",
    "sgd-schema",
    "bfcl-functions",
)
