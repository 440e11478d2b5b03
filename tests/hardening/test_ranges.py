"""Issue 16 item 2: numbers and datetimes out of what the stores hold are 422 problem+json,
never a 500: seqs beyond 2^63 - 1, times outside 0001-01-02..9999-12-30 UTC (after applying the
offset) in bodies, bundles and filters, and a number where a date is expected."""

from __future__ import annotations

import httpx
import pytest
from hardening_helpers import assert_problem, new_session

TOO_BIG = [str(2**63), str(10**30)]
BAD_TIMES = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z"]


@pytest.mark.parametrize("value", TOO_BIG)
def test_after_seq_beyond_int64_is_422(client: httpx.Client, value: str) -> None:
    session = new_session(client)
    r = client.get(f"/api/agent-sessions/{session['id']}/messages", params={"after_seq": value})
    assert_problem(r, 422, "validation-error")
    ok = client.get(f"/api/agent-sessions/{session['id']}/messages", params={"after_seq": str(2**63 - 1)})
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize("when", BAD_TIMES)
def test_created_at_out_of_range_on_append_is_422(client: httpx.Client, when: str) -> None:
    session = new_session(client)
    r = client.post(
        f"/api/agent-sessions/{session['id']}/messages",
        json={"role": "user", "content": "x", "created_at": when},
    )
    assert_problem(r, 422)
    assert client.get(f"/api/agent-sessions/{session['id']}/messages").json()["total"] == 0


@pytest.mark.parametrize("when", [*BAD_TIMES, "0.5", "1e400"])
@pytest.mark.parametrize("name", ["created_from", "created_to", "updated_from", "updated_to"])
def test_session_filters_out_of_range_are_422(client: httpx.Client, name: str, when: str) -> None:
    assert_problem(client.get("/api/agent-sessions", params={name: when}), 422)


@pytest.mark.parametrize("when", [*BAD_TIMES, "0.5"])
def test_message_filters_out_of_range_are_422(client: httpx.Client, when: str) -> None:
    session = new_session(client)
    url = f"/api/agent-sessions/{session['id']}/messages"
    assert_problem(client.get(url, params={"created_to": when}), 422)
    assert_problem(client.get(url, params={"created_at": f"{when},"}), 422)


def test_the_edges_of_the_range_are_accepted(client: httpx.Client) -> None:
    session = new_session(client)
    url = f"/api/agent-sessions/{session['id']}/messages"
    for when in ("0001-01-02T00:00:00Z", "9999-12-30T23:59:59Z"):
        r = client.post(url, json={"role": "user", "content": when, "created_at": when})
        assert r.status_code == 201, r.text
    assert client.get(url, params={"created_from": "0001-01-02T00:00:00Z"}).json()["total"] == 2


def test_a_bundle_with_seq_2_63_is_422(client: httpx.Client) -> None:
    session = new_session(client)
    base = f"/api/agent-sessions/{session['id']}"
    client.post(f"{base}/messages", json={"role": "user", "content": "x"})
    document = client.get(f"{base}/export").json()
    assert client.delete(base).status_code == 204
    bundle = document["convoledger_bundle"]
    bundle["messages"][0]["seq"] = 2**63
    assert_problem(client.post("/api/agent-sessions/import", json=bundle), 422)
    bundle["messages"][0]["seq"] = 1
    bundle["messages"][0]["created_at"] = "9999-12-31T23:59:59-14:00"
    assert_problem(client.post("/api/agent-sessions/import", json=bundle), 422)
    assert client.get(base).status_code == 404
