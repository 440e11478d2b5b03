"""The FastAPI application factory: ``create_app(ledger_or_url, settings, agent=None,
run_maintenance=False)``.

OpenAPI at ``/openapi.json``, interactive docs at ``/docs`` and ``/redoc`` (assets served by the
app, no CDN). Request bodies are limited to ``settings.max_body_bytes`` (413) and
``settings.body_timeout`` per chunk (408); a NUL in the URL is a 422 (``api.guards``). Routes:

- ``GET /healthz``, ``GET /metrics`` — no auth;
- ``GET /`` — the web UI (static pages; it signs in with an API token), ``/ui/…`` its assets;
- ``GET /api/stream``, ``GET /api/agent-sessions/{id}/stream`` — live events (SSE);
- ``GET /api/backups``, ``POST /api/backups/{backup_id}/restore``, ``GET /api/deletions``,
  ``GET /api/alerts``, ``GET /api/performance`` — lifecycle automation (``routes/maintenance.py``);
- everything under ``/api`` — ``Authorization: Bearer <token>`` (an API key from
  ``convoledger user create NAME``), scoped to the token's account.

Maintenance: with ``run_maintenance`` (``serve``, ``quickstart``) the lifespan also starts the
maintenance scheduler (``maintenance/scheduler.py``: timeouts, cleanup policies, backups, alerts
every ``cleanup_interval`` s); ``GET /api/backups``, ``/api/deletions``, ``/api/alerts`` and
``/api/performance`` serve what it records.

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
from fastapi_offline import FastAPIOffline

import convoledger
from convoledger.agent import Agent, agent_from_settings
from convoledger.api.auth import TokenCache
from convoledger.api.errors import install_error_handlers
from convoledger.api.guards import BodyGuardMiddleware, NulGuardMiddleware
from convoledger.api.metrics import ApiMetrics, MetricsMiddleware
from convoledger.api.openapi import install_problem_openapi
from convoledger.api.routes import (
    agent_sessions,
    forks,
    maintenance,
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
from convoledger.maintenance.scheduler import MaintenanceScheduler, maintenance_for
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


def create_served_app() -> FastAPI:
    """The app of ``convoledger serve`` (uvicorn's factory, in each worker process): the ledger,
    limits and policies of ``Settings()`` (the ``CONVOLEDGER_*`` environment, which ``serve``
    fills from its options), with the maintenance scheduler unless ``CONVOLEDGER_MAINTENANCE``
    is false (several workers on one database run each pass once: the scheduler's lease)."""
    settings = Settings()
    return create_app(None, settings, run_maintenance=settings.maintenance)


def create_app(
    ledger: str | Ledger | None = None,
    settings: Settings | None = None,
    *,
    agent: Agent | None = None,
    run_maintenance: bool = False,
) -> FastAPI:
    """Build the API app.

    ``ledger``: a ledger URL (``sqlite:///…``, ``postgresql+asyncpg://…``, ``memory://``,
    ``jsonfiles:///…``), an existing ``Ledger``, or ``None`` for ``settings``' database URL.
    ``settings``: defaults to ``Settings()`` (the ``CONVOLEDGER_*`` environment); its lifecycle
    policy applies to ledgers built from a URL. ``agent``: the agent of
    ``POST /api/agent-sessions/conversation`` (default: the one ``settings.agent`` names).
    ``run_maintenance``: start the maintenance scheduler in the lifespan (``serve`` and
    ``quickstart`` pass ``settings.maintenance``); off by default, so an embedding application
    never gets sessions timed out or deleted behind its back. The maintenance routes work either
    way. Raises ``ValueError`` for an unsupported URL or an unknown agent name (before serving).
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
    database_url = ledger if isinstance(ledger, str) else settings.resolved_database_url()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await the_ledger.open()
        # The tokenizer (~0.3 s to build) is loaded before the first request, not during it.
        await asyncio.to_thread(get_encoding)
        hub = hub_for(the_ledger.store, settings.redis_url)
        await hub.start()
        upkeep = maintenance_for(
            the_ledger,
            settings,
            database_url,
            metrics=metrics.maintenance,
            performance=metrics.performance,
        )
        await upkeep.journal.open()
        scheduler = MaintenanceScheduler(upkeep) if run_maintenance else None
        if scheduler is not None:
            await scheduler.start()
        app.state.ledger = the_ledger
        app.state.event_hub = hub
        app.state.maintenance = upkeep
        try:
            yield
        finally:
            if scheduler is not None:
                await scheduler.stop()
            await upkeep.journal.close()
            app.state.ledger = None
            app.state.event_hub = None
            app.state.maintenance = None
            await hub.stop()
            aclose = getattr(chosen_agent, "aclose", None)
            if aclose is not None:
                await aclose()
            if owns_ledger:
                await the_ledger.close()

    # FastAPIOffline: /docs and /redoc load their scripts and styles from the app itself
    # (/static-offline-docs, shipped by fastapi-offline), never from a CDN (issue 16 item 5).
    app = FastAPIOffline(
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
    app.add_middleware(BodyGuardMiddleware, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout)
    app.add_middleware(NulGuardMiddleware)
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
    app.include_router(maintenance.router)
    install_ui(app)
    install_problem_openapi(app)
    return app
