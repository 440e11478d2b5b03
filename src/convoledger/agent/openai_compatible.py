"""The real model client behind ``POST /api/agent-sessions/conversation``: an OpenAI-compatible agent.

:class:`OpenAICompatibleAgent` implements the ``convoledger.agent.Agent`` protocol with the
official ``openai`` SDK and a configurable ``base_url``, so one class talks to OpenAI, OpenRouter,
Groq, DeepSeek, Ollama (``/v1``) or vLLM. Per turn it:

1. asks the ledger what to send: ``ledger.context_for(conversation, provider=…, api=…,
   budget_tokens=…)`` (a ``context.ContextPlan``: ``server_state`` = only the messages after the
   provider's handle, or ``token_window`` = the recent messages that fit the budget);
2. builds the request from the plan (:func:`build_chat_request` / :func:`build_responses_request`);
3. sends it (``with_streaming_response``, so the exact body — JSON, or SSE text when streaming —
   and the response headers are kept) and extracts the reply text and tool calls;
4. returns a :class:`ModelCallReply`: the ``AgentReply`` plus everything the caller needs to
   record the call with ``ledger.record_provider_call`` (:meth:`ModelCallReply.record`), which
   parses, prices and moves the conversation's server-side handle atomically.

Wire rules (OpenAI API reference, "Chat Completions" and "Responses"):

- Chat: ``messages`` = ``{"role": "system", "content": conversation.agent_instructions}`` first
  (when non-empty), then the plan's messages in order: ``user``/``assistant``/``system``/
  ``developer`` with their text; an assistant message with ``tool_calls`` sends them (content
  ``null`` when empty); a tool result (``role == "tool"`` or a ``tool_call_id``) is
  ``{"role": "tool", "tool_call_id", "content"}``. Consecutive assistant messages that only make
  tool calls (no text; e.g. parallel calls stored one per message by an Agents SDK session) are
  sent as ONE assistant message with all the calls, because Chat Completions requires the tool
  results to follow the assistant message that made the calls. Agent-face roles (``agent``,
  ``master_controller``) become ``assistant`` when the sender is this agent, else ``user``.
  Chat keeps no server-side history, so a ``server_state`` plan is a ``ValueError``.
- Responses: ``input`` items ``{"role", "content"}`` for text, ``{"type": "function_call",
  "call_id", "name", "arguments"}`` per assistant tool call and ``{"type":
  "function_call_output", "call_id", "output"}`` per tool result; ``instructions`` =
  ``conversation.agent_instructions`` on EVERY request when it is not ``None`` (Responses does
  not carry instructions over ``previous_response_id``); with a ``server_state`` plan,
  ``conversation`` when the handle names a ``conversation_id`` (``conv_…``), else
  ``previous_response_id`` — never both (the API rejects the pair).
- ``request_options`` (e.g. ``temperature``, ``max_tokens``, ``tools``, ``store``) are merged
  into every request; keys the SDK does not type go through ``extra_body`` unchanged.
"""

from __future__ import annotations

import inspect
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import openai

from convoledger.agent.base import AgentReply
from convoledger.models.records import ConversationRecord, MessageRecord, ProviderCallRecord
from convoledger.providers import get_capabilities, parse
from convoledger.providers.fields import text_of
from convoledger.providers.streams import decode_sse
from convoledger.tokens import REPLY_PRIMING_TOKENS, count_message_tokens

if TYPE_CHECKING:
    from convoledger.context import ContextPlan
    from convoledger.ledger import Ledger
    from convoledger.settings import Settings

#: The two OpenAI-compatible APIs this client speaks.
APIS = ("chat", "responses")

#: Base URL used when none is given (OpenAI: the SDK's own default). Sources: each provider's
#: OpenAI-compatibility docs (OpenRouter, Groq, DeepSeek, Ollama ``/v1``).
DEFAULT_BASE_URLS: dict[str, str] = {
    "openrouter": "https://openrouter.ai/api/v1",
    "groq": "https://api.groq.com/openai/v1",
    "deepseek": "https://api.deepseek.com",
    "ollama": "http://localhost:11434/v1",
}

#: Host fragments of a base URL → provider name (for parsing and pricing), first match wins.
_HOST_PROVIDERS = (
    ("openrouter.ai", "openrouter"),
    ("api.groq.com", "groq"),
    ("api.deepseek.com", "deepseek"),
    ("ollama.com", "ollama"),
    (":11434", "ollama"),
    ("api.openai.com", "openai"),
)

_TEXT_ROLES = frozenset({"user", "assistant", "system", "developer"})
_FINAL_RESPONSE_EVENTS = ("response.completed", "response.incomplete", "response.failed")
_SDK_EXTRA_ARGS = frozenset({"extra_body", "extra_headers", "extra_query", "timeout"})


class ModelCallError(RuntimeError):
    """A model call failed: an HTTP error status, a network failure, or an error body/stream.

    Attributes: ``provider``, ``api``, ``status_code`` (``None`` for network errors; 200 for an
    error carried by a successful response), ``provider_message`` (the provider's own error
    text), ``code``, ``request_id``, ``body`` (the error body), ``request`` (the request sent),
    ``raw_response``/``headers`` (for errors inside a 200 response, so the caller may still
    record the call). The message names the status and the provider's message.
    """

    def __init__(
        self,
        *,
        provider: str,
        api: str,
        status_code: int | None,
        provider_message: str,
        code: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        request: dict[str, Any] | None = None,
        raw_response: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.provider = provider
        self.api = api
        self.status_code = status_code
        self.provider_message = provider_message
        self.code = code
        self.request_id = request_id
        self.body = body
        self.request = request
        self.raw_response = raw_response
        self.headers = headers or {}
        status = "no HTTP response" if status_code is None else f"HTTP {status_code}"
        extra = "".join(
            f", {label} {value}" for label, value in (("code", code), ("request id", request_id)) if value
        )
        super().__init__(f"{provider} {api} call failed ({status}{extra}): {provider_message}")


@dataclass(frozen=True)
class ModelCallReply(AgentReply):
    """An ``AgentReply`` from a real model call, with what recording the call needs.

    ``raw_response``: the response exactly as received — the JSON body as a dict, or the SSE
    text of a stream; ``headers``: the HTTP response headers (lower-case names); ``provider`` /
    ``api``: how to parse and price it (``api`` ``chat`` or ``responses``); ``request``: the
    request body sent (dict); ``model``: the model asked for; ``tool_calls``: the assistant's
    OpenAI-style tool calls (``[{"id", "type": "function", "function": {"name", "arguments"}}]``)
    or ``None`` — store them on the reply message so the next turn can answer them.
    ``metadata`` (stored as the reply's ``extra_data``) holds ``agent``, ``provider``, ``api``,
    ``model``, ``context_strategy``, ``context_reason`` and ``latency_ms`` (client-measured ms).
    """

    raw_response: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    provider: str = "openai"
    api: str = "chat"
    request: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    tool_calls: list[dict[str, Any]] | None = None

    async def record(
        self, ledger: Ledger, conversation: ConversationRecord | str, message: MessageRecord | str
    ) -> ProviderCallRecord:
        """Record this call in ``ledger``, linked to the stored reply ``message`` (record or id):
        ``ledger.record_provider_call(conversation, raw_response, message=…, request=…,
        provider=…, api=…, headers=…)``; prices apply at the response's own timestamp. Errors as
        that method's (``ValueError`` for an unparsable response, ``NotFound``)."""
        return await ledger.record_provider_call(
            conversation,
            self.raw_response,
            message=message,
            request=self.request,
            provider=self.provider,
            api=self.api,
            headers=self.headers,
        )


# -- request building -------------------------------------------------------------------------


def _is_tool_result(m: MessageRecord) -> bool:
    return m.role == "tool" or m.tool_call_id is not None


def _wire_role(m: MessageRecord, assistant_names: frozenset[str]) -> str:
    if m.role in _TEXT_ROLES:
        return m.role
    if m.sender is not None and m.sender in assistant_names:
        return "assistant"
    return "user"


def _wire_tool_calls(m: MessageRecord) -> list[dict[str, Any]]:
    calls = []
    for call in m.tool_calls or ():
        if not isinstance(call, dict) or not call.get("id"):
            raise ValueError(f"message {m.id!r} has a tool call without an id: {call!r}")
        function = call.get("function") or {}
        arguments = function.get("arguments", "")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))
        calls.append(
            {
                "id": str(call["id"]),
                "type": call.get("type") or "function",
                "function": {"name": function.get("name", ""), "arguments": arguments},
            }
        )
    return calls


def chat_messages(
    conversation: ConversationRecord,
    messages: Sequence[MessageRecord],
    assistant_names: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Chat Completions ``messages`` for ``messages`` (rules in the module docstring).

    ``assistant_names``: senders whose agent-face messages are this agent's own (→ ``assistant``).
    Raises ``ValueError`` for a tool call without an id.
    """
    wire: list[dict[str, Any]] = []
    if conversation.agent_instructions:
        wire.append({"role": "system", "content": conversation.agent_instructions})
    for m in messages:
        if _is_tool_result(m):
            wire.append({"role": "tool", "tool_call_id": m.tool_call_id or "", "content": m.content})
            continue
        role = _wire_role(m, assistant_names)
        if role == "assistant" and m.tool_calls:
            calls = _wire_tool_calls(m)
            previous = wire[-1] if wire else None
            if (
                not m.content
                and previous is not None
                and previous["role"] == "assistant"
                and previous.get("tool_calls")
            ):
                previous["tool_calls"].extend(calls)  # parallel calls stored one per message
            else:
                wire.append({"role": "assistant", "content": m.content or None, "tool_calls": calls})
        else:
            wire.append({"role": role, "content": m.content})
    return wire


def responses_input(
    messages: Sequence[MessageRecord], assistant_names: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Responses ``input`` items for ``messages`` (rules in the module docstring).

    Raises ``ValueError`` for a tool call without an id.
    """
    items: list[dict[str, Any]] = []
    for m in messages:
        if _is_tool_result(m):
            call_id = m.tool_call_id or ""
            items.append({"type": "function_call_output", "call_id": call_id, "output": m.content})
            continue
        role = _wire_role(m, assistant_names)
        if role == "assistant" and m.tool_calls:
            if m.content:
                items.append({"role": "assistant", "content": m.content})
            for call in _wire_tool_calls(m):
                items.append(
                    {
                        "type": "function_call",
                        "call_id": call["id"],
                        "name": call["function"]["name"],
                        "arguments": call["function"]["arguments"],
                    }
                )
        else:
            items.append({"role": role, "content": m.content})
    return items


def server_handle_params(handle: Mapping[str, Any] | None) -> dict[str, str]:
    """The Responses parameter that continues server-side history: ``{"conversation": conv_…}``
    when the handle names a ``conversation_id``, else ``{"previous_response_id": resp_…}``.
    Raises ``ValueError`` when the handle has neither (e.g. an Assistants ``thread_id``)."""
    handle = handle or {}
    conversation_id = handle.get("conversation_id")
    if isinstance(conversation_id, str) and conversation_id:
        return {"conversation": conversation_id}
    previous = handle.get("previous_response_id")
    if isinstance(previous, str) and previous:
        return {"previous_response_id": previous}
    raise ValueError(
        f"the server-side handle {dict(handle)!r} names no conversation_id or previous_response_id "
        "usable with the Responses API"
    )


def build_chat_request(
    conversation: ConversationRecord,
    plan: ContextPlan,
    *,
    model: str,
    options: Mapping[str, Any] | None = None,
    assistant_names: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The Chat Completions request body for ``plan``: ``{"model", "messages", **options}``.

    Raises ``ValueError`` for a ``server_state`` plan (Chat keeps no server-side history).
    """
    if plan.strategy != "token_window":
        raise ValueError(f"Chat Completions cannot continue server-side state (plan: {plan.strategy})")
    request: dict[str, Any] = {
        "model": model,
        "messages": chat_messages(conversation, plan.messages, assistant_names),
    }
    request.update(options or {})
    return request


def build_responses_request(
    conversation: ConversationRecord,
    plan: ContextPlan,
    *,
    model: str,
    options: Mapping[str, Any] | None = None,
    assistant_names: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The Responses request body for ``plan``: ``{"model", "input", ["instructions"],
    ["conversation" | "previous_response_id"], **options}`` (rules in the module docstring).

    Raises ``ValueError`` for a ``server_state`` plan whose handle is not usable by Responses.
    """
    request: dict[str, Any] = {"model": model, "input": responses_input(plan.messages, assistant_names)}
    if conversation.agent_instructions is not None:
        request["instructions"] = conversation.agent_instructions
    if plan.strategy == "server_state":
        request.update(server_handle_params(plan.server_handle))
    request.update(options or {})
    return request


# -- reply extraction -------------------------------------------------------------------------


def _chat_tool_calls(raw_calls: Any) -> list[dict[str, Any]] | None:
    calls = []
    for call in raw_calls or ():
        if not isinstance(call, Mapping):
            continue
        function = call.get("function") or {}
        calls.append(
            {
                "id": call.get("id"),
                "type": call.get("type") or "function",
                "function": {"name": function.get("name"), "arguments": function.get("arguments") or ""},
            }
        )
    return calls or None


def chat_reply(body: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]] | None]:
    """``(text, tool_calls)`` of the first choice of a Chat Completions body."""
    choices = body.get("choices") or []
    message = (choices[0].get("message") or {}) if choices else {}
    return text_of(message.get("content")), _chat_tool_calls(message.get("tool_calls"))


def chat_stream_reply(events: Sequence[Mapping[str, Any]]) -> tuple[str, list[dict[str, Any]] | None]:
    """``(text, tool_calls)`` assembled from Chat Completions stream chunks (choice 0): content
    deltas concatenated; tool-call deltas merged by ``index`` (arguments concatenated)."""
    text: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    for chunk in events:
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            text.append(text_of(delta.get("content")))
            for part in delta.get("tool_calls") or ():
                slot = calls.setdefault(
                    int(part.get("index", len(calls))),
                    {"id": None, "type": "function", "function": {"name": None, "arguments": ""}},
                )
                if part.get("id"):
                    slot["id"] = part["id"]
                if part.get("type"):
                    slot["type"] = part["type"]
                function = part.get("function") or {}
                if function.get("name"):
                    slot["function"]["name"] = function["name"]
                slot["function"]["arguments"] += function.get("arguments") or ""
    return "".join(text), [calls[i] for i in sorted(calls)] or None


def responses_reply(response: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]] | None]:
    """``(text, tool_calls)`` of a Response object: the ``output_text`` parts of its assistant
    ``message`` items, and its ``function_call`` items as OpenAI-style tool calls."""
    text: list[str] = []
    calls: list[dict[str, Any]] = []
    for item in response.get("output") or ():
        kind = item.get("type")
        if kind == "message" and item.get("role", "assistant") == "assistant":
            for part in item.get("content") or ():
                if part.get("type") == "output_text":
                    text.append(part.get("text") or "")
        elif kind == "function_call":
            calls.append(
                {
                    "id": item.get("call_id"),
                    "type": "function",
                    "function": {"name": item.get("name"), "arguments": item.get("arguments") or ""},
                }
            )
    return "".join(text), calls or None


def responses_stream_reply(events: Sequence[Mapping[str, Any]]) -> tuple[str, list[dict[str, Any]] | None]:
    """``(text, tool_calls)`` of a Responses stream: from the final ``response.completed`` /
    ``incomplete`` / ``failed`` event's Response, else the concatenated text deltas."""
    final = next(
        (e.get("response") for e in reversed(events) if e.get("type") in _FINAL_RESPONSE_EVENTS),
        None,
    )
    if isinstance(final, Mapping):
        return responses_reply(final)
    deltas = [e.get("delta") for e in events if e.get("type") == "response.output_text.delta"]
    return "".join(d for d in deltas if isinstance(d, str)), None


# -- the agent --------------------------------------------------------------------------------


def infer_provider(base_url: str | None) -> str:
    """The provider a base URL points at (``openrouter.ai`` → openrouter, ``:11434`` → ollama,
    …); ``openai`` for ``None`` or an unknown host (vLLM and other OpenAI-compatible servers)."""
    if base_url:
        lowered = base_url.lower()
        for fragment, provider in _HOST_PROVIDERS:
            if fragment in lowered:
                return provider
    return "openai"


class OpenAICompatibleAgent:
    """An ``Agent`` answering with an OpenAI-compatible model (module docstring for the rules).

    Arguments: ``model`` (sent as is); ``base_url`` (default: the provider's, see
    :data:`DEFAULT_BASE_URLS`; OpenAI's for ``openai``); ``api_key`` (default
    ``$OPENAI_API_KEY``; servers that need none, e.g. Ollama or a vLLM ``base_url``, get a
    placeholder); ``provider`` (for parsing and pricing: openai, openrouter, groq, deepseek,
    ollama, …); ``api`` (``chat`` or ``responses``); ``name`` (the reply's sender when the session
    names no agent); ``budget_tokens`` (tokens for instructions + context window); ``stream``
    (request a stream and keep its SSE text; Chat streams ask for ``include_usage``);
    ``request_options`` (extra request parameters); ``history_limit`` (most recent messages the
    plan may read); ``client`` (a ready ``openai.AsyncOpenAI``) or ``http_client`` (an
    ``httpx.AsyncClient``, e.g. with a mock transport), ``timeout`` (seconds), ``max_retries``.

    Raises ``ValueError`` for an unknown provider/API pair, an empty model, a negative budget or
    a missing API key for a hosted provider.
    """

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        provider: str = "openai",
        api: str = "chat",
        name: str | None = None,
        budget_tokens: int = 8000,
        stream: bool = False,
        request_options: Mapping[str, Any] | None = None,
        history_limit: int = 500,
        client: openai.AsyncOpenAI | None = None,
        http_client: Any = None,
        timeout: float = 60.0,
        max_retries: int = 2,
    ) -> None:
        if not isinstance(model, str) or not model.strip():
            raise ValueError(f"model must be a non-empty str, got {model!r}")
        if api not in APIS:
            raise ValueError(f"api must be one of {', '.join(APIS)}, got {api!r}")
        if isinstance(budget_tokens, bool) or not isinstance(budget_tokens, int) or budget_tokens < 0:
            raise ValueError(f"budget_tokens must be an int >= 0 (tokens), got {budget_tokens!r}")
        provider = provider.strip().lower()
        self.capabilities = get_capabilities(provider, api)  # ValueError for an unknown pair
        self.model = model
        self.provider = provider
        self.api = api
        self.name = name or f"{provider}:{model}"
        self.budget_tokens = budget_tokens
        self.stream = stream
        self.request_options = dict(request_options or {})
        self.history_limit = history_limit
        if client is None:
            url = base_url or DEFAULT_BASE_URLS.get(provider)
            key = api_key or os.environ.get("OPENAI_API_KEY")
            if not key:
                if base_url is None and provider != "ollama":
                    raise ValueError(
                        f"no API key for {provider}: set CONVOLEDGER_OPENAI_API_KEY (or OPENAI_API_KEY)"
                    )
                key = "no-key"  # keyless servers ignore it; one that needs a key answers 401
            client = openai.AsyncOpenAI(
                api_key=key, base_url=url, http_client=http_client, timeout=timeout, max_retries=max_retries
            )
        self.client = client
        self.base_url = str(client.base_url)

    async def aclose(self) -> None:
        """Close the SDK client (and its HTTP connections)."""
        await self.client.close()

    def _window_budget(self, conversation: ConversationRecord) -> int:
        reserved = REPLY_PRIMING_TOKENS
        if conversation.agent_instructions:
            instructions = MessageRecord(role="system", content=conversation.agent_instructions)
            reserved += count_message_tokens(instructions)
        return max(0, int((self.budget_tokens - reserved) / self.capabilities.token_estimate_ratio))

    def build_request(self, conversation: ConversationRecord, plan: ContextPlan) -> dict[str, Any]:
        """The request body this agent sends for ``plan`` (options and streaming included)."""
        names = frozenset(n for n in (conversation.agent_name, self.name) if n)
        options = dict(self.request_options)
        if self.stream:
            options.setdefault("stream", True)
            if self.api == "chat":
                options.setdefault("stream_options", {"include_usage": True})
        build = build_chat_request if self.api == "chat" else build_responses_request
        return build(conversation, plan, model=self.model, options=options, assistant_names=names)

    async def respond(
        self, ledger: Ledger, conversation: ConversationRecord, history: Sequence[MessageRecord]
    ) -> ModelCallReply:
        """One model call for ``conversation``; the context comes from ``ledger.context_for``
        (``history`` is not used: the plan reads the stored messages itself).

        Raises :class:`ModelCallError` for an HTTP error, a network failure or an error inside
        the response; ``ValueError`` when the plan cannot be expressed for this API.
        """
        plan = await ledger.context_for(
            conversation.id,
            provider=self.provider,
            api=self.api,
            budget_tokens=self._window_budget(conversation),
            history_limit=self.history_limit,
        )
        request = self.build_request(conversation, plan)
        started = time.perf_counter()
        raw, headers = await self._send(request)
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        streamed = isinstance(raw, str)
        self._raise_if_error(raw, headers, request)
        if self.api == "chat":
            text, tool_calls = chat_stream_reply(decode_sse(raw)) if streamed else chat_reply(raw)
        else:
            text, tool_calls = responses_stream_reply(decode_sse(raw)) if streamed else responses_reply(raw)
        return ModelCallReply(
            content=text,
            metadata={
                "agent": self.name,
                "provider": self.provider,
                "api": self.api,
                "model": self.model,
                "context_strategy": plan.strategy,
                "context_reason": plan.reason,
                "latency_ms": latency_ms,
            },
            raw_response=raw,
            headers=headers,
            provider=self.provider,
            api=self.api,
            request=request,
            model=self.model,
            tool_calls=tool_calls,
        )

    async def _send(self, request: dict[str, Any]) -> tuple[Any, dict[str, str]]:
        """POST ``request``; return (JSON dict, or SSE text when streamed; lower-cased headers)."""
        resource: Any = self.client.chat.completions if self.api == "chat" else self.client.responses
        typed = set(inspect.signature(resource.create).parameters) - _SDK_EXTRA_ARGS
        kwargs = {k: v for k, v in request.items() if k in typed}
        extra = {k: v for k, v in request.items() if k not in typed}
        if extra:
            kwargs["extra_body"] = extra
        try:
            async with resource.with_streaming_response.create(**kwargs) as response:
                text = await response.text()
                headers = {k.lower(): v for k, v in response.headers.items()}
        except openai.APIStatusError as exc:
            raise self._status_error(exc, request) from exc
        except openai.APIError as exc:  # connection failures and timeouts: no HTTP status
            raise ModelCallError(
                provider=self.provider,
                api=self.api,
                status_code=None,
                provider_message=str(exc),
                request=request,
            ) from exc
        if request.get("stream") and not text.lstrip().startswith("{"):
            return text, headers  # SSE text (a server ignoring ``stream`` answers JSON: parsed below)
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelCallError(
                provider=self.provider,
                api=self.api,
                status_code=200,
                provider_message=f"response body is not JSON ({exc}): {text[:200]!r}",
                request=request,
                raw_response=text,
                headers=headers,
            ) from exc
        if not isinstance(body, dict):
            raise ModelCallError(
                provider=self.provider,
                api=self.api,
                status_code=200,
                provider_message=f"response body is a JSON {type(body).__name__}, not an object",
                request=request,
                raw_response=body,
                headers=headers,
            )
        return body, headers

    def _status_error(self, exc: openai.APIStatusError, request: dict[str, Any]) -> ModelCallError:
        body = exc.body
        error = body.get("error", body) if isinstance(body, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        if not message:
            message = body if isinstance(body, str) and body else exc.message
        return ModelCallError(
            provider=self.provider,
            api=self.api,
            status_code=exc.status_code,
            provider_message=str(message),
            code=str(code) if code else None,
            request_id=exc.request_id,
            body=body,
            request=request,
        )

    def _raise_if_error(self, raw: Any, headers: dict[str, str], request: dict[str, Any]) -> None:
        """Raise :class:`ModelCallError` for an error carried by a 200 response (error body,
        failed response, stream error event) or one the provider adapter cannot parse."""
        try:
            metadata = parse(raw, self.provider, api=self.api, headers=headers)
        except ValueError as exc:
            raise ModelCallError(
                provider=self.provider,
                api=self.api,
                status_code=200,
                provider_message=f"unparsable {self.provider} {self.api} response: {exc}",
                request=request,
                raw_response=raw,
                headers=headers,
            ) from exc
        if not metadata.is_error:
            return
        error = metadata.error
        message = error.get("message") if isinstance(error, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        raise ModelCallError(
            provider=self.provider,
            api=self.api,
            status_code=200,
            provider_message=str(message or error),
            code=str(code) if code else None,
            request_id=metadata.identifiers.get("request_id"),  # type: ignore[arg-type]
            body=error,
            request=request,
            raw_response=raw,
            headers=headers,
        )


def openai_agent_from_settings(settings: Settings) -> OpenAICompatibleAgent:
    """The agent ``CONVOLEDGER_AGENT=openai`` selects: ``CONVOLEDGER_OPENAI_BASE_URL`` /
    ``…_MODEL`` / ``…_API_KEY``, ``…_CONTEXT_BUDGET_TOKENS``; provider from
    ``CONVOLEDGER_OPENAI_PROVIDER`` when the settings have it, else inferred from the base URL
    (:func:`infer_provider`); API from ``CONVOLEDGER_OPENAI_API`` when present, else ``chat``.
    Errors as :class:`OpenAICompatibleAgent`."""
    base_url = settings.openai_base_url
    provider = getattr(settings, "openai_provider", None) or infer_provider(base_url)
    api = getattr(settings, "openai_api", None) or "chat"
    return OpenAICompatibleAgent(
        model=settings.openai_model,
        base_url=base_url,
        api_key=settings.openai_api_key,
        provider=provider,
        api=api,
        budget_tokens=settings.context_budget_tokens,
        stream=bool(getattr(settings, "openai_stream", False)),
    )


__all__ = [
    "APIS",
    "DEFAULT_BASE_URLS",
    "ModelCallError",
    "ModelCallReply",
    "OpenAICompatibleAgent",
    "build_chat_request",
    "build_responses_request",
    "chat_messages",
    "chat_reply",
    "chat_stream_reply",
    "infer_provider",
    "openai_agent_from_settings",
    "responses_input",
    "responses_reply",
    "responses_stream_reply",
    "server_handle_params",
]
