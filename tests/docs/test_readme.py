"""The README's snippets work as written (issue 16 item 11): the library example runs, twice;
the "Try the API" requests return real data from a server holding the bundled sample; the
agent and Redis configurations start a server that uses them; the import commands run."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from serve_process import cli, running_serve

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
RECORDED_CHAT = (
    ROOT.parent
    / "shared"
    / "data"
    / "provider_responses"
    / "openai_chat"
    / "dd__chat_completion_prompt_caching_cache_read__0.json"
)
#: Where the README's requests go; the tests send them to the server they start instead.
README_BASE = "http://127.0.0.1:8000"


def section(title: str) -> str:
    """The README text under the ``## title`` heading, up to the next ``## `` heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.S | re.M)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def code_blocks(text: str, language: str | None) -> list[str]:
    """The fenced code blocks of ``text`` whose info string is ``language`` (``None``: every
    block), in order; fences open and close in turn."""
    blocks: list[str] = []
    info: str | None = None
    body: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            if info is None:
                info, body = line[3:].strip(), []
            else:
                if language is None or info == language:
                    blocks.append("".join(body))
                info = None
        elif info is not None:
            body.append(line)
    return blocks


def shell_commands(block: str) -> list[list[str]]:
    """The commands of a bash block as argument lists (continuation lines joined, comments cut)."""
    joined = block.replace("\\\n", " ")
    return [
        shlex.split(line, comments=True) for line in joined.splitlines() if shlex.split(line, comments=True)
    ]


def exports(block: str, substitutions: dict[str, str]) -> dict[str, str]:
    """The ``export NAME=value`` lines of a bash block as an environment (``$VAR`` substituted)."""
    env = {}
    for command in shell_commands(block):
        if command[0] == "export":
            name, value = command[1].split("=", 1)
            for var, replacement in substitutions.items():
                value = value.replace(f"${var}", replacement)
            env[name] = value
    return env


# -- the library example ------------------------------------------------------------------------
def test_the_library_example_runs_twice(tmp_path: Path) -> None:
    (example,) = code_blocks(section("As a library"), "python")
    script = tmp_path / "example.py"
    script.write_text(example)
    outputs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout.splitlines())
    first, second = outputs
    assert first[0] == "created session_002_mc_to_data_analyst"
    assert second[0] == "found session_002_mc_to_data_analyst"
    model, tokens_in, tokens_out, cost, currency = first[1].split()
    assert (model, tokens_in, tokens_out, currency) == ("gpt-4o-mini-2024-07-18", "31", "13", "USD")
    assert float(cost) > 0
    assert first[2:4] == [
        "task_assignment Please analyze the sales data",
        "result_report Q3 sales rose 12%, led by the EU region.",
    ]
    assert second[2:6] == first[2:4] * 2  # the second run appended to the same session
    assert first[-1].startswith("token_window") and "kept 2 message(s)" in first[-1]
    assert "kept 4 message(s)" in second[-1]
    assert (tmp_path / "ledger.db").is_file()


def test_the_client_example_runs_against_a_server(tmp_path: Path) -> None:
    """The Integrations section's client snippet, pointed at a real server: usage recorded and
    priced, the messages iterated, the newest popped, the session's events streamed."""
    block = next(b for b in code_blocks(section("Integrations"), "python") if "from convoledger.client" in b)
    with running_serve(f"sqlite:///{tmp_path / 'ledger.db'}", log_dir=tmp_path, accounts=("a",)) as proc:
        token = proc.headers["a"]["Authorization"].removeprefix("Bearer ")
        script = tmp_path / "client_example.py"
        script.write_text(block.replace(README_BASE, proc.base_url).replace("clg_…", token))
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
        )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    tokens_in, tokens_out, cost, currency = lines[0].split()
    # gpt-4o-mini: $0.15 / $0.60 per million input / output tokens (openai.com/api/pricing)
    assert (tokens_in, tokens_out, currency) == ("420", "12", "USD")
    assert abs(float(cost) - (420 * 0.15e-6 + 12 * 0.60e-6)) < 1e-6
    assert lines[1:4] == [
        "1 user My order is late",
        "2 assistant Sorry! It ships today.",
        "popped: Sorry! It ships today.",
    ]
    kinds = [line.split()[1] for line in lines[4:]]
    assert kinds[0] == "conversation.created" and kinds[-1] == "message.deleted"
    assert kinds.count("message.appended") == 2


# -- "Try the API" against a real server with the sample ----------------------------------------
def _request(command: list[str], base_url: str, token: str) -> httpx.Response:
    """Send the request a README ``curl`` command describes (``-H``, ``-d``, the URL)."""
    assert command[0] == "curl", command
    headers: dict[str, str] = {}
    data: str | None = None
    url = ""
    args = iter(command[1:])
    for arg in args:
        if arg == "-H":
            name, value = next(args).split(":", 1)
            headers[name.strip()] = value.strip().replace("$TOKEN", token)
        elif arg == "-d":
            data = next(args)
        else:
            url = arg
    url = url.replace(README_BASE, base_url)
    method = "POST" if data is not None else "GET"
    return httpx.request(method, url, headers=headers, content=data, timeout=60)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sample_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``(base_url, token)`` of a real ``convoledger serve`` whose ledger holds the bundled
    sample for the account ``quickstart --no-serve`` printed a token for."""
    if request.param == "sqlite":
        url, owner = f"sqlite:///{tmp_path / 'ledger.db'}", "demo"
    else:  # the shared test database: a fresh account, so earlier runs do not matter
        url, owner = str(request.getfixturevalue("postgres_url")), f"demo-{uuid.uuid4().hex[:10]}"
    done = cli("quickstart", "--no-serve", "--owner", owner, database_url=url, timeout=300)
    assert done.returncode == 0, done.stderr
    token = done.stdout.split(f"token for account {owner}: ", 1)[1].split()[0]
    with running_serve(url, log_dir=tmp_path, accounts=()) as proc:
        yield proc.base_url, token


def test_try_the_api_returns_real_data(sample_server: tuple[str, str]) -> None:
    base_url, token = sample_server
    (block,) = code_blocks(section("Try the API"), "bash")
    commands = [c for c in shell_commands(block) if c[0] == "curl"]
    assert len(commands) == 3
    listed, searched, turn = (_request(c, base_url, token) for c in commands)

    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert len(items) == 3 and all(item["session_id"].startswith("sgd:") for item in items)

    assert searched.status_code == 200, searched.text
    found = searched.json()
    assert found["total"] >= 1 and found["items"]
    assert all(re.search(r"\brestaurants?\b", m["content"], re.I) for m in found["items"])

    assert turn.status_code == 200, turn.text
    assert turn.json()["response"] == "Echo: Hello, ledger!"


# -- the agent and cache configurations ---------------------------------------------------------
class _FakeOpenAI(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint answering every chat completion with a recorded response."""

    requests: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).requests.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), "json": json.loads(body)}
        )
        answer = RECORDED_CHAT.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def fake_openai() -> Iterator[str]:
    """The base URL (``http://127.0.0.1:PORT/api/v1``) of a local fake OpenAI-compatible API."""
    _FakeOpenAI.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_the_openai_agent_configuration_answers_with_the_model(fake_openai: str, tmp_path: Path) -> None:
    (block,) = code_blocks(section("Agents: echo or a real model"), "bash")
    env = exports(block, {"OPENROUTER_API_KEY": "sk-test-key"})
    assert env["CONVOLEDGER_AGENT"] == "openai" and "CONVOLEDGER_OPENAI_MODEL" in env
    assert shell_commands(block)[-1] == ["convoledger", "serve"]
    env["CONVOLEDGER_OPENAI_BASE_URL"] = fake_openai  # the README's provider, replaced by the fake
    recorded = json.loads(RECORDED_CHAT.read_text())
    with running_serve(
        f"sqlite:///{tmp_path / 'ledger.db'}", log_dir=tmp_path, env=env, accounts=("a",)
    ) as proc:
        with proc.client("a") as client:
            turn = client.post(
                "/api/agent-sessions/conversation",
                json={"session_id": "readme-agent", "messages": [{"role": "user", "content": "Hi"}]},
            )
            assert turn.status_code == 200, turn.text + proc.log_tail()
            assert turn.json()["response"] == recorded["choices"][0]["message"]["content"]
            usage = client.get("/api/agent-sessions/readme-agent/usage").json()["totals"]
    assert (usage["calls"], usage["input_tokens"], usage["output_tokens"]) == (
        1,
        recorded["usage"]["prompt_tokens"],
        recorded["usage"]["completion_tokens"],
    )
    (sent,) = _FakeOpenAI.requests
    assert sent["path"] == "/api/v1/chat/completions" and sent["auth"] == "Bearer sk-test-key"
    assert sent["json"]["model"] == env["CONVOLEDGER_OPENAI_MODEL"]
    assert sent["json"]["messages"][-1] == {"role": "user", "content": "Hi"}


@pytest.mark.redis
def test_the_redis_configuration_turns_the_cache_on(redis_url: str, tmp_path: Path) -> None:
    (block,) = code_blocks(section("Redis cache"), "bash")
    env = exports(block, {})
    assert env["CONVOLEDGER_REDIS_URL"].startswith("redis://")
    env["CONVOLEDGER_REDIS_URL"] = redis_url  # the test server's
    with running_serve(f"sqlite:///{tmp_path / 'ledger.db'}", log_dir=tmp_path, env=env, accounts=()) as proc:
        health = httpx.get(f"{proc.base_url}/healthz", timeout=10).json()
    assert health["store"] == "RedisCachedStore"


# -- the import commands ------------------------------------------------------------------------
def test_the_import_commands_run(tmp_path: Path) -> None:
    commands = [
        c
        for block in code_blocks(README, "") + code_blocks(README, "bash")
        for c in shell_commands(block)
        if c[:2] == ["convoledger", "import"]
    ]
    assert commands, "README shows no convoledger import command"
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    for command in commands:
        done = subprocess.run(
            [sys.executable, "-m", "convoledger", *command[1:], "--database-url", db],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"{shlex.join(command)}: {done.stderr}"
        assert re.search(r"imported [1-9]\d* conversations", done.stdout), done.stdout
