"""OpenAI Agents SDK session items ⇄ convoledger messages (pure functions, no SDK import, no I/O).

An Agents SDK session stores ``TResponseInputItem``s: the OpenAI Responses API's input items as
JSON objects (source: openai-agents ``agents.items.TResponseInputItem``; OpenAI API reference,
"Responses: input items"). Each item becomes exactly one convoledger message, so the ledger's
views (history, search, context windows, exports) see a normal conversation, and the item itself
is kept verbatim in the message's ``extra_data`` under :data:`ITEM_KEY`, so reading it back gives
the identical item:

- a message item (``role`` user / assistant / system / developer, ``content`` a string or a list
  of parts) → a message of that role (``developer`` → ``system``) whose ``content`` is the text of
  its parts (``input_text``/``output_text`` text, a ``refusal``'s text; other parts as markers such
  as ``[input_image]``); a message with no text at all gets the marker ``[empty message]``, because
  the ledger keeps non-empty content for these roles (agent-session seed, ``SessionMessage``);
- a tool call (a ``…_call`` item with a ``call_id``: ``function_call``, ``custom_tool_call``,
  ``computer_call``, ``local_shell_call``, ``shell_call``, ``apply_patch_call``, …) → an
  ``assistant`` message with one OpenAI-style tool call ``{"id": call_id, "type", "function":
  {"name", "arguments"}}`` (type ``function`` for function calls, else the item type; arguments
  the call's JSON text, or the other fields of the call as JSON);
- a tool result (a ``…_call_output`` item with a ``call_id``) → a ``tool`` message answering that
  call (``tool_call_id``; ``tool_name`` when the call is in the same batch; ``content`` the output's
  text);
- anything else (``reasoning``, hosted tool calls that carry their own result such as
  ``web_search_call``/``file_search_call``/``mcp_call``, ``item_reference``, ``compaction``, …) →
  an ``assistant`` message (``user`` for an ``mcp_approval_response``) whose content is the
  reasoning summary text, else the marker ``[<type>]``.

So a history that pairs calls and results keeps the ledger's tool-call integrity (DESIGN.md
invariant 7). Messages written by others (the REST API, imports, the conversation agent) have no
stored item and are converted the other way: a tool result → ``function_call_output``; an
assistant message with tool calls → its text (if any) then one ``function_call`` per call; other
roles → ``{"role", "content"}`` (participant-type roles of agent messages → ``user``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from convoledger.models.records import MessageRecord

#: Key of the verbatim Agents SDK item inside a message's ``extra_data``.
ITEM_KEY = "openai_agents_item"
#: Content of a message item that has no text.
EMPTY_MARKER = "[empty message]"

_ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system"}
_CALL_META = frozenset({"type", "id", "call_id", "status", "name", "arguments"})


def _part_text(part: Any) -> str:
    if isinstance(part, str):
        return part
    if not isinstance(part, Mapping):
        return ""
    kind = part.get("type")
    if isinstance(part.get("text"), str):
        return str(part["text"])
    if kind == "refusal" and isinstance(part.get("refusal"), str):
        return str(part["refusal"])
    if kind == "input_file" and part.get("filename"):
        return f"[input_file: {part['filename']}]"
    return f"[{kind}]" if isinstance(kind, str) and kind else ""


def content_text(content: Any) -> str:
    """The text of an item's ``content`` (a string, or parts joined by newlines; non-text parts
    as ``[<part type>]`` markers)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        return _part_text(content)
    if isinstance(content, Sequence):
        return "\n".join(text for text in (_part_text(p) for p in content) if text)
    return json.dumps(content, ensure_ascii=False, default=str)


def is_message_item(item: Mapping[str, Any]) -> bool:
    """True for a message item: it has a ``role`` and its ``type`` is absent or ``message``."""
    return "role" in item and item.get("type", "message") == "message"


def _call_id(item: Mapping[str, Any]) -> str | None:
    call_id = item.get("call_id")
    return call_id if isinstance(call_id, str) and call_id else None


def is_call_item(item: Mapping[str, Any]) -> bool:
    """True for a tool call the client answers: a ``…_call`` item with a ``call_id``."""
    kind = item.get("type")
    return isinstance(kind, str) and kind.endswith("_call") and _call_id(item) is not None


def is_output_item(item: Mapping[str, Any]) -> bool:
    """True for a tool result: a ``…_call_output`` item with a ``call_id``."""
    kind = item.get("type")
    return isinstance(kind, str) and kind.endswith("_call_output") and _call_id(item) is not None


def _arguments(item: Mapping[str, Any]) -> str:
    arguments = item.get("arguments")
    if isinstance(arguments, str):
        return arguments
    rest = {k: v for k, v in item.items() if k not in _CALL_META}
    if arguments is not None:
        rest["arguments"] = arguments
    return json.dumps(rest, ensure_ascii=False, separators=(",", ":"), default=str)


def _other_text(item: Mapping[str, Any]) -> str:
    kind = str(item.get("type") or "item")
    if kind == "reasoning":
        summary = content_text(item.get("summary"))
        return summary or "[reasoning]"
    return f"[{kind}]"


def _tool_name(item: Mapping[str, Any]) -> str:
    """The tool a call item names: its ``name``, else its type (``computer_call``, …)."""
    name = item.get("name")
    return name if isinstance(name, str) and name else str(item["type"])


def item_to_message_fields(
    item: Mapping[str, Any], call_names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The message fields (``role``, ``content``, ``tool_calls``, ``tool_call_id``, ``tool_name``,
    ``extra_data``) that store ``item`` (rules in the module docstring). ``call_names`` maps the
    call ids of the same batch to tool names (for ``tool_name``). ``ValueError`` when ``item`` is
    not a JSON object."""
    if not isinstance(item, Mapping):
        raise ValueError(f"an Agents SDK session item must be a JSON object, got {type(item).__name__}")
    extra = {ITEM_KEY: dict(item)}
    if is_message_item(item):
        role = _ROLES.get(str(item.get("role")), "user")
        return {
            "role": role,
            "content": content_text(item.get("content")) or EMPTY_MARKER,
            "extra_data": extra,
        }
    if is_call_item(item):
        kind = str(item["type"])
        call = {
            "id": _call_id(item),
            "type": "function" if kind == "function_call" else kind,
            "function": {"name": _tool_name(item), "arguments": _arguments(item)},
        }
        return {"role": "assistant", "content": "", "tool_calls": [call], "extra_data": extra}
    if is_output_item(item):
        call_id = _call_id(item)
        output = item.get("output")
        return {
            "role": "tool",
            "content": content_text(output),
            "tool_call_id": call_id,
            "tool_name": (call_names or {}).get(call_id or ""),
            "extra_data": extra,
        }
    role = "user" if item.get("type") == "mcp_approval_response" else "assistant"
    return {"role": role, "content": _other_text(item), "extra_data": extra}


def items_to_message_fields(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """:func:`item_to_message_fields` for a batch, naming each result's tool from a call of the batch."""
    names = {
        str(item["call_id"]): _tool_name(item)
        for item in items
        if isinstance(item, Mapping) and is_call_item(item)
    }
    return [item_to_message_fields(item, names) for item in items]


def stored_item(message: MessageRecord) -> dict[str, Any] | None:
    """The verbatim Agents SDK item a message stores, or ``None`` (not written by a session, or
    redacted: redaction drops ``extra_data``)."""
    extra = message.extra_data
    if isinstance(extra, Mapping) and isinstance(extra.get(ITEM_KEY), Mapping):
        return dict(extra[ITEM_KEY])
    return None


def message_to_items(message: MessageRecord) -> list[dict[str, Any]]:
    """The Agents SDK items a stored message stands for: its own item when a session wrote it,
    else the conversion in the module docstring (one item, or text + calls for an assistant
    message with tool calls)."""
    item = stored_item(message)
    if item is not None:
        return [item]
    if message.role == "tool" or message.tool_call_id:
        return [
            {"type": "function_call_output", "call_id": message.tool_call_id or "", "output": message.content}
        ]
    if message.role == "assistant" and message.tool_calls:
        items: list[dict[str, Any]] = []
        if message.content:
            items.append({"role": "assistant", "content": message.content})
        for call in message.tool_calls:
            function = call.get("function") or {}
            arguments = function.get("arguments", "")
            items.append(
                {
                    "type": "function_call",
                    "call_id": str(call.get("id") or ""),
                    "name": str(function.get("name") or ""),
                    "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
                }
            )
        return items
    role = message.role if message.role in ("user", "assistant", "system", "developer") else "user"
    return [{"role": role, "content": message.content}]


def messages_to_items(messages: Sequence[MessageRecord]) -> list[dict[str, Any]]:
    """The items of ``messages`` (in order), flattened."""
    return [item for message in messages for item in message_to_items(message)]


__all__ = [
    "EMPTY_MARKER",
    "ITEM_KEY",
    "content_text",
    "is_call_item",
    "is_message_item",
    "is_output_item",
    "item_to_message_fields",
    "items_to_message_fields",
    "message_to_items",
    "messages_to_items",
    "stored_item",
]
