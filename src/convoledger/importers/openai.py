"""Importer for OpenAI chat-completions transcripts and tau-bench trajectories (format ``openai``).

Accepted records (one per JSONL line or array item):

- ``{"messages": [...], ...}``: chat-completions messages (OpenAI API reference, "Chat
  Completions — messages"): ``role`` system | developer | user | assistant | tool | function,
  ``content`` (string, null, or a list of content parts), assistant ``tool_calls``
  (``[{"id", "type": "function", "function": {"name", "arguments"}}]``), tool results with
  ``tool_call_id`` and ``name``. Other top-level keys (``tools``, ``metadata``, …) are kept in
  the conversation's metadata.
- tau-bench trajectories (sierra-research/tau-bench ``historical_trajectories``):
  ``{task_id, trial, reward, info{task{user_id, instruction, actions}, reward_info…}, traj[…]}``
  where ``traj`` is a list of chat-completions messages. ``info.task.instruction`` (the user
  simulator's goal) becomes ``current_goal`` = ``{"instruction", "user_id"}``; ``reward``,
  ``task_id``, ``trial`` and the expected ``actions`` go to metadata.

Legacy function calling (OpenAI's ``function_call`` / ``role: "function"`` messages, used before
``tool_calls`` and by ToolBench and many older logs): an assistant message's ``function_call``
``{name, arguments}`` becomes one tool call with a synthesized, stable id
``"call_legacy_{i}"`` (``i`` = the message's 0-based position; ``metadata["legacy_function_call"]``
= True says it was synthesized), and the next ``function`` message answering a pending call
gets that id as ``tool_call_id`` (the latest pending call of the same ``name``, else the oldest
pending one), so context windows keep each call with its result.

Mapping: ``developer`` → role ``system`` and ``function`` → role ``tool`` (the original role is
kept in ``metadata["source_role"]``); a tool message's ``name`` → ``tool_name``; list content is
joined into text and the parts kept in ``metadata["content_parts"]``; unknown message keys are
kept in metadata. Messages have no timestamps here: all get the import time. A ``tool`` message
without a ``tool_call_id``, an unknown role, or a malformed tool call makes the record a
``RecordError``.

Ids: ``session_id`` = ``"openai:{id}:{hash}"`` (record ``id``, when present) or
``"openai:{hash}"``, and ``"tau-bench:task-{task_id}:trial-{trial}:{hash}"`` for trajectories,
``hash`` being 12 hex digits of the record's SHA-256 (``common.content_hash``).
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
    chat_participants,
    chat_sender,
    content_hash,
    conversation_uuid,
    finish,
    function_call,
    require_dict,
    require_list,
    run_importer,
    short_title,
    text_of,
)
from convoledger.models.records import ConversationKind, ConversationRecord, MessageRecord
from convoledger.models.timeutil import ensure_utc, utcnow

FORMAT = "openai"

ROLE_MAP = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
    "function": "tool",
}
_KNOWN_KEYS = {"role", "content", "tool_calls", "tool_call_id", "name", "function_call"}


def parse_openai(
    records: Iterable[tuple[int, Any]],
    *,
    owner_id: str = DEFAULT_OWNER,
    imported_at: datetime | None = None,
) -> Iterator[ImportResult]:
    """Convert ``(line, record)`` pairs of chat-completions transcripts / tau-bench trajectories.

    Yields one ``ImportedConversation`` (kind ``agent_session``) per good record and one
    ``RecordError`` per bad one. ``imported_at`` (default: now, UTC) is every message's time.
    """
    context = ImportContext(owner_id, ensure_utc(imported_at or utcnow()), FORMAT)
    return run_importer(records, _convert, context)


def _convert(record: Any, line: int, ctx: ImportContext) -> list[ImportedConversation]:
    rec = require_dict(record, "record")
    if "traj" in rec:
        return [_tau_bench(rec, line, ctx)]
    if "messages" in rec:
        return [_chat(rec, line, ctx)]
    raise RecordShapeError(
        "expected an object with 'messages' (chat completions) or 'traj' (tau-bench trajectory)"
    )


def _chat(rec: dict[str, Any], line: int, ctx: ImportContext) -> ImportedConversation:
    messages = convert_messages(rec["messages"], ctx.imported_at, "messages")
    digest = content_hash(rec)
    source_id = rec.get("id")
    if isinstance(source_id, str | int) and not isinstance(source_id, bool) and str(source_id).strip():
        session_id = f"openai:{source_id}:{digest}"
    else:
        session_id = f"openai:{digest}"
    extra = {k: v for k, v in rec.items() if k not in ("messages", "id")}
    first_user = next((m.content for m in messages if m.role == "user" and m.content), "")
    conversation = ConversationRecord(
        id=conversation_uuid(ctx.owner_id, session_id),
        owner_id=ctx.owner_id,
        session_id=session_id,
        kind=ConversationKind.AGENT_SESSION,
        name=str(rec.get("name") or short_title(first_user) or session_id),
        participants=chat_participants(),
        metadata={"source_format": FORMAT, "source_id": source_id, **extra},
        created_at=ctx.imported_at,
    )
    return finish(conversation, messages, line)


def _tau_bench(rec: dict[str, Any], line: int, ctx: ImportContext) -> ImportedConversation:
    messages = convert_messages(rec["traj"], ctx.imported_at, "traj")
    info = require_dict(rec.get("info") or {}, "info")
    task = require_dict(info.get("task") or {}, "info.task")
    instruction = task.get("instruction")
    if instruction is not None and not isinstance(instruction, str):
        raise RecordShapeError("info.task.instruction must be a string")
    task_id, trial = rec.get("task_id"), rec.get("trial")
    session_id = f"tau-bench:task-{task_id}:trial-{trial}:{content_hash(rec)}"
    reward = rec.get("reward")
    reward_info = info.get("reward_info") if isinstance(info.get("reward_info"), dict) else {}
    metadata: dict[str, Any] = {
        "source_format": "tau-bench",
        "task_id": task_id,
        "trial": trial,
        "reward": reward,
        "expected_actions": task.get("actions"),
        "reward_details": reward_info.get("info") if isinstance(reward_info, dict) else None,
        "user_cost_usd": info.get("user_cost"),
    }
    conversation = ConversationRecord(
        id=conversation_uuid(ctx.owner_id, session_id),
        owner_id=ctx.owner_id,
        session_id=session_id,
        kind=ConversationKind.AGENT_SESSION,
        name=f"tau-bench task {task_id} (trial {trial}, reward {reward})",
        user_id=task.get("user_id") if isinstance(task.get("user_id"), str) else None,
        topic=short_title(instruction) if instruction else None,
        current_goal={"instruction": instruction, "user_id": task.get("user_id")} if instruction else None,
        participants=chat_participants(),
        metadata=metadata,
        created_at=ctx.imported_at,
    )
    return finish(conversation, messages, line)


def convert_messages(raw: Any, created_at: datetime, what: str) -> list[MessageRecord]:
    """Chat-completions message dicts → ``MessageRecord`` list (ids set later by ``finish``).

    ``RecordShapeError`` for a non-list, an empty list, an unknown role, a malformed tool call,
    or a tool result without ``tool_call_id``.
    """
    out: list[MessageRecord] = []
    pending: list[tuple[str, str]] = []  # legacy calls awaiting a result: (call id, function name)
    for i, item in enumerate(require_list(raw, what)):
        where = f"{what}[{i}]"
        msg = require_dict(item, where)
        source_role = msg.get("role")
        role = ROLE_MAP.get(source_role) if isinstance(source_role, str) else None
        if role is None:
            raise RecordShapeError(f"{where}.role must be one of {sorted(ROLE_MAP)}, got {source_role!r}")
        text, parts = text_of(msg.get("content"), f"{where}.content")
        metadata: dict[str, Any] = {k: v for k, v in msg.items() if k not in _KNOWN_KEYS}
        if source_role != role:
            metadata["source_role"] = source_role
        if parts is not None:
            metadata["content_parts"] = parts
        tool_calls = _tool_calls(msg.get("tool_calls"), where)
        if msg.get("function_call") is not None:
            if tool_calls is None:
                legacy = _legacy_call(msg["function_call"], i, where)
                tool_calls = [legacy]
                pending.append((legacy["id"], legacy["function"]["name"]))
                metadata["legacy_function_call"] = True
            else:  # both shapes at once: keep the legacy one as it was
                metadata["function_call"] = msg["function_call"]
        name = msg.get("name")
        tool_call_id = msg.get("tool_call_id")
        if tool_call_id is not None and not isinstance(tool_call_id, str):
            raise RecordShapeError(f"{where}.tool_call_id must be a string")
        if source_role == "function" and tool_call_id is None and pending:
            tool_call_id = _answer(pending, name)
        tool_name = None
        if role == "tool":
            if source_role == "tool" and not tool_call_id:
                raise RecordShapeError(f"{where}: a tool message needs a tool_call_id")
            tool_name = name if isinstance(name, str) else None
        elif name is not None:
            metadata["name"] = name
        out.append(
            MessageRecord(
                role=role,
                content=text,
                sender=chat_sender(role),
                tool_calls=tool_calls,
                tool_call_id=tool_call_id,
                tool_name=tool_name,
                metadata=metadata,
                created_at=created_at,
            )
        )
    return out


def _tool_calls(raw: Any, where: str) -> list[dict[str, Any]] | None:
    if raw is None or raw == []:
        return None
    calls = require_list(raw, f"{where}.tool_calls")
    for j, call in enumerate(calls):
        call = require_dict(call, f"{where}.tool_calls[{j}]")
        function = require_dict(call.get("function"), f"{where}.tool_calls[{j}].function")
        if not isinstance(call.get("id"), str) or not call["id"]:
            raise RecordShapeError(f"{where}.tool_calls[{j}].id must be a non-empty string")
        if not isinstance(function.get("name"), str) or not function["name"]:
            raise RecordShapeError(f"{where}.tool_calls[{j}].function.name must be a non-empty string")
    return calls


def _legacy_call(raw: Any, index: int, where: str) -> dict[str, Any]:
    """A legacy ``function_call`` as a tool call with the synthesized id ``call_legacy_{index}``."""
    call = require_dict(raw, f"{where}.function_call")
    name = call.get("name")
    if not isinstance(name, str) or not name:
        raise RecordShapeError(f"{where}.function_call.name must be a non-empty string")
    arguments = call.get("arguments", "")
    extra = {k: v for k, v in call.items() if k not in ("name", "arguments")}
    made = function_call(f"call_legacy_{index}", name, arguments if arguments is not None else "")
    if extra:
        made["function"]["extra"] = extra
    return made


def _answer(pending: list[tuple[str, str]], name: Any) -> str:
    """The id of the pending legacy call a ``function`` message answers (and forget it): the
    latest with the same function name, else the oldest."""
    at = next((k for k in range(len(pending) - 1, -1, -1) if pending[k][1] == name), 0)
    return pending.pop(at)[0]
