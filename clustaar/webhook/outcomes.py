"""How each notification ended, recorded the same way by both apps.

:func:`.errors.answering` calls the :class:`Outcomes` observer around every request the
webhook path receives: ``begin`` when it arrives, ``end`` once the answer is written. The
end is one INFO record on ``clustaar.webhook`` whose ``extra`` fields a JSON formatter can
emit, the metrics (when enabled) and the tracing span (when OpenTelemetry is installed).

The outcome is one of :data:`OUTCOMES`. Nothing personal goes into a record, a label or an
attribute: only ids (step, bot), the handler's qualified name, the status and, for a
refusal, its title.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Optional, Protocol

import falcon

from .deadline import HEADER
from .errors import _printable, qualified_name

logger = logging.getLogger("clustaar.webhook.notifications")

#: Every outcome: answered by the handler; the fallback, after the deadline or a handler's
#: error; a duplicate delivery answered again (set by a deliveries store); refused (4xx);
#: failed (500: a handler or filter raised).
OUTCOMES = ("answered", "fallback_deadline", "fallback_error", "replayed", "rejected", "failed")
_FALLBACKS = {"deadline": "fallback_deadline", "error": "fallback_error"}


class Outcome:
    """What one notification's record says (``handler``/``step_id`` are ``None`` when the
    request was refused before routing, or had no step)."""

    __slots__ = ("bot_id", "duration", "handler", "outcome", "reason", "status", "step_id")

    def __init__(self, outcome: str, status: int, reason: Optional[str], handler: Optional[str],
                 step_id: Optional[str], bot_id: Optional[str], duration: float) -> None:
        self.outcome = outcome
        self.status = status
        self.reason = reason
        self.handler = handler
        self.step_id = step_id
        self.bot_id = bot_id
        #: Seconds from the request's arrival to its answer.
        self.duration = duration

    def fields(self) -> dict[str, Any]:
        """The record's ``extra`` fields."""
        return {"outcome": self.outcome, "status": self.status, "reason": self.reason,
                "handler": self.handler, "step_id": self.step_id,
                "duration_ms": round(self.duration * 1000, 3)}


class Recorder(Protocol):
    """Where outcomes go besides the record (the metrics)."""

    def record(self, outcome: Outcome) -> None: ...


class Seen:
    """One request on its way: when it arrived, its exchange once read, its span."""

    __slots__ = ("exchange", "span", "started")

    def __init__(self, started: float, span: Any) -> None:
        self.started = started
        self.span = span
        self.exchange: Any = None


#: Ids longer than this are cut: a record's size must not be the sender's choice.
MAX_ID_LENGTH = 128


def _text(value: Any) -> Optional[str]:
    return _printable(value[:MAX_ID_LENGTH]) if isinstance(value, str) else None


def _ids(data: Any) -> tuple[Optional[str], Optional[str]]:
    """The step id and bot id of a parsed notification, when they are strings."""
    if not isinstance(data, dict):
        return None, None
    inner = data.get("data")
    step = inner.get("step") if isinstance(inner, dict) else None
    return _text(step.get("id") if isinstance(step, dict) else None), _text(data.get("botID"))


def outcome_of(seen: Seen, resp: Any, outcome: Optional[str], reason: Optional[str],
               now: float) -> Outcome:
    """The :class:`Outcome` of a request :func:`.errors.answering` has answered."""
    exchange = seen.exchange
    route = exchange.route if exchange is not None else None
    step_id, bot_id = _ids(exchange.data) if exchange is not None else (None, None)
    if outcome is None:
        outcome = exchange.outcome if exchange is not None else None
        if outcome is None:
            outcome = _FALLBACKS.get(resp.get_header(HEADER) or "", "answered")
    return Outcome(outcome, falcon.http_status_to_code(resp.status), reason,
                   qualified_name(route.handler) if route is not None else None,
                   step_id, bot_id, now - seen.started)


class Outcomes:
    """The observer both apps give :func:`.errors.answering`."""

    def __init__(self, recorders: tuple[Recorder, ...] = (), tracing: Any = None) -> None:
        self.recorders = recorders
        #: A :class:`.tracing.Tracing`, or ``None`` (OpenTelemetry is not installed).
        self.tracing = tracing

    def begin(self, req: Any) -> Seen:
        span = self.tracing.start(req.get_header) if self.tracing is not None else None
        return Seen(time.perf_counter(), span)

    def end(self, seen: Seen, resp: Any, outcome: Optional[str], reason: Optional[str]) -> None:
        if not (self.recorders or seen.span is not None or logger.isEnabledFor(logging.INFO)):
            return  # Nobody to tell.
        result = outcome_of(seen, resp, outcome, reason, time.perf_counter())
        if logger.isEnabledFor(logging.INFO):
            logger.info("notification %s with %d (handler %s, step %s) in %.1f ms",
                        result.outcome, result.status, result.handler or "-",
                        result.step_id or "-", result.duration * 1000, extra=result.fields())
        for recorder in self.recorders:
            recorder.record(result)
        if seen.span is not None:
            self.tracing.finish(seen.span, result)

    def abandon(self, seen: Seen) -> None:
        if seen.span is not None:
            self.tracing.abandon(seen.span)


def tracing() -> Any:
    """A :class:`.tracing.Tracing` when OpenTelemetry is installed, else ``None``."""
    try:
        from .tracing import Tracing
    except ImportError:
        return None
    return Tracing()
