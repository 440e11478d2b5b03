"""Conversations as A2A (Agent2Agent protocol v1.0) message histories, and back.

Shapes: the A2A v1.0 data model in its JSON form (the specification's proto3 JSON mapping, as the
``a2a-sdk`` package writes it with ``MessageToDict``: camelCase names, enum values such as
``ROLE_USER`` and ``TASK_STATE_COMPLETED``), as small pydantic models here — so the API route
needs no protobuf stack; the tests check every exported object against ``a2a-sdk``'s own types.

Export (:func:`conversation_to_a2a`, ``GET /api/agent-sessions/{session}/export?format=a2a``)::

    {"kind": "convoledger.a2a", "a2aVersion": "1.0", "contextId": <conversation id>,
     "messages": [Message, …],            # every message, in seq order
     "task": Task | null,                 # when the conversation carries agent intents
     "metadata": {"convoledger": {<the conversation's descriptive fields>}}}

- ``contextId`` = the conversation's id; each ``Message`` has ``messageId`` = the message id,
  ``role`` ``ROLE_USER`` for ``user``, ``system`` and the ``master_controller`` (the A2A client
  side), else ``ROLE_AGENT`` (``assistant``, ``tool``, ``agent``); ``parts``: a text part with the
  content, and one data part ``{"toolCall": …}`` per OpenAI-style tool call; ``metadata.convoledger``
  keeps what A2A has no field for (role, sender, recipient, message type, tool call id/name, seq,
  time, extra data), so an import restores the message exactly.
- Agent intents of ``AgentCommunicationMessage`` (``message_type``) that match an A2A task state
  (:data:`TASK_STATES`: ``task_assignment`` → submitted, ``status_update``/``progress_update`` →
  working, ``clarification_request`` → input-required, ``task_completion`` → completed,
  ``error_report`` → failed) make the conversation one A2A ``Task`` (``id`` = ``contextId`` =
  the conversation id): its ``status`` is the state of the latest such message (with that message
  and its time), its ``history`` the messages carrying an intent; those messages get the
  ``taskId``. ``result_report``, ``collaboration_request``, ``feedback`` and ``communication`` name
  no task state and stay plain messages.

Import (:func:`a2a_to_conversation`, :func:`import_a2a`) accepts this export, an A2A ``Task``
(its ``history``, and its ``status.message`` when not already in it) or a list of ``Message``s
(bare, or under ``"messages"``). Messages exported here come back exactly; others are read as:
``ROLE_USER`` → ``user``, ``ROLE_AGENT`` → ``assistant``, text parts joined by newlines, data
parts as JSON text, file parts as ``[file: <name>]``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.models.timeutil import ensure_utc

A2A_VERSION = "1.0"
EXPORT_KIND = "convoledger.a2a"
META_KEY = "convoledger"

Role = Literal["ROLE_USER", "ROLE_AGENT"]
TaskState = Literal[
    "TASK_STATE_SUBMITTED",
    "TASK_STATE_WORKING",
    "TASK_STATE_COMPLETED",
    "TASK_STATE_FAILED",
    "TASK_STATE_CANCELED",
    "TASK_STATE_INPUT_REQUIRED",
    "TASK_STATE_REJECTED",
    "TASK_STATE_AUTH_REQUIRED",
]

#: Agent intents (``AgentCommunicationMessage.message_type``, conversation-models seed) → A2A
#: ``TaskState`` (A2A v1.0 specification, "TaskState"), where the meaning matches.
TASK_STATES: dict[str, TaskState] = {
    "task_assignment": "TASK_STATE_SUBMITTED",
    "status_update": "TASK_STATE_WORKING",
    "progress_update": "TASK_STATE_WORKING",
    "clarification_request": "TASK_STATE_INPUT_REQUIRED",
    "task_completion": "TASK_STATE_COMPLETED",
    "error_report": "TASK_STATE_FAILED",
}
#: Roles written as ``ROLE_USER`` (the A2A client side); every other role is ``ROLE_AGENT``.
USER_SIDE = frozenset({"user", "system", "master_controller"})


class _A2A(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Part(_A2A):
    """A2A ``Part``: exactly one of ``text``, ``raw`` (base64), ``url``, ``data`` (any JSON), with
    optional ``metadata``, ``filename``, ``mediaType``."""

    text: str | None = None
    raw: str | None = None
    url: str | None = None
    data: Any = None
    metadata: dict[str, Any] | None = None
    filename: str | None = None
    media_type: str | None = Field(default=None, alias="mediaType")


class Message(_A2A):
    """A2A ``Message``: ``messageId``, ``contextId``, ``taskId``, ``role``, ``parts``, ``metadata``,
    ``extensions``, ``referenceTaskIds``."""

    message_id: str = Field(alias="messageId", min_length=1)
    context_id: str | None = Field(default=None, alias="contextId")
    task_id: str | None = Field(default=None, alias="taskId")
    role: Role
    parts: list[Part] = Field(default_factory=list)
    metadata: dict[str, Any] | None = None
    extensions: list[str] | None = None
    reference_task_ids: list[str] | None = Field(default=None, alias="referenceTaskIds")


class TaskStatus(_A2A):
    """A2A ``TaskStatus``: ``state``, the ``message`` that set it, its ``timestamp`` (RFC 3339)."""

    state: TaskState
    message: Message | None = None
    timestamp: str | None = None


class Task(_A2A):
    """A2A ``Task``: ``id``, ``contextId``, ``status``, ``artifacts``, ``history``, ``metadata``."""

    id: str = Field(min_length=1)
    context_id: str | None = Field(default=None, alias="contextId")
    status: TaskStatus
    artifacts: list[dict[str, Any]] | None = None
    history: list[Message] = Field(default_factory=list)
    metadata: dict[str, Any] | None = None


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def _timestamp(moment: datetime) -> str:
    """RFC 3339 UTC with a ``Z`` (the proto3 JSON form of a ``Timestamp``)."""
    return ensure_utc(moment).isoformat().replace("+00:00", "Z")


# -- export --------------------------------------------------------------------------------------
def message_to_a2a(message: MessageRecord, context_id: str, task_id: str | None = None) -> Message:
    """The A2A ``Message`` for one stored message (rules in the module docstring)."""
    parts: list[Part] = []
    if message.content:
        parts.append(Part(text=message.content))
    parts.extend(Part(data={"toolCall": call}) for call in message.tool_calls or ())
    if not parts:
        parts.append(Part(text=""))
    kept = {
        "role": message.role,
        "seq": message.seq,
        "createdAt": _timestamp(message.created_at),
        "sender": message.sender,
        "recipient": message.recipient,
        "messageType": message.message_type,
        "toolCallId": message.tool_call_id,
        "toolName": message.tool_name,
        "extraData": message.extra_data,
        "metadata": message.metadata or None,
        "redacted": message.redacted or None,
    }
    return Message(
        message_id=message.id,
        context_id=context_id,
        task_id=task_id,
        role="ROLE_USER" if message.role in USER_SIDE else "ROLE_AGENT",
        parts=parts,
        metadata={META_KEY: {k: v for k, v in kept.items() if v is not None}},
    )


def conversation_to_a2a(
    conversation: ConversationRecord, messages: Sequence[MessageRecord]
) -> dict[str, Any]:
    """The A2A export document of a conversation and its messages (in seq order)."""
    context = conversation.id
    has_task = any(m.message_type in TASK_STATES for m in messages)
    exported = [
        message_to_a2a(m, context, context if has_task and m.message_type is not None else None)
        for m in messages
    ]
    task: dict[str, Any] | None = None
    if has_task:
        index = max(i for i, m in enumerate(messages) if m.message_type in TASK_STATES)
        status = TaskStatus(
            state=TASK_STATES[str(messages[index].message_type)],
            message=exported[index],
            timestamp=_timestamp(messages[index].created_at),
        )
        history = [a for a, m in zip(exported, messages, strict=True) if m.message_type is not None]
        task = _dump(Task(id=context, context_id=context, status=status, history=history))
    described = conversation.model_dump(
        mode="json",
        include={
            "session_id",
            "session_key",
            "kind",
            "session_type",
            "name",
            "description",
            "agent_name",
            "status",
            "participants",
            "created_at",
        },
    )
    return {
        "kind": EXPORT_KIND,
        "a2aVersion": A2A_VERSION,
        "contextId": context,
        "messages": [_dump(m) for m in exported],
        "task": task,
        "metadata": {META_KEY: {k: v for k, v in described.items() if v not in (None, [], {})}},
    }


# -- import --------------------------------------------------------------------------------------
def _part_text(part: Part) -> str | None:
    if part.text is not None:
        return part.text
    if isinstance(part.data, Mapping) and "toolCall" in part.data:
        return None  # a tool call: carried in tool_calls
    if part.data is not None:
        return json.dumps(part.data, ensure_ascii=False)
    if part.url is not None or part.raw is not None:
        return f"[file: {part.filename or part.url or 'inline'}]"
    return None


def message_from_a2a(message: Message) -> MessageRecord:
    """The ledger message an A2A ``Message`` stands for (exactly the exported one when it carries
    ``metadata.convoledger``). ``ValueError`` (pydantic) for a message the ledger cannot hold."""
    kept = (message.metadata or {}).get(META_KEY)
    kept = kept if isinstance(kept, Mapping) else {}
    calls = [
        p.data["toolCall"] for p in message.parts if isinstance(p.data, Mapping) and "toolCall" in p.data
    ]
    texts = [t for t in (_part_text(p) for p in message.parts) if t is not None]
    fields: dict[str, Any] = {
        "id": message.message_id,
        "role": kept.get("role") or ("user" if message.role == "ROLE_USER" else "assistant"),
        "content": "\n".join(texts),
        "tool_calls": calls or None,
        "sender": kept.get("sender"),
        "recipient": kept.get("recipient"),
        "message_type": kept.get("messageType"),
        "tool_call_id": kept.get("toolCallId"),
        "tool_name": kept.get("toolName"),
        "extra_data": kept.get("extraData"),
        "metadata": kept.get("metadata") or {},
        "redacted": bool(kept.get("redacted")),
    }
    if kept.get("createdAt"):
        fields["created_at"] = kept["createdAt"]
    return MessageRecord(**fields)


def _messages_of(document: Any) -> tuple[list[Message], str | None, dict[str, Any]]:
    """The A2A messages of a document (export, Task, message list), its context id and the
    conversation fields it describes."""
    if isinstance(document, list):
        return [Message.model_validate(m) for m in document], None, {}
    if not isinstance(document, Mapping):
        raise ValueError(f"an A2A history must be a JSON object or list, got {type(document).__name__}")
    if "status" in document and "id" in document:  # a Task
        task = Task.model_validate(document)
        history = list(task.history)
        if task.status.message is not None and all(
            m.message_id != task.status.message.message_id for m in history
        ):
            history.append(task.status.message)
        return history, task.context_id, {}
    if "messages" in document:
        described = (document.get("metadata") or {}).get(META_KEY) or {}
        messages = [Message.model_validate(m) for m in document["messages"]]
        return messages, document.get("contextId"), dict(described)
    raise ValueError("not an A2A history: expected a convoledger A2A export, a Task or a list of Messages")


def a2a_to_conversation(document: Any, owner: str) -> tuple[ConversationRecord, list[MessageRecord]]:
    """The conversation (``id`` = the ``contextId``, else the messages' common ``contextId``,
    else a new one) and its messages in order (the ledger numbers them 1, 2, 3, … on import),
    for ``owner``. ``ValueError`` for a document that
    is not an A2A history or holds messages of several contexts."""
    messages, context, described = _messages_of(document)
    contexts = {m.context_id for m in messages if m.context_id}
    if context is None and len(contexts) == 1:
        context = contexts.pop()
    elif context is None and len(contexts) > 1:
        raise ValueError(f"the messages belong to {len(contexts)} contexts; import one context at a time")
    fields = {k: v for k, v in described.items() if k in ConversationRecord.model_fields and k != "status"}
    conversation = ConversationRecord(owner_id=owner, **({"id": context} if context else {}), **fields)
    return conversation, [message_from_a2a(m) for m in messages]


async def export_a2a(ledger: Any, ref: Any) -> dict[str, Any]:
    """:func:`conversation_to_a2a` of the conversation ``ref`` names in ``ledger`` (a
    ``convoledger.ledger.Ledger``; ``NotFound`` when it has none)."""
    record = await ledger.resolve(ref)
    return conversation_to_a2a(record, await ledger.messages(record))


async def import_a2a(ledger: Any, document: Any) -> Any:
    """Store an A2A history in ``ledger`` (``Ledger.import_conversation``: one transaction,
    idempotent — a conversation with the same id already there is left as it is). Returns the
    ``ImportOutcome``. ``ValueError`` for a document that is not an A2A history."""
    conversation, messages = a2a_to_conversation(document, ledger.owner)
    return await ledger.import_conversation(conversation, messages)


__all__ = [
    "A2A_VERSION",
    "TASK_STATES",
    "Message",
    "Part",
    "Task",
    "TaskStatus",
    "a2a_to_conversation",
    "conversation_to_a2a",
    "export_a2a",
    "import_a2a",
    "message_from_a2a",
    "message_to_a2a",
]
