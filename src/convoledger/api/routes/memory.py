"""``/api/agent-sessions/{session}/memory``: the session memory (key → any JSON value)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from convoledger.api.deps import OwnerLedger, Paging, paging
from convoledger.api.errors import PROBLEM_RESPONSES
from convoledger.api.routes.agent_sessions import SessionPath
from convoledger.api.schemas import MemoryEntryOut, MemoryPage, MemoryValueIn
from convoledger.errors import NotFound

router = APIRouter(
    prefix="/api/agent-sessions/{session}/memory", tags=["memory"], responses=PROBLEM_RESPONSES
)

KeyPath = Annotated[str, Path(min_length=1, max_length=200, description="the memory key")]


@router.get("", response_model=MemoryPage, summary="List memory entries")
async def list_memory(
    ledger: OwnerLedger, session: SessionPath, page: Annotated[Paging, Depends(paging)]
) -> MemoryPage:
    """The session's memory entries ordered by key, paged."""
    entries = await ledger.memory_entries(session)
    chosen = entries[page.offset : page.offset + page.size]
    return MemoryPage(
        items=[MemoryEntryOut.of(e) for e in chosen], total=len(entries), page=page.page, size=page.size
    )


@router.get("/{key}", response_model=MemoryEntryOut, summary="Get a memory entry")
async def get_memory(ledger: OwnerLedger, session: SessionPath, key: KeyPath) -> MemoryEntryOut:
    """One memory entry; 404 when the key is not set."""
    for entry in await ledger.memory_entries(session):
        if entry.key == key:
            return MemoryEntryOut.of(entry)
    raise NotFound(f"memory key {key!r} not found in this session")


@router.put("/{key}", response_model=MemoryEntryOut, summary="Set a memory entry")
async def put_memory(
    ledger: OwnerLedger, session: SessionPath, key: KeyPath, body: MemoryValueIn
) -> MemoryEntryOut:
    """Create or replace memory entry ``key`` with ``value``."""
    return MemoryEntryOut.of(await ledger.set_memory(session, key, body.value))


@router.delete("/{key}", status_code=204, summary="Delete a memory entry")
async def delete_memory(ledger: OwnerLedger, session: SessionPath, key: KeyPath) -> Response:
    """Delete memory entry ``key``; 404 when it is not set."""
    await ledger.delete_memory(session, key)
    return Response(status_code=204)
