"""OpenAI chat-completions / tau-bench importer on real trajectories and malformed input."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from importer_helpers import split

from convoledger.importers import open_records, parse_openai

TAU = "tool_calling/tau_bench_gpt4o_airline_trajectories.jsonl.gz"


@pytest.fixture(scope="module")
def trajectories(data_dir: Path) -> list[tuple[int, dict]]:
    return list(open_records(data_dir / TAU))


def test_first_trajectory(trajectories: list[tuple[int, dict]]) -> None:
    [conv], errors = split(parse_openai(trajectories[:1]))
    assert errors == []
    c = conv.conversation
    assert c.kind == "agent_session"
    assert c.session_id.startswith("tau-bench:task-0:trial-0:")
    assert c.current_goal["instruction"].startswith(
        "You are mia_li_3668. You want to fly from New York to Seattle"
    )
    assert c.current_goal["user_id"] == "mia_li_3668" == c.user_id
    assert c.metadata["reward"] == 0.0 and c.metadata["task_id"] == 0
    assert c.metadata["expected_actions"][0]["name"] == "book_reservation"
    msgs = conv.messages
    assert len(msgs) == len(trajectories[0][1]["traj"])
    assert msgs[0].role == "system" and msgs[0].content.startswith("# Airline Agent Policy")
    assert msgs[1].content == "Hi! I'm looking to book a flight from New York to Seattle on May 20th."
    call_msg, result = msgs[6], msgs[7]
    assert call_msg.role == "assistant" and call_msg.tool_call_ids == ["call_oIHazX6yQrB8hUwl4cRilFKj"]
    assert call_msg.tool_calls[0]["function"] == {
        "arguments": '{"user_id":"mia_li_3668"}',
        "name": "get_user_details",
    }
    assert result.role == "tool" and result.tool_call_id == "call_oIHazX6yQrB8hUwl4cRilFKj"
    assert result.tool_name == "get_user_details"
    assert result.content.startswith('{"name": {"first_name": "Mia", "last_name": "Li"}')


def test_all_trajectories_with_linked_tool_results(trajectories: list[tuple[int, dict]]) -> None:
    convs, errors = split(parse_openai(trajectories))
    assert errors == [] and len(convs) == 200
    msgs = [m for c in convs for m in c.messages]
    roles = {r: sum(1 for m in msgs if m.role == r) for r in ("system", "user", "assistant", "tool")}
    # README: 5,308 messages (200 system, 1,490 user, 2,454 assistant, 1,164 tool; 1,164 tool_calls)
    assert len(msgs) == 5308
    assert roles == {"system": 200, "user": 1490, "assistant": 2454, "tool": 1164}
    assert sum(len(m.tool_calls or []) for m in msgs) == 1164
    for conv in convs:
        called: set[str] = set()
        for m in conv.messages:
            called.update(m.tool_call_ids)
            if m.role == "tool":
                assert m.tool_call_id in called  # each result answers an earlier call
    assert len({c.conversation.session_id for c in convs}) == 200


def test_plain_messages_records(trajectories: list[tuple[int, dict]]) -> None:
    traj = trajectories[1][1]["traj"]
    parts = {
        "id": "conv-7",
        "messages": [
            {"role": "developer", "content": "Be brief."},
            {
                "role": "user",
                "content": [{"type": "text", "text": "Hello"}, {"type": "image_url", "image_url": {}}],
            },
        ],
        "tools": [{"type": "function", "function": {"name": "noop"}}],
    }
    convs, errors = split(parse_openai([(1, {"messages": traj}), (2, parts)]))
    assert errors == []
    assert len(convs[0].messages) == len(traj)
    assert convs[0].conversation.session_id.startswith("openai:")
    second = convs[1]
    assert second.conversation.session_id.startswith("openai:conv-7:")
    assert second.conversation.metadata["tools"] == parts["tools"]
    dev, user = second.messages
    assert (dev.role, dev.metadata["source_role"]) == ("system", "developer")
    assert (
        user.content == "Hello\n[image_url]"
        and user.metadata["content_parts"] == parts["messages"][1]["content"]
    )


def test_malformed_records(trajectories: list[tuple[int, dict]]) -> None:
    rec = trajectories[0][1]
    no_call_id = copy.deepcopy(rec)
    del no_call_id["traj"][7]["tool_call_id"]
    bad_role = copy.deepcopy(rec)
    bad_role["traj"][3]["role"] = "robot"
    bad_call = copy.deepcopy(rec)
    bad_call["traj"][6]["tool_calls"][0]["function"] = "get_user_details"
    records = [
        (1, no_call_id),
        (2, {"prompt": "x"}),
        (3, rec),
        (4, bad_role),
        (5, bad_call),
        (6, {"messages": []}),
    ]
    convs, errors = split(parse_openai(records))
    assert [c.source_line for c in convs] == [3]
    assert [e.line for e in errors] == [1, 2, 4, 5, 6]
    assert "traj[7]" in errors[0].reason and "tool_call_id" in errors[0].reason
    assert "'messages'" in errors[1].reason
    assert "robot" in errors[2].reason
    assert "traj[6].tool_calls[0].function" in errors[3].reason
    assert "empty" in errors[4].reason
