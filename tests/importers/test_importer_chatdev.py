"""ChatDev importer: one session per phase, roles, message types, ChatDev's YYYY-DD-MM times."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from importer_helpers import split

from convoledger.importers import ImportedConversation, open_records, parse_chatdev
from convoledger.importers.chatdev import parse_log_time
from convoledger.importers.common import RecordShapeError

CHATDEV = "multi_agent/chatdev_warehouse_logs.jsonl.gz"
RANDOMPICK = "chatdev:RandomPick_ModelBest1024_20231022154124"


@pytest.fixture(scope="module")
def logs(data_dir: Path) -> dict[int, dict]:
    return dict(open_records(data_dir / CHATDEV))


@pytest.fixture(scope="module")
def imported(logs: dict[int, dict]) -> tuple[list[ImportedConversation], list]:
    return split(parse_chatdev(sorted(logs.items())))


def _phases(imported: tuple[list[ImportedConversation], list], line: int) -> list[ImportedConversation]:
    return [c for c in imported[0] if c.source_line == line]


def test_log_time_is_year_day_month() -> None:
    assert parse_log_time("2023-22-10 15:41:24") == datetime(2023, 10, 22, 15, 41, 24, tzinfo=UTC)
    with pytest.raises(RecordShapeError, match="YYYY-DD-MM"):
        parse_log_time("2023-10-22 15:41:24")  # month 22 does not exist


def test_whole_file(imported: tuple[list[ImportedConversation], list], logs: dict[int, dict]) -> None:
    convs, errors = imported
    assert len(logs) == 35
    # line 1 (Calculator_THUNLP_20230628184918) is a 3-line log with no agent speaking
    assert [(e.line, "no speaker lines" in e.reason) for e in errors] == [(1, True)]
    assert len({c.source_line for c in convs}) == 34
    assert len(convs) == 503 and sum(len(c.messages) for c in convs) == 1108
    assert len({c.conversation.session_key for c in convs}) == 503
    for conv in convs:
        c = conv.conversation
        assert c.kind == "conversation_session"
        types = {p.participant_id: p.participant_type for p in c.participants}
        assert types["chatchain"] == "master_controller"
        for m in conv.messages:
            assert m.role == "agent" and types[m.sender] == "agent"
            assert m.recipient is None or m.recipient in types
        if c.session_type == "mc_to_agent":
            assert c.session_key == f"{c.session_id}_mc_to_{conv.messages[0].sender}"


def test_randompick_phases_roles_and_types(imported: tuple[list[ImportedConversation], list]) -> None:
    phases = _phases(imported, 4)
    assert [p.conversation.metadata["phase_name"] for p in phases] == [
        "DemandAnalysis",
        "LanguageChoose",
        "Coding",
        "CodeReviewComment",
        "CodeReviewModification",
        "CodeReviewComment",
        "CodeReviewModification",
        "CodeReviewComment",
        "CodeReviewModification",
        "EnvironmentDoc",
        "Reflection",
        "Manual",
    ]
    demand = phases[0]
    c = demand.conversation
    assert c.session_id == f"{RANDOMPICK}:01"
    assert c.session_type == "agent_to_agent"
    assert c.session_key == f"{RANDOMPICK}:01_chief_executive_officer_to_chief_product_officer"
    assert [(p.participant_id, p.participant_type, p.participant_role) for p in c.participants] == [
        ("chatchain", "master_controller", None),
        ("chief_executive_officer", "agent", "chief_executive_officer"),
        ("chief_product_officer", "agent", "chief_product_officer"),
    ]
    assert c.current_goal == {
        "task": "Design a software that allows users to input several strings. "
        "Then the user randomly chooses one.",
        "phase": "DemandAnalysis",
    }
    msgs = demand.messages
    assert [(m.sender, m.recipient, m.message_type) for m in msgs] == [
        ("chief_executive_officer", "chief_product_officer", "task_assignment"),
        ("chief_product_officer", "chief_executive_officer", "result_report"),
        ("chief_executive_officer", "chief_product_officer", "task_completion"),
    ]
    # "[2023-22-10 15:41:24 INFO] Chief Executive Officer: **[Start Chat]**" etc.
    assert [m.created_at for m in msgs] == [
        datetime(2023, 10, 22, 15, 41, 24, tzinfo=UTC),
        datetime(2023, 10, 22, 15, 41, 41, tzinfo=UTC),
        datetime(2023, 10, 22, 15, 41, 41, tzinfo=UTC),
    ]
    assert msgs[0].content.startswith("ChatDev has made products in the following form before:")
    assert "You are Chief Product Officer." in msgs[0].metadata["role_prompt"]  # echo moved out
    assert msgs[1].content.startswith("I think a web application would be the most suitable product modality")
    assert msgs[2].content.endswith("<INFO> Web Application")
    assert msgs[1].metadata["usage"]["completion_tokens"] == 71
    assert c.metadata["usage"]["total_tokens"] == 500 + 612
    assert phases[1].messages[-1].content == "<INFO> Python"
    review = phases[3]
    assert review.conversation.session_key.endswith(":04_programmer_to_code_reviewer")
    assert review.conversation.metadata["composed_phase"] == "CodeReview"
    assert [m.message_type for m in review.messages] == ["task_assignment", "feedback"]
    assert review.messages[1].sender == "code_reviewer"
    assert review.messages[1].content.startswith("<Comment>\nThe code is well-structured")


def test_message_count_matches_the_collections_speaker_count(
    imported: tuple[list[ImportedConversation], list], logs: dict[int, dict]
) -> None:
    # The collection's speaker_turns also counts "System:" and "HTTP Request:" entry lines.
    noise = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \w+\] (?:System|HTTP Request): ", re.M)
    checked = 0
    for line, rec in logs.items():
        phases = _phases(imported, line)
        if phases and phases[0].conversation.metadata["log_dialect"] == "chatdev-1.0":
            expected = rec["speaker_turns"] - len(noise.findall(rec["log"]))
            assert sum(len(p.messages) for p in phases) == expected, rec["project"]
            checked += 1
    assert checked == 32


def test_older_log_dialects(imported: tuple[list[ImportedConversation], list]) -> None:
    website = _phases(imported, 3)  # AgentTech "PhaseType:" log of July 2023
    assert website[0].conversation.metadata["phase_name"] == "DEMAND_ANALYSIS"
    assert website[0].conversation.metadata["log_dialect"] == "agenttech-phasetype"
    assert [(m.sender, m.message_type) for m in website[0].messages] == [
        ("chief_executive_officer", "task_assignment"),
        ("chief_product_officer", "task_completion"),
    ]
    assert website[0].messages[1].content == "<INFO> Website."
    assert website[0].messages[0].created_at == datetime(2023, 7, 25, 15, 46, 12, tzinfo=UTC)
    gomoku = _phases(imported, 2)  # early log: no phase markers, one agent per chat
    first = gomoku[0].conversation
    assert first.session_type == "mc_to_agent"
    assert first.session_key == "chatdev:Gomoku_THUNLP_20230625201030:01_mc_to_chief_product_officer"
    assert gomoku[0].messages[0].recipient == "chatchain"
    assert gomoku[0].messages[0].content == "<INFO> GUI Application."
    two_agents = [p for p in gomoku if p.conversation.session_type == "agent_to_agent"]
    assert [m.sender for m in two_agents[0].messages] == [
        "chief_human_resource_officer",
        "chief_executive_officer",
        "chief_human_resource_officer",
    ]


def test_prompt_self_improvement_phase(imported: tuple[list[ImportedConversation], list]) -> None:
    [phase] = [
        p
        for p in _phases(imported, 22)
        if p.conversation.metadata["phase_name"] == "TaskPromptSelfImprovement"
    ]
    assert [p.participant_id for p in phase.conversation.participants] == [
        "chatchain",
        "user",
        "prompt_engineer",
    ]
    assert phase.messages[1].sender == "prompt_engineer"
    assert phase.messages[1].content.startswith(
        "<INFO> Design a pingpong game: Create a two-player interactive game"
    )
    assert "**Improved Task Prompt**" in phase.conversation.metadata["conclusion"]


def test_human_feedback_kept_with_the_next_phase(imported: tuple[list[ImportedConversation], list]) -> None:
    phases = _phases(imported, 21)  # umbrella_stops_raindrops: five rounds of human comments
    feedback = [
        p.conversation.metadata["human_feedback"] for p in phases if p.conversation.metadata["human_feedback"]
    ]
    assert len(feedback) == 5
    assert "A blue circle is following my mouse, but there is no falling rain" in feedback[0]


def test_malformed_records(logs: dict[int, dict]) -> None:
    good = logs[4]
    records = [
        (1, {"project": "x"}),
        (2, {"project": "x", "log": 42}),
        (3, good),
        (
            4,
            {
                "project": "y",
                "log": "[2023-22-10 15:41:24 INFO] Programmer: **[Start Chat]**\n\nhi\n"
                "[2023-99-99 10:00:00 INFO] x",
            },
        ),
        (5, {"log": "[2023-22-10 15:41:24 INFO] Programmer: **[Start Chat]**\n\nhi"}),
    ]
    convs, errors = split(parse_chatdev(records))
    assert {c.source_line for c in convs} == {3} and len(convs) == 12
    assert [e.line for e in errors] == [1, 2, 4, 5]
    assert "log" in errors[0].reason and "string" in errors[1].reason
    assert "YYYY-DD-MM" in errors[2].reason
    assert "_source_path" in errors[3].reason
