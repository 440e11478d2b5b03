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
    # --no-serve: the server is not running yet, so the UI's URL follows the serve command.
    ui_line = "then open the web UI: http://127.0.0.1:8123/  (sign in with the token above)"
    assert ui_line in lines
    token_line = next(i for i, line in enumerate(lines) if line.startswith("token for account"))
    assert lines.index(ui_line) > token_line
    assert lines.index(ui_line) > lines.index("serve it with:")
