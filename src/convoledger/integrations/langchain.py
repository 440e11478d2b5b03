"""LangChain chat history stored in convoledger: ``LedgerChatMessageHistory``.

A ``langchain_core.chat_history.BaseChatMessageHistory`` with sync and async methods, usable
with ``RunnableWithMessageHistory``::

    history = LedgerChatMessageHistory("user-42", url="sqlite:///ledger.db")
    chain = RunnableWithMessageHistory(model, lambda session_id: LedgerChatMessageHistory(
        session_id, url="sqlite:///ledger.db"))

Modes as ``conversation_access`` (one of ``ledger=`` — async methods only —, ``url=`` + ``owner``,
``client=``, ``base_url=`` + ``token``). The conversation is the owner's session whose
``session_id`` is the history's ``session_id``, created on the first write.

Mapping (one ledger message per LangChain message; the message itself kept verbatim in
``extra_data`` under :data:`MESSAGE_KEY` as ``langchain_core.messages.message_to_dict`` writes
it, so reading gives back an equal message — ids, names, metadata, tool calls and all):

- ``HumanMessage`` → ``user``; ``AIMessage`` → ``assistant``; ``SystemMessage`` → ``system``;
  ``ChatMessage`` → its role when it is one of user/assistant/system/tool, else ``user``;
- ``AIMessage.tool_calls`` → OpenAI-style tool calls ``{"id", "type": "function", "function":
  {"name", "arguments": JSON text of args}}``; ``ToolMessage`` → a ``tool`` message answering its
  ``tool_call_id`` (``tool_name`` = the message's ``name``, else the name of the call in the same
  batch); a legacy ``FunctionMessage`` → a ``tool`` message answering the call named like it;
- content: text (a list of content blocks → their text, other blocks as markers such as
  ``[image_url]``; no text for a human/system/plain AI message → ``[empty message]``).

Messages written by others (REST API, imports, other frameworks) are read as ``HumanMessage`` /
``AIMessage`` (with ``tool_calls``; arguments that are not a JSON object become
``invalid_tool_calls``) / ``SystemMessage`` / ``ToolMessage``; agent messages of
multi-participant sessions as ``HumanMessage`` named after their sender.

Writes: each ``add_messages`` call is one atomic batch. A message that has an ``id`` is stored
under that id, so adding it again returns the stored message instead of a duplicate
(idempotent retries, DESIGN.md invariant 4); without one it gets a new UUIDv7.
``history_limit``: read only the latest N messages (default: all).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from convoledger.integrations.optional import missing_extra

try:
    from langchain_core.chat_history import BaseChatMessageHistory
    from langchain_core.messages import (
        AIMessage,
        BaseMessage,
        ChatMessage,
        FunctionMessage,
        HumanMessage,
        SystemMessage,
        ToolMessage,
        message_to_dict,
        messages_from_dict,
    )
except ModuleNotFoundError as _exc:  # pragma: no cover - exercised in a venv without the extra
    raise missing_extra(_exc, "langchain_core", "langchain", "langchain-core") from _exc

from convoledger.client import Client
from convoledger.integrations.agents_items import EMPTY_MARKER, content_text
from convoledger.integrations.conversation_access import ConversationAccess
from convoledger.integrations.loop_thread import finish_before_cancel
from convoledger.ledger import Ledger
from convoledger.models.records import MessageRecord, new_message_id

#: Key of the verbatim LangChain message (``message_to_dict``) inside a message's ``extra_data``.
MESSAGE_KEY = "langchain_message"

_CHAT_ROLES = frozenset({"user", "assistant", "system", "tool"})


def _tool_call(call: Mapping[str, Any]) -> dict[str, Any]:
    arguments = json.dumps(call.get("args") or {}, ensure_ascii=False, separators=(",", ":"))
    return {
        "id": str(call.get("id") or ""),
        "type": "function",
        "function": {"name": call["name"], "arguments": arguments},
    }


def message_fields(message: BaseMessage, call_names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ledger message fields (``id``, ``role``, ``content``, ``tool_calls``, ``tool_call_id``,
    ``tool_name``, ``sender``, ``extra_data``) storing ``message`` (rules in the module
    docstring); ``call_names``: tool names of the calls in the same batch. ``ValueError`` for an
    ``AIMessage`` tool call without an id (no result could answer it)."""
    text = content_text(message.content)
    fields: dict[str, Any] = {
        "id": message.id or new_message_id(),
        "extra_data": {MESSAGE_KEY: message_to_dict(message)},
        "sender": message.name,
    }
    if isinstance(message, ToolMessage):
        name = message.name or (call_names or {}).get(message.tool_call_id)
        return fields | {
            "role": "tool",
            "content": text,
            "tool_call_id": message.tool_call_id,
            "tool_name": name,
        }
    if isinstance(message, FunctionMessage):
        return fields | {
            "role": "tool",
            "content": text,
            "tool_call_id": message.name,
            "tool_name": message.name,
        }
    if isinstance(message, AIMessage):
        calls = [_tool_call(c) for c in message.tool_calls]
        if any(not c["id"] for c in calls):
            raise ValueError("an AIMessage tool call needs an id (the ToolMessage answering it names it)")
        if calls:
            return fields | {"role": "assistant", "content": text, "tool_calls": calls}
        return fields | {"role": "assistant", "content": text or EMPTY_MARKER}
    if isinstance(message, SystemMessage):
        role = "system"
    elif isinstance(message, ChatMessage) and message.role in _CHAT_ROLES - {"tool"}:
        role = message.role
    else:
        role = "user"
    return fields | {"role": role, "content": text or EMPTY_MARKER}


def batch_fields(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """:func:`message_fields` for a batch (tool results named after the batch's calls)."""
    names = {str(c["id"]): str(c["name"]) for m in messages if isinstance(m, AIMessage) for c in m.tool_calls}
    return [message_fields(m, names) for m in messages]


def to_langchain(message: MessageRecord) -> BaseMessage:
    """The LangChain message a stored message stands for: its own when this history wrote it (and
    it was not redacted), else the conversion in the module docstring."""
    extra = message.extra_data
    if isinstance(extra, Mapping) and isinstance(extra.get(MESSAGE_KEY), Mapping):
        return messages_from_dict([dict(extra[MESSAGE_KEY])])[0]
    if message.role == "tool" or message.tool_call_id:
        return ToolMessage(
            content=message.content, tool_call_id=message.tool_call_id or "", name=message.tool_name
        )
    if message.role == "assistant":
        calls: list[dict[str, Any]] = []
        invalid: list[dict[str, Any]] = []
        for call in message.tool_calls or ():
            function = call.get("function") or {}
            raw = function.get("arguments", "")
            try:
                args = json.loads(raw) if isinstance(raw, str) else raw
            except ValueError:
                args = None
            entry = {"name": function.get("name"), "id": call.get("id")}
            if isinstance(args, dict):
                calls.append(entry | {"args": args, "type": "tool_call"})
            else:
                invalid.append(
                    entry
                    | {"args": raw, "error": "arguments are not a JSON object", "type": "invalid_tool_call"}
                )
        return AIMessage(content=message.content, tool_calls=calls, invalid_tool_calls=invalid, id=message.id)
    if message.role == "system":
        return SystemMessage(content=message.content, id=message.id)
    if message.role == "user":
        return HumanMessage(content=message.content, id=message.id)
    return HumanMessage(content=message.content, id=message.id, name=message.sender or message.role)


class LedgerChatMessageHistory(BaseChatMessageHistory):
    """LangChain chat history of session ``session_id`` in convoledger (module docstring).

    Arguments: one of ``ledger`` (async methods only), ``url`` (+ ``owner``), ``client``,
    ``base_url`` (+ ``token``, ``timeout`` seconds); ``conversation``: fields of the conversation
    created on the first write (``name``, ``agent_name``, ``metadata``, …); ``history_limit``:
    how many of the latest messages ``messages`` returns (``None``: all).

    Raises ``ValueError`` for an empty ``session_id``, not exactly one mode or a negative
    ``history_limit``. Writes raise the ledger's errors (``ConversationNotActive``,
    ``ValueError``) or the client's equivalents; the sync methods of a ``ledger=`` history raise
    ``RuntimeError`` (its ledger belongs to an event loop).
    """

    def __init__(
        self,
        session_id: str,
        *,
        ledger: Ledger | None = None,
        url: str | None = None,
        owner: str = "local",
        client: Client | None = None,
        base_url: str | None = None,
        token: str | None = None,
        timeout: float = 30.0,
        conversation: Mapping[str, Any] | None = None,
        history_limit: int | None = None,
    ) -> None:
        if history_limit is not None and (isinstance(history_limit, bool) or history_limit < 0):
            raise ValueError(f"history_limit must be None or an int >= 0, got {history_limit!r}")
        self.session_id = session_id
        self.history_limit = history_limit
        self._access = ConversationAccess(
            session_id,
            ledger=ledger,
            url=url,
            owner=owner,
            client=client,
            base_url=base_url,
            token=token,
            timeout=timeout,
            fields=conversation,
        )
        self._backend = self._access.backend

    # -- the work, wherever it runs ---------------------------------------------------------------
    async def _read(self) -> list[BaseMessage]:
        if self.history_limit == 0:
            return []
        conversation = await self._backend.conversation_id(create=False)
        if conversation is None:
            return []
        return [to_langchain(m) for m in await self._backend.recent(conversation, self.history_limit)]

    async def _write(self, records: list[MessageRecord]) -> None:
        conversation = await self._backend.conversation_id(create=True)
        assert conversation is not None
        await self._backend.append(conversation, records)

    async def _clear(self) -> None:
        conversation = await self._backend.conversation_id(create=False)
        if conversation is not None:
            await self._backend.clear(conversation)

    @staticmethod
    def _records(messages: Sequence[BaseMessage]) -> list[MessageRecord]:
        return [MessageRecord(**fields) for fields in batch_fields(list(messages))]

    # -- BaseChatMessageHistory -------------------------------------------------------------------
    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """The history, oldest first (the latest ``history_limit`` when set)."""
        return self._access.run_sync(self._read)

    async def aget_messages(self) -> list[BaseMessage]:
        """The history, oldest first (async)."""
        return await self._access.run(self._read)

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append ``messages`` in order, as one atomic batch."""
        if messages:
            records = self._records(messages)
            self._access.run_sync(lambda: self._write(records))

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append ``messages`` in order, as one atomic batch (async)."""
        if messages:
            records = self._records(messages)
            await finish_before_cancel(self._access.run(lambda: self._write(records)))

    def clear(self) -> None:
        """Delete every message of the session (the conversation stays)."""
        self._access.run_sync(self._clear)

    async def aclear(self) -> None:
        """Delete every message of the session (async)."""
        await finish_before_cancel(self._access.run(self._clear))

    def close(self) -> None:
        """Release what this history opened itself (its ledger for ``url=``, its HTTP client)."""
        self._access.close()


__all__ = ["MESSAGE_KEY", "LedgerChatMessageHistory", "batch_fields", "message_fields", "to_langchain"]
