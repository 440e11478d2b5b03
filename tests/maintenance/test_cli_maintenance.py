"""``convoledger maintenance run | deletions | passes`` and ``backup run | list | restore`` as a
user runs them (subprocesses) on a SQLite ledger with time-travelled sessions."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from convoledger.backends import open_ledger
from convoledger.models.status import ConversationStatus as S
from maintenance.conftest import make_session
from serve_process import cli

HOUR, DAY = 3600.0, 86400.0


def test_maintenance_run_reports_counts_and_backup_restore_is_lossless(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    env = {"CONVOLEDGER_BACKUP_DIR": str(tmp_path / "backups"), "COLUMNS": "250"}  # tables unwrapped

    async def setup() -> tuple[str, str, dict[str, Any]]:
        async with open_ledger(url, owner="alice") as ledger:
            doomed = await make_session(
                ledger, created=2 * DAY, idle=25 * HOUR, status=S.INACTIVE, messages=3
            )
            idle = await make_session(ledger, created=3 * HOUR, idle=2 * HOUR)
            return doomed.id, idle.id, await ledger.export_bundle(doomed.id)

    doomed, idle, before = asyncio.run(setup())

    done = cli("maintenance", "run", database_url=url, env=env)
    assert done.returncode == 0, done.stderr
    counts = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in done.stdout.splitlines()
        if line.count("│") == 3
    }
    assert (
        counts["timed_out"] == "1" and counts["deleted_inactive"] == "1" and counts["backup_failures"] == "0"
    )

    listed = cli("maintenance", "deletions", "--owner", "alice", database_url=url, env=env)
    assert listed.returncode == 0 and "max_inactive_time" in listed.stdout, listed.stderr
    passes = cli("maintenance", "passes", database_url=url, env=env)
    assert passes.returncode == 0 and "cli@" in passes.stdout

    backups = cli("backup", "list", "--owner", "alice", database_url=url, env=env)
    assert backups.returncode == 0 and "before_delete" in backups.stdout, backups.stderr
    backup_id = next(
        p.name.removesuffix(".json") for p in (tmp_path / "backups" / "alice").glob("*Z-????????.json")
    )
    restored = cli("backup", "restore", backup_id, database_url=url, env=env)
    assert restored.returncode == 0, restored.stderr

    async def after() -> tuple[dict[str, Any], S]:
        async with open_ledger(url, owner="alice") as ledger:
            return await ledger.export_bundle(doomed), (
                await ledger.store.get_conversation("alice", idle)
            ).status

    bundle, idle_status = asyncio.run(after())
    assert bundle == before  # export → backup → restore → export identical
    assert idle_status is S.INACTIVE_TIMEOUT

    again = cli("backup", "restore", backup_id, database_url=url, env=env)
    assert again.returncode == 1 and again.stderr.startswith("error:")  # it exists now: a clear error
    manual = cli("backup", "run", "--owner", "alice", database_url=url, env=env)
    assert manual.returncode == 0 and "0 sessions backed up" in manual.stdout  # none active now


def test_maintenance_run_fails_clearly_when_backups_cannot_be_written(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    blocker = tmp_path / "file"
    blocker.write_text("x")

    async def setup() -> str:
        async with open_ledger(url, owner="bob") as ledger:
            return (await make_session(ledger, created=9 * DAY, idle=60)).id

    kept = asyncio.run(setup())
    done = cli("maintenance", "run", "--backup-dir", str(blocker / "b"), database_url=url)
    assert done.returncode == 1 and "could not be written" in done.stderr, done.stdout + done.stderr

    async def status() -> S:
        async with open_ledger(url, owner="bob") as ledger:
            return (await ledger.store.get_conversation("bob", kept)).status

    assert asyncio.run(status()) is S.ACTIVE


def test_sweep_cleanup_backs_up_and_records_before_deleting(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    env = {"CONVOLEDGER_BACKUP_DIR": str(tmp_path / "backups")}

    async def setup() -> str:
        async with open_ledger(url, owner="carol") as ledger:
            record = await make_session(ledger, created=9 * DAY, idle=8 * DAY, status=S.ARCHIVED)
            return str(record.session_id)

    archived = asyncio.run(setup())
    done = cli("sweep", "--cleanup", database_url=url, env=env)
    assert done.returncode == 0, done.stderr
    assert "1 sessions deleted" in done.stdout
    assert len(list((tmp_path / "backups" / "carol").glob("*Z-????????.json"))) == 1
    listed = cli("maintenance", "deletions", database_url=url, env={**env, "COLUMNS": "250"})
    assert archived in listed.stdout and "max_session_age" in listed.stdout
