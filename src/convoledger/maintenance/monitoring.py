"""Monitoring of the service (seed 002 §9 ``SessionPerformanceTracker`` and §11
``SessionPerformanceMonitor``): per-operation durations and errors, and the maintenance series.

``PerformanceMonitor.track(operation, duration, error)`` is called once per HTTP request by the
API's metrics middleware (operation = ``"<METHOD> <route template>"``) and once per maintenance
pass (``"maintenance.pass"``): one deque append and, for errors / slow operations, a counter, so
the hot path pays next to nothing. It keeps the last ``PERFORMANCE_WINDOW`` (1000, seed)
durations per operation for ``summary()`` (the seed's ``get_performance_summary`` shape) and
feeds Prometheus:

- ``convoledger_operation_errors_total{operation}`` — operations that failed (HTTP 5xx or an
  exception);
- ``convoledger_slow_operations_total{operation}`` — operations over ``slow_threshold`` (1.0 s),
  also logged as a warning (seed);
- ``convoledger_alerts_total{kind}`` — alerts raised by maintenance passes;
- ``convoledger_maintenance_passes_total{status}`` and
  ``convoledger_maintenance_items_total{kind}`` — passes run and what they handled.

Durations themselves are the histogram ``convoledger_http_request_duration_seconds`` (HTTP) and
``convoledger_maintenance_pass_duration_seconds`` (passes).
"""

from __future__ import annotations

import collections
import logging
import threading
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from convoledger.models.maintenance import (
    PERFORMANCE_WINDOW,
    SLOW_OPERATION_THRESHOLD,
    PassCounts,
    performance_summary,
)

log = logging.getLogger("convoledger.performance")


class PerformanceMonitor:
    """Recent durations (seconds) and error counts per operation; see the module docstring."""

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        slow_threshold: float = SLOW_OPERATION_THRESHOLD,
        window: int = PERFORMANCE_WINDOW,
    ) -> None:
        self.slow_threshold = slow_threshold
        self.window = window
        self._durations: dict[str, collections.deque[float]] = {}
        self._counts: collections.Counter[str] = collections.Counter()
        self._errors: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.errors = Counter(
            "convoledger_operation_errors_total",
            "Operations that failed (HTTP 5xx or an exception), by operation.",
            ("operation",),
            registry=self.registry,
        )
        self.slow = Counter(
            "convoledger_slow_operations_total",
            "Operations slower than the slow threshold (1 s), by operation.",
            ("operation",),
            registry=self.registry,
        )

    def track(self, operation: str, duration: float, error: bool = False) -> None:
        """Record one ``operation`` that took ``duration`` seconds (``error``: it failed)."""
        with self._lock:
            durations = self._durations.get(operation)
            if durations is None:
                durations = self._durations[operation] = collections.deque(maxlen=self.window)
            durations.append(duration)
            self._counts[operation] += 1
            if error:
                self._errors[operation] += 1
        if error:
            self.errors.labels(operation).inc()
        if duration > self.slow_threshold:
            self.slow.labels(operation).inc()
            log.warning(
                "Slow session operation detected: %s took %.3f s (threshold %.1f s)",
                operation,
                duration,
                self.slow_threshold,
            )

    def summary(self, operation: str) -> dict[str, float]:
        """Seed 002 §11 ``get_performance_summary(operation)`` over the recent window (``{}`` for
        an operation never seen), plus ``errors`` and ``error_rate`` since start (seed §9
        ``SessionPerformanceTracker.error_rates``)."""
        with self._lock:
            durations = list(self._durations.get(operation, ()))
            total, errors = self._counts[operation], self._errors[operation]
        out = performance_summary(durations, self.slow_threshold)
        if out:
            out.update(errors=errors, error_rate=errors / total if total else 0.0)
        return out

    def operations(self) -> list[str]:
        """Every operation seen, sorted."""
        with self._lock:
            return sorted(self._durations)

    def summaries(self) -> dict[str, dict[str, float]]:
        """``summary`` of every operation seen."""
        return {name: self.summary(name) for name in self.operations()}


class MaintenanceMetrics:
    """The maintenance series (see the module docstring), in ``registry``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.alerts = Counter(
            "convoledger_alerts_total",
            "Alerts raised by maintenance passes, by kind (high_message_rate, long_inactive_session).",
            ("kind",),
            registry=self.registry,
        )
        self.passes = Counter(
            "convoledger_maintenance_passes_total",
            "Maintenance passes run by this process, by outcome (ok, failed).",
            ("status",),
            registry=self.registry,
        )
        self.items = Counter(
            "convoledger_maintenance_items_total",
            "Items handled by this process's maintenance passes, by kind (see PassCounts).",
            ("kind",),
            registry=self.registry,
        )
        self.duration = Histogram(
            "convoledger_maintenance_pass_duration_seconds",
            "Duration of maintenance passes in seconds.",
            registry=self.registry,
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800),
        )

    def record_pass(self, status: str, counts: PassCounts, duration: float) -> None:
        """Count one pass and its items."""
        self.passes.labels(status).inc()
        self.duration.observe(duration)
        for kind, value in counts.model_dump().items():
            if value:
                self.items.labels(kind).inc(value)

    def record_alert(self, kind: Any) -> None:
        """Count one alert of ``kind``."""
        self.alerts.labels(str(kind)).inc()
