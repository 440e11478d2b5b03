"""CLI start-up (issue 15 item 5): ``--help`` and ``user create`` on an existing ledger load
neither the HTTP stack nor Alembic nor the model-client SDK; the head revision is known without
Alembic and agrees with it. (The timings themselves are in the issue note, measured with
``time``; a test asserts what makes them small.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from convoledger.store.sql import migrate

PROBE = """
import json, sys
from convoledger.cli import main
sys.argv = ["convoledger", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
heavy = {"fastapi", "alembic", "openai", "uvicorn"}
own = ("convoledger.api.app", "convoledger.importers")
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m in own)))
"""


def _loaded(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(args))], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_help_loads_nothing_heavy() -> None:
    assert _loaded("--help") == []


def test_user_create_on_an_existing_ledger_loads_nothing_heavy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    first = _loaded("user", "create", "alice", "--database-url", url)
    assert "alembic" in first  # the first open creates the schema with Alembic
    assert _loaded("user", "create", "bob", "--database-url", url) == []


def test_the_head_revision_read_from_the_files_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    assert migrate._scan_head() == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
