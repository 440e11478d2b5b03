"""Mistral Conversations API (beta; ``POST /v1/conversations``, ``/v1/conversations/{id}``):
server-side conversation state, Mistral's equivalent of OpenAI's ``conversation``.

Shapes (FIELDS.md section 1; mistralai ``conversationresponse.py``, ``conversationusageinfo.py``):
``{"object": "conversation.response", "conversation_id": "…", "outputs": [entries], "usage":
{prompt_tokens, completion_tokens, total_tokens, connector_tokens, connectors}}``. Output entries:
``message.output`` (``id``, ``model``, ``content``), ``function.call`` (``id``, ``tool_call_id``,
``name``, ``arguments``), tool executions. Streams: ``conversation.response.started``
(``conversation_id``), ``message.output.delta``, ``function.call.delta``,
``conversation.response.done`` (``usage``), ``conversation.response.error``.

Identifiers: ``conversation_id`` (the server-side handle), ``output_item_ids`` (entry ids),
``tool_call_ids``. Usage: ``prompt_tokens`` → input, ``completion_tokens`` → output;
``connector_tokens`` is kept in ``details`` (no cache or reasoning counts are reported).
No recorded Conversations response exists in the shared data; the adapter follows the SDK types.
"""

from __future__ import annotations

from typing import Any

from convoledger.providers.base import ParseState, ProviderAdapter
from convoledger.providers.fields import text_of


def apply_conversation_usage(state: ParseState, usage: dict[str, Any]) -> None:
    """Normalise ``ConversationUsageInfo`` into ``state``."""
    state.set_usage(
        input_tokens=usage.get("prompt_tokens"),
        output_tokens=usage.get("completion_tokens"),
        total_tokens=usage.get("total_tokens"),
        raw=usage,
    )
    state.set_detail("connector_tokens", usage.get("connector_tokens"))


class MistralConversationsAdapter(ProviderAdapter):
    """Mistral ``conversation.response`` bodies and Conversations event streams."""

    api = "conversations"

    def _entry(self, entry: dict[str, Any], state: ParseState) -> None:
        state.add_ids("output_item_ids", [entry.get("id")])
        state.add_ids("tool_call_ids", [entry.get("tool_call_id")])
        state.set_model(entry.get("model"), overwrite=False)
        state.set_created(entry.get("created_at"))

    def parse_body(self, body: dict[str, Any], state: ParseState) -> None:
        """Fill ``state`` from a ``conversation.response`` (or error) body."""
        state.object_type = body.get("object") or ("error" if "detail" in body or "error" in body else None)
        if state.object_type == "error":
            state.error = body.get("error", body.get("detail"))
            return
        state.set_id("conversation_id", body.get("conversation_id"))
        for entry in body.get("outputs") or []:
            if isinstance(entry, dict):
                self._entry(entry, state)
        if isinstance(body.get("usage"), dict):
            apply_conversation_usage(state, body["usage"])

    def parse_stream(self, events: list[dict[str, Any]], state: ParseState) -> None:
        """Fill ``state`` from Conversations events; ``conversation.response.done`` has the usage."""
        state.object_type = "conversation.response"
        for event in events:
            kind = str(event.get("type") or event.get("event") or "")
            inner = event.get("data")
            data: dict[str, Any] = inner if isinstance(inner, dict) else event
            if kind == "conversation.response.started":
                state.set_id("conversation_id", data.get("conversation_id"))
            elif kind == "conversation.response.done" and isinstance(data.get("usage"), dict):
                apply_conversation_usage(state, data["usage"])
            elif kind == "conversation.response.error":
                state.error = {"message": data.get("message"), "code": data.get("code")}
            elif kind.endswith(".delta"):
                self._entry(data, state)
                state.output_texts.append(text_of(data.get("content")) or text_of(data.get("arguments")))


__all__ = ["MistralConversationsAdapter", "apply_conversation_usage"]
