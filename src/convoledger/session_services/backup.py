"""``SessionBackupService`` and ``SessionRecoveryService`` (agent-session seed, section 10)."""

from __future__ import annotations

from typing import Any

from convoledger.ledger import Ledger
from convoledger.models.agent_session import AgentSession
from convoledger.models.seed_backup import seed_csv
from convoledger.session_services._common import ref_text, user_key

__all__ = ["SessionBackupService", "SessionRecoveryService"]


class SessionBackupService:
    """Service for session backup and export functionality (seed §10), over a ``Ledger``."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def export_session_data(self, session_id: Any, format: str = "json") -> Any:
        """Export complete session data including messages (seed §10).

        ``"json"``: the seed's ``{"session": {...}, "messages": [...]}`` (its keys, ``extra_data``
        parsed) with convoledger's lossless bundle beside them under ``"convoledger_bundle"``
        (``Ledger.export_document``); ``"csv"``: ``convert_to_csv`` of it (a ``str``);
        ``ValueError("Unsupported export format: …")`` otherwise, before any read.
        """
        if format not in ("json", "csv"):
            raise ValueError(f"Unsupported export format: {format}")
        export_data = await self.ledger.export_document(ref_text(session_id))
        if format == "json":
            return export_data
        return self.convert_to_csv(export_data)

    def convert_to_csv(self, export_data: dict[str, Any]) -> str:
        """Convert session data to CSV format (seed §10): the seed's seven columns
        (``message_id, role, content, tool_call_id, tool_name, created_at, updated_at``)."""
        return seed_csv(export_data)


class SessionRecoveryService:
    """Service for session recovery and restoration (seed §10), over a ``Ledger``."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def restore_session_from_backup(self, backup_data: dict[str, Any], user_id: Any) -> AgentSession:
        """Restore session from backup data (seed §10) for ``user_id`` and return it.

        ``SessionExists`` — a ``ValueError``, as the seed raises, and a ``Conflict`` — with
        "Session … already exists" when the ledger's owner has that ``session_id``. Ids and times
        of the backup are kept (see ``models.seed_backup``); a document that carries
        convoledger's bundle is still restored from its seed part here (the bundle's restore is
        ``Ledger.import_document``). ``ValueError`` for a malformed backup (nothing written).
        """
        restored = await self.ledger.restore_seed_backup(backup_data, user_id=user_key(user_id))
        return AgentSession.from_record(restored)
