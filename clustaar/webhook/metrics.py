"""Prometheus metrics of the notifications (extra ``[metrics]``: ``prometheus_client``).

* ``clustaar_webhook_notifications_total{outcome,handler}``: every notification, by outcome
  (see :data:`.outcomes.OUTCOMES`) and handler (its qualified name, ``""`` before routing);
* ``clustaar_webhook_handler_duration_seconds{handler}``: a histogram of the time from the
  arrival of a notification routed to ``handler`` to its answer;
* ``clustaar_webhook_deadline_exceeded_total{handler}``: fallbacks answered on a deadline;
* ``clustaar_webhook_duplicates_total{kind}``: duplicate deliveries, counted by a
  deliveries store through :meth:`Metrics.duplicate`.

``Webhook(metrics_path="/metrics")`` records them and answers them on ``GET /metrics``.
Under gunicorn (several worker processes), set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
directory before gunicorn starts: every worker then writes its values there and a scrape,
whichever worker answers it, sums them all (prometheus_client's multiprocess mode).

This module is only imported when metrics are enabled.
"""
from __future__ import annotations

import os
from typing import Optional

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from .outcomes import Outcome

#: Handler times are short: 1 ms to 10 s.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The four metric families, in ``registry`` (one of their own by default)."""

    def __init__(self, registry: Optional[CollectorRegistry] = None) -> None:
        self.registry = CollectorRegistry() if registry is None else registry
        self.notifications = Counter(
            "clustaar_webhook_notifications", "Notifications answered, by outcome and handler.",
            ["outcome", "handler"], registry=self.registry)
        self.handler_duration = Histogram(
            "clustaar_webhook_handler_duration_seconds",
            "Seconds from a routed notification's arrival to its answer.", ["handler"],
            registry=self.registry, buckets=BUCKETS)
        self.deadline_exceeded = Counter(
            "clustaar_webhook_deadline_exceeded", "Fallbacks answered because of a deadline.",
            ["handler"], registry=self.registry)
        self.duplicates = Counter(
            "clustaar_webhook_duplicates", "Duplicate deliveries of a notification, by kind.",
            ["kind"], registry=self.registry)

    def record(self, outcome: Outcome) -> None:
        """Count one notification (the outcome observer calls this)."""
        handler = outcome.handler or ""
        self.notifications.labels(outcome.outcome, handler).inc()
        if outcome.handler is not None:
            self.handler_duration.labels(handler).observe(outcome.duration)
        if outcome.outcome == "fallback_deadline":
            self.deadline_exceeded.labels(handler).inc()

    def duplicate(self, kind: str) -> None:
        """Count a duplicate delivery (for a deliveries store; ``kind`` from a fixed set)."""
        self.duplicates.labels(kind).inc()

    def exposition(self) -> bytes:
        """The text format: every worker's values in multiprocess mode, else this registry's."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)

    def answer(self) -> tuple[int, str, bytes]:
        """The metrics endpoint's answer."""
        return 200, CONTENT_TYPE_LATEST, self.exposition()
