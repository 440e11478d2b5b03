"""The web UI in headless Chromium against a real ``convoledger serve`` (issue 18, Deliver 2-3):
load, sign in (keyboard), filter the sessions list, open a transcript of a real tool-calling
trajectory (tau-bench) with its tool calls, results, participants, redaction, lifecycle and usage
chart, see a message appended elsewhere appear live, and no console errors. Writes the
transcript screenshot (``docs/images/transcript.png`` when ``CONVOLEDGER_UPDATE_SCREENSHOT=1``)."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from convoledger import open_ledger
from serve_process import ServeProcess, running_serve

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
TAU = SHARED / "data" / "conversations" / "tool_calling" / "tau_bench_gpt4o_airline_trajectories.jsonl.gz"
RESPONSES = SHARED / "data" / "provider_responses" / "openai_chat"
#: Real OpenAI chat completion responses recorded as the calls behind two assistant replies.
OPENAI_RESPONSES = [
    RESPONSES / "dd__chat_completion_custom_tool_call__0.json",
    RESPONSES / "dd__chat_completion_prompt_caching_cache_read__0.json",
]
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "transcript.png"
WAIT_MS = 20_000


def tau_messages(limit: int = 14) -> list[dict[str, Any]]:
    """The first tau-bench airline trajectory (MIT, see the data README) as API message bodies:
    user and assistant turns, the assistant's OpenAI-style tool calls and their tool results."""
    with gzip.open(TAU, "rt", encoding="utf-8") as fh:
        traj = json.loads(fh.readline())["traj"]
    out: list[dict[str, Any]] = []
    for m in traj[1:]:  # the long airline policy (system prompt) is left out of the page
        body: dict[str, Any] = {"role": m["role"], "content": m.get("content") or ""}
        if m.get("tool_calls"):
            body["tool_calls"] = [
                {"id": c["id"], "type": "function", "function": c["function"]} for c in m["tool_calls"]
            ]
            body["sender"] = "airline-agent"
        if m["role"] == "tool":
            body["tool_call_id"] = m["tool_call_id"]
            body["tool_name"] = m.get("name")
        out.append(body)
        if len(out) >= limit and m["role"] != "assistant":
            break
    return out


@pytest.fixture(scope="module")
def ui_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """A serve on SQLite with account ``a``'s sessions: a tau-bench transcript with a recorded
    provider call and a redacted message, a small talk session, an inactive one; ``b`` has one."""
    base = tmp_path_factory.mktemp("ui-serve")
    url = f"sqlite:///{base / 'ledger.db'}"
    with running_serve(url, log_dir=base) as proc, proc.client("a") as http:
        tau = http.post(
            "/api/agent-sessions",
            json={
                "session_id": "tau-airline-1",
                "name": "Airline support (tau-bench)",
                "participants": [
                    {"participant_id": "traveller", "participant_type": "user"},
                    {
                        "participant_id": "airline-agent",
                        "participant_type": "agent",
                        "participant_role": "support",
                    },
                ],
            },
        )
        assert tau.status_code == 201, tau.text
        sid = tau.json()["id"]
        stored = http.post(f"/api/agent-sessions/{sid}/messages/batch", json={"messages": tau_messages()})
        assert stored.status_code == 201, stored.text
        first_user = next(m for m in stored.json() if m["role"] == "user")
        assert http.post(f"/api/agent-sessions/{sid}/messages/{first_user['id']}/redact").status_code == 200
        other = http.post("/api/agent-sessions", json={"session_id": "smalltalk", "name": "Small talk"})
        http.post(
            f"/api/agent-sessions/{other.json()['id']}/messages",
            json={"role": "user", "content": "Nice weather"},
        )
        idle = http.post("/api/agent-sessions", json={"session_id": "paused", "name": "Paused planning"})
        assert http.put(f"/api/agent-sessions/{idle.json()['id']}/deactivate", json={}).status_code == 200
        replies = [m["id"] for m in stored.json() if m["role"] == "assistant"][-2:]
        # In a worker thread: Playwright's sync API keeps an event loop on this one.
        with ThreadPoolExecutor(max_workers=1) as pool:
            recorded = _record_calls(url, proc.accounts["a"], sid, replies)
            pool.submit(asyncio.run, recorded).result()
        with proc.client("b") as http_b:
            assert http_b.post("/api/agent-sessions", json={"name": "Secret of b"}).status_code == 201
        yield proc


async def _record_calls(url: str, account: str, conversation_id: str, message_ids: list[str]) -> None:
    """Record real OpenAI chat completion responses (shared data) as the calls behind replies."""
    async with open_ledger(url, owner=account) as ledger:
        for path, message_id in zip(OPENAI_RESPONSES, message_ids, strict=True):
            response = json.loads(path.read_text())
            await ledger.record_provider_call(
                conversation_id, response, message=message_id, provider="openai"
            )


def _token(proc: ServeProcess, label: str) -> str:
    return proc.headers[label]["Authorization"].removeprefix("Bearer ")


def _page(browser: Any) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page, errors


def _sign_in(page: Any, proc: ServeProcess, label: str) -> None:
    page.goto(f"{proc.base_url}/")
    field = page.get_by_label("API token")
    field.wait_for(timeout=WAIT_MS)
    field.focus()
    page.keyboard.type(_token(proc, label))
    page.keyboard.press("Enter")  # the form submits from the keyboard
    page.get_by_role("heading", name="Sessions").wait_for(timeout=WAIT_MS)


def test_sign_in_filter_transcript_live_and_no_console_errors(browser: Any, ui_serve: ServeProcess) -> None:
    from playwright.sync_api import expect

    context, page, errors = _page(browser)
    try:
        page.goto(f"{ui_serve.base_url}/")
        expect(page).to_have_title("convoledger")
        page.get_by_label("API token").fill("clg_wrong-token")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("not accepted")
        errors.clear()  # the refused token's 401 is logged by the browser on purpose
        page.get_by_label("API token").fill("")
        _sign_in(page, ui_serve, "a")

        rows = page.locator("table.sessions tbody tr")
        expect(rows).to_have_count(3, timeout=WAIT_MS)
        page.get_by_label("Name or session id").fill("airline")
        page.get_by_role("button", name="Apply filters").click()
        expect(rows).to_have_count(1, timeout=WAIT_MS)
        expect(rows.first).to_contain_text("Airline support (tau-bench)")
        page.get_by_role("button", name="Clear").click()
        page.get_by_label("Status").select_option("inactive")
        page.get_by_role("button", name="Apply filters").click()
        expect(rows).to_have_count(1, timeout=WAIT_MS)
        expect(rows.first).to_contain_text("Paused planning")
        page.get_by_role("button", name="Clear").click()
        expect(rows).to_have_count(3, timeout=WAIT_MS)
        expect(page.get_by_role("img", name="Account usage per day")).to_be_visible()

        link = page.get_by_role("link", name="Airline support (tau-bench)")
        link.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Airline support (tau-bench)", level=1)).to_be_visible(
            timeout=WAIT_MS
        )
        messages = page.get_by_role("list", name="Messages").locator(":scope > li")
        expect(messages).to_have_count(len(tau_messages()), timeout=WAIT_MS)
        calls = page.locator(".tool-call")
        expect(calls.first).to_be_visible()
        expect(calls.first).to_contain_text("tool call")
        first_call_name = tau_first_tool_name()
        expect(page.locator(".tool-call code").first).to_have_text(first_call_name)
        expect(page.locator(".tool-result").first).to_contain_text("tool result")
        expect(page.locator(".message.role-tool").first).to_be_visible()
        expect(page.locator(".message.redacted").first).to_contain_text("[redacted]")
        expect(page.get_by_role("heading", name="Participants")).to_be_visible()
        expect(page.locator(".participants")).to_contain_text("airline-agent")
        expect(page.locator(".participants")).to_contain_text("support")
        expect(page.get_by_role("img", name="Usage per provider call")).to_be_visible()
        expect(page.locator(".facts")).to_contain_text("in 2 provider calls")
        expect(page.get_by_role("status")).to_have_text("Live", timeout=WAIT_MS)

        # A message appended elsewhere (another client, over HTTP) appears without a reload.
        with ui_serve.client("a") as http:
            r = http.post(
                "/api/agent-sessions/tau-airline-1/messages",
                json={
                    "role": "assistant",
                    "content": "Live update: your flight is confirmed.",
                    "sender": "airline-agent",
                },
            )
            assert r.status_code == 201, r.text
        expect(page.get_by_text("Live update: your flight is confirmed.")).to_be_visible(timeout=WAIT_MS)
        expect(messages).to_have_count(len(tau_messages()) + 1)

        # Full-text search inside the transcript.
        page.get_by_label("Full-text search in this session").fill("confirmed flight")
        page.get_by_role("button", name="Search", exact=True).click()
        expect(messages).to_have_count(1, timeout=WAIT_MS)
        page.get_by_role("button", name="Show all").click()
        expect(messages).to_have_count(len(tau_messages()) + 1, timeout=WAIT_MS)

        page.set_viewport_size({"width": 1280, "height": 1700})  # the first tool calls in view
        page.evaluate("window.scrollTo(0, 0)")
        shot = page.screenshot(full_page=False)
        assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 20_000
        if os.environ.get("CONVOLEDGER_UPDATE_SCREENSHOT") == "1":
            SCREENSHOT.write_bytes(shot)
        assert errors == [], f"console errors: {errors}"
    finally:
        context.close()


def tau_first_tool_name() -> str:
    for m in tau_messages():
        if m.get("tool_calls"):
            return str(m["tool_calls"][0]["function"]["name"])
    raise AssertionError("the trajectory has no tool call")


def test_another_account_sees_only_its_own_sessions(browser: Any, ui_serve: ServeProcess) -> None:
    from playwright.sync_api import expect

    context, page, errors = _page(browser)
    try:
        _sign_in(page, ui_serve, "b")
        rows = page.locator("table.sessions tbody tr")
        expect(rows).to_have_count(1, timeout=WAIT_MS)
        expect(rows.first).to_contain_text("Secret of b")
        page.goto(f"{ui_serve.base_url}/#/sessions/tau-airline-1")
        expect(page.get_by_role("alert")).to_contain_text("404", timeout=WAIT_MS)
        errors[:] = [e for e in errors if "404" not in e]  # the refused fetch is logged by the browser
        assert errors == [], f"console errors: {errors}"
    finally:
        context.close()


def test_the_ui_is_served_from_the_package_without_a_cdn(ui_serve: ServeProcess) -> None:
    index = httpx.get(f"{ui_serve.base_url}/", timeout=30)
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert "/ui/assets/" in index.text
    assert "http://" not in index.text and "https://" not in index.text  # nothing from elsewhere
    asset = index.text.split('src="', 1)[1].split('"', 1)[0]
    js = httpx.get(f"{ui_serve.base_url}{asset}", timeout=30)
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
