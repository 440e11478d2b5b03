"""The FastAPI application factory: ``create_app(ledger_or_url, settings, agent=None)``.

OpenAPI at ``/openapi.json``, interactive docs at ``/docs``. Routes:

- ``GET /healthz``, ``GET /metrics`` — no auth;
- ``GET /`` — the web UI (static pages; it signs in with an API token), ``/ui/…`` its assets;
- ``GET /api/stream``, ``GET /api/agent-sessions/{id}/stream`` — live events (SSE);
- everything under ``/api`` — ``Authorization: Bearer <token>`` (an API key from
  ``convoledger user create NAME``), scoped to the token's account.

Lifetime: given a URL (or nothing: ``settings.resolved_database_url()``), the app opens the
store when it starts (creating or upgrading the schema) and closes it when it stops. Given an
already built ``Ledger``, the app opens it at start-up (opening is idempotent) and leaves
closing to the caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import convoledger
from convoledger.agent import Agent, agent_from_settings
from convoledger.api.auth import TokenCache
from convoledger.api.errors import install_error_handlers
from convoledger.api.metrics import ApiMetrics, MetricsMiddleware
from convoledger.api.routes import (
    agent_sessions,
    forks,
    memory,
    messages,
    sessions,
    streams,
    system,
    usage,
    usage_timeline,
)
from convoledger.api.ui import install_ui
from convoledger.backends import open_ledger
from convoledger.events.hub import hub_for
from convoledger.ledger import Ledger
from convoledger.settings import Settings
from convoledger.tokens import get_encoding

#: The owner of the app's own ledger view; requests always use ``for_owner(<token's account>)``.
SERVICE_OWNER = "local"

DESCRIPTION = """\
The conversation ledger for AI-agent applications: agent sessions, their ordered messages,
lifecycle, session memory, export/import and statistics, scoped to the account of your API key.

Authenticate every `/api` call with `Authorization: Bearer <token>` (create one with
`convoledger user create NAME`). Errors are RFC 9457 `application/problem+json`.
"""


def create_app(
    ledger: str | Ledger | None = None,
    settings: Settings | None = None,
    *,
    agent: Agent | None = None,
) -> FastAPI:
    """Build the API app.

    ``ledger``: a ledger URL (``sqlite:///…``, ``postgresql+asyncpg://…``, ``memory://``,
    ``jsonfiles:///…``), an existing ``Ledger``, or ``None`` for ``settings``' database URL.
    ``settings``: defaults to ``Settings()`` (the ``CONVOLEDGER_*`` environment); its lifecycle
    policy applies to ledgers built from a URL. ``agent``: the agent of
    ``POST /api/agent-sessions/conversation`` (default: the one ``settings.agent`` names).
    Raises ``ValueError`` for an unsupported URL or an unknown agent name (before serving).
    """
    settings = settings or Settings()
    chosen_agent = agent if agent is not None else agent_from_settings(settings)
    owns_ledger = not isinstance(ledger, Ledger)
    the_ledger = (
        ledger
        if isinstance(ledger, Ledger)
        else open_ledger(
            ledger or settings.resolved_database_url(),
            owner=SERVICE_OWNER,
            policy=settings.policy(),
            redis_url=settings.redis_url,
        )
    )
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await the_ledger.open()
        # The tokenizer (~0.3 s to build) is loaded before the first request, not during it.
        await asyncio.to_thread(get_encoding)
        hub = hub_for(the_ledger.store, settings.redis_url)
        await hub.start()
        app.state.ledger = the_ledger
        app.state.event_hub = hub
        try:
            yield
        finally:
            app.state.ledger = None
            app.state.event_hub = None
            await hub.stop()
            aclose = getattr(chosen_agent, "aclose", None)
            if aclose is not None:
                await aclose()
            if owns_ledger:
                await the_ledger.close()

    app = FastAPI(
        title="convoledger",
        version=convoledger.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.agent = chosen_agent
    app.state.metrics = metrics
    app.state.token_cache = TokenCache(settings.auth_cache_seconds)
    app.state.ledger = None
    install_error_handlers(app)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.include_router(system.router)
    app.include_router(agent_sessions.router)
    app.include_router(forks.router)
    app.include_router(messages.router)
    app.include_router(memory.router)
    app.include_router(sessions.router)
    app.include_router(usage.router)
    app.include_router(streams.router)
    app.include_router(usage_timeline.router)
    install_ui(app)
    return app
