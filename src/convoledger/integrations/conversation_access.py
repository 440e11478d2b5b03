"""Where framework sessions keep their messages: a ``Ledger`` in this process, or the HTTP API.

Shared by the integrations (``openai_agents``, ``langchain``). A ``ConversationAccess`` is built
from exactly one of:

- ``ledger=``: an open ``Ledger``, used in the caller's event loop (an async SQL ledger belongs to
  the loop that opened it), async callers only;
- ``url=`` (+ ``owner``): its own ledger on that store URL, opened in a private background loop
  (``loop_thread.shared_loop``), usable from any thread or loop, async or blocking;
- ``client=`` (a ``convoledger.client.Client``) or ``base_url=`` + ``token=``: the API; usable
  from any thread or loop, async or blocking.

The conversation is the owner's (account's) session whose ``session_id`` is the framework's
session id, created on the first write (kind ``agent_session``, with the ``fields`` given).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from convoledger.client import Client, ConflictError, NotFoundError
from convoledger.integrations.loop_thread import LoopThread, shared_loop
from convoledger.ledger import Ledger
from convoledger.models.records import ConversationKind, ConversationRecord, MessageRecord
from convoledger.providers.metadata import ProviderResponseMetadata

T = TypeVar("T")

#: Most messages one HTTP batch append carries (the API's ``MAX_BATCH``).
HTTP_BATCH = 500


class Backend(Protocol):
    """Where a framework session's messages live: one conversation of a ledger or of the API.

    ``conversation_id(create)``: the conversation's id (created on demand, else ``None`` when
    absent); ``recent(conversation, n)``: the latest ``n`` messages (all for ``None``), oldest
    first; ``append``: an atomic batch; ``pop``/``clear``; ``record_call``: a provider call;
    ``forget()``: drop the cached id (the conversation was deleted meanwhile).
    """

    async def conversation_id(self, create: bool) -> str | None: ...
    async def recent(self, conversation: str, n: int | None) -> list[MessageRecord]: ...
    async def append(self, conversation: str, records: Sequence[MessageRecord]) -> list[MessageRecord]: ...
    async def pop(self, conversation: str) -> MessageRecord | None: ...
    async def clear(self, conversation: str) -> None: ...
    async def record_call(
        self, conversation: str, metadata: ProviderResponseMetadata, message_id: str | None
    ) -> None: ...
    def forget(self) -> None: ...


class LedgerBackend:
    """A ``Backend`` over an in-process ``Ledger``: the conversation with ``session_id`` (created
    with ``fields``: name, agent_name, metadata, …; kind ``agent_session``)."""

    def __init__(self, ledger: Ledger, session_id: str, fields: Mapping[str, Any]) -> None:
        self.ledger = ledger
        self.session_id = session_id
        self.fields = dict(fields)
        self._id: str | None = None

    def forget(self) -> None:
        self._id = None

    async def conversation_id(self, create: bool) -> str | None:
        if self._id is None:
            found = await self.ledger.find_conversation(session_id=self.session_id)
            if found is None and create:
                record = ConversationRecord(
                    owner_id=self.ledger.owner,
                    session_id=self.session_id,
                    kind=ConversationKind.AGENT_SESSION,
                    **self.fields,
                )
                found, _created = await self.ledger.get_or_create_conversation(record)
            self._id = found.id if found is not None else None
        return self._id

    async def recent(self, conversation: str, n: int | None) -> list[MessageRecord]:
        if n is None:
            return list(await self.ledger.messages(conversation))
        return list(await self.ledger.recent(conversation, n))

    async def append(self, conversation: str, records: Sequence[MessageRecord]) -> list[MessageRecord]:
        return await self.ledger.append_batch(conversation, list(records))

    async def pop(self, conversation: str) -> MessageRecord | None:
        return await self.ledger.pop_message(conversation)

    async def clear(self, conversation: str) -> None:
        await self.ledger.clear_messages(conversation)

    async def record_call(
        self, conversation: str, metadata: ProviderResponseMetadata, message_id: str | None
    ) -> None:
        await self.ledger.record_provider_call(conversation, metadata, message=message_id)


def provider_call_body(metadata: ProviderResponseMetadata, message_id: str | None) -> dict[str, Any]:
    """The ``POST …/provider-calls`` body (``ProviderCallIn``) recording a model call known only
    by its parsed ``metadata`` (e.g. an Agents SDK ``ModelResponse``: the SDK keeps no HTTP body):
    the response rebuilt in the shape of the provider API's own body, so the server parses and
    prices it as any other — OpenAI Responses (``api`` ``responses``: ``id``, ``model``,
    ``output[].id``, ``usage.input_tokens`` with ``input_tokens_details``, ``output_tokens`` with
    ``output_tokens_details``) or Chat Completions (``chat``: ``usage.prompt_tokens`` …), per the
    OpenAI API reference (``openai/types/responses/response_usage.py``,
    ``completion_usage.py``). ``request_id`` travels as the ``x-request-id`` header.
    ``ValueError`` for another API (no body shape to rebuild)."""
    usage = metadata.usage
    response_id = metadata.identifiers.get("response_id")
    body: dict[str, Any] = {"model": metadata.model} if metadata.model else {}
    if isinstance(response_id, str):
        body["id"] = response_id
    if metadata.api == "responses":
        item_ids = metadata.identifiers.get("output_item_ids") or []
        body |= {
            "object": "response",
            "status": "completed",
            "output": [{"id": i} for i in ([item_ids] if isinstance(item_ids, str) else item_ids)],
            "usage": {
                "input_tokens": usage.input_tokens,
                "input_tokens_details": {
                    "cached_tokens": usage.cache_read_tokens,
                    "cache_write_tokens": usage.cache_write_tokens,
                },
                "output_tokens": usage.output_tokens,
                "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
                "total_tokens": usage.total_tokens,
            },
        }
    elif metadata.api == "chat":
        body |= {
            "object": "chat.completion",
            "choices": [],
            "usage": {
                "prompt_tokens": usage.input_tokens,
                "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens},
                "completion_tokens": usage.output_tokens,
                "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
                "total_tokens": usage.total_tokens,
            },
        }
    else:
        raise ValueError(f"cannot rebuild a {metadata.provider} {metadata.api!r} response body to record it")
    out: dict[str, Any] = {"provider": metadata.provider, "api": metadata.api, "response": body}
    request_id = metadata.identifiers.get("request_id")
    if isinstance(request_id, str):
        out["headers"] = {"x-request-id": request_id}
    if metadata.model:
        out["model"] = metadata.model
    if message_id is not None:
        out["message_id"] = message_id
    return out


class ApiBackend:
    """A ``Backend`` over the HTTP API: a blocking ``Client`` run in worker threads (so any event
    loop or thread may use it); the account's session with ``session_id``. Model calls are
    recorded with ``POST …/provider-calls`` (:func:`provider_call_body`); ``pop`` is the API's
    one-transaction ``POST …/messages/pop``."""

    def __init__(self, client: Client, session_id: str, fields: Mapping[str, Any]) -> None:
        self.client = client
        self.session_id = session_id
        self.fields = dict(fields)
        self._id: str | None = None
        self._lock = threading.Lock()

    def forget(self) -> None:
        self._id = None

    def _find(self) -> str | None:
        if "/" not in self.session_id:  # a "/" cannot travel in a path segment: search instead
            try:
                found = self.client.get_session(self.session_id)
            except NotFoundError:
                return None
            if found.session_id == self.session_id:
                return found.id
        for session in self.client.iter_sessions(search=self.session_id):
            if session.session_id == self.session_id:
                return session.id
        return None

    def _conversation_id(self, create: bool) -> str | None:
        with self._lock:
            if self._id is None:
                self._id = self._find()
                if self._id is None and create:
                    try:
                        self._id = self.client.create_session(session_id=self.session_id, **self.fields).id
                    except ConflictError:  # created meanwhile by another process
                        self._id = self._find()
            return self._id

    async def conversation_id(self, create: bool) -> str | None:
        return await asyncio.to_thread(self._conversation_id, create)

    async def recent(self, conversation: str, n: int | None) -> list[MessageRecord]:
        if n is None:
            found = await asyncio.to_thread(lambda: list(self.client.iter_messages(conversation)))
        else:
            found = await asyncio.to_thread(self.client.recent_messages, conversation, n)
        return [MessageRecord.model_validate(m.model_dump()) for m in found]

    def _append(self, conversation: str, records: Sequence[MessageRecord]) -> list[MessageRecord]:
        stored = []
        for start in range(0, len(records), HTTP_BATCH):
            batch = [
                r.model_dump(
                    include={"id", "role", "content", "sender", "tool_calls", "tool_call_id", "tool_name"}
                )
                | {"extra_data": r.extra_data, "created_at": r.created_at}
                for r in records[start : start + HTTP_BATCH]
            ]
            stored.extend(self.client.append_messages(conversation, batch))
        return [MessageRecord.model_validate(m.model_dump()) for m in stored]

    async def append(self, conversation: str, records: Sequence[MessageRecord]) -> list[MessageRecord]:
        return await asyncio.to_thread(self._append, conversation, records)

    async def pop(self, conversation: str) -> MessageRecord | None:
        popped = await asyncio.to_thread(self.client.pop_message, conversation)
        return None if popped is None else MessageRecord.model_validate(popped.model_dump())

    async def clear(self, conversation: str) -> None:
        await asyncio.to_thread(self.client.clear_messages, conversation)

    async def record_call(
        self, conversation: str, metadata: ProviderResponseMetadata, message_id: str | None
    ) -> None:
        body = provider_call_body(metadata, message_id)
        await asyncio.to_thread(self.client.record_provider_call, conversation, body)


class ConversationAccess:
    """A ``Backend`` for one framework session, built from one mode (module docstring), and where
    to run its coroutines.

    Raises ``ValueError`` for an empty ``session_id`` or not exactly one mode.
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
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(session_id, str) or not session_id:
            raise ValueError(f"session_id must be a non-empty str, got {session_id!r}")
        given = (("ledger", ledger), ("url", url), ("client", client), ("base_url", base_url))
        modes = [name for name, value in given if value is not None]
        if len(modes) != 1:
            raise ValueError(
                f"give exactly one of ledger=, url=, client= or base_url= (got: {', '.join(modes) or 'none'})"
            )
        self.loop: LoopThread | None = None
        self.owned_ledger: Ledger | None = None
        self.owned_client: Client | None = None
        self.backend: Backend
        if ledger is not None:
            self.backend = LedgerBackend(ledger, session_id, fields or {})
        elif url is not None:
            from convoledger.backends import open_ledger

            self.loop = shared_loop()
            self.owned_ledger = open_ledger(url, owner=owner)
            self.loop.run_sync(self.owned_ledger.open())
            self.backend = LedgerBackend(self.owned_ledger, session_id, fields or {})
        else:
            if client is None:
                assert base_url is not None
                client = self.owned_client = Client(base_url, token, timeout=timeout)
            self.backend = ApiBackend(client, session_id, fields or {})

    async def run(self, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Await ``work()`` where the backend lives: on the private loop for ``url=``, else in the
        caller's loop (the API backend hands its blocking calls to worker threads)."""
        if self.loop is None:
            return await work()
        return await self.loop.run(work())

    def run_sync(self, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run ``work()`` to its end from blocking code. ``RuntimeError`` for a ``ledger=``
        access (its ledger belongs to an event loop: use the async methods there)."""
        if self.loop is None and isinstance(self.backend, LedgerBackend):
            raise RuntimeError(
                "a session over ledger= is async-only (its ledger belongs to an event loop); use the "
                "async methods, or build it with url= or base_url= for blocking use"
            )
        return (self.loop or shared_loop()).run_sync(work())

    def close(self, before: Callable[[], Coroutine[Any, Any, None]] | None = None) -> None:
        """Close what this access opened itself (its ledger, its client), after running
        ``before()`` there (e.g. writing what is still queued) when given."""
        if self.loop is not None and self.owned_ledger is not None:
            ledger = self.owned_ledger

            async def finish() -> None:
                try:
                    if before is not None:
                        await before()
                finally:
                    await ledger.close()

            self.loop.run_sync(finish())
            self.owned_ledger = None
        elif before is not None and isinstance(self.backend, ApiBackend):
            shared_loop().run_sync(before())  # the API backend runs anywhere
        if self.owned_client is not None:
            self.owned_client.close()
            self.owned_client = None


__all__ = ["HTTP_BATCH", "ApiBackend", "Backend", "ConversationAccess", "LedgerBackend", "provider_call_body"]
