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

``root`` may also be an fsspec URL (``s3://bucket/backups`` with ``s3fs``, ``gcs://…`` with
``gcsfs``, ``memory://…``): the same layout, written with one ``pipe_file`` per file.

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


class _LocalFiles:
    """The backup files on a local directory: atomic writes (temporary file, fsync, rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, parts: tuple[str, ...], data: bytes) -> None:
        path = self.root.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def read(self, parts: tuple[str, ...]) -> bytes:
        return self.root.joinpath(*parts).read_bytes()

    def names(self, parts: tuple[str, ...], *, dirs: bool) -> list[str]:
        """Names of the sub-directories (``dirs``) or files in ``parts``; ``[]`` if missing."""
        try:
            with os.scandir(self.root.joinpath(*parts)) as entries:
                return [e.name for e in entries if e.is_dir() == dirs]
        except (FileNotFoundError, NotADirectoryError):
            return []

    def remove(self, parts: tuple[str, ...]) -> None:
        self.root.joinpath(*parts).unlink(missing_ok=True)


class _FsspecFiles:
    """The backup files behind an fsspec URL (``s3://bucket/prefix``, ``gcs://…``,
    ``memory://…``): one ``pipe_file`` per file (object stores write an object atomically)."""

    def __init__(self, url: str) -> None:
        import fsspec  # type: ignore[import-untyped]

        self.fs, self.base = fsspec.core.url_to_fs(url)

    def _path(self, parts: tuple[str, ...]) -> str:
        return "/".join((self.base.rstrip("/"), *parts))

    def write(self, parts: tuple[str, ...], data: bytes) -> None:
        path = self._path(parts)
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        self.fs.pipe_file(path, data)

    def read(self, parts: tuple[str, ...]) -> bytes:
        data: bytes = self.fs.cat_file(self._path(parts))
        return data

    def names(self, parts: tuple[str, ...], *, dirs: bool) -> list[str]:
        try:
            entries = self.fs.ls(self._path(parts), detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return []
        wanted = "directory" if dirs else "file"
        return [str(e["name"]).rstrip("/").rsplit("/", 1)[-1] for e in entries if e.get("type") == wanted]

    def remove(self, parts: tuple[str, ...]) -> None:
        path = self._path(parts)
        if self.fs.exists(path):
            self.fs.rm_file(path)


def _is_url(location: str | Path) -> bool:
    return isinstance(location, str) and "://" in location and not location.startswith("file://")


class BackupStore:
    """A directory of session backups (see the module docstring): a local directory, or any
    fsspec URL (``s3://bucket/backups`` with ``s3fs`` installed, ``memory://backups``, …).
    Blocking file work runs in a worker thread, never on the event loop."""

    def __init__(self, root: str | Path) -> None:
        self.location = str(root)
        if _is_url(root):
            self.root: Path | str = str(root)
            self._files: _LocalFiles | _FsspecFiles = _FsspecFiles(str(root))
        else:
            local = Path(str(root).removeprefix("file://")).expanduser()
            self.root = local
            self._files = _LocalFiles(local)

    def __repr__(self) -> str:
        return f"BackupStore({self.location!r})"

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
        folder = _owner_dir_name(owner_id)

        def work() -> None:
            self._files.write((folder, f"{backup_id}.json"), document)
            self._files.write(
                (folder, f"{backup_id}.meta.json"), orjson.dumps({**header, "size_bytes": len(document)})
            )

        await asyncio.to_thread(work)
        return BackupInfo.model_validate({**header, "size_bytes": len(document)})

    # -- reading ------------------------------------------------------------------------------
    def _folders(self, owner_id: str | None) -> list[str]:
        return [_owner_dir_name(owner_id)] if owner_id is not None else self._files.names((), dirs=True)

    async def list_backups(self, owner_id: str | None = None, limit: int = 100) -> list[BackupInfo]:
        """The newest ``limit`` backups (of ``owner_id``; of every account when ``None``), newest
        first. ``ValueError`` for a limit outside 1 … 1000."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise ValueError(f"limit must be an integer from 1 to 1000, got {limit!r}")

        def work() -> list[BackupInfo]:
            metas = [
                (name, folder)
                for folder in self._folders(owner_id)
                for name in self._files.names((folder,), dirs=False)
                if name.endswith(".meta.json")
            ]
            metas.sort(reverse=True)
            out: list[BackupInfo] = []
            for name, folder in metas[:limit]:
                try:
                    out.append(BackupInfo.model_validate(orjson.loads(self._files.read((folder, name)))))
                except FileNotFoundError:  # removed by retention meanwhile
                    continue
            return out

        return await asyncio.to_thread(work)

    async def read(self, backup_id: str, owner_id: str | None = None) -> dict[str, Any]:
        """The backup document ``backup_id`` (only ``owner_id``'s when given). ``NotFound`` when
        there is none, ``ValueError`` for a malformed id (never a path outside the store)."""
        backup_time(backup_id)

        def work() -> dict[str, Any]:
            for folder in self._folders(owner_id):
                try:
                    document: dict[str, Any] = orjson.loads(self._files.read((folder, f"{backup_id}.json")))
                except (FileNotFoundError, NotADirectoryError):
                    continue
                return document
            raise NotFound(f"backup {backup_id!r} not found in {self.location}")

        return await asyncio.to_thread(work)

    # -- periodic schedule and retention ------------------------------------------------------
    async def last_periodic_backup(self) -> datetime | None:
        """When the last periodic backup ran (``None``: never)."""

        def work() -> datetime | None:
            try:
                return datetime.fromisoformat(self._files.read((_MARKER,)).decode().strip())
            except (FileNotFoundError, NotADirectoryError):  # never ran (or no directory yet)
                return None

        return await asyncio.to_thread(work)

    async def mark_periodic_backup(self, at: datetime) -> None:
        """Record that a periodic backup completed at ``at``."""
        stamp = at.astimezone(UTC).isoformat().encode()
        await asyncio.to_thread(self._files.write, (_MARKER,), stamp)

    async def expire(self, older_than: datetime) -> int:
        """Remove every backup created before ``older_than``; return how many (the seed's
        ``cleanup_old_backups``). Reads ages from the file names, one directory at a time."""
        cutoff = older_than.astimezone(UTC)

        def work() -> int:
            removed = 0
            for folder in self._files.names((), dirs=True):
                for name in self._files.names((folder,), dirs=False):
                    if not name.endswith(".json") or name.endswith(".meta.json"):
                        continue
                    backup_id = name.removesuffix(".json")
                    try:
                        created = backup_time(backup_id)
                    except ValueError:
                        continue  # not ours
                    if created < cutoff:
                        self._files.remove((folder, name))
                        self._files.remove((folder, f"{backup_id}.meta.json"))
                        removed += 1
            return removed

        return await asyncio.to_thread(work)
