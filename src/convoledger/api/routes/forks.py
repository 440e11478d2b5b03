"""``/api/agent-sessions/{session}/fork`` and ``…/branches``: branches of a session (issue 17).

A branch shares its parent's history up to the fork point without copying it; every read of
its messages (pages, recent, counts, search, export, the agent's context) sees that shared
history followed by its own messages, whose seqs continue after the fork point. The session
resource of a branch carries ``parent_id`` and ``forked_at_seq``. Rules when shared history
changes later: ``convoledger.store.lineage`` (edits and redactions show in every branch;
removing shared messages, or deleting a session that has branches, is a 409).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from convoledger.api.deps import OwnerLedger
from convoledger.api.errors import PROBLEM_RESPONSES
from convoledger.api.routes.agent_sessions import SessionPath
from convoledger.api.schemas import BranchesOut, ForkIn, SessionOut

router = APIRouter(prefix="/api/agent-sessions", tags=["agent sessions"], responses=PROBLEM_RESPONSES)


@router.post("/{session}/fork", response_model=SessionOut, status_code=201, summary="Fork a session")
async def fork_session(
    ledger: OwnerLedger, session: SessionPath, body: Annotated[ForkIn | None, Body()] = None
) -> SessionOut:
    """A new branch of the session at ``at_seq`` (default: its last seq). 404 for a session of
    another account (a branch of your session is yours alone); 422 for a fork point outside
    ``1..last_seq``; 409 when ``session_id`` is taken."""
    body = body or ForkIn()
    branch = await ledger.fork(session, body.at_seq, session_id=body.session_id, name=body.name)
    return SessionOut.of(branch)


@router.get("/{session}/branches", response_model=BranchesOut, summary="Branches of a session")
async def session_branches(ledger: OwnerLedger, session: SessionPath) -> BranchesOut:
    """The sessions forked directly from this one, oldest first."""
    found = await ledger.branches(session)
    return BranchesOut(items=[SessionOut.of(r) for r in found], total=len(found))
