"""Issue 13 point 5: the maintenance scheduler inside a real ``convoledger serve`` process, with
intervals of seconds, on SQLite and PostgreSQL. Nobody calls ``sweep``: the server does it.

Old sessions are time-travelled: built with old ``created_at`` / activity in a memory ledger,
exported as bundles and restored through ``POST /api/agent-sessions/import`` (bundles keep their
times). PostgreSQL tests use the maintenance tests' own database (``maintenance_postgres_url``),
shared among them, so assertions look at this test's fresh accounts only.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from convoledger.backends import open_ledger
from convoledger.maintenance.journal import SqlJournal
from convoledger.models.maintenance import PassRecord
from convoledger.models.status import ConversationStatus as S
from maintenance.conftest import make_session
from serve_process import ServeProcess, running_serve

HOUR, DAY = 3600.0, 86400.0
BACKENDS = ["sqlite", "postgres"]


def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("maintenance_postgres_url"))


def maintenance_env(backups: Path, **settings: Any) -> dict[str, str]:
    """Environment turning maintenance on with a 1 s interval, backups in ``backups``."""
    env = {
        "CONVOLEDGER_MAINTENANCE": "true",
        "CONVOLEDGER_CLEANUP_INTERVAL": "1",
        "CONVOLEDGER_BACKUP_DIR": str(backups),
    }
    env.update({f"CONVOLEDGER_{k.upper()}": str(v) for k, v in settings.items()})
    return env


def old_bundle(*, created: float, idle: float, status: S = S.ACTIVE, messages: int = 2) -> dict[str, Any]:
    """The bundle of a session created ``created`` s ago and idle for ``idle`` s."""

    async def build() -> dict[str, Any]:
        async with open_ledger("memory://", owner="builder") as ledger:
            record = await make_session(ledger, created=created, idle=idle, status=status, messages=messages)
            return await ledger.export_bundle(record.id)

    return asyncio.run(build())


def restore(client: httpx.Client, bundle: dict[str, Any]) -> str:
    r = client.post("/api/agent-sessions/import", json=bundle)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def wait_for(what: str, check: Callable[[], Any], server: ServeProcess, timeout: float = 30.0) -> Any:
    """Poll ``check()`` until it returns something truthy; fail with the server log after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}:\n{server.log_tail()}")


def status_of(client: httpx.Client, session: str) -> str | None:
    r = client.get(f"/api/agent-sessions/{session}")
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    return str(r.json()["status"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_idle_session_times_out_with_nobody_calling_sweep(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = database_url(backend, tmp_path, request)
    env = maintenance_env(tmp_path / "backups", default_timeout=2)
    with running_serve(url, log_dir=tmp_path, accounts=("a",), env=env) as server, server.client("a") as c:
        r = c.post("/api/agent-sessions", json={"session_name": "left alone"})
        assert r.status_code == 201, r.text
        session = r.json()["id"]
        assert status_of(c, session) == "active"
        wait_for("inactive_timeout", lambda: status_of(c, session) == "inactive_timeout", server, 20)
        last = c.get(f"/api/agent-sessions/{session}/events").json()["items"][-1]
        assert last["to_status"] == "inactive_timeout" and last["actor"] == "maintenance"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("action", ["delete", "archive"])
def test_each_cleanup_policy_touches_exactly_what_it_should_and_backs_up_first(
    backend: str, action: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = database_url(backend, tmp_path, request)
    env = maintenance_env(tmp_path / "backups", cleanup_action=action)
    with running_serve(url, log_dir=tmp_path, accounts=("a", "b"), env=env) as server:
        with server.client("a") as a, server.client("b") as b:
            idle_25h = restore(a, old_bundle(created=2 * DAY, idle=25 * HOUR, status=S.INACTIVE_TIMEOUT))
            old_busy = restore(a, old_bundle(created=8 * DAY, idle=60))
            fresh = restore(a, old_bundle(created=HOUR, idle=60))
            closed_recently = restore(a, old_bundle(created=2 * DAY, idle=HOUR, status=S.INACTIVE))
            other = restore(b, old_bundle(created=8 * DAY, idle=60))
            originals = {s: a.get(f"/api/agent-sessions/{s}/export").json() for s in (idle_25h, old_busy)}

            deletions = wait_for(
                "two policy records",
                lambda: (d := a.get("/api/deletions").json()) and len(d) >= 2 and d,
                server,
            )
            by_session = {d["conversation_id"]: d for d in deletions}
            assert set(by_session) == {idle_25h, old_busy}  # account a only, nothing else
            assert by_session[idle_25h]["policy"] == "max_inactive_time"
            assert by_session[old_busy]["policy"] == "max_session_age"
            assert {d["action"] for d in deletions} == {action}
            assert status_of(a, fresh) == "active" and status_of(a, closed_recently) == "inactive"
            assert other in {d["conversation_id"] for d in b.get("/api/deletions").json()}

            if action == "archive":
                assert status_of(a, idle_25h) == "archived" and status_of(a, old_busy) == "archived"
                assert all(d["backup_id"] is None for d in deletions)
                return
            assert status_of(a, idle_25h) is None and status_of(a, old_busy) is None
            backups = {x["backup_id"]: x for x in a.get("/api/backups").json()}
            for session, record in by_session.items():
                assert backups[record["backup_id"]]["reason"] == "before_delete"
                assert backups[record["backup_id"]]["conversation_id"] == session
            assert not {x["conversation_id"] for x in b.get("/api/backups").json()} & set(by_session)
            # lossless: export → backup → restore → export identical
            for session, record in by_session.items():
                assert b.post(f"/api/backups/{record['backup_id']}/restore").status_code == 404  # not b's
                r = a.post(f"/api/backups/{record['backup_id']}/restore")
                assert r.status_code == 201, r.text
                assert a.get(f"/api/agent-sessions/{session}/export").json() == originals[session]


def _passes(url: str, holders: set[str]) -> list[PassRecord]:
    async def read() -> list[PassRecord]:
        journal = SqlJournal(url)
        try:
            return await journal.list_passes(1000)
        finally:
            await journal.close()

    return [p for p in asyncio.run(read()) if any(h in p.holder for h in holders)]


def test_two_servers_on_one_postgres_database_run_each_pass_once(
    maintenance_postgres_url: str, tmp_path: Path
) -> None:
    postgres_url = maintenance_postgres_url
    env = maintenance_env(tmp_path / "backups")
    with (
        running_serve(postgres_url, log_dir=tmp_path / "one", accounts=("a",), env=env) as one,
        running_serve(postgres_url, log_dir=tmp_path / "two", accounts=("a",), env=env) as two,
        one.client("a") as a,
    ):
        doomed = [restore(a, old_bundle(created=8 * DAY, idle=60)) for _ in range(4)]
        wait_for("all deleted", lambda: all(status_of(a, s) is None for s in doomed), one)
        time.sleep(3)  # a few more ticks of both schedulers
        deletions = [d["conversation_id"] for d in a.get("/api/deletions").json()]
        assert sorted(deletions) == sorted(doomed)  # each session deleted (and recorded) once
        pids = {f":{one.process.pid}:", f":{two.process.pid}:"}
    passes = sorted(_passes(postgres_url, pids), key=lambda p: p.started_at)
    assert len(passes) >= 3
    for earlier, later in zip(passes, passes[1:], strict=False):
        assert earlier.finished_at <= later.started_at, f"passes overlap: {earlier} / {later}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_failing_pass_is_logged_and_retried_after_the_retry_delay(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = database_url(backend, tmp_path, request)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the backup directory should be")
    # interval 60 s: a success after the fix can only come from the 1 s retry
    env = maintenance_env(blocker / "backups", cleanup_interval=60, maintenance_retry_delay=1)
    with running_serve(url, log_dir=tmp_path, accounts=("a",), env=env) as server, server.client("a") as a:
        doomed = restore(a, old_bundle(created=2 * DAY, idle=25 * HOUR, status=S.INACTIVE))
        wait_for("a failed pass in the log", lambda: "retrying in 1 s" in server.log_tail(400), server)
        assert server.process.poll() is None  # the server survives
        assert status_of(a, doomed) == "inactive"  # never deleted without its backup
        os.remove(blocker)
        wait_for("the retried pass deletes it", lambda: status_of(a, doomed) is None, server, 20)
        assert [d["conversation_id"] for d in a.get("/api/deletions").json()] == [doomed]


@pytest.mark.parametrize("backend", BACKENDS)
def test_alerts_and_performance_are_served(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = database_url(backend, tmp_path, request)
    env = maintenance_env(tmp_path / "backups", high_message_rate_threshold=5)
    with running_serve(url, log_dir=tmp_path, accounts=("a", "b"), env=env) as server:
        with server.client("a") as a, server.client("b") as b, server.client() as anonymous:
            chatty = restore(a, old_bundle(created=HOUR, idle=30, messages=6))
            alerts = wait_for("an alert", lambda: a.get("/api/alerts").json(), server)
            assert [(x["kind"], x["conversation_id"], x["value"]) for x in alerts] == [
                ("high_message_rate", chatty, 6)
            ]
            assert b.get("/api/alerts").json() == []  # per account
            metrics = anonymous.get("/metrics").text
            assert 'convoledger_alerts_total{kind="high_message_rate"}' in metrics
            assert "convoledger_maintenance_passes_total" in metrics

            for _ in range(3):
                assert a.get("/api/agent-sessions").status_code == 200
            perf = a.get("/api/performance").json()
            listing = perf["operations"]["GET /api/agent-sessions"]
            assert listing["count"] >= 3 and listing["errors"] == 0
            assert set(listing) >= {
                "count",
                "avg_duration",
                "min_duration",
                "max_duration",
                "p95_duration",
                "slow_operations",
            }
            one = a.get("/api/performance", params={"operation": "GET /api/agent-sessions"}).json()
            assert one["count"] >= 3 and one["min_duration"] <= one["p95_duration"] <= one["max_duration"]
            assert "maintenance.pass" in perf["operations"]
            assert a.get("/api/performance", params={"operation": "nothing"}).json() == {}
            assert anonymous.get("/api/performance").status_code == 401
            assert a.get("/api/backups", params={"limit": 0}).status_code == 422
