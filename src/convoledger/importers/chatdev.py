"""Importer for ChatDev multi-agent logs (format ``chatdev``).

Source: OpenBMB/ChatDev (Apache-2.0) ``WareHouse/*/*.log``, as records ``{_source_path, project,
speaker_turns, log}`` (``log`` = the original text of the log file). A log is a sequence of
entries, each starting with ``[YYYY-DD-MM HH:MM:SS LEVEL]`` (note the day before the month).
Three dialects are read:

- ChatDev 1.0 (most logs): a phase is announced by ``System: **[chatting]**`` (a table with
  ``phase_name``, ``assistant_role_name``, ``user_role_name``, ``task_prompt``, …) and starts at
  ``System: **[RolePlaying]**``; ``<Role>: **[Start Chat]**`` is the instructing (user) role's
  first message; ``<Role>: **<A><-><B> on : <Phase>, turn <n>**`` is a reply; a bare
  ``<Role>: <text>`` line by one of the phase's two roles is a reply too;
  ``**[Seminar Conclusion]**`` closes the phase;
- AgentTech (July 2023): a phase starts at ``PhaseType: PhaseType.<NAME>``; ``AI Assistant
  (<Role>) sys message`` / ``AI User (<Role>) sys message`` name the roles; ``AI User (<Role>):``
  is the instruction and ``[n] AI Assistant|User (<Role>):`` the replies;
- early AgentTech (June 2023, no phase markers): a chat starts at each ``[0] AI Assistant``
  reply and ends at ``… terminated the chat.``.

Other entries (usage blocks, code updates, software info, test reports, rate-limit warnings)
are not messages; OpenAI usage blocks are summed into the phase's ``metadata["usage"]`` and
the latest one is attached to the next message's metadata; a human's ``**[User Provided
Comments]**`` is kept in the next phase's ``metadata["human_feedback"]``; the
``**[Seminar Conclusion]**`` text in ``metadata["conclusion"]``.

**One conversation per phase** (kind ``conversation_session``): participants are the master
controller ``chatchain`` (ChatDev's ChatChain, which runs the phases) and one ``agent`` per role,
``participant_role`` = the role name in snake case (``Chief Executive Officer`` →
``chief_executive_officer``). ``session_type`` is ``agent_to_agent`` when two roles take part,
``mc_to_agent`` when only one does; ``session_key`` follows the conversation-models seed:
``{session_id}_{role1}_to_{role2}`` (role1 = the instructing role) or
``{session_id}_mc_to_{role}``. ``session_id`` = ``"chatdev:{run}:{k:02d}"`` (``run`` = the log's
WareHouse folder, plus the file name when it is not the folder's own; ``k`` = phase number).
``current_goal`` = ``{"task", "phase"}``.

Speaker lines become AgentCommunicationMessage-shaped records: ``role`` = ``agent`` (the
sender's participant type), ``sender``/``recipient`` = participant ids (the other role of the
phase; ``chatchain`` in an ``mc_to_agent`` phase), ``created_at`` = the entry's time read as
``%Y-%d-%m %H:%M:%S`` in UTC (the logs carry no zone). The echoed ``[…You are <Role>…]`` system
prompt at the top of a ChatDev 1.0 message is moved to ``metadata["role_prompt"]``.

``message_type`` rule, first match wins:

1. the phase's instruction (``[Start Chat]`` / ``AI User (<Role>):``) → ``task_assignment``;
2. any other line by the Code Reviewer → ``feedback`` (its review comments);
3. the last line of a phase that was concluded (seminar conclusion or terminated chat) →
   ``task_completion``;
4. a line by the phase's assistant role (the role doing the work) → ``result_report``;
5. anything else (the instructing role answering) → ``communication``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from convoledger.importers.common import (
    DEFAULT_OWNER,
    ImportContext,
    ImportedConversation,
    ImportResult,
    RecordShapeError,
    conversation_uuid,
    finish,
    require_dict,
    require_str,
    run_importer,
    slugify,
)
from convoledger.models.records import ConversationKind, ConversationRecord, MessageRecord, ParticipantRecord
from convoledger.models.timeutil import ensure_utc, utcnow

FORMAT = "chatdev"
MASTER_CONTROLLER_ID = "chatchain"
TIME_FORMAT = "%Y-%d-%m %H:%M:%S"

_ENTRY = re.compile(r"^\[(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) ([A-Z]+)\] ?(.*)$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SPEAKER_TAG = re.compile(r"^(?P<name>[A-Z][A-Za-z ]*?): \*\*(?P<tag>.+?)\*\*\s*$")
_INLINE = re.compile(r"^(?P<name>[A-Z][A-Za-z ]*?): (?P<text>.*)$")
_TURN_TAG = re.compile(r"^(?P<a>.+?)<->(?P<b>.+?) on : (?P<phase>[\w ]+?), turn (?P<turn>\d+)$")
_OLD_SYS = re.compile(r"^AI (?P<side>Assistant|User) \((?P<name>[^)]+)\) sys message:\s*$")
_OLD_INSTRUCTION = re.compile(r"^AI User \((?P<name>[^)]+)\):\s*$")
_OLD_TURN = re.compile(r"^\[(?P<turn>\d+)\] AI (?P<side>Assistant|User) \((?P<name>[^)]+)\):\s*$")
_OLD_END = re.compile(
    r"^\[(?P<turn>\d+)\] AI (?:Assistant|User) \((?P<name>[^)]+)\) terminated the chat\.\s*$"
)
_PHASE_TYPE = re.compile(r"^PhaseType: PhaseType\.(?P<name>\w+)\s*$")
_TABLE_ROW = re.compile(r"^\| \*\*(?P<key>[^*]+)\*\* \| (?P<value>.*) \|\s*$")
_EXECUTE = re.compile(
    r"SimplePhase:\[(?P<simple>\w+)\] in ComposedPhase:\[(?P<composed>\w+)\], cycle (?P<cycle>\d+)"
)
_USAGE_ROW = re.compile(r"^(?P<key>[a-z_]+): \$?(?P<value>[0-9.]+)\s*$")
_USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens", "cost")


def parse_chatdev(
    records: Iterable[tuple[int, Any]],
    *,
    owner_id: str = DEFAULT_OWNER,
    imported_at: datetime | None = None,
) -> Iterator[ImportResult]:
    """Convert ``(line, record)`` pairs of ChatDev logs; one conversation per phase.

    A log without any speaker line, or with an unparsable entry time, is a ``RecordError``;
    otherwise every phase with at least one speaker line is yielded (all phases of a log are
    built before the first is yielded). ``imported_at`` is unused (logs carry their own times).
    """
    context = ImportContext(owner_id, ensure_utc(imported_at or utcnow()), FORMAT)
    return run_importer(records, _convert, context)


@dataclass
class _Entry:
    time: datetime
    head: str
    body: str


@dataclass
class _Line:
    speaker: str
    text: str
    time: datetime
    instruction: bool
    turn: int | None
    usage: dict[str, float] | None
    role_prompt: str | None = None


@dataclass
class _Phase:
    name: str | None = None
    assistant: str | None = None
    user: str | None = None
    task: str | None = None
    implicit: bool = False
    closed: bool = False
    concluded: bool = False
    conclusion: str | None = None
    config: dict[str, str] = field(default_factory=dict)
    execute: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, float] = field(default_factory=dict)
    human_feedback: str | None = None
    lines: list[_Line] = field(default_factory=list)


def parse_log_time(text: str) -> datetime:
    """``"2023-22-10 15:41:24"`` (ChatDev's ``YYYY-DD-MM``) → aware UTC datetime.

    ``RecordShapeError`` when the text does not fit ``%Y-%d-%m %H:%M:%S``.
    """
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise RecordShapeError(f"log time {text!r} is not in ChatDev's YYYY-DD-MM HH:MM:SS format") from None


def _entries(log: str) -> Iterator[_Entry]:
    current: tuple[datetime, str] | None = None
    body: list[str] = []
    for raw in _ANSI.sub("", log.replace("\r\n", "\n").replace("\r", "\n")).split("\n"):
        match = _ENTRY.match(raw)
        if match:
            if current is not None:
                yield _Entry(current[0], current[1], "\n".join(body).strip())
            current = (parse_log_time(match.group(1)), match.group(3).rstrip())
            body = []
        elif current is not None:
            body.append(raw)
    if current is not None:
        yield _Entry(current[0], current[1], "\n".join(body).strip())


def _table(body: str) -> dict[str, str]:
    out = {}
    for row in body.split("\n"):
        match = _TABLE_ROW.match(row.strip())
        if match:
            out[match.group("key").strip()] = match.group("value").strip()
    return out


def _usage(body: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for row in body.split("\n"):
        match = _USAGE_ROW.match(row.strip())
        if match and match.group("key") in _USAGE_KEYS:
            out[match.group("key")] = float(match.group("value"))
    return out


def _split_role_prompt(text: str) -> tuple[str, str | None]:
    """Move a leading ``[…You are …]`` system-prompt echo out of a message's text."""
    if text.startswith("["):
        end = text.find("]\n\n")
        if end > 0 and "You are " in text[:end]:
            return text[end + 3 :].strip(), text[1:end]
    return text, None


class _LogReader:
    """Walks the entries of one log and groups speaker lines into phases."""

    def __init__(self) -> None:
        self.phases: list[_Phase] = []
        self.current: _Phase | None = None
        self.pending_config: dict[str, str] | None = None
        self.pending_execute: dict[str, Any] = {}
        self.pending_usage: dict[str, float] | None = None
        self.pending_feedback: str | None = None
        self.task: str | None = None
        self.dialect = "agenttech-early"

    def start_phase(self, **fields: Any) -> _Phase:
        phase = _Phase(execute=self.pending_execute, human_feedback=self.pending_feedback, **fields)
        self.pending_execute = {}
        self.pending_feedback = None
        self.pending_usage = None
        self.phases.append(phase)
        self.current = phase
        return phase

    def add_line(
        self, speaker: str, text: str, time: datetime, *, instruction: bool, turn: int | None
    ) -> None:
        if self.current is None or self.current.closed:
            self.start_phase(implicit=True)
        assert self.current is not None
        content, role_prompt = _split_role_prompt(text)
        self.current.lines.append(
            _Line(speaker.strip(), content, time, instruction, turn, self.pending_usage, role_prompt)
        )
        self.pending_usage = None

    def feed(self, entry: _Entry) -> None:
        head, body = entry.head, entry.body
        if head.startswith("flask app.py did not start"):
            return
        if head.startswith("**[Preprocessing]**"):
            match = re.search(r"\*\*task_prompt\*\*: (.+)", body)
            self.task = match.group(1).strip() if match else self.task
            return
        if head == "System: **[chatting]**":
            self.pending_config = _table(body)
            self.dialect = "chatdev-1.0"
            return
        if head == "System: **[RolePlaying]**":
            self.dialect = "chatdev-1.0"
            table = _table(body)
            config = {**table, **(self.pending_config or {})}
            self.pending_config = None
            self.start_phase(
                name=config.get("phase_name"),
                assistant=config.get("assistant_role_name"),
                user=config.get("user_role_name"),
                task=config.get("task_prompt") or self.task,
                config=config,
            )
            return
        if head.startswith(("**[OpenAI_Usage_Info Receive]**", "[OpenAI_Usage_Info]")):
            usage = _usage(body)
            self.pending_usage = usage
            if self.current is not None:
                for key, value in usage.items():
                    self.current.usage[key] = self.current.usage.get(key, 0.0) + value
                self.current.usage["calls"] = self.current.usage.get("calls", 0.0) + 1
            return
        if head.startswith("**[Execute Detail]**"):
            match = _EXECUTE.search(body)
            if match:
                self.pending_execute = {
                    "simple_phase": match.group("simple"),
                    "composed_phase": match.group("composed"),
                    "cycle": int(match.group("cycle")),
                }
            return
        if head.startswith("**[User Provided Comments]**"):
            self.pending_feedback = body  # a human's comment, handed to the next phase
            return
        if head.startswith("**[Seminar Conclusion]**"):
            if self.current is not None:
                self.current.conclusion = body
                self.current.concluded = True
            return
        if head.startswith("**[Task Prompt Self Improvement]**"):
            if self.current is not None:
                self.current.name = self.current.name or "TaskPromptSelfImprovement"
                self.current.conclusion = body
                self.current.concluded = True
            return
        if self._old_dialect(entry):
            return
        match = _SPEAKER_TAG.match(head)
        if match and match.group("name") != "System":
            tag = match.group("tag")
            if tag == "[Start Chat]":
                self.add_line(match.group("name"), body, entry.time, instruction=True, turn=None)
                return
            turn_match = _TURN_TAG.match(tag)
            if turn_match:
                if self.current is not None and not self.current.name:
                    self.current.name = turn_match.group("phase").strip()
                self.add_line(
                    match.group("name"),
                    body,
                    entry.time,
                    instruction=False,
                    turn=int(turn_match.group("turn")),
                )
            return
        match = _INLINE.match(head)
        if (
            match
            and self.current is not None
            and match.group("name") in (self.current.assistant, self.current.user)
        ):
            text = (match.group("text") + ("\n" + body if body else "")).strip()
            self.add_line(match.group("name"), text, entry.time, instruction=False, turn=None)

    def _old_dialect(self, entry: _Entry) -> bool:
        head, body = entry.head, entry.body
        match = _PHASE_TYPE.match(head)
        if match:
            self.dialect = "agenttech-phasetype"
            self.start_phase(name=match.group("name"), task=self.task)
            return True
        match = _OLD_SYS.match(head)
        if match:
            if self.current is None or self.current.closed:
                self.start_phase()
            assert self.current is not None
            if match.group("side") == "Assistant":
                self.current.assistant = match.group("name")
            else:
                self.current.user = match.group("name")
            return True
        if head.startswith("Task prompt:"):
            self.task = body or self.task
            if self.current is not None:
                self.current.task = body or self.current.task
            return True
        match = _OLD_INSTRUCTION.match(head)
        if match:
            self.add_line(match.group("name"), body, entry.time, instruction=True, turn=None)
            return True
        match = _OLD_TURN.match(head)
        if match:
            turn, side, name = int(match.group("turn")), match.group("side"), match.group("name")
            current = self.current
            if (
                side == "Assistant"
                and turn == 0
                and current is not None
                and current.implicit
                and current.lines
            ):
                current.closed = True  # early logs: each chat opens with the assistant's turn 0
            self.add_line(name, body, entry.time, instruction=False, turn=turn)
            current = self.current
            if current is not None and current.implicit:
                if side == "Assistant" and current.assistant is None:
                    current.assistant = name
                elif side == "User" and current.user is None and name != current.assistant:
                    current.user = name
            return True
        match = _OLD_END.match(head)
        if match:
            if self.current is not None:
                self.current.concluded = True
                self.current.closed = True
            return True
        return False


def _run_name(rec: dict[str, Any]) -> str:
    source = rec.get("_source_path")
    if isinstance(source, str) and source.strip():
        path = PurePosixPath(source)
        folder, stem = path.parent.name, path.stem
        if not folder:
            return stem
        return folder if stem in folder else f"{folder}/{stem}"
    project = rec.get("project")
    if isinstance(project, str) and project.strip():
        return project
    raise RecordShapeError("a ChatDev record needs '_source_path' or 'project' to name its sessions")


def _message_type(line: _Line, index: int, phase: _Phase, last: int, reviewer: str) -> str:
    if line.instruction:
        return "task_assignment"
    if slugify(line.speaker) == reviewer:
        return "feedback"
    if index == last and phase.concluded:
        return "task_completion"
    if phase.assistant and line.speaker == phase.assistant:
        return "result_report"
    return "communication"


def _convert(record: Any, line: int, ctx: ImportContext) -> list[ImportedConversation]:
    rec = require_dict(record, "record")
    log = require_str(rec.get("log"), "log", allow_empty=False)
    run = _run_name(rec)
    project = rec["project"] if isinstance(rec.get("project"), str) else run
    reader = _LogReader()
    for entry in _entries(log):
        reader.feed(entry)
    results = []
    for number, phase in enumerate(reader.phases, 1):
        if phase.lines:
            results.append(_phase_conversation(rec, run, project, number, phase, reader, line, ctx))
    if not results:
        raise RecordShapeError("this ChatDev log has no speaker lines (no agent messages to import)")
    return results


def _phase_conversation(
    rec: dict[str, Any],
    run: str,
    project: str,
    number: int,
    phase: _Phase,
    reader: _LogReader,
    line: int,
    ctx: ImportContext,
) -> ImportedConversation:
    names: list[str] = []
    for name in (phase.user, phase.assistant, *(ln.speaker for ln in phase.lines)):
        if name and name not in names:
            names.append(name)
    slugs = {name: slugify(name) for name in names}
    agents: list[str] = []
    for name in names:
        if slugs[name] not in agents:
            agents.append(slugs[name])
    session_id = f"chatdev:{run}:{number:02d}"
    if len(agents) >= 2:
        session_type = "agent_to_agent"
        session_key = f"{session_id}_{agents[0]}_to_{agents[1]}"
    else:
        session_type = "mc_to_agent"
        session_key = f"{session_id}_mc_to_{agents[0]}"
    participants = [
        ParticipantRecord(
            participant_id=MASTER_CONTROLLER_ID,
            participant_type="master_controller",
            metadata={"name": "ChatChain"},
        )
    ]
    seen: set[str] = set()
    for name in names:
        if slugs[name] not in seen:
            seen.add(slugs[name])
            participants.append(
                ParticipantRecord(
                    participant_id=slugs[name],
                    participant_type="agent",
                    participant_role=slugs[name],
                    metadata={"name": name},
                )
            )
    phase_name = phase.name or "chat"
    last = len(phase.lines) - 1
    messages = []
    for index, ln in enumerate(phase.lines):
        sender = slugify(ln.speaker)
        if session_type == "mc_to_agent":
            recipient: str | None = MASTER_CONTROLLER_ID
        elif sender == agents[0]:
            recipient = agents[1]
        elif sender == agents[1]:
            recipient = agents[0]
        else:
            recipient = None
        metadata: dict[str, Any] = {"phase": phase_name, "speaker": ln.speaker}
        if ln.turn is not None:
            metadata["turn"] = ln.turn
        if ln.usage:
            metadata["usage"] = ln.usage
        if ln.role_prompt:
            metadata["role_prompt"] = ln.role_prompt
        messages.append(
            MessageRecord(
                role="agent",
                content=ln.text,
                sender=sender,
                recipient=recipient,
                message_type=_message_type(ln, index, phase, last, "code_reviewer"),
                metadata=metadata,
                created_at=ln.time,
            )
        )
    usage = dict(phase.usage)
    if "cost" in usage:
        usage["cost_usd"] = usage.pop("cost")
    conversation = ConversationRecord(
        id=conversation_uuid(ctx.owner_id, session_id),
        owner_id=ctx.owner_id,
        session_id=session_id,
        session_key=session_key,
        kind=ConversationKind.CONVERSATION_SESSION,
        session_type=session_type,
        name=f"{project} · {phase_name}",
        topic=phase.task,
        current_goal={"task": phase.task, "phase": phase_name} if phase.task else {"phase": phase_name},
        participants=participants,
        metadata={
            "source_format": FORMAT,
            "project": project,
            "source_path": rec.get("_source_path"),
            "phase_index": number,
            "phase_name": phase_name,
            "assistant_role_name": phase.assistant,
            "user_role_name": phase.user,
            **phase.execute,
            "phase_prompt": phase.config.get("phase_prompt"),
            "chat_turn_limit": phase.config.get("chat_turn_limit"),
            "model_type": phase.config.get("model_type"),
            "conclusion": phase.conclusion,
            "human_feedback": phase.human_feedback,
            "usage": usage or None,
            "log_dialect": reader.dialect,
            "time_note": "log times (YYYY-DD-MM HH:MM:SS, no zone) stored as UTC",
        },
        created_at=phase.lines[0].time,
    )
    return finish(conversation, messages, line)
