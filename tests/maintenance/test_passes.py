"""One maintenance pass, in process, on every backend: timeouts, the seed's two cleanup policies
(delete after a backup, or archive), branches kept, failed backups retried, alerts, periodic
backups with retention, the lease. Sessions are time-travelled (old ``created_at`` / activity
written through the store); assertions look only at this test's fresh account, because the
PostgreSQL database is shared by the maintenance tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from convoledger.errors import NotFound
from convoledger.ledger import Ledger
from convoledger.maintenance import BackupReason, PassIncomplete, run_pass
from convoledger.models.events import EventKind
from convoledger.models.maintenance import CleanupAction, CleanupPolicyName, PassStatus
from convoledger.models.status import ConversationStatus as S
from convoledger.store.outbox import EventQuery
from maintenance.conftest import MakeMaintenance, ago, make_session

HOUR, DAY = 3600.0, 86400.0


async def status_of(ledger: Ledger, conversation_id: str) -> S | None:
    try:
        return (await ledger.store.get_conversation(ledger.owner, conversation_id)).status
    except NotFound:
        return None


async def test_pass_applies_timeouts_and_the_seed_cleanup_policies(
    ledger: Ledger, make_maintenance: MakeMaintenance
) -> None:
    m = await make_maintenance()  # seed defaults: 1 h timeout, 24 h inactive, 7 d age, delete
    idle_2h = await make_session(ledger, created=3 * HOUR, idle=2 * HOUR, messages=2)
    inactive_25h = await make_session(
        ledger, created=2 * DAY, idle=25 * HOUR, status=S.INACTIVE_TIMEOUT, messages=3
    )
    old_but_busy = await make_session(ledger, created=8 * DAY, idle=60, messages=1)
    fresh = await make_session(ledger, created=600, idle=60)
    with_branch = await make_session(ledger, created=2 * DAY, idle=30 * HOUR, status=S.ARCHIVED, messages=2)
    branch = await ledger.fork(with_branch.id)
    before = await ledger.export_bundle(inactive_25h.id)

    record = await run_pass(m, "test")

    assert record is not None and record.status is PassStatus.OK
    assert await status_of(ledger, idle_2h.id) is S.INACTIVE_TIMEOUT  # timed out, not yet cleaned
    assert await status_of(ledger, inactive_25h.id) is None  # cleanup_inactive_sessions
    assert await status_of(ledger, old_but_busy.id) is None  # cleanup_old_sessions
    assert await status_of(ledger, fresh.id) is S.ACTIVE
    assert await status_of(ledger, with_branch.id) is S.ARCHIVED  # kept: its branch shares history
    assert await status_of(ledger, branch.id) is S.ACTIVE
    assert record.counts.timed_out >= 1 and record.counts.skipped_branches >= 1
    assert record.counts.deleted_inactive >= 1 and record.counts.deleted_old >= 1

    deletions = {d.conversation_id: d for d in await m.journal.list_deletions(ledger.owner)}
    assert set(deletions) == {inactive_25h.id, old_but_busy.id}
    assert deletions[inactive_25h.id].policy is CleanupPolicyName.MAX_INACTIVE_TIME
    assert deletions[old_but_busy.id].policy is CleanupPolicyName.MAX_SESSION_AGE
    assert all(d.action is CleanupAction.DELETE and d.actor == "maintenance" for d in deletions.values())
    # backed up first, and the backup restores losslessly: export → backup → restore → export
    backup_id = deletions[inactive_25h.id].backup_id
    assert backup_id is not None
    document = await m.backups.read(backup_id, ledger.owner)
    assert document["reason"] == BackupReason.BEFORE_DELETE and document["bundle"] == before
    await ledger.restore_bundle(document["bundle"])
    assert await ledger.export_bundle(inactive_25h.id) == before
    # the deletion event names the policy and the backup
    events = await ledger.store.list_events(
        ledger.owner, EventQuery(conversation_id=old_but_busy.id, limit=100)
    )
    deleted = [e for e in events if e.kind == EventKind.CONVERSATION_DELETED]
    assert deleted and deleted[-1].payload["context"]["policy"] == "max_session_age"
    assert deleted[-1].payload["context"]["backup_id"] == deletions[old_but_busy.id].backup_id


async def test_archive_action_keeps_every_session(ledger: Ledger, make_maintenance: MakeMaintenance) -> None:
    m = await make_maintenance(cleanup_action=CleanupAction.ARCHIVE)
    inactive_25h = await make_session(ledger, created=2 * DAY, idle=25 * HOUR, status=S.INACTIVE)
    old_active = await make_session(ledger, created=8 * DAY, idle=60)
    record = await run_pass(m, "test")
    assert record is not None
    assert await status_of(ledger, inactive_25h.id) is S.ARCHIVED
    assert await status_of(ledger, old_active.id) is S.ARCHIVED
    events = await ledger.lifecycle_events(old_active.id)
    assert [e.to_status for e in events][-2:] == [S.INACTIVE_SYSTEM_TERMINATED, S.ARCHIVED]
    deletions = await m.journal.list_deletions(ledger.owner)
    assert {(d.conversation_id, d.action, d.backup_id) for d in deletions} == {
        (inactive_25h.id, CleanupAction.ARCHIVE, None),
        (old_active.id, CleanupAction.ARCHIVE, None),
    }


async def test_a_failed_backup_keeps_the_session_and_the_pass_is_retried(
    ledger: Ledger, make_maintenance: MakeMaintenance, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the backup directory should be")
    m = await make_maintenance(backups=blocker / "backups")
    doomed = await make_session(ledger, created=2 * DAY, idle=25 * HOUR, status=S.INACTIVE)
    with pytest.raises(PassIncomplete, match="could not be written"):
        await run_pass(m, "test")
    assert await status_of(ledger, doomed.id) is S.INACTIVE  # not deleted without a backup
    failed = (await m.journal.list_passes(1))[0]
    assert failed.status is PassStatus.FAILED and failed.counts.backup_failures >= 1
    assert doomed.id not in {d.conversation_id for d in await m.journal.list_deletions(ledger.owner)}

    blocker.unlink()  # the operator fixes the directory; the retry succeeds
    record = await run_pass(m, "test")
    assert record is not None and record.status is PassStatus.OK
    assert await status_of(ledger, doomed.id) is None
    assert [d.conversation_id for d in await m.journal.list_deletions(ledger.owner)] == [doomed.id]


async def test_alerts_are_recorded_as_events_once_per_crossing(
    ledger: Ledger, make_maintenance: MakeMaintenance
) -> None:
    m = await make_maintenance(default_timeout=10 * HOUR)
    chatty = await make_session(ledger, created=HOUR, idle=30, messages=101)
    quiet_enough = await make_session(ledger, created=HOUR, idle=30, messages=100)
    idle_3h = await make_session(ledger, created=4 * HOUR, idle=3 * HOUR)
    await run_pass(m, "test")
    alerts = {(a.conversation_id, a.kind.value) for a in await m.journal.list_alerts(ledger.owner)}
    assert alerts == {(chatty.id, "high_message_rate"), (idle_3h.id, "long_inactive_session")}
    assert quiet_enough.id not in {a[0] for a in alerts}
    events = await ledger.store.list_events(ledger.owner, EventQuery(conversation_id=chatty.id, limit=100))
    raised = [e for e in events if e.kind == EventKind.ALERT_RAISED]
    assert [e.payload["kind"] for e in raised] == ["high_message_rate"]
    assert raised[0].payload["value"] == 101 and raised[0].payload["threshold"] == 100
    assert m.metrics is not None
    assert m.metrics.alerts.labels("high_message_rate")._value.get() == 1

    await run_pass(m, "test")  # nothing new happened: no repeated alert
    assert len(await m.journal.list_alerts(ledger.owner)) == 2


async def test_periodic_backup_runs_once_per_interval_and_retention_removes_old_backups(
    ledger: Ledger, make_maintenance: MakeMaintenance
) -> None:
    m = await make_maintenance()
    active = await make_session(ledger, created=HOUR, idle=60, messages=2)
    closed = await make_session(ledger, created=HOUR, idle=60, status=S.INACTIVE)
    expired = await m.backups.write(
        ledger.owner, await ledger.export_bundle(active.id), reason=BackupReason.MANUAL, now=ago(31 * DAY)
    )
    first = await run_pass(m, "test")
    assert first is not None and first.counts.backed_up >= 1 and first.counts.backups_expired >= 1
    listed = await m.backups.list_backups(ledger.owner)
    assert {b.conversation_id for b in listed} == {active.id}  # active sessions only
    assert expired.backup_id not in {b.backup_id for b in listed}
    assert closed.id not in {b.conversation_id for b in listed}
    second = await run_pass(m, "test")  # within backup_interval: no new backup
    assert second is not None and second.counts.backed_up == 0
    assert len(await m.backups.list_backups(ledger.owner)) == 1


async def test_a_held_lease_stops_a_second_pass(ledger: Ledger, make_maintenance: MakeMaintenance) -> None:
    first, second = await make_maintenance(), await make_maintenance()  # two journals, one database
    async with first.journal.lease("holder-1") as lease:
        assert lease is not None
        assert await run_pass(second, "holder-2") is None
    assert await run_pass(second, "holder-2") is not None


async def test_sweep_works_through_more_than_one_batch(ledger: Ledger) -> None:
    sessions = [await make_session(ledger, created=3 * HOUR, idle=2 * HOUR) for _ in range(5)]
    events = await ledger.sweep(batch=2)
    moved = {e.conversation_id for e in events}
    assert {s.id for s in sessions} <= moved
    for s in sessions:
        assert await status_of(ledger, s.id) is S.INACTIVE_TIMEOUT


async def test_backups_can_live_behind_an_fsspec_url(
    ledger: Ledger, make_maintenance: MakeMaintenance
) -> None:
    """``CONVOLEDGER_BACKUP_DIR`` may be an fsspec URL (here fsspec's in-memory filesystem)."""
    import uuid

    from convoledger.maintenance import BackupStore

    m = await make_maintenance()
    m.backups = BackupStore(f"memory://convoledger-test-{uuid.uuid4().hex}/backups")
    doomed = await make_session(ledger, created=2 * DAY, idle=25 * HOUR, status=S.INACTIVE, messages=2)
    before = await ledger.export_bundle(doomed.id)
    record = await run_pass(m, "test")
    assert record is not None and record.status is PassStatus.OK
    [deletion] = await m.journal.list_deletions(ledger.owner)
    listed = await m.backups.list_backups(ledger.owner)
    assert deletion.backup_id in {b.backup_id for b in listed}
    assert deletion.backup_id is not None
    assert (await m.backups.read(deletion.backup_id, ledger.owner))["bundle"] == before
    assert await m.backups.expire(ago(-60)) >= len(listed)  # all are older than a minute from now
    assert await m.backups.list_backups(ledger.owner) == []
