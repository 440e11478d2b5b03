"""OpenAI Assistants v2 objects and run streams — read-only capture (the API is deprecated:
the SDK marks it "deprecated in favor of the Responses API").

Identifiers by object (FIELDS.md section 1; OpenAI SDK ``openai/types/beta/threads/run.py``,
``runs/run_step.py``): ``assistant`` → ``assistant_id``; ``thread`` → ``thread_id``;
``thread.message`` → ``message_id`` (+ ``thread_id``, ``run_id``, ``assistant_id``);
``thread.run`` → ``run_id`` (+ ``thread_id``, ``assistant_id``, required-action tool call ids);
``thread.run.step`` → ``step_ids`` (+ tool call ids); ``list`` → the ids of its items as lists
(``message_ids``, ``step_ids``, …).

Usage lives on runs (``run.usage``) and per step (``run_step.usage``). Real data spells the
prompt details ``prompt_token_details`` (singular "token"; ``ol__test_existing_assistant__17``).
Streams (``event: thread.run.completed`` etc.): the last run object carries the totals; step
usages are parts of it and are never added to it.
"""

from __future__ import annotations

from typing import Any

from convoledger.providers.base import ParseState, ProviderAdapter
from convoledger.providers.fields import dig, text_of
from convoledger.providers.openai_chat import apply_openai_usage

_ID_KEY = {
    "assistant": "assistant_id",
    "thread": "thread_id",
    "thread.message": "message_id",
    "thread.run": "run_id",
}
_LIST_KEY = {
    "assistant": "assistant_ids",
    "thread.message": "message_ids",
    "thread.run": "run_ids",
    "thread.run.step": "step_ids",
}


class OpenAIAssistantsAdapter(ProviderAdapter):
    """Assistants / threads / messages / runs / run steps, as bodies or run event streams."""

    api = "assistants"

    def parse_body(self, body: dict[str, Any], state: ParseState) -> None:
        """Fill ``state`` from one Assistants object, a ``list`` of them, or an error body."""
        obj = body.get("object")
        state.object_type = obj or ("error" if "error" in body else None)
        if obj is None and body.get("error") is not None:
            state.error = body["error"]
            return
        state.is_model_call = obj in ("thread.run", "thread.run.step")
        if obj == "list":
            for item in body.get("data") or []:
                if isinstance(item, dict):
                    self._links(item, state)
                    key = _LIST_KEY.get(str(item.get("object")))
                    if key:
                        state.add_ids(key, [item.get("id")])
            return
        self._object(body, state)

    def _links(self, obj: dict[str, Any], state: ParseState) -> None:
        for key in ("thread_id", "run_id", "assistant_id"):
            state.set_id(key, obj.get(key), overwrite=False)
        state.set_model(obj.get("model"), overwrite=False)

    def _object(self, obj: dict[str, Any], state: ParseState) -> None:
        kind = str(obj.get("object") or "")
        if kind in _ID_KEY:
            state.set_id(_ID_KEY[kind], obj.get("id"))
        elif kind == "thread.run.step":
            state.add_ids("step_ids", [obj.get("id")])
        elif kind.endswith(".deleted"):
            state.set_id(_ID_KEY.get(kind.removesuffix(".deleted"), "object_id"), obj.get("id"))
            state.set_detail("deleted", obj.get("deleted"))
        self._links(obj, state)
        state.set_created(obj.get("created_at"))
        if kind == "thread.run":
            state.set_model(obj.get("model"))
            state.set_stop(dig(obj, "incomplete_details", "reason") or obj.get("status"))
            state.set_detail("status", obj.get("status"))
            if obj.get("last_error") is not None:
                state.error = obj["last_error"]
            calls = dig(obj, "required_action", "submit_tool_outputs", "tool_calls") or []
            state.add_ids("tool_call_ids", [c.get("id") for c in calls if isinstance(c, dict)])
            state.set_detail("truncation_strategy", obj.get("truncation_strategy"))
        if kind == "thread.run.step":
            calls = dig(obj, "step_details", "tool_calls") or []
            state.add_ids("tool_call_ids", [c.get("id") for c in calls if isinstance(c, dict)])
        if kind in ("thread.run", "thread.run.step") and isinstance(obj.get("usage"), dict):
            apply_openai_usage(state, obj["usage"])

    def parse_stream(self, events: list[dict[str, Any]], state: ParseState) -> None:
        """Fill ``state`` from run events; the last ``thread.run`` object gives usage and status."""
        state.object_type = "thread.run"
        last_run: dict[str, Any] | None = None
        for event in events:
            name = str(event.get("event") or "")
            data = event.get("data", event)
            if name == "error" or (isinstance(data, dict) and data.get("object") is None and "error" in data):
                state.error = data.get("error", data) if isinstance(data, dict) else data
                continue
            if not isinstance(data, dict):
                continue
            kind = data.get("object")
            if kind == "thread.run":
                last_run = data
            elif kind == "thread.message":
                state.add_ids("message_ids", [data.get("id")])
                self._links(data, state)
            elif kind == "thread.run.step":
                state.add_ids("step_ids", [data.get("id")])
                calls = dig(data, "step_details", "tool_calls") or []
                state.add_ids("tool_call_ids", [c.get("id") for c in calls if isinstance(c, dict)])
            elif kind == "thread.message.delta":
                for part in dig(data, "delta", "content") or []:
                    state.output_texts.append(text_of(dig(part, "text", "value")))
            elif kind == "thread.run.step.delta":
                for call in dig(data, "delta", "step_details", "tool_calls") or []:
                    if isinstance(call, dict):
                        state.add_ids("tool_call_ids", [call.get("id")])
                        state.output_texts.append(text_of(dig(call, "code_interpreter", "input")))
                        state.output_texts.append(text_of(dig(call, "function", "arguments")))
        if last_run is not None:
            error = state.error
            self._object(last_run, state)
            if error is not None and state.error is None:
                state.error = error


__all__ = ["OpenAIAssistantsAdapter"]
