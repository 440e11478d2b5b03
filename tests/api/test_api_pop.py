"""``POST /api/agent-sessions/{session}/messages/pop``: the newest message removed and returned
in one transaction on every backend (memory, JSON files, SQLite, PostgreSQL): concurrent pops
remove different messages, an empty session answers 204, shared fork history is a 409."""

from __future__ import annotations

import asyncio
from pathlib import Path

from api_helpers import Api, assert_problem, start_api


async def check_pop(api: Api) -> None:
    session = (await api.create_session())["id"]
    pop = f"/api/agent-sessions/{session}/messages/pop"
    empty = await api.client.post(pop, headers=api.a)
    assert empty.status_code == 204 and empty.content == b""
    stored = [await api.post_message(session, content=f"m{i}") for i in range(5)]

    answers = await asyncio.gather(*(api.client.post(pop, headers=api.a) for _ in range(6)))
    assert sorted(r.status_code for r in answers) == [200] * 5 + [204]
    popped = [r.json() for r in answers if r.status_code == 200]
    assert sorted(m["id"] for m in popped) == sorted(m["id"] for m in stored)  # each exactly once

    again = await api.post_message(session, content="after")
    assert again["seq"] == 6  # a popped seq is never reused
    newest = await api.client.post(pop, headers=api.a)
    assert newest.status_code == 200 and newest.json()["id"] == again["id"]
    assert_problem(await api.client.post(pop, headers=api.b), 404, "not-found")  # another account's


async def test_pop_on_each_backend(api: Api) -> None:
    """Memory, SQLite and PostgreSQL (the ``api`` fixture's backends)."""
    await check_pop(api)


async def test_pop_on_json_files(tmp_path: Path) -> None:
    async for api in start_api(f"jsonfiles://{tmp_path / 'ledger'}"):
        await check_pop(api)


async def test_pop_refuses_history_a_branch_shares(api: Api) -> None:
    parent = (await api.create_session())["id"]
    for i in range(2):
        await api.post_message(parent, content=f"p{i}")
    fork = await api.client.post(f"/api/agent-sessions/{parent}/fork", json={"at_seq": 2}, headers=api.a)
    assert fork.status_code == 201, fork.text
    assert_problem(await api.client.post(f"/api/agent-sessions/{parent}/messages/pop", headers=api.a), 409)
    branch_pop = await api.client.post(f"/api/agent-sessions/{fork.json()['id']}/messages/pop", headers=api.a)
    assert branch_pop.status_code == 204  # the branch has no message of its own
