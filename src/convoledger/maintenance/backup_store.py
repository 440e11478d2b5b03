"""The backup store (seed 002 §10 ``SessionBackupService`` / ``AutomatedBackupManager``): a
directory of session bundles, one file per backup.

Layout under ``root``::

    <root>/<account, percent-encoded>/<backup_id>.json       the backup document
    <root>/<account, percent-encoded>/<backup_id>.meta.json  its header (for listings)
    <root>/.last_periodic_backup                            when the last periodic backup ran

``backup_id`` is ``<UTC time YYYYmmddTHHMMSSffffffZ>-<8 hex>``: ids sort by time, and retention
reads a backup's age from its name without opening it. A backup document is
``{"backup_id", "owner_id", "conversation_id", "session_id", "reason", "policy", "created_at",
"bundle"}`` where ``bundle`` is ``Ledger.export_bundle`` of the session (lossless:
``Ledger.restore_bundle`` gives it back exactly). Files are written to a temporary name, fsynced
and renamed, so a crash never leaves a half backup under a real id.

The default ``root`` (``default_backup_dir``): ``backups/`` next to a SQLite ledger file or inside
a JSON-files ledger directory, otherwise ``<user data dir>/convoledger/backups``.

Errors: ``OSError`` when the directory cannot be written or read; ``NotFound`` for an unknown
backup id (or one of another account).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import urllib.parse
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
import platformdirs
from pydantic import BaseModel, ConfigDict

from convoledger.errors import NotFound
from convoledger.models.timeutil import UtcDatetime, utcnow

#: A backup id: time to the microsecond, then 8 random hex digits.
BACKUP_ID = re.compile(r"^(\d{8}T\d{12}Z)-[0-9a-f]{8}$")
_STAMP = "%Y%m%dT%H%M%S%fZ"
_MARKER = ".last_periodic_backup"


class BackupReason(StrEnum):
    """Why a backup was taken: the periodic backup of active sessions, a policy deletion about
    to happen, or an operator's ``convoledger backup run``."""

    PERIODIC = "periodic"
    BEFORE_DELETE = "before_delete"
    MANUAL = "manual"


class BackupInfo(BaseModel):
    """A backup's header (what ``GET /api/backups`` and ``convoledger backup list`` show)."""

    model_config = ConfigDict(frozen=True)

    backup_id: str
    owner_id: str
    conversation_id: str
    session_id: str | None = None
    reason: BackupReason
    policy: str | None = None
    created_at: UtcDatetime
    size_bytes: int = 0


def default_backup_dir(database_url: str) -> Path:
    """Where backups go when no directory is configured (see the module docstring)."""
    scheme, _, rest = database_url.partition("://")
    if scheme.startswith("sqlite"):
        path = rest.removeprefix("/")
        if path and path != ":memory:":
            return Path(path).expanduser().parent / "backups"
    if scheme == "jsonfiles" and rest:
        return Path(rest).expanduser() / "_backups"
    return Path(platformdirs.user_data_dir("convoledger")) / "backups"


def backup_time(backup_id: str) -> datetime:
    """The creation time encoded in ``backup_id``; ``ValueError`` for a malformed id."""
    match = BACKUP_ID.match(backup_id)
    if match is None:
        raise ValueError(f"not a backup id: {backup_id!r} (expected YYYYmmddTHHMMSSffffffZ-xxxxxxxx)")
    return datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)


def _owner_dir_name(owner_id: str) -> str:
    return urllib.parse.quote(owner_id, safe="") or "%00"


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class BackupStore:
    """A directory of session backups (see the module docstring). Blocking file work runs in a
    worker thread, never on the event loop."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()

    def __repr__(self) -> str:
        return f"BackupStore({str(self.root)!r})"

    # -- writing ------------------------------------------------------------------------------
    async def write(
        self,
        owner_id: str,
        bundle: dict[str, Any],
        *,
        reason: BackupReason,
        policy: str | None = None,
        now: datetime | None = None,
    ) -> BackupInfo:
        """Store ``bundle`` (``Ledger.export_bundle`` of one session of ``owner_id``) as a new
        backup and return its header. ``OSError`` when the directory cannot be written."""
        created = (now or utcnow()).astimezone(UTC)
        backup_id = f"{created.strftime(_STAMP)}-{secrets.token_hex(4)}"
        conversation = bundle.get("conversation") or {}
        header = {
            "backup_id": backup_id,
            "owner_id": owner_id,
            "conversation_id": str(conversation.get("id", "")),
            "session_id": conversation.get("session_id"),
            "reason": reason.value,
            "policy": policy,
            "created_at": created.isoformat(),
        }
        document = orjson.dumps({**header, "bundle": bundle})
        folder = self.root / _owner_dir_name(owner_id)

        def work() -> None:
            folder.mkdir(parents=True, exist_ok=True)
            _write_atomic(folder / f"{backup_id}.json", document)
            meta = orjson.dumps({**header, "size_bytes": len(document)})
            _write_atomic(folder / f"{backup_id}.meta.json", meta)

        await asyncio.to_thread(work)
        return BackupInfo.model_validate({**header, "size_bytes": len(document)})

    # -- reading ------------------------------------------------------------------------------
    async def list_backups(self, owner_id: str | None = None, limit: int = 100) -> list[BackupInfo]:
        """The newest ``limit`` backups (of ``owner_id``; of every account when ``None``), newest
        first. ``ValueError`` for a limit outside 1 … 1000."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise ValueError(f"limit must be an integer from 1 to 1000, got {limit!r}")

        def work() -> list[BackupInfo]:
            folders = [self.root / _owner_dir_name(owner_id)] if owner_id is not None else self._owner_dirs()
            metas: list[Path] = []
            for folder in folders:
                try:
                    metas.extend(p for p in folder.iterdir() if p.name.endswith(".meta.json"))
                except (FileNotFoundError, NotADirectoryError):
                    continue
            metas.sort(key=lambda p: p.name, reverse=True)
            out: list[BackupInfo] = []
            for path in metas[:limit]:
                try:
                    out.append(BackupInfo.model_validate(orjson.loads(path.read_bytes())))
                except FileNotFoundError:  # removed by retention meanwhile
                    continue
            return out

        return await asyncio.to_thread(work)

    def _owner_dirs(self) -> list[Path]:
        try:
            return [p for p in self.root.iterdir() if p.is_dir()]
        except (FileNotFoundError, NotADirectoryError):  # nothing backed up yet
            return []

    def _find(self, backup_id: str, owner_id: str | None) -> Path:
        backup_time(backup_id)  # ValueError for a malformed id (never a path outside root)
        folders = [self.root / _owner_dir_name(owner_id)] if owner_id is not None else self._owner_dirs()
        for folder in folders:
            path = folder / f"{backup_id}.json"
            if path.is_file():
                return path
        raise NotFound(f"backup {backup_id!r} not found in {self.root}")

    async def read(self, backup_id: str, owner_id: str | None = None) -> dict[str, Any]:
        """The backup document ``backup_id`` (only ``owner_id``'s when given). ``NotFound`` when
        there is none, ``ValueError`` for a malformed id."""

        def work() -> dict[str, Any]:
            document: dict[str, Any] = orjson.loads(self._find(backup_id, owner_id).read_bytes())
            return document

        return await asyncio.to_thread(work)

    # -- periodic schedule and retention ------------------------------------------------------
    async def last_periodic_backup(self) -> datetime | None:
        """When the last periodic backup ran (``None``: never)."""

        def work() -> datetime | None:
            try:
                return datetime.fromisoformat((self.root / _MARKER).read_text().strip())
            except (FileNotFoundError, NotADirectoryError):  # never ran (or no directory yet)
                return None

        return await asyncio.to_thread(work)

    async def mark_periodic_backup(self, at: datetime) -> None:
        """Record that a periodic backup completed at ``at``."""

        def work() -> None:
            self.root.mkdir(parents=True, exist_ok=True)
            _write_atomic(self.root / _MARKER, at.astimezone(UTC).isoformat().encode())

        await asyncio.to_thread(work)

    async def expire(self, older_than: datetime) -> int:
        """Remove every backup created before ``older_than``; return how many (the seed's
        ``cleanup_old_backups``). Reads ages from the file names, one directory at a time."""
        cutoff = older_than.astimezone(UTC)

        def work() -> int:
            removed = 0
            for folder in self._owner_dirs():
                with os.scandir(folder) as entries:
                    for entry in entries:
                        if not entry.name.endswith(".json") or entry.name.endswith(".meta.json"):
                            continue
                        backup_id = entry.name.removesuffix(".json")
                        try:
                            created = backup_time(backup_id)
                        except ValueError:
                            continue  # not ours
                        if created < cutoff:
                            Path(entry.path).unlink(missing_ok=True)
                            (folder / f"{backup_id}.meta.json").unlink(missing_ok=True)
                            removed += 1
            return removed

        return await asyncio.to_thread(work)
