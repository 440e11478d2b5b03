"""``convoledger demo``: the bundled real sample, read into the seed models and printed.

Each Schema-Guided Dialogue becomes a ``Conversation`` (its active intent and slot values as
``current_goal``) with ``ConversationTurn``s; each ChatDev phase becomes a
``ConversationSession`` (master controller and role agents) with
``AgentCommunicationMessage``s. The other bundled formats (chitchat, OASST trees, tau-bench,
ShareGPT) become ``AgentSession``s with ``SessionMessage``s. Transcripts are printed from the
seed objects (converted back to records, which also proves the round trip), followed by a summary
line of everything read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rich.console import Console

from convoledger.importers import ImportedConversation
from convoledger.models import (
    AgentCommunicationMessage,
    AgentSession,
    Conversation,
    ConversationSession,
    ConversationTurn,
    SessionMessage,
)
from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.sample_data import iter_sample
from convoledger.transcripts import ImportTally, render_summary, render_transcript

DEMO_OWNER = "demo"


@dataclass
class SeedView:
    """One sample conversation as seed objects: the conversation face and its message faces."""

    format: str
    conversation: Any
    messages: list[Any]

    def records(self) -> tuple[ConversationRecord, list[MessageRecord]]:
        """Back to the stored shapes (for rendering), numbering messages 1..n."""
        conv = self.conversation.to_record(DEMO_OWNER)
        msgs = [m.to_record().model_copy(update={"seq": i}) for i, m in enumerate(self.messages, start=1)]
        return conv, msgs


def to_seed_view(fmt: str, item: ImportedConversation) -> SeedView:
    """The seed faces for one imported conversation of format ``fmt``."""
    record = item.conversation
    if fmt == "sgd":
        conversation = Conversation.from_record(record)
        turns = [ConversationTurn.from_record(m) for m in item.messages]
        return SeedView(fmt, conversation, turns)
    if fmt == "chatdev":
        session = ConversationSession.from_record(record)
        key = session.generate_session_key()
        messages = [AgentCommunicationMessage.from_record(m, key, record.participants) for m in item.messages]
        return SeedView(fmt, session, messages)
    agent_session = AgentSession.from_record(record)
    return SeedView(fmt, agent_session, [SessionMessage.from_record(m) for m in item.messages])


def iter_seed_views() -> Iterator[SeedView]:
    """Every conversation of the bundled sample as seed objects."""
    for fmt, item in iter_sample(owner_id=DEMO_OWNER):
        yield to_seed_view(fmt, item)


def run_demo(console: Console, per_format: int = 2, max_messages: int = 12) -> ImportTally:
    """Read the whole sample into seed objects, print ``per_format`` transcripts of each format
    (SGD and ChatDev first; at most ``max_messages`` messages each) and a summary line; return
    the tally of what was read."""
    tally = ImportTally()
    shown: dict[str, int] = {}
    order = {"sgd": 0, "chatdev": 1}
    views = sorted(iter_seed_views(), key=lambda v: order.get(v.format, 2))
    for view in views:
        conv, msgs = view.records()
        tally.add(view.format, ImportedConversation(conversation=conv, messages=msgs, source_line=0))
        if shown.get(view.format, 0) < per_format:
            shown[view.format] = shown.get(view.format, 0) + 1
            console.rule(f"[bold]{view.format}[/] · {type(view.conversation).__name__}")
            render_transcript(console, conv, msgs, max_messages=max_messages)
    render_summary(console, tally, verb="Read")
    return tally
