"""Rich transcripts and the summary line, rendered from real sample conversations."""

from __future__ import annotations

import pytest
from rich.console import Console

from convoledger.importers import ImportedConversation, RecordError
from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.sample_data import iter_sample
from convoledger.transcripts import ImportTally, render_summary, render_transcript, summary_line


@pytest.fixture(scope="module")
def sample() -> list[tuple[str, ImportedConversation]]:
    return list(iter_sample())


def _render(conv: ConversationRecord, messages: list[MessageRecord], **kw: object) -> str:
    console = Console(record=True, width=240, color_system=None)
    render_transcript(console, conv, messages, **kw)  # type: ignore[arg-type]
    return console.export_text()


def _find(
    sample: list[tuple[str, ImportedConversation]], fmt: str, session_part: str
) -> ImportedConversation:
    return next(
        item for f, item in sample if f == fmt and session_part in (item.conversation.session_id or "")
    )


def test_chatdev_transcript_shows_participants_roles_types_and_times(sample: list) -> None:
    item = _find(sample, "chatdev", "RandomPick_ModelBest1024_20231022154124:01")
    out = _render(item.conversation, item.messages)
    assert "RandomPick_ModelBest1024_20231022154124 · DemandAnalysis" in out
    assert "conversation_session · agent_to_agent" in out
    assert "ChatChain (chatchain, master_controller)" in out
    assert "Chief Executive Officer (chief_executive_officer," in out and "agent/chief_product_officer" in out
    assert "Chief Executive Officer → Chief Product Officer" in out
    assert "(task_assignment)" in out and "(result_report)" in out and "(task_completion)" in out
    assert "15:41:24Z" in out and "2023-10-22 15:41:24Z" in out
    assert '"phase": "DemandAnalysis"' in out


def test_sgd_transcript_shows_goal_and_tool_calls(sample: list) -> None:
    item = _find(sample, "sgd", "sgd:1_00000:")
    out = _render(item.conversation, item.messages, max_chars=80)
    assert '"active_intent": "ReserveRestaurant"' in out
    assert "I am feeling hungry so I would like to find a place to eat." in out
    assert "⚙ call FindRestaurants" in out and "id=sgd-1_00000-t5-f0" in out
    assert "tool FindRestaurants" in out and "↳ result of call sgd-1_00000-t5-f0" in out
    assert "more characters]" in out  # long tool results are cut


def test_oasst_transcript_marks_branches(sample: list) -> None:
    # a tree is one conversation per branch now: a branch's transcript is the shared history
    # (read from its parent) followed by its own messages, marked where the branch starts
    tree = "054e1df3-35e0-4bb8-a585-607dbdcd24e0"
    main, *branches = [i for f, i in sample if f == "oasst" and tree in (i.conversation.session_id or "")]
    assert len(branches) == 2
    for n, branch in enumerate(branches, start=1):
        shared = main.messages[: branch.conversation.forked_at_seq]
        out = _render(branch.conversation, [*shared, *branch.messages])
        assert f"branch {n} — replies to #1" in out


def test_max_messages_and_markup_safety(sample: list) -> None:
    item = _find(sample, "chitchat", "a07edb12")
    messages = [m.model_copy() for m in item.messages]
    messages[0].content = "[bold]not markup[/bold] and [red]"
    out = _render(item.conversation, messages, max_messages=2)
    assert "[bold]not markup[/bold] and [red]" in out
    assert "… 61 more messages not shown" in out
    assert "speaker 1 → speaker 2" in out


def test_summary_line(sample: list) -> None:
    tally = ImportTally()
    for fmt, item in sample:
        tally.add(fmt, item)
    tally.add_error("sgd", RecordError(7, "turns[3].speaker must be 'USER' or 'SYSTEM', got 'BOT'"))
    console = Console(record=True, width=400, color_system=None)
    render_summary(console, tally)
    out = console.export_text()
    convs = len(sample)
    msgs = sum(len(item.messages) for _, item in sample)
    assert out.startswith(f"Read {convs:,} conversations · {msgs:,} messages")
    assert "sgd 20/" in out and "1 record skipped" in out
    assert "skipped sgd line 7: turns[3].speaker" in out
    line = summary_line(sample[0][1].conversation, len(sample[0][1].messages)).plain
    assert f"{len(sample[0][1].messages)} messages" in line
