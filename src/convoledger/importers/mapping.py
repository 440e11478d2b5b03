"""Declarative import of any JSON conversation shape: ``convoledger import FILE --map map.toml``.

A mapping is a small TOML file (``tomllib``, Python standard library) that names, as
**JMESPath** expressions (https://jmespath.org, the ``jmespath`` package), where each part of a
conversation is in one record of the file::

    name = "tau-bench"                  # session ids are "<name>:<id>" (default "mapped")

    [conversation]
    messages = "traj"                   # required: the array of messages
    id = "task_id"                      # the record's id (default: a hash of the record)
    title = "info.task.instruction"     # the conversation's name
    goal = "info.task"                  # current_goal (any JSON value)
    time = "start"                      # when it started
    kind = "agent_session"              # a ConversationKind (default agent_session)
    metadata = { reward = "reward" }    # extra values kept in the conversation's metadata

    [message]                           # evaluated on each element of the messages array
    role = "role"                       # required (a literal works too: "'user'")
    content = "content"                 # required: a string (null = "")
    time = "timestamp"                  # ISO 8601 text or Unix seconds (default: import time)
    sender = "sender"                   # participant id
    tool_calls = "tool_calls"           # OpenAI-style [{id, type, function{name, arguments}}]
    tool_call_id = "tool_call_id"       # a tool result's call id
    tool_name = "name"                  # a tool result's tool name
    metadata = { sentiment = "sentiment" }

    [roles]                             # source role value -> convoledger role
    human = "user"
    gpt = "assistant"
    "*" = "user"                        # any other value (without "*", another value is an error)

Rules: ``roles`` maps the values the ``role`` expression gives (without it they are stored as
given); roles must then be non-empty strings. ``metadata`` tables map a key to an expression,
evaluated on the record (conversation) or the message; ``null`` results are left out. Tool calls
must have the OpenAI shape (ids and function names non-empty) and a tool result's
``tool_call_id`` a string. Participants: each sender (``assistant`` senders as agents), or
``user``/``assistant`` when no sender is mapped. Errors in the mapping file (TOML syntax, an
unknown key, a JMESPath syntax error, a missing required expression) raise ``ValueError`` naming
the key before any record is read; a record the mapping cannot read is a ``RecordError``.
Two worked examples from the shared data are in the README ("Importing your data").
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult

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
    require_dict,
    require_list,
    run_importer,
    short_title,
    source_id_of,
)
from convoledger.importers.openai import _tool_calls
from convoledger.models.records import ConversationKind, ConversationRecord, MessageRecord, ParticipantRecord
from convoledger.models.timeutil import ensure_utc, utcnow

_CONVERSATION_KEYS = {"messages", "id", "title", "goal", "time", "kind", "metadata"}
_MESSAGE_KEYS = {"role", "content", "time", "sender", "tool_calls", "tool_call_id", "tool_name", "metadata"}
_TOP_KEYS = {"name", "conversation", "message", "roles"}


@dataclass(frozen=True)
class Mapping:
    """A compiled mapping (see the module docstring): ``name``, the conversation- and
    message-level expressions, extra metadata expressions, the role value map and ``kind``."""

    name: str
    conversation: dict[str, ParsedResult]
    message: dict[str, ParsedResult]
    conversation_metadata: dict[str, ParsedResult] = field(default_factory=dict)
    message_metadata: dict[str, ParsedResult] = field(default_factory=dict)
    roles: dict[str, str] | None = None
    kind: ConversationKind = ConversationKind.AGENT_SESSION


def _compile(section: str, key: str, expression: Any) -> ParsedResult:
    if not isinstance(expression, str) or not expression.strip():
        raise ValueError(f"mapping [{section}] {key} must be a JMESPath expression (a non-empty string)")
    try:
        return jmespath.compile(expression)
    except JMESPathError as exc:
        raise ValueError(f"mapping [{section}] {key} = {expression!r} is not valid JMESPath: {exc}") from None


def _section(data: dict[str, Any], name: str, allowed: set[str], required: set[str]) -> dict[str, Any]:
    section = data.get(name, {})
    if not isinstance(section, dict):
        raise ValueError(f"mapping [{name}] must be a table")
    unknown = sorted(set(section) - allowed)
    if unknown:
        raise ValueError(f"mapping [{name}] has unknown keys {unknown}; known: {sorted(allowed)}")
    missing = sorted(required - set(section))
    if missing:
        raise ValueError(f"mapping [{name}] needs {', '.join(missing)}")
    return section


def _metadata(section: str, value: Any) -> dict[str, ParsedResult]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"mapping [{section}] metadata must be a table of key = expression")
    return {str(k): _compile(section, f"metadata.{k}", v) for k, v in value.items()}


def mapping_from_dict(data: dict[str, Any]) -> Mapping:
    """Compile a mapping given as a dict (the parsed TOML); ``ValueError`` naming what is wrong."""
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ValueError(f"mapping has unknown keys {unknown}; known: {sorted(_TOP_KEYS)}")
    conv = _section(data, "conversation", _CONVERSATION_KEYS, {"messages"})
    msg = _section(data, "message", _MESSAGE_KEYS, {"role", "content"})
    roles = data.get("roles")
    if roles is not None and (
        not isinstance(roles, dict) or not all(isinstance(v, str) and v for v in roles.values())
    ):
        raise ValueError("mapping [roles] must map source role values to non-empty role names")
    kind_name = conv.get("kind", ConversationKind.AGENT_SESSION.value)
    try:
        kind = ConversationKind(kind_name)
    except ValueError:
        raise ValueError(
            f"mapping [conversation] kind must be one of {[k.value for k in ConversationKind]}, "
            f"got {kind_name!r}"
        ) from None
    name = data.get("name", "mapped")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("mapping name must be a non-empty string")
    return Mapping(
        name=name.strip(),
        conversation={
            k: _compile("conversation", k, v) for k, v in conv.items() if k not in ("kind", "metadata")
        },
        message={k: _compile("message", k, v) for k, v in msg.items() if k != "metadata"},
        conversation_metadata=_metadata("conversation", conv.get("metadata")),
        message_metadata=_metadata("message", msg.get("metadata")),
        roles={str(k): v for k, v in roles.items()} if roles is not None else None,
        kind=kind,
    )


def load_mapping(path: str | Path) -> Mapping:
    """Read and compile the TOML mapping at ``path``. ``OSError`` if unreadable; ``ValueError``
    for invalid TOML (with its line) or an invalid mapping."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    try:
        return mapping_from_dict(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def parse_mapped(
    records: Iterable[tuple[int, Any]],
    mapping: Mapping,
    *,
    owner_id: str = DEFAULT_OWNER,
    imported_at: datetime | None = None,
) -> Iterator[ImportResult]:
    """Convert ``(line, record)`` pairs as ``mapping`` describes (module docstring); one
    ``ImportedConversation`` per good record, one ``RecordError`` per bad one."""
    context = ImportContext(owner_id, ensure_utc(imported_at or utcnow()), mapping.name)

    def convert(record: Any, line: int, ctx: ImportContext) -> list[ImportedConversation]:
        return [_convert(record, line, ctx, mapping)]

    return run_importer(records, convert, context)


def _time(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise RecordShapeError(f"{what} must be ISO 8601 text or Unix seconds, got {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        try:
            return ensure_utc(value)
        except ValueError as exc:
            raise RecordShapeError(f"{what}: {exc}") from None
    raise RecordShapeError(f"{what} must be ISO 8601 text or Unix seconds, got {type(value).__name__}")


def _extra(expressions: dict[str, ParsedResult], data: Any) -> dict[str, Any]:
    out = {}
    for key, expr in expressions.items():
        value = expr.search(data)
        if value is not None:
            out[key] = value
    return out


def _role(mapping: Mapping, value: Any, where: str) -> str:
    if mapping.roles is not None:
        key = value if isinstance(value, str) else str(value)
        role = mapping.roles.get(key, mapping.roles.get("*"))
        if role is None:
            raise RecordShapeError(
                f"{where}.role {value!r} is not in the mapping's [roles] ({sorted(mapping.roles)})"
            )
        return role
    if not isinstance(value, str) or not value:
        raise RecordShapeError(f"{where}.role must be a non-empty string, got {value!r}")
    return value


def _convert(record: Any, line: int, ctx: ImportContext, mapping: Mapping) -> ImportedConversation:
    rec = require_dict(record, "record")
    conv = mapping.conversation
    items = require_list(conv["messages"].search(rec), f"messages ({conv['messages'].expression})")
    messages: list[MessageRecord] = []
    senders: dict[str, str] = {}
    expr = mapping.message
    for i, item in enumerate(items):
        where = f"messages[{i}]"
        role = _role(mapping, expr["role"].search(item), where)
        content = expr["content"].search(item)
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise RecordShapeError(f"{where}.content must be a string, got {type(content).__name__}")
        sender = expr["sender"].search(item) if "sender" in expr else chat_sender(role)
        if sender is not None:
            sender = str(sender)
            senders.setdefault(sender, role)
        tool_call_id = expr["tool_call_id"].search(item) if "tool_call_id" in expr else None
        if tool_call_id is not None and not isinstance(tool_call_id, str):
            raise RecordShapeError(f"{where}.tool_call_id must be a string")
        tool_name = expr["tool_name"].search(item) if "tool_name" in expr else None
        messages.append(
            MessageRecord(
                role=role,
                content=content,
                sender=sender,
                tool_calls=(
                    _tool_calls(expr["tool_calls"].search(item), where) if "tool_calls" in expr else None
                ),
                tool_call_id=tool_call_id,
                tool_name=tool_name if isinstance(tool_name, str) else None,
                metadata=_extra(mapping.message_metadata, item),
                created_at=(_time(expr["time"].search(item), f"{where}.time") if "time" in expr else None)
                or ctx.imported_at,
            )
        )
    source_id = source_id_of(conv["id"].search(rec)) if "id" in conv else None
    session_id = f"{mapping.name}:{source_id or content_hash(rec)}"
    title = conv["title"].search(rec) if "title" in conv else None
    first_user = next((m.content for m in messages if m.role == "user" and m.content), "")
    if "sender" in expr:
        participants = [
            ParticipantRecord(participant_id=s, participant_type="agent", participant_role="assistant")
            if r == "assistant"
            else ParticipantRecord(participant_id=s, participant_type="user")
            for s, r in senders.items()
        ]
    else:
        participants = chat_participants()
    started = _time(conv["time"].search(rec), "conversation time") if "time" in conv else None
    conversation = ConversationRecord(
        id=conversation_uuid(ctx.owner_id, session_id),
        owner_id=ctx.owner_id,
        session_id=session_id,
        kind=mapping.kind,
        name=(short_title(title) if isinstance(title, str) and title.strip() else short_title(first_user))
        or session_id,
        current_goal=conv["goal"].search(rec) if "goal" in conv else None,
        participants=participants,
        metadata={
            "source_format": f"map:{mapping.name}",
            "source_id": source_id,
            **_extra(mapping.conversation_metadata, rec),
        },
        created_at=started or (min(m.created_at for m in messages) if messages else ctx.imported_at),
    )
    return finish(conversation, messages, line)
