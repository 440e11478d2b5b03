"""DialogStudio, BFCL, ToolTalk, SWE-agent and tau-bench few-shot importers on real records of
``../shared/data`` and on malformed input."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from importer_helpers import records_at, split

from convoledger.importers import open_records, parse
from convoledger.importers.bfcl import parse_call
from convoledger.importers.tau_fewshot import split_display

DS = "task_oriented/dialogstudio_tod_examples.jsonl.gz"
BFCL = "tool_calling/bfcl_v4_multi_turn.jsonl.gz"
TOOLTALK = "tool_calling/tooltalk.jsonl.gz"
SWE = "tool_calling/swe_agent_trajectories.jsonl.gz"
FEWSHOT = "tool_calling/tau_bench_few_shot_MockRetailDomainEnv.jsonl.gz"


def _calls_answered(messages: list) -> None:
    """Every tool result names a call made by an earlier assistant message (windows keep pairs)."""
    made: set[str] = set()
    for m in messages:
        made.update(m.tool_call_ids)
        if m.role == "tool" and m.tool_call_id is not None:
            assert m.tool_call_id in made, m


def test_dialogstudio_turns_goals_and_lossless_history(data_dir: Path) -> None:
    [(line, rec)] = records_at(data_dir / DS, {1})
    [conv], errors = split(parse("dialogstudio", [(line, rec)]))
    assert errors == []
    c = conv.conversation
    assert c.session_id == "dialogstudio:ABCD--train--1" and c.kind.value == "conversation"
    assert c.metadata["original dialog info"]["flow"] == "product_defect"
    # turn 1 has only a system response; then user/system pairs
    assert [m.role for m in conv.messages[:3]] == ["assistant", "user", "assistant"]
    assert conv.messages[0].content == "Hi! How can I help you?"
    assert conv.messages[1].content == "Hi! I need to return an item, can you help me with that?"
    assert conv.messages[1].metadata["turn id"] == 2
    assert "original user side information" in conv.messages[1].metadata
    assert "original system side information" in conv.messages[2].metadata
    # "dialog history" is the rendering of earlier turns here: not stored again
    assert all("dialog history" not in m.metadata for m in conv.messages)


def test_dialogstudio_keeps_history_that_differs_from_the_rendering(data_dir: Path) -> None:
    convs, errors = split(parse("dialogstudio", open_records(data_dir / DS)))
    assert errors == [] and len(convs) == 150
    dstc2 = next(c for c in convs if c.conversation.metadata["dataset"] == "DSTC2-Clean")
    kept = [m.metadata["dialog history"] for m in dstc2.messages if "dialog history" in m.metadata]
    assert kept and kept[0].startswith("<SYS> Hello , welcome to the Cambridge restaurant system?")
    assert any(c.conversation.current_goal for c in convs)


def test_dialogstudio_malformed(data_dir: Path) -> None:
    [(_, rec)] = records_at(data_dir / DS, {1})
    bad = copy.deepcopy(rec)
    bad["log"][1]["user utterance"] = 42
    _, errors = split(parse("dialogstudio", [(1, bad), (2, {"log": "nope"}), (3, {"dataset": "x"})]))
    assert [e.line for e in errors] == [1, 2, 3]
    assert "user utterance" in errors[0].reason


def test_bfcl_turns_gold_calls_and_missed_function_turns(data_dir: Path) -> None:
    convs, errors = split(parse("bfcl", open_records(data_dir / BFCL)))
    assert errors == [] and len(convs) == 800
    first = convs[0]
    assert first.conversation.session_id == "bfcl:multi_turn_base_0"
    assert [m.role for m in first.messages] == ["user"] * 4
    assert first.messages[0].metadata["ground_truth"][0] == "cd(folder='document')"
    assert first.messages[0].metadata["ground_truth_calls"][2] == {
        "name": "mv",
        "arguments": {"source": "final_report.pdf", "destination": "temp"},
    }
    assert first.conversation.metadata["involved_classes"] == ["TwitterAPI", "GorillaFileSystem"]
    miss = next(c for c in convs if c.conversation.session_id == "bfcl:multi_turn_miss_func_0")
    added = [m for m in miss.messages if m.message_type == "functions_added"]
    assert (
        len(added) == 1
        and added[0].metadata["functions_added"] == ["sort"]
        and added[0].metadata["turn"] == 3
    )
    assert "sort" in added[0].content
    assert all(m.tool_calls is None for c in convs for m in c.messages)  # labels, not events


def test_bfcl_call_parser() -> None:
    assert parse_call("sort('final_report.pdf')") == {
        "name": "sort",
        "arguments": {"args": ["final_report.pdf"]},
    }
    assert parse_call("a.b(x=1, y=[2, 3])") == {"name": "a.b", "arguments": {"x": 1, "y": [2, 3]}}
    assert parse_call("f(x=os.system('rm'))") == {"unparsed": "f(x=os.system('rm'))"}
    assert parse_call("not a call(") == {"unparsed": "not a call("}


def test_bfcl_malformed() -> None:
    good = {"id": "t", "question": [[{"role": "user", "content": "hi"}]], "ground_truth": [["f()"]]}
    _, errors = split(
        parse(
            "bfcl",
            [
                (1, {**good, "question": [[{"role": "robot", "content": "x"}]]}),
                (2, {**good, "ground_truth": [["f()"], ["g()"]]}),
                (3, {**good, "question": "hi"}),
            ],
        )
    )
    assert [e.line for e in errors] == [1, 2, 3]


def test_tooltalk_calls_results_and_time(data_dir: Path) -> None:
    convs, errors = split(parse("tooltalk", open_records(data_dir / TOOLTALK)))
    assert errors == [] and len(convs) == 78
    first = convs[0]
    c = first.conversation
    assert c.session_id == "tooltalk:90a1a217-55bc-4d6d-8b76-99440aae3a1a" and c.user_id == "justinkool"
    assert c.created_at.isoformat() == "2023-09-11T13:00:00+00:00"
    call, result, answer = first.messages[1:4]
    assert call.tool_calls[0]["function"]["name"] == "AddAlarm"  # type: ignore[index]
    assert json.loads(call.tool_calls[0]["function"]["arguments"])  # type: ignore[index]
    assert result.role == "tool" and result.tool_call_id == call.tool_calls[0]["id"]  # type: ignore[index]
    assert json.loads(result.content) == {"alarm_id": "5bff-dd80"}
    assert answer.content == "I have set an alarm for you at 6:30 PM"
    calls = sum(len(m.tool_calls or []) for c in convs for m in c.messages)
    assert calls == 266  # README: 266 API calls
    for conv in convs:
        _calls_answered(conv.messages)
    failed = [m for c in convs for m in c.messages if m.role == "tool" and "exception" in m.metadata]
    assert len(failed) == 1 and "exception" in json.loads(failed[0].content)


def test_tooltalk_malformed(data_dir: Path) -> None:
    [(_, rec)] = records_at(data_dir / TOOLTALK, {1})
    bad = copy.deepcopy(rec)
    bad["conversation"][1]["role"] = "bot"
    no_name = copy.deepcopy(rec)
    no_name["conversation"][1]["apis"][0]["request"]["api_name"] = ""
    _, errors = split(
        parse("tooltalk", [(1, bad), (2, no_name), (3, {**rec, "metadata": {"timestamp": "soon"}})])
    )
    assert [e.line for e in errors] == [1, 2, 3]


def test_swe_agent_history_tools_and_steps(data_dir: Path) -> None:
    convs, errors = split(parse("swe-agent", open_records(data_dir / SWE)))
    assert errors == [] and len(convs) == 22
    assert sum(len(c.messages) for c in convs) == 489  # README: 489 history messages
    first = convs[0]
    c = first.conversation
    assert c.session_id == "swe-agent:trajectories/demonstrations/ctf/crypto/BabyEncryption.traj"
    assert c.current_goal["exit_status"] == "submitted"
    assistant = [m for m in first.messages if m.role == "assistant"]
    assert assistant[0].metadata["action"] == "open chall.py\n"
    assert assistant[0].metadata["trajectory_step"] == 0 and "state" in assistant[0].metadata["step"]
    assert "response" not in assistant[0].metadata["step"]  # the same as the stored content
    with_tools = [c for c in convs if any(m.role == "tool" for m in c.messages)]
    assert with_tools
    for conv in convs:
        _calls_answered(conv.messages)
    steps = sum(1 for conv in convs for m in conv.messages if "trajectory_step" in m.metadata)
    unmatched = sum(len(conv.conversation.metadata.get("unmatched_steps", [])) for conv in convs)
    assert steps + unmatched == 227  # every trajectory step is kept once


def test_tau_fewshot_display_split_and_synthesized_calls(data_dir: Path) -> None:
    convs, errors = split(parse("tau-bench-few-shot", open_records(data_dir / FEWSHOT)))
    assert errors == [] and len(convs) == 69
    first = convs[0].messages
    assert first[0].content == "Hi, I was wondering how I can check the balance on my gift card?"
    call, result = first[3], first[4]
    assert call.content == "" and call.metadata == {"display": "None"} and call.tool_calls
    assert result.role == "tool" and result.tool_call_id == call.tool_calls[0]["id"]
    assert result.content == "isabella_lopez_6490"
    # a multi-line message keeps its lines
    assert any("\n\nWould you like to proceed" in m.content for m in first)
    for conv in convs:
        _calls_answered(conv.messages)
        assert all(m.tool_call_id for m in conv.messages if m.role == "tool")


def test_tau_fewshot_malformed() -> None:
    assert split_display("user: a\nmore\nassistant: b") == [("user", "a\nmore"), ("assistant", "b")]
    _, errors = split(
        parse("tau-bench-few-shot", [(1, {"messages_display": "hello there"}), (2, {"messages_display": 3})])
    )
    assert [e.line for e in errors] == [1, 2]
    with pytest.raises(ValueError):
        list(parse("tau-bench-few-shot", [(1, {})], owner_id=""))
