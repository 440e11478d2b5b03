"""Re-sending: a lost answer to an append is re-sent with the same message id and stores one
message; calls that are not safe to re-send are re-sent only when they never left; DELETE re-sent
after it took effect is done; 503 answers are waited out (real ``convoledger serve``, SQLite and
PostgreSQL; the failures are injected by an httpx transport in front of the real one)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from client_helpers import token_of

from convoledger.client import AsyncClient, Client, ServerError
from serve_process import ServeProcess

Match = Callable[[httpx.Request], bool]


def posts_to(suffix: str) -> Match:
    return lambda request: request.method == "POST" and request.url.path.endswith(suffix)


class Flaky(httpx.HTTPTransport):
    """Forwards to the server; for the first ``times`` matching requests it fails as ``mode`` says:
    ``lost`` (the server handled it, the answer is lost: ReadTimeout), ``refused`` (never sent:
    ConnectError), ``busy`` (a 503 with ``Retry-After: 0`` instead of forwarding)."""

    def __init__(self, match: Match, mode: str, times: int = 1) -> None:
        super().__init__()
        self.match, self.mode, self.times, self.seen = match, mode, times, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.match(request):
            self.seen += 1
            if self.seen <= self.times:
                if self.mode == "refused":
                    raise httpx.ConnectError("refused", request=request)
                if self.mode == "busy":
                    return httpx.Response(503, headers={"retry-after": "0"}, request=request)
                super().handle_request(request).close()
                raise httpx.ReadTimeout("answer lost", request=request)
        return super().handle_request(request)


class AsyncFlaky(httpx.AsyncHTTPTransport):
    """The asyncio form of :class:`Flaky` (mode ``lost`` only)."""

    def __init__(self, match: Match, times: int = 1) -> None:
        super().__init__()
        self.match, self.times, self.seen = match, times, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if self.match(request):
            self.seen += 1
            if self.seen <= self.times:
                await response.aclose()
                raise httpx.ReadTimeout("answer lost", request=request)
        return response


def client(served: ServeProcess, transport: httpx.BaseTransport, retries: int = 3) -> Client:
    return Client(served.base_url, token_of(served, "a"), transport=transport, retries=retries, backoff=0.01)


def test_lost_append_answer_is_resent_and_stored_once(served: ServeProcess) -> None:
    flaky = Flaky(posts_to("/messages"), "lost", times=2)
    with client(served, flaky) as api:
        session = api.create_session(session_id="retry-append")
        stored = api.append_message(session.id, role="user", content="exactly once")
        assert flaky.seen == 3  # two lost answers, then the stored message came back
        assert [m.id for m in api.iter_messages(session.id)] == [stored.id]
        assert stored.seq == 1 and api.get_session(session.id).message_count == 1


def test_lost_batch_answer_is_resent_and_stored_once(served: ServeProcess) -> None:
    flaky = Flaky(posts_to("/messages/batch"), "lost")
    with client(served, flaky) as api:
        session = api.create_session(session_id="retry-batch")
        stored = api.append_messages(session.id, [{"role": "user", "content": f"m{i}"} for i in range(5)])
        assert flaky.seen == 2
        assert [m.seq for m in stored] == [1, 2, 3, 4, 5]
        assert [m.id for m in api.iter_messages(session.id)] == [m.id for m in stored]


def test_unsafe_call_is_not_resent_after_it_may_have_arrived(served: ServeProcess) -> None:
    flaky = Flaky(posts_to("/api/agent-sessions"), "lost")
    with client(served, flaky) as api:
        with pytest.raises(httpx.ReadTimeout):
            api.create_session(session_id="retry-unsafe")
        assert flaky.seen == 1  # not re-sent (a re-send would have been a 409)
        assert api.get_session("retry-unsafe").session_id == "retry-unsafe"  # the server did create it


def test_any_call_is_resent_when_it_never_left(served: ServeProcess) -> None:
    flaky = Flaky(posts_to("/api/agent-sessions"), "refused")
    with client(served, flaky) as api:
        created = api.create_session(session_id="retry-refused")
        assert flaky.seen == 2 and api.get_session(created.id).session_id == "retry-refused"


def test_resent_delete_that_already_took_effect_is_done(served: ServeProcess) -> None:
    flaky = Flaky(lambda r: r.method == "DELETE", "lost")
    with client(served, flaky) as api:
        session = api.create_session(session_id="retry-delete")
        message = api.append_message(session.id, role="user", content="bye")
        api.delete_message(session.id, message.id)  # 1st: deleted, answer lost; 2nd: 404 = done
        assert flaky.seen == 2 and list(api.iter_messages(session.id)) == []


def test_busy_server_is_waited_out_then_reported(served: ServeProcess) -> None:
    flaky = Flaky(lambda r: r.url.path == "/api/stats", "busy", times=2)
    with client(served, flaky) as api:
        assert api.stats().sessions >= 0 and flaky.seen == 3
    flaky = Flaky(lambda r: r.url.path == "/api/stats", "busy", times=1)
    with client(served, flaky, retries=0) as api, pytest.raises(ServerError) as error:
        api.stats()
    assert error.value.status == 503


async def test_async_client_appends_concurrently_and_resends(served: ServeProcess) -> None:
    async with AsyncClient(served.base_url, token_of(served, "a")) as api:
        session = await api.create_session(session_id="async-concurrent")
        stored = await asyncio.gather(
            *(api.append_message(session.id, role="user", content=f"writer {i}") for i in range(20))
        )
        assert sorted(m.seq for m in stored) == list(range(1, 21))
        listed = [m async for m in api.iter_messages(session.id, page_size=6)]
        assert [m.seq for m in listed] == list(range(1, 21))
        assert {m.id for m in listed} == {m.id for m in stored}
        assert [m.seq for m in await api.recent_messages(session.id, 3)] == [18, 19, 20]
        popped = await api.pop_message(session.id)
        assert popped is not None and popped.seq == 20
        assert (await api.get_session(session.id)).message_count == 19

    flaky = AsyncFlaky(posts_to("/messages"))
    async with AsyncClient(served.base_url, token_of(served, "a"), transport=flaky, backoff=0.01) as api:
        again = await api.append_message("async-concurrent", role="assistant", content="once")
        assert flaky.seen == 2 and again.seq == 21
        assert [m.id for m in await api.recent_messages("async-concurrent", 1)] == [again.id]
