"""OpenAI Responses (``/v1/responses``, ``/responses/compact``, ``/responses/input_tokens``) and
Conversations (``/v1/conversations``) objects; also OpenRouter's, Groq's and DeepSeek's
Responses-compatible endpoints.

Field paths (FIELDS.md section 1; OpenAI SDK ``openai/types/responses/response.py``,
``response_usage.py``, ``response_completed_event.py``, ``conversations/conversation.py``):

- identifiers: ``id`` (``resp_…``) → ``response_id``; ``previous_response_id``;
  ``conversation.id`` (``conv_…``) → ``conversation_id`` (a Conversations object's own ``id`` is
  its ``conversation_id``; a response's ``id`` never is); ``output[].id`` (``msg_``/``rs_``/
  ``fc_``…) → ``output_item_ids``; ``output[].call_id`` → ``tool_call_ids``;
  ``prompt_cache_key``, ``safety_identifier``, ``user``;
- usage: ``input_tokens`` (cache included) with
  ``input_tokens_details.{cached_tokens, cache_write_tokens}``; ``output_tokens`` (reasoning
  included) with ``output_tokens_details.reasoning_tokens``; ``total_tokens``; built-in tool
  calls ``tool_usage.web_search.num_requests`` → genai-prices ``web_searches``;
- streaming: the ``response`` object of the final ``response.completed`` /
  ``response.incomplete`` / ``response.failed`` event carries the totals (``response.created``
  has ``usage: null``);
- ``stop_reason``: ``incomplete_details.reason`` (e.g. ``max_output_tokens``) else ``status``;
- ``details["store"]``: whether the response is stored server-side (``previous_response_id``
  chains need ``store=true``).
"""

from __future__ import annotations

from typing import Any

from convoledger.providers.base import ParseState, ProviderAdapter
from convoledger.providers.fields import count, dig, text_of

FINAL_EVENTS = ("response.completed", "response.incomplete", "response.failed")
CONVERSATION_OBJECTS = ("conversation", "conversation.deleted")


def apply_responses_usage(state: ParseState, usage: dict[str, Any]) -> None:
    """Normalise a Responses ``usage`` object (OpenRouter's adds ``cost`` in USD)."""
    input_details = usage.get("input_tokens_details") or {}
    output_details = usage.get("output_tokens_details") or {}
    state.set_usage(
        input_tokens=usage.get("input_tokens"),
        output_tokens=usage.get("output_tokens"),
        cache_read_tokens=input_details.get("cached_tokens"),
        cache_write_tokens=input_details.get("cache_write_tokens"),
        reasoning_tokens=output_details.get("reasoning_tokens"),
        total_tokens=usage.get("total_tokens"),
        raw=usage,
    )
    cost = usage.get("cost")
    if isinstance(cost, int | float) and not isinstance(cost, bool):
        state.set_detail("provider_cost", float(cost))


class OpenAIResponsesAdapter(ProviderAdapter):
    """Responses bodies/streams and Conversations objects (``api`` ``responses`` or ``conversations``)."""

    api = "responses"

    def parse_body(self, body: dict[str, Any], state: ParseState) -> None:
        """Fill ``state`` from a Response, compaction, input-token count or Conversation object."""
        obj = body.get("object")
        state.object_type = obj or ("error" if "error" in body else None)
        if obj in CONVERSATION_OBJECTS:
            state.is_model_call = False
            state.set_id("conversation_id", body.get("id"))
            state.set_created(body.get("created_at"))
            state.set_detail("deleted", body.get("deleted"))
            state.set_detail("metadata", body.get("metadata"))
            return
        if obj == "response.input_tokens":
            state.object_type = "count_tokens"
            state.is_model_call = False
            state.set_detail("counted_input_tokens", count(body.get("input_tokens")))
            return
        if body.get("error") is not None:
            state.error = body["error"]
        if obj is None and "error" in body and "output" not in body:
            return
        self._response(body, state)

    def _response(self, response: dict[str, Any], state: ParseState) -> None:
        state.set_id("response_id", response.get("id"))
        state.set_id("previous_response_id", response.get("previous_response_id"))
        conversation = response.get("conversation")
        state.set_id(
            "conversation_id", conversation.get("id") if isinstance(conversation, dict) else conversation
        )
        for key in ("prompt_cache_key", "safety_identifier", "user"):
            state.set_id(key, response.get(key))
        state.set_model(response.get("model"))
        state.set_created(response.get("created_at"), overwrite=True)
        status = response.get("status")
        state.set_stop(dig(response, "incomplete_details", "reason") or status)
        if response.get("error") is not None:
            state.error = response["error"]
        for item in response.get("output") or []:
            if isinstance(item, dict):
                state.add_ids("output_item_ids", [item.get("id")])
                state.add_ids("tool_call_ids", [item.get("call_id")])
        state.set_detail("status", status)
        state.set_detail("service_tier", response.get("service_tier"))
        state.set_detail("store", response.get("store"))
        state.set_detail("completed_at", response.get("completed_at"))
        state.set_detail("billing_payer", dig(response, "billing", "payer"))
        searches = dig(response, "tool_usage", "web_search", "num_requests")
        if searches is None:  # older responses: count the web_search_call output items
            searches = sum(
                1
                for item in response.get("output") or []
                if isinstance(item, dict) and item.get("type") == "web_search_call"
            )
        state.add_price_units(web_searches=count(searches))
        usage = response.get("usage")
        if isinstance(usage, dict):
            apply_responses_usage(state, usage)

    def parse_stream(self, events: list[dict[str, Any]], state: ParseState) -> None:
        """Fill ``state`` from Responses SSE events; totals from the final ``response.*`` event."""
        state.object_type = "response"
        final: dict[str, Any] | None = None
        latest: dict[str, Any] | None = None
        for event in events:
            kind = event.get("type") or event.get("event")
            response = event.get("response")
            if isinstance(response, dict):
                latest = response
                if kind in FINAL_EVENTS:
                    final = response
            if kind == "error" or (kind or "").endswith(".error"):
                state.error = {k: v for k, v in event.items() if k not in ("type", "sequence_number")}
            item = event.get("item")
            if isinstance(item, dict):
                state.add_ids("output_item_ids", [item.get("id")])
                state.add_ids("tool_call_ids", [item.get("call_id")])
            if kind and kind.endswith(".delta") and isinstance(event.get("delta"), str):
                state.output_texts.append(event["delta"])
            elif kind and kind.endswith(".delta"):
                state.output_texts.append(text_of(event.get("delta")))
        if final is not None:
            # The final Response object is authoritative (OpenRouter re-ids its output items).
            state.identifiers.pop("output_item_ids", None)
            state.identifiers.pop("tool_call_ids", None)
        chosen = final or latest
        if chosen is not None:
            error = state.error
            self._response(chosen, state)
            if error is not None and state.error is None:
                state.error = error


__all__ = ["CONVERSATION_OBJECTS", "FINAL_EVENTS", "OpenAIResponsesAdapter", "apply_responses_usage"]
