"""Importer for SWE-agent trajectories (format ``swe-agent``).

Source: SWE-agent/SWE-agent (MIT) ``*.traj`` files: ``{environment?, trajectory[{action,
observation, response, thought, state, execution_time?, messages?}], history[{role:
system|user|assistant|tool, content, agent, message_type?, thought?, action?, tool_calls?,
tool_call_ids?, is_demo?}], info{exit_status, submission, model_stats, …}, replay_config?}``
(``_source_path`` added by the shared collection).

Each trajectory becomes one conversation of kind ``agent_session``. ``history`` is the message
log the model saw and is stored message by message: ``role`` as given; ``content`` (a string,
or a list of parts joined as text with the parts kept in ``metadata["content_parts"]``);
OpenAI-style ``tool_calls`` as they are; a ``tool`` message's ``tool_call_ids`` → its
``tool_call_id`` (the first; all of them in ``metadata["tool_call_ids"]`` when there are several);
``message_type`` → ``message_type``; ``agent`` → the ``sender`` of assistant messages (and in
metadata); ``thought``, ``action``, ``is_demo`` and any other key → metadata.

``trajectory`` has one step per action. Step ``k`` is attached to the ``k``-th assistant message
whose ``action`` it repeats (``metadata["trajectory_step"]`` = ``k``, and ``metadata["step"]`` =
the step's fields that the history does not already hold: ``state``, ``execution_time``, and
``response``/``thought``/``observation`` only where they differ from the stored message and the
observation message after it). A step's ``messages`` (a copy of the history as the model saw it
at that step) is not stored again. Steps that match no message are kept in the conversation's
``metadata["unmatched_steps"]``. ``info`` (exit status, submission, model stats),
``environment``, ``replay_config`` and ``_source_path`` go to the conversation's metadata;
``current_goal`` = ``{"exit_status", "submission"}``. ``session_id`` =
``"swe-agent:{_source_path}"`` (else a content hash). Messages get the import time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from convoledger.importers.common import (
    DEFAULT_OWNER,
    ImportContext,
    ImportedConversation,
    ImportResult,
    RecordShapeError,
    content_hash,
    conversation_uuid,
    finish,
    require_dict,
    require_list,
    run_importer,
    short_title,
    source_id_of,
    text_of,
)
from convoledger.importers.openai import _tool_calls
from convoledger.models.records import ConversationKind, ConversationRecord, MessageRecord, ParticipantRecord
from convoledger.models.timeutil import ensure_utc, utcnow

FORMAT = "swe-agent"
ROLES = frozenset({"system", "user", "assistant", "tool"})
_KNOWN = ("role", "content", "tool_calls", "tool_call_ids", "message_type")


def parse_swe_agent(
    records: Iterable[tuple[int, Any]],
    *,
    owner_id: str = DEFAULT_OWNER,
    imported_at: datetime | None = None,
) -> Iterator[ImportResult]:
    """Convert ``(line, record)`` pairs of SWE-agent trajectories; see the module docstring."""
    context = ImportContext(owner_id, ensure_utc(imported_at or utcnow()), FORMAT)
    return run_importer(records, _convert, context)


def _convert(record: Any, line: int, ctx: ImportContext) -> list[ImportedConversation]:
    rec = require_dict(record, "record")
    history = require_list(rec.get("history"), "history")
    messages: list[MessageRecord] = []
    agents: list[str] = []
    for i, item in enumerate(history):
        where = f"history[{i}]"
        msg = require_dict(item, where)
        role = msg.get("role")
        if role not in ROLES:
            raise RecordShapeError(f"{where}.role must be one of {sorted(ROLES)}, got {role!r}")
        text, parts = text_of(msg.get("content"), f"{where}.content")
        metadata = {k: v for k, v in msg.items() if k not in _KNOWN}
        if parts is not None:
            metadata["content_parts"] = parts
        ids = msg.get("tool_call_ids")
        tool_call_id = None
        if ids is not None:
            ids = require_list(ids, f"{where}.tool_call_ids", non_empty=False)
            tool_call_id = str(ids[0]) if ids else None
            if len(ids) > 1:
                metadata["tool_call_ids"] = ids
        agent = msg.get("agent") if isinstance(msg.get("agent"), str) else None
        if agent and role == "assistant" and agent not in agents:
            agents.append(agent)
        message_type = msg.get("message_type")
        messages.append(
            MessageRecord(
                role=role,
                content=text,
                sender=agent if role == "assistant" else ("user" if role == "user" else None),
                message_type=message_type if isinstance(message_type, str) else None,
                tool_calls=_tool_calls(msg.get("tool_calls"), where),
                tool_call_id=tool_call_id if role == "tool" else None,
                metadata=metadata
                if role == "tool" or tool_call_id is None
                else {**metadata, "tool_call_ids": ids},
                created_at=ctx.imported_at,
            )
        )
    unmatched = _attach_steps(rec.get("trajectory"), messages)
    source_path = source_id_of(rec.get("_source_path"))
    session_id = f"{FORMAT}:{source_path or content_hash(rec)}"
    info = rec.get("info") if isinstance(rec.get("info"), dict) else {}
    task = next((m.content for m in messages if m.role == "user"), "")
    conv_metadata: dict[str, Any] = {
        "source_format": FORMAT,
        **{k: v for k, v in rec.items() if k not in ("history", "trajectory")},
    }
    if unmatched:
        conv_metadata["unmatched_steps"] = unmatched
    conversation = ConversationRecord(
        id=conversation_uuid(ctx.owner_id, session_id),
        owner_id=ctx.owner_id,
        session_id=session_id,
        kind=ConversationKind.AGENT_SESSION,
        name=short_title(source_path or task) or session_id,
        topic=short_title(task) if task else None,
        current_goal={"exit_status": info.get("exit_status"), "submission": info.get("submission")}
        if info
        else None,
        participants=[
            ParticipantRecord(participant_id="user", participant_type="user"),
            *(
                ParticipantRecord(participant_id=a, participant_type="agent", participant_role="swe-agent")
                for a in agents
            ),
        ],
        metadata=conv_metadata,
        created_at=ctx.imported_at,
    )
    return [finish(conversation, messages, line)]


def _attach_steps(raw: Any, messages: list[MessageRecord]) -> list[dict[str, Any]]:
    """Attach trajectory steps to the assistant messages that took their action (module
    docstring); returns the steps that matched none."""
    if raw is None:
        return []
    steps = require_list(raw, "trajectory", non_empty=False)
    unmatched: list[dict[str, Any]] = []
    at = 0
    for k, item in enumerate(steps):
        step = require_dict(item, f"trajectory[{k}]")
        found = None
        for j in range(at, len(messages)):
            m = messages[j]
            if (
                m.role == "assistant"
                and "trajectory_step" not in m.metadata
                and m.metadata.get("action") == step.get("action")
            ):
                found = j
                break
        if found is None:
            unmatched.append({"index": k, **{x: v for x, v in step.items() if x != "messages"}})
            continue
        at = found + 1
        msg = messages[found]
        nxt = messages[found + 1].content if found + 1 < len(messages) else None
        kept: dict[str, Any] = {}
        for key, value in step.items():
            if key == "messages" or key == "action":
                continue
            if key == "response" and value == msg.content:
                continue
            if key == "thought" and value == msg.metadata.get("thought"):
                continue
            if key == "observation" and value == nxt:
                continue
            kept[key] = value
        msg.metadata["trajectory_step"] = k
        msg.metadata["step"] = kept
    return unmatched
