"""Readable Rich transcripts of stored or imported conversations (``convoledger demo`` / ``show``).

``render_transcript(console, conversation, messages)`` prints a header panel (name, kind and
session type, ids, participants with their types and roles, topic, ``current_goal``, times)
and then every message: position (``seq``, or the list position for not-yet-stored messages),
time (UTC), sender → recipient (display names), role, ``message_type``, the content (cut to
``max_chars``), tool calls (name, arguments, call id) and tool results (linked call id), and
branch markers for branching trees (OASST ``metadata["branch"]``). Content is always printed
as plain text, never as Rich markup.

``ImportTally`` counts what an import or demo read, and ``render_summary(console, tally)``
prints it as one summary line.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from convoledger.importers.common import ImportedConversation, RecordError
from convoledger.models.records import ConversationRecord, MessageRecord

ROLE_STYLES = {
    "user": "bold cyan",
    "assistant": "bold green",
    "system": "bold magenta",
    "tool": "bold yellow",
    "master_controller": "bold blue",
}
_AGENT_PALETTE = ("bold green", "bold cyan", "bold magenta", "bold yellow", "bold blue", "bold red")


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") + "Z"


def _clip(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    return text[:limit].rstrip() + f" … [{len(text) - limit} more characters]"


def _json(value: Any, limit: int | None) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=False, default=str)
    return _clip(text, limit)


def _labels(conversation: ConversationRecord) -> dict[str, str]:
    labels = {}
    for p in conversation.participants:
        name = p.metadata.get("name") or p.metadata.get("speaker")
        labels[p.participant_id] = f"{name}" if name else p.participant_id
    return labels


def _styles(conversation: ConversationRecord) -> dict[str, str]:
    styles: dict[str, str] = {}
    agents = 0
    for p in conversation.participants:
        if p.participant_type == "master_controller":
            styles[p.participant_id] = ROLE_STYLES["master_controller"]
        elif p.participant_type == "agent" and p.participant_role not in ("assistant",):
            styles[p.participant_id] = _AGENT_PALETTE[agents % len(_AGENT_PALETTE)]
            agents += 1
    if conversation.kind == "chat_session":
        for n, p in enumerate(conversation.participants):
            styles[p.participant_id] = _AGENT_PALETTE[(n + 1) % len(_AGENT_PALETTE)]
    return styles


def summary_line(conversation: ConversationRecord, message_count: int | None = None) -> Text:
    """One line about a conversation: name, kind/session type, participants, messages, status."""
    count = conversation.message_count if message_count is None else message_count
    kind = conversation.kind.value if hasattr(conversation.kind, "value") else str(conversation.kind)
    line = Text()
    line.append(conversation.name or conversation.session_id or conversation.id, style="bold")
    line.append(f"  [{kind}", style="dim")
    if conversation.session_type:
        line.append(f" · {conversation.session_type}", style="dim")
    line.append("]", style="dim")
    line.append(f"  {len(conversation.participants)} participants · {count} messages · {conversation.status}")
    return line


def _count(shown: int, total: int | None) -> str:
    """``"30"``, or ``"8 of 30"`` when only the most recent ``shown`` of ``total`` are printed."""
    return str(shown) if total is None or total == shown else f"{shown} of {total}"


def _header(
    conversation: ConversationRecord, message_count: int, goal_chars: int | None, total: int | None = None
) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    kind = conversation.kind.value if hasattr(conversation.kind, "value") else str(conversation.kind)
    grid.add_row(
        "kind", Text(kind + (f" · {conversation.session_type}" if conversation.session_type else ""))
    )
    grid.add_row("id", Text(conversation.id))
    if conversation.session_id:
        grid.add_row("session_id", Text(conversation.session_id))
    if conversation.session_key:
        grid.add_row("session_key", Text(conversation.session_key))
    grid.add_row("status", Text(str(conversation.status)))
    if conversation.participants:
        people = Text()
        labels = _labels(conversation)
        for i, p in enumerate(conversation.participants):
            if i:
                people.append(", ")
            people.append(labels[p.participant_id], style="bold")
            detail = p.participant_type + (f"/{p.participant_role}" if p.participant_role else "")
            if labels[p.participant_id] != p.participant_id:
                detail = f"{p.participant_id}, {detail}"
            people.append(f" ({detail})", style="dim")
        grid.add_row("participants", people)
    if conversation.user_id:
        grid.add_row("user_id", Text(conversation.user_id))
    if conversation.topic:
        grid.add_row("topic", Text(_clip(conversation.topic, 300)))
    if conversation.current_goal is not None:
        grid.add_row("current_goal", Text(_json(conversation.current_goal, goal_chars)))
    grid.add_row(
        "time",
        Text(
            f"created {_time(conversation.created_at)} · last activity {_time(conversation.last_activity_at)}"
        ),
    )
    grid.add_row("messages", Text(_count(message_count, total)))
    title = Text(conversation.name or conversation.session_id or conversation.id, style="bold")
    return Panel(grid, title=title, title_align="left", border_style="blue")


def _message(
    message: MessageRecord,
    position: int,
    labels: dict[str, str],
    styles: dict[str, str],
    max_chars: int | None,
) -> Group:
    head = Text()
    head.append(f"#{position:<4}", style="dim")
    head.append(_time(message.created_at)[11:], style="dim")
    head.append("  ")
    if message.sender:
        who = labels.get(message.sender, message.sender)
    elif message.role == "tool" and message.tool_name:
        who = f"tool {message.tool_name}"
    else:
        who = message.role
    head.append(who, style=styles.get(message.sender or "", ROLE_STYLES.get(message.role, "bold")))
    if message.recipient:
        head.append(" → ", style="dim")
        head.append(
            labels.get(message.recipient, message.recipient), style=styles.get(message.recipient, "bold")
        )
    if message.role not in (who, message.sender):
        head.append(f"  {message.role}", style="dim")
    if message.message_type:
        head.append(f"  ({message.message_type})", style="italic")
    parts: list[RenderableType] = [head]
    if message.tool_call_id:
        parts.append(Text(f"    ↳ result of call {message.tool_call_id}", style="yellow"))
    if message.redacted:
        parts.append(Text("    [redacted]", style="dim italic"))
    elif message.content:
        parts.append(Padding(Text(_clip(message.content, max_chars)), (0, 0, 0, 4)))
    for call in message.tool_calls or []:
        function = call.get("function") or {}
        line = Text("⚙ call ", style="yellow")
        line.append(str(function.get("name")), style="bold yellow")
        line.append(f"({_clip(str(function.get('arguments', '')), max_chars)})")
        line.append(f"  id={call.get('id')}", style="dim")
        parts.append(Padding(line, (0, 0, 0, 4)))
    return Group(*parts)


def render_transcript(
    console: Console,
    conversation: ConversationRecord,
    messages: Sequence[MessageRecord],
    *,
    max_chars: int | None = 600,
    max_messages: int | None = None,
    goal_chars: int | None = 800,
    total: int | None = None,
) -> None:
    """Print a readable transcript of ``conversation`` with ``messages`` (in ledger order).

    ``max_chars`` cuts each message's content (``None`` = whole); ``max_messages`` prints only
    the first N messages and says how many were left out; ``goal_chars`` cuts the JSON of
    ``current_goal``; ``total`` is how many messages the conversation holds when ``messages``
    are only some of them (the header then reads "8 of 30"). Content is printed as plain text
    (never interpreted as markup).
    """
    console.print(_header(conversation, len(messages), goal_chars, total))
    labels = _labels(conversation)
    styles = _styles(conversation)
    shown = messages if max_messages is None else messages[:max_messages]
    positions = {m.id: (m.seq or i + 1) for i, m in enumerate(messages)}
    for i, message in enumerate(shown):
        branch = message.metadata.get("branch")
        if isinstance(branch, int) and branch > 0 and message.metadata.get("branch_start"):
            parent = message.metadata.get("parent_id")
            origin = f" — replies to #{positions[parent]}" if parent in positions else ""
            console.rule(Text(f"branch {branch}{origin}", style="dim"), style="dim")
        console.print(_message(message, message.seq or i + 1, labels, styles, max_chars))
    if len(shown) < len(messages):
        console.print(Text(f"… {len(messages) - len(shown)} more messages not shown", style="dim italic"))


@dataclass
class ImportTally:
    """What an import or demo read: conversations and messages per format, and skipped records."""

    conversations: Counter[str] = field(default_factory=Counter)
    messages: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[str, RecordError]] = field(default_factory=list)
    participants: int = 0

    def add(self, fmt: str, item: ImportedConversation) -> None:
        """Count one imported conversation of format ``fmt``."""
        self.conversations[fmt] += 1
        self.messages[fmt] += len(item.messages)
        self.participants += len(item.conversation.participants)

    def add_error(self, fmt: str, error: RecordError) -> None:
        """Count one skipped record of format ``fmt``."""
        self.errors.append((fmt, error))

    @property
    def total_conversations(self) -> int:
        """All conversations counted."""
        return sum(self.conversations.values())

    @property
    def total_messages(self) -> int:
        """All messages counted."""
        return sum(self.messages.values())


def summary_text(tally: ImportTally, *, verb: str = "Read") -> Text:
    """The summary line as Rich ``Text`` (see ``render_summary``)."""
    line = Text()
    line.append(f"{verb} ", style="bold")
    line.append(f"{tally.total_conversations:,} conversations", style="bold green")
    line.append(" · ")
    line.append(f"{tally.total_messages:,} messages", style="bold green")
    if tally.conversations:
        per = ", ".join(
            f"{fmt} {tally.conversations[fmt]:,}/{tally.messages[fmt]:,}"
            for fmt in sorted(tally.conversations)
        )
        line.append(f" (conversations/messages by format: {per})", style="dim")
    line.append(" · ")
    skipped = len(tally.errors)
    line.append(
        f"{skipped} record{'s' if skipped != 1 else ''} skipped", style="bold red" if skipped else "dim"
    )
    return line


def render_summary(console: Console, tally: ImportTally, *, verb: str = "Read", show_errors: int = 5) -> None:
    """Print one summary line for ``tally``, then up to ``show_errors`` skipped records with lines.

    E.g. ``Read 284 conversations · 4,573 messages (conversations/messages by format: chatdev
    54/98, …) · 0 records skipped``.
    """
    console.print(summary_text(tally, verb=verb))
    for fmt, error in tally.errors[:show_errors]:
        console.print(Text(f"  skipped {fmt} {error}", style="red"))
    if len(tally.errors) > show_errors:
        console.print(Text(f"  … and {len(tally.errors) - show_errors} more skipped records", style="red"))
