"""``convoledger user tokens`` / ``user revoke`` and the token handling of ``quickstart`` (issue 16
item 9), and ``quickstart``'s port check, ``--no-serve`` output and progress total (items 9, 10).

Tokens are stored hashed: what is listed is each token's id (the first 12 hex digits of its
SHA-256), its label and when it was issued."""

from __future__ import annotations

import asyncio
import hashlib
import re
import socket
from pathlib import Path

import httpx
from cli_helpers import one_error_line
from typer.testing import CliRunner

from convoledger.backends import open_ledger
from convoledger.cli import app
from convoledger.sample_data import manifest
from serve_process import ServeProcess, cli


def _id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def _account_of(db: str, token: str) -> str | None:
    async def probe() -> str | None:
        from convoledger.api.auth import authenticate

        async with open_ledger(db, owner="probe") as ledger:
            return await authenticate(ledger.store, token)

    return asyncio.run(probe())


def _token_rows(runner: CliRunner, name: str, db: str) -> list[list[str]]:
    listing = runner.invoke(app, ["user", "tokens", name, "--database-url", db], env={"COLUMNS": "120"})
    assert listing.exit_code == 0, listing.output
    return [
        [cell.strip() for cell in line.strip("│ ").split("│")]
        for line in listing.stdout.splitlines()
        if re.match(r"│ [0-9a-f]{12} ", line)
    ]


def test_tokens_are_listed_by_id_label_and_time_and_revoked_by_id_or_token(
    runner: CliRunner, db: str
) -> None:
    first = runner.invoke(app, ["user", "create", "alice", "--label", "laptop", "--database-url", db])
    second = runner.invoke(app, ["user", "create", "alice", "--database-url", db])
    t1, t2 = first.stdout.strip(), second.stdout.strip()
    rows = _token_rows(runner, "alice", db)
    assert [r[0] for r in rows] == [_id(t1), _id(t2)]
    assert [r[1] for r in rows] == ["laptop", ""]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r[2]) for r in rows)
    assert t1 not in runner.invoke(app, ["user", "tokens", "alice", "--database-url", db]).stdout

    revoked = runner.invoke(app, ["user", "revoke", _id(t1), "--database-url", db])
    assert revoked.exit_code == 0, revoked.output
    assert revoked.stdout.strip() == f"revoked token {_id(t1)} (laptop) of account alice"
    assert _account_of(db, t1) is None and _account_of(db, t2) == "alice"
    assert [r[0] for r in _token_rows(runner, "alice", db)] == [_id(t2)]

    by_token = runner.invoke(app, ["user", "revoke", t2, "--database-url", db])
    assert by_token.exit_code == 0 and _account_of(db, t2) is None
    none_left = runner.invoke(app, ["user", "tokens", "alice", "--database-url", db])
    assert none_left.exit_code == 0 and "has no API tokens" in none_left.stdout

    again = runner.invoke(app, ["user", "revoke", t2, "--database-url", db])
    assert again.exit_code == 1 and "no API token matches the given token" in one_error_line(again.stderr)
    for bad in ("zzzzzzzzzz", "abc"):
        refused = runner.invoke(app, ["user", "revoke", bad, "--database-url", db])
        assert refused.exit_code == 1 and "neither a token" in one_error_line(refused.stderr)


def test_an_ambiguous_id_is_refused(runner: CliRunner, db: str) -> None:
    runner.invoke(app, ["user", "create", "bob", "--database-url", db])  # creates the ledger

    async def two_keys_sharing_a_prefix() -> None:
        async with open_ledger(db, owner="bob") as ledger:
            await ledger.store.add_api_key("bob", "abcdef01" + "0" * 56)
            await ledger.store.add_api_key("bob", "abcdef01" + "1" * 56)

    asyncio.run(two_keys_sharing_a_prefix())
    result = runner.invoke(app, ["user", "revoke", "abcdef01", "--database-url", db])
    assert result.exit_code == 1
    assert "matches 2 tokens; give more digits" in one_error_line(result.stderr)
    exact = runner.invoke(app, ["user", "revoke", "abcdef0100", "--database-url", db])
    assert exact.exit_code == 0 and "revoked token abcdef010000" in exact.stdout


def test_a_revoked_token_is_refused_by_the_running_server(serve_sqlite: ServeProcess) -> None:
    token = serve_sqlite.headers["a"]["Authorization"].removeprefix("Bearer ")
    with serve_sqlite.client("a") as client:
        assert client.get("/api/stats").status_code == 200
        done = cli("user", "revoke", _id(token), database_url=serve_sqlite.database_url)
        assert done.returncode == 0, done.stderr
        refused = client.get("/api/stats")
    assert refused.status_code == 401


def test_quickstart_checks_the_port_before_any_work(runner: CliRunner, tmp_path: Path) -> None:
    ledger = tmp_path / "qs.db"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(
            app, ["quickstart", "--port", str(port), "--database-url", f"sqlite:///{ledger}"]
        )
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert f"127.0.0.1:{port}" in line and "--port" in line
    assert not ledger.exists()  # nothing imported, no token issued
    assert "token" not in result.stdout


def test_quickstart_issues_one_token_and_says_how_to_manage_it(runner: CliRunner, db: str) -> None:
    args = ["quickstart", "--no-serve", "--database-url", db, "--port", "8123"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    token = first.stdout.split("token for account demo: ", 1)[1].split()[0]
    assert _account_of(db, token) == "demo"
    # --no-serve: no server runs, so no curl line; the command that serves instead
    assert "curl" not in first.stdout
    assert f"convoledger serve --port 8123 --database-url '{db}'" in first.stdout
    # the progress bar ran against the sample's known record count (its manifest: 234 records)
    records = sum(entry["records"] for entry in manifest())
    assert records == 234
    assert re.search(rf"importing bundled sample .* {records}/{records} records", first.stderr)
    assert "?" not in first.stderr

    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "token for account" not in second.stdout and "clg_" not in second.stdout
    said = " ".join(second.stdout.split())
    assert f"already has the token an earlier quickstart printed (id {_id(token)})" in said
    assert "convoledger user tokens demo" in said and "convoledger user revoke ID" in said
    assert "--new-token" in said
    assert [r[:2] for r in _token_rows(runner, "demo", db)] == [[_id(token), "quickstart"]]

    third = runner.invoke(app, [*args, "--new-token"])
    assert third.exit_code == 0, third.output
    assert f"revoked the earlier quickstart token {_id(token)}" in third.stdout
    fresh = third.stdout.split("token for account demo: ", 1)[1].split()[0]
    assert fresh != token and _account_of(db, token) is None and _account_of(db, fresh) == "demo"
    assert [r[0] for r in _token_rows(runner, "demo", db)] == [_id(fresh)]


def test_quickstart_prints_working_curl_lines_when_serving(tmp_path: Path) -> None:
    """Not --no-serve: the curl lines printed before serving work against the server it starts."""
    import subprocess
    import sys
    import time

    from serve_process import free_port, stop

    port = free_port()
    db = f"sqlite:///{tmp_path / 'qs.db'}"
    log = tmp_path / "quickstart.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "convoledger", "quickstart", "--port", str(port), "--database-url", db],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        curls: list[str] = []
        while time.monotonic() < deadline and proc.poll() is None:
            curls = [
                line.strip() for line in log.read_text().splitlines() if line.strip().startswith("curl ")
            ]
            if curls:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)
        assert len(curls) == 2, log.read_text()
        for line in curls:
            match = re.fullmatch(r'curl -H "Authorization: Bearer (\S+)" "(\S+)"', line)
            assert match, line
            response = httpx.get(match.group(2), headers={"Authorization": f"Bearer {match.group(1)}"})
            assert response.status_code == 200, response.text
    finally:
        stop(proc)
