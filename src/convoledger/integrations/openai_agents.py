"""OpenAI Agents SDK sessions stored in convoledger: ``LedgerSession`` and ``LedgerUsageHooks``.

``LedgerSession`` implements the SDK's ``Session`` protocol (``agents.memory.Session``:
``session_id``, ``session_settings``, ``get_items(limit=None)``, ``add_items(items)``,
``pop_item()``, ``clear_session()``), so it is passed wherever the SDK takes a session::

    session = LedgerSession("user-42", url="sqlite:///ledger.db")          # in-process
    session = LedgerSession("user-42", base_url="http://ledger:8000", token="clg_…")  # remote
    result = await Runner.run(agent, "Hello", session=session, hooks=session.usage_hooks())

Modes (give exactly one of them):

- ``ledger=``: an open ``Ledger``, used directly in the caller's event loop (the loop that opened
  it: an async SQL ledger belongs to its loop);
- ``url=`` (and ``owner=``, default ``local``): the session opens its own ledger on that store URL
  in a private background loop (``loop_thread.shared_loop``), so it works from any thread or loop
  — ``Runner.run_sync``, worker threads — as the SDK's ``SQLiteSession`` does;
- ``base_url=`` + ``token=`` (or ``client=``, a ``convoledger.client.Client``): remote, over the
  HTTP API, so many agent processes share one ledger service; the blocking client runs in worker
  threads (thread-safe, usable from any loop).

What it stores: one convoledger message per SDK item (``agents_items``: roles, tool calls, tool
results), with the item itself kept verbatim, so ``get_items`` gives back exactly what was added
while the ledger's history, search, context windows and exports see a normal conversation. The
conversation is the account's session whose ``session_id`` is the SDK session id (created on the
first write, kind ``agent_session``, with the ``conversation`` fields given). Beyond the SDK's
own stores: writes are ordered (``seq``), atomic per ``add_items`` call (one batch; over HTTP up
to 500 items per batch), idempotent on re-send (each message carries a client-made id), isolated
per owner/account, and with ``usage_hooks()`` each model call's tokens and cost are recorded and
linked to the message it produced.

Limits and SDK semantics: ``limit`` (argument, else ``session_settings.limit``) counts items —
``None`` or negative: all, ``0``: none, ``N``: the latest N in order; ``pop_item`` removes the
latest message (one written outside the SDK that stands for several items, e.g. an assistant
message with two tool calls, is removed whole and its last item returned) in one store
transaction, over HTTP too (``POST …/messages/pop``): two processes popping at once remove two
different items. ``clear_session`` deletes the messages and keeps
the conversation (its usage and memory). A conversation that the lifecycle policy moved out of
``active`` (e.g. ``inactive_timeout``) refuses writes with ``ConversationNotActive``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from convoledger.integrations.optional import missing_extra

try:
    from agents import RunHooks
    from agents.memory import SessionSettings
    from agents.memory.session_settings import coerce_session_settings, resolve_session_limit
    from agents.models.default_models import get_default_model
except ModuleNotFoundError as _exc:  # pragma: no cover - exercised in a venv without the extra
    raise missing_extra(_exc, "agents", "agents", "openai-agents") from _exc

from convoledger.client import Client
from convoledger.errors import NotFound
from convoledger.integrations.agents_items import (
    is_output_item,
    items_to_message_fields,
    message_to_items,
    messages_to_items,
)
from convoledger.integrations.agents_items import stored_item as _stored_item
from convoledger.integrations.conversation_access import Backend, ConversationAccess
from convoledger.integrations.loop_thread import finish_before_cancel
from convoledger.ledger import Ledger
from convoledger.models.records import MessageRecord, new_message_id
from convoledger.providers.metadata import ProviderResponseMetadata, Usage

T = TypeVar("T")


# -- model calls ---------------------------------------------------------------------------------
def model_name_of(model: Any) -> str | None:
    """The model name an agent's ``model`` setting names: the string itself, a ``Model``
    object's ``model`` attribute (``OpenAIResponsesModel``, ``OpenAIChatCompletionsModel``), the
    SDK's default model for ``None``, else ``None`` (e.g. a test double)."""
    if isinstance(model, str):
        return model
    if model is None:
        return get_default_model()
    name = getattr(model, "model", None)
    return name if isinstance(name, str) else None


def api_of(model: Any) -> str:
    """``chat`` for an ``OpenAIChatCompletionsModel``, else ``responses`` (the SDK's default API)."""
    return "chat" if type(model).__name__ == "OpenAIChatCompletionsModel" else "responses"


def model_response_metadata(
    response: Any, *, provider: str, api: str, model: str | None
) -> ProviderResponseMetadata:
    """The ledger's provider metadata for one SDK ``ModelResponse`` (``agents.items``): usage from
    ``response.usage`` (tokens; ``input_tokens`` includes cached input, ``output_tokens`` includes
    reasoning, as the ledger counts), identifiers ``response_id``, ``request_id`` and
    ``output_item_ids``, the raw usage object when the SDK preserved it. The SDK does not expose
    the HTTP body, so none is stored; ``details.source`` says where the figures come from."""
    usage = response.usage
    in_details = getattr(usage, "input_tokens_details", None)
    out_details = getattr(usage, "output_tokens_details", None)
    counts = {
        "input_tokens": int(usage.input_tokens or 0),
        "cache_read_tokens": int(getattr(in_details, "cached_tokens", 0) or 0),
        "cache_write_tokens": int(getattr(in_details, "cache_write_tokens", 0) or 0),
        "output_tokens": int(usage.output_tokens or 0),
        "reasoning_tokens": int(getattr(out_details, "reasoning_tokens", 0) or 0),
    }
    total = int(usage.total_tokens or 0) or counts["input_tokens"] + counts["output_tokens"]
    raw = response.raw_usage if isinstance(getattr(response, "raw_usage", None), dict) else None
    if raw is None:
        raw = {
            "input_tokens": counts["input_tokens"],
            "input_tokens_details": {
                "cached_tokens": counts["cache_read_tokens"],
                "cache_write_tokens": counts["cache_write_tokens"],
            },
            "output_tokens": counts["output_tokens"],
            "output_tokens_details": {"reasoning_tokens": counts["reasoning_tokens"]},
            "total_tokens": total,
        }
    identifiers: dict[str, str | list[str]] = {}
    if response.response_id:
        identifiers["response_id"] = str(response.response_id)
    if getattr(response, "request_id", None):
        identifiers["request_id"] = str(response.request_id)
    item_ids = [str(i) for i in _output_ids(response)]
    if item_ids:
        identifiers["output_item_ids"] = item_ids
    return ProviderResponseMetadata(
        provider=provider,
        api=api,
        model=model,
        identifiers=identifiers,
        usage=Usage(**counts, total_tokens=total, raw=raw),
        object_type="response" if api == "responses" else "chat.completion",
        details={"source": "openai-agents ModelResponse"},
    )


def _output_ids(response: Any) -> list[str]:
    return [i for i in (getattr(o, "id", None) for o in response.output or ()) if isinstance(i, str) and i]


def _output_call_ids(response: Any) -> list[str]:
    return [
        i for i in (getattr(o, "call_id", None) for o in response.output or ()) if isinstance(i, str) and i
    ]


@dataclass(frozen=True)
class _PendingCall:
    """A model call waiting for the message its output is stored as."""

    metadata: ProviderResponseMetadata
    item_ids: frozenset[str]
    call_ids: frozenset[str]

    def produced(self, message: MessageRecord) -> bool:
        item = _stored_item(message)
        if item is None or is_output_item(item):  # a tool result shares its call's call_id
            return False
        return item.get("id") in self.item_ids or item.get("call_id") in self.call_ids


# -- the session -----------------------------------------------------------------------------------
class LedgerSession:
    """An Agents SDK ``Session`` stored in convoledger (module docstring for modes and rules).

    Arguments: ``session_id`` (the SDK session id = the conversation's ``session_id``; non-empty;
    at most 200 characters over HTTP); one of ``ledger``, ``url`` (+ ``owner``), ``client``,
    ``base_url`` (+ ``token``, ``timeout`` seconds); ``session_settings`` (``SessionSettings`` or
    its dict: the default ``limit``); ``conversation``: fields of the conversation created on the
    first write (``name``, ``description``, ``agent_name``, ``agent_instructions``, ``user_id``,
    ``metadata``, …); ``ledger_session_id``: the conversation's ``session_id`` in the ledger when it
    should differ from the SDK's (e.g. ``"<app>:<session_id>"`` to keep several applications' ids
    apart in one account; default: ``session_id``).

    Raises ``ValueError`` for an empty ``session_id`` or not exactly one mode; ``TypeError`` for
    unknown ``session_settings`` keys (the SDK's rule). Methods raise the ledger's errors
    (``ConversationNotActive``, ``ValueError`` for items the ledger refuses) or, remote, the
    client's (``convoledger.client.ApiError`` subclasses, which are the same error classes);
    ``RuntimeError`` after ``close()``.
    """

    session_settings: SessionSettings | None = None

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
        session_settings: SessionSettings | Mapping[str, Any] | None = None,
        conversation: Mapping[str, Any] | None = None,
        ledger_session_id: str | None = None,
    ) -> None:
        if not isinstance(session_id, str) or not session_id:
            raise ValueError(f"session_id must be a non-empty str, got {session_id!r}")
        self.session_id = session_id
        self.session_settings = (
            coerce_session_settings(
                dict(session_settings) if isinstance(session_settings, Mapping) else session_settings
            )
            if session_settings is not None
            else SessionSettings()
        )
        stored_id = session_id if ledger_session_id is None else ledger_session_id
        self._access = ConversationAccess(
            stored_id,
            ledger=ledger,
            url=url,
            owner=owner,
            client=client,
            base_url=base_url,
            token=token,
            timeout=timeout,
            fields=conversation,
        )
        self._backend: Backend = self._access.backend
        self._pending: list[_PendingCall] = []
        self._pending_lock = threading.Lock()
        self._closed = False

    # -- plumbing ---------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"LedgerSession {self.session_id!r} is closed")

    async def _run(self, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        return await self._access.run(work)

    async def _conversation(self, create: bool) -> str | None:
        return await self._backend.conversation_id(create)

    # -- the Session protocol ---------------------------------------------------------------------
    async def get_items(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The session's items, oldest first: all, or the latest ``limit`` (argument, else
        ``session_settings.limit``; ``0`` → none, negative → all)."""
        self._check_open()
        n = resolve_session_limit(limit, self.session_settings)
        if n is not None and n < 0:
            n = None
        if n == 0:
            return []

        async def read() -> list[MessageRecord]:
            conversation = await self._conversation(create=False)
            if conversation is None:
                return []
            try:
                return await self._backend.recent(conversation, n)
            except NotFound:  # deleted meanwhile
                self._backend.forget()
                return []

        items = messages_to_items(await self._run(read))
        return items[-n:] if n is not None else items

    async def add_items(self, items: list[Any]) -> None:
        """Append ``items`` in order as one atomic batch. ``TypeError`` when an item is not
        JSON-serialisable (nothing is written)."""
        self._check_open()
        if not items:
            return
        json.dumps(items)  # the SDK's own stores refuse what JSON cannot hold; before any write
        records = [MessageRecord(id=new_message_id(), **fields) for fields in items_to_message_fields(items)]

        async def write() -> list[MessageRecord]:
            conversation = await self._conversation(create=True)
            assert conversation is not None
            try:
                return await self._backend.append(conversation, records)
            except NotFound:  # the conversation was deleted meanwhile: start it again
                self._backend.forget()
                again = await self._conversation(create=True)
                assert again is not None
                return await self._backend.append(again, records)

        stored = await finish_before_cancel(self._run(write))
        await self._link_usage(stored)

    async def pop_item(self) -> dict[str, Any] | None:
        """Remove the latest message and return its (last) item, or ``None`` when empty."""
        self._check_open()

        async def pop() -> MessageRecord | None:
            conversation = await self._conversation(create=False)
            if conversation is None:
                return None
            try:
                return await self._backend.pop(conversation)
            except NotFound:
                self._backend.forget()
                return None

        popped = await finish_before_cancel(self._run(pop))
        if popped is None:
            return None
        return message_to_items(popped)[-1]

    async def clear_session(self) -> None:
        """Delete every message of the session (the conversation, its usage and memory stay)."""
        self._check_open()

        async def clear() -> None:
            conversation = await self._conversation(create=False)
            if conversation is None:
                return
            try:
                await self._backend.clear(conversation)
            except NotFound:
                self._backend.forget()

        await finish_before_cancel(self._run(clear))

    # -- usage ------------------------------------------------------------------------------------
    def usage_hooks(
        self, *, provider: str = "openai", api: str | None = None, model: str | None = None
    ) -> LedgerUsageHooks:
        """Run hooks recording each model call of a run in this session (``Runner.run(…,
        hooks=session.usage_hooks())``); ``provider``/``api``/``model`` as ``LedgerUsageHooks``.
        In remote mode each call is recorded with ``POST …/provider-calls`` (the server prices
        it), in-process through the ledger: the same stored call either way."""
        return LedgerUsageHooks(self, provider=provider, api=api, model=model)

    async def record_model_response(
        self, response: Any, *, provider: str, api: str, model: str | None
    ) -> None:
        """Queue one SDK ``ModelResponse`` for recording: it is priced and stored, linked to the
        message its output becomes, when ``add_items`` stores that output (the SDK saves a
        turn's items after the model call). Calls queued earlier whose output was never stored
        (a failed or interrupted turn) are recorded now, unlinked."""
        self._check_open()
        pending = _PendingCall(
            model_response_metadata(response, provider=provider, api=api, model=model),
            frozenset(_output_ids(response)),
            frozenset(_output_call_ids(response)),
        )
        with self._pending_lock:
            stale, self._pending = self._pending, [pending]
        for call in stale:
            await self._record(call, None)

    async def flush_usage(self) -> None:
        """Record every queued model call now (unlinked when its output was never stored)."""
        with self._pending_lock:
            stale, self._pending = self._pending, []
        for call in stale:
            await self._record(call, None)

    async def _link_usage(self, stored: Sequence[MessageRecord]) -> None:
        with self._pending_lock:
            matched = []
            for call in list(self._pending):
                produced = [m for m in stored if call.produced(m)]
                if produced:
                    self._pending.remove(call)
                    matched.append((call, produced[-1].id))
        for call, message_id in matched:
            await self._record(call, message_id)

    async def _record(self, call: _PendingCall, message_id: str | None) -> None:
        await finish_before_cancel(self._run(lambda: self._record_now(call, message_id)))

    async def _record_now(self, call: _PendingCall, message_id: str | None) -> None:
        conversation = await self._conversation(create=True)
        assert conversation is not None
        await self._backend.record_call(conversation, call.metadata, message_id)

    # -- lifetime ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Release what the session opened itself (its ledger, its HTTP client); a ``ledger=``
        or ``client=`` given to it stays open. Model calls still queued are recorded first when
        the session owns its ledger or is remote (``await flush_usage()`` first otherwise). Idempotent."""
        if self._closed:
            return
        self._closed = True

        async def record_queued() -> None:
            with self._pending_lock:
                stale, self._pending = self._pending, []
            for call in stale:
                await self._record_now(call, None)

        self._access.close(record_queued)

    async def aclose(self) -> None:
        """``flush_usage()`` then ``close()``."""
        if not self._closed:
            await self.flush_usage()
        self.close()


class LedgerUsageHooks(RunHooks[Any]):
    """Agents SDK run hooks recording every model call of a run in a ``LedgerSession``: tokens
    (input with cache reads/writes, output with reasoning), cost in USD (genai-prices, from
    ``provider`` and the model name), ``response_id``/``request_id``, linked to the message the
    call's output was stored as.

    ``provider``: for pricing (``openai`` by default: the SDK's models); ``api``: ``responses`` /
    ``chat`` (default: from the agent's model object); ``model``: the model name when the agent's
    ``model`` setting does not name one (e.g. a test double), else taken from it.
    """

    def __init__(
        self,
        session: LedgerSession,
        *,
        provider: str = "openai",
        api: str | None = None,
        model: str | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.provider = provider
        self.api = api
        self.model = model

    async def on_llm_end(self, context: Any, agent: Any, response: Any) -> None:
        """Queue the call's response in the session (see ``LedgerSession.record_model_response``)."""
        await self.session.record_model_response(
            response,
            provider=self.provider,
            api=self.api or api_of(agent.model),
            model=self.model or model_name_of(agent.model),
        )


__all__ = ["LedgerSession", "LedgerUsageHooks", "api_of", "model_name_of", "model_response_metadata"]
