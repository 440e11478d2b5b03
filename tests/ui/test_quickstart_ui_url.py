"""``convoledger quickstart`` prints the web UI's URL (issue 18, Done when)."""

from __future__ import annotations

from pathlib import Path

from serve_process import cli


def test_quickstart_prints_the_web_ui_url(tmp_path: Path) -> None:
    done = cli(
        "quickstart",
        "--no-serve",
        "--port",
        "8123",
        "--owner",
        "demo",
        database_url=f"sqlite:///{tmp_path / 'q.db'}",
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "web UI: http://127.0.0.1:8123/  (sign in with the token above)" in lines
    assert lines.index("web UI: http://127.0.0.1:8123/  (sign in with the token above)") > next(
        i for i, line in enumerate(lines) if line.startswith("token for account")
    )
