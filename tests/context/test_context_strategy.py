"""choose_context: server-side state when the API keeps history and a valid handle exists, else a window."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from convoledger.context import choose_context
from convoledger.models.records import ConversationRecord, MessageRecord

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
CHAIN = SHARED / "data" / "provider_responses" / "openai_responses"


def history(n: int) -> list[MessageRecord]:
    roles = ["system"] + ["user", "assistant"] * n
    return [
        MessageRecord(
            id=f"m{i}", conversation_id="c1", seq=i, role=roles[i - 1], content=f"m{i}", token_count=10
        )
        for i in range(1, n + 1)
    ]


def conversation(state: dict[str, Any] | None, last_seq: int = 10) -> ConversationRecord:
    return ConversationRecord(
        id="c1", owner_id="o1", server_state=state, last_seq=last_seq, message_count=last_seq
    )


HANDLE = {"provider": "openai", "api": "responses", "previous_response_id": "resp_abc", "last_message_seq": 7}


def plan(state: dict[str, Any] | None, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "provider": "openai",
        "api": "responses",
        "api_stateful": True,
        "budget_tokens": 35,
    }
    args.update(kw)
    messages = args.pop("messages", history(10))
    return choose_context(conversation(state, args.pop("last_seq", 10)), messages, **args)


def test_server_state_sends_only_messages_after_the_handle() -> None:
    p = plan(HANDLE)
    assert p.strategy == "server_state"
    assert [m.seq for m in p.messages] == [8, 9, 10]
    assert p.server_handle == HANDLE and p.server_handle is not HANDLE
    assert p.window is None
    assert "up to seq 7" in p.reason and "previous_response_id=resp_abc" in p.reason
    assert "3 new message(s)" in p.reason


def test_server_state_includes_unsaved_messages_and_accepts_other_handle_keys() -> None:
    new = MessageRecord(id="new", role="user", content="next question")
    state = {"provider": "OpenAI", "conversation_id": "conv_123", "last_message_seq": 10}
    p = plan(state, messages=[*history(10), new], api=None)
    assert p.strategy == "server_state"
    assert [m.id for m in p.messages] == ["new"]
    assert "conversation_id=conv_123" in p.reason


def test_server_state_with_nothing_new() -> None:
    p = plan({**HANDLE, "last_message_seq": 10})
    assert p.strategy == "server_state" and p.messages == []


def test_server_state_delta_is_not_filtered_for_tool_integrity() -> None:
    msgs = history(7) + [
        MessageRecord(id="call", seq=8, role="assistant", tool_calls=[{"id": "fc_1", "type": "function"}]),
        MessageRecord(id="out", seq=9, role="tool", tool_call_id="fc_1", content="42"),
    ]
    p = plan({**HANDLE, "last_message_seq": 8}, messages=msgs, last_seq=9)
    assert p.strategy == "server_state" and [m.id for m in p.messages] == ["out"]


def _window_reason(p: Any, fragment: str) -> None:
    assert p.strategy == "token_window"
    assert p.server_handle is None
    assert p.reason.startswith("token_window: ")
    assert fragment in p.reason, p.reason
    assert p.window is not None and p.messages == p.window.messages
    assert [m.seq for m in p.messages] == [1, 9, 10]  # system + the newest that fit 35 tokens


@pytest.mark.parametrize(
    ("state", "kwargs", "fragment"),
    [
        (HANDLE, {"api_stateful": False, "api": "chat"}, "the openai/chat API keeps no server-side history"),
        (None, {}, "has no server-side handle"),
        ({}, {}, "has no server-side handle"),
        ({**HANDLE, "provider": "azure"}, {}, "belongs to provider 'azure', not 'openai'"),
        ({k: v for k, v in HANDLE.items() if k != "provider"}, {}, "belongs to provider None"),
        (HANDLE, {"api": "conversations"}, "is for the 'responses' API, not 'conversations'"),
        ({**HANDLE, "previous_response_id": ""}, {}, "holds no handle"),
        ({"provider": "openai", "response_id": "resp_1", "last_message_seq": 3}, {}, "holds no handle"),
        ({k: v for k, v in HANDLE.items() if k != "last_message_seq"}, {}, "last_message_seq is None"),
        ({**HANDLE, "last_message_seq": "7"}, {}, "last_message_seq is '7'"),
        ({**HANDLE, "last_message_seq": True}, {}, "last_message_seq is True"),
        ({**HANDLE, "last_message_seq": 12}, {}, "at seq 12, past the conversation's last seq 10"),
    ],
)
def test_token_window_with_the_reason(state: Any, kwargs: dict[str, Any], fragment: str) -> None:
    _window_reason(plan(state, **kwargs), fragment)


def test_falls_back_when_recent_messages_do_not_cover_the_delta() -> None:
    tail = history(10)[8:]  # seq 9, 10 only; the handle is at 7
    p = plan(HANDLE, messages=tail)
    assert p.strategy == "token_window"
    assert "do not hold every message after the handle (seq 8-10 needed" in p.reason
    gap = [m for m in history(10) if m.seq != 9]
    assert plan(HANDLE, messages=gap).strategy == "token_window"
    stale = history(9)  # conversation says last_seq 10 but seq 10 is missing
    assert "seq 8-10 needed, got 2" in plan(HANDLE, messages=stale).reason


def test_token_window_passes_keep_system_and_summary_through() -> None:
    p = plan(None, budget_tokens=200, summary=True, messages=history(40), last_seq=40)
    assert p.window is not None and p.window.summary_message is not None
    assert p.messages[1] is p.window.summary_message
    q = plan(None, keep_system=False, messages=history(10))
    assert [m.seq for m in q.messages] == [8, 9, 10]


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="provider must be a non-empty str"):
        plan(HANDLE, provider=" ")
    with pytest.raises(ValueError, match="budget_tokens"):
        plan(HANDLE, budget_tokens=-1)


def test_real_previous_response_id_chain_handles() -> None:
    """Handles taken from a recorded Responses chain: each call's id becomes the next call's handle."""
    index = json.loads((CHAIN.parent / "index.json").read_text())
    chain = sorted(
        (r for r in index if r.get("chain") and "seed_auto_chains_through_retries" in r["file"]),
        key=lambda r: r["interaction_index"],
    )
    assert len(chain) == 4
    first = json.loads((CHAIN.parent / chain[0]["file"]).read_text())
    follow = json.loads((CHAIN.parent / chain[1]["request_file"]).read_text())
    assert follow["previous_response_id"] == first["id"]
    state = {
        "provider": "openai",
        "api": "responses",
        "previous_response_id": first["id"],
        "last_message_seq": 2,
    }
    msgs = history(3)
    p = choose_context(
        conversation(state, last_seq=3),
        msgs,
        provider="openai",
        api="responses",
        api_stateful=True,
        budget_tokens=10,
    )
    assert p.strategy == "server_state"
    assert (
        p.server_handle is not None
        and p.server_handle["previous_response_id"] == follow["previous_response_id"]
    )
    assert [m.seq for m in p.messages] == [3]
