"""Prometheus metrics of the HTTP API (prometheus-client), served at ``GET /metrics``.

Each app has its own ``CollectorRegistry`` (several apps in one process, e.g. in tests, do not
share counters). Series:

- ``convoledger_http_requests_total{method, route, status}`` — requests answered;
- ``convoledger_http_request_duration_seconds{method, route}`` — latency histogram (seconds);
- ``convoledger_messages_appended_total{route}`` — messages stored by API appends (retries of an
  already stored message id count too: they are acknowledged appends).

- the per-operation series of ``maintenance.monitoring.PerformanceMonitor`` (every request is
  one operation ``"<METHOD> <route template>"``, except live event streams, which are long by
  design) and the maintenance series of ``MaintenanceMetrics`` (alerts, passes).

``route`` is the route *template* (``/api/agent-sessions/{session_id}``), never the concrete
path, so the label set stays bounded; requests matching no route are labelled ``<unmatched>``.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from convoledger.maintenance.monitoring import MaintenanceMetrics, PerformanceMonitor

UNMATCHED = "<unmatched>"


class ApiMetrics:
    """The API's metric families, registered in a private registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "convoledger_http_requests_total",
            "HTTP requests answered, by method, route template and status code.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "convoledger_http_request_duration_seconds",
            "HTTP request latency in seconds, by method and route template.",
            ("method", "route"),
            registry=self.registry,
        )
        self.appended = Counter(
            "convoledger_messages_appended_total",
            "Messages acknowledged by API appends, by route template.",
            ("route",),
            registry=self.registry,
        )
        self.performance = PerformanceMonitor(self.registry)
        self.maintenance = MaintenanceMetrics(self.registry)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type (Prometheus text format 0.0.4)."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def route_template(scope: Scope) -> str:
    """The matched route's path template, or ``<unmatched>``."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class MetricsMiddleware:
    """ASGI middleware recording count and latency of every HTTP request into ``metrics``."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 500, "stream": 0}
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
                for name, value in message.get("headers", ()):
                    if name == b"content-type" and value.startswith(b"text/event-stream"):
                        status["stream"] = 1
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = route_template(scope)
            method = scope.get("method", "GET")
            duration = time.perf_counter() - start
            self.metrics.requests.labels(method, route, str(status["code"])).inc()
            self.metrics.latency.labels(method, route).observe(duration)
            if not status["stream"]:
                self.metrics.performance.track(f"{method} {route}", duration, error=status["code"] >= 500)
