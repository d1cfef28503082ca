"""One OpenTelemetry span per notification (extra ``[otel]``: ``opentelemetry-api`` only).

Both apps start a ``clustaar.notification`` span (kind SERVER) when a request reaches the
webhook path and end it once answered, with the attributes ``clustaar.step_id``,
``clustaar.bot_id``, ``clustaar.outcome`` and ``http.response.status_code``. The span goes
through the global tracer provider the application configures
(``opentelemetry.trace.set_tracer_provider``); without one it is a no-op. An incoming W3C
``traceparent`` (and ``tracestate``) header makes the span its child, and the span is the
current one while the handler runs, so the handler's own spans nest under it.

This module is only imported when ``opentelemetry`` is installed.
"""
from __future__ import annotations

from contextvars import Token
from typing import Any, Callable, Optional

from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from .outcomes import Outcome

SPAN_NAME = "clustaar.notification"
_PROPAGATOR = TraceContextTextMapPropagator()


class _Span:
    __slots__ = ("span", "token")

    def __init__(self, span: trace.Span, token: Token[Context]) -> None:
        self.span = span
        self.token = token


class Tracing:
    """Starts and ends the notification spans, through the global tracer provider."""

    def __init__(self) -> None:
        # A proxy until the application sets a provider: it follows the provider then.
        self._tracer = trace.get_tracer("clustaar.webhook")

    def start(self, header: Callable[[str], Optional[str]]) -> Optional[_Span]:
        """Start the span, child of the request's ``traceparent`` if it has one; ``None``
        when there is neither a provider nor a parent (the span would be invalid and
        record nothing, and there is no context to pass on)."""
        parent = None
        traceparent = header("traceparent")
        if not traceparent and type(trace.get_tracer_provider()) is trace.ProxyTracerProvider:
            return None
        if traceparent:
            carrier = {"traceparent": traceparent}
            state = header("tracestate")
            if state:
                carrier["tracestate"] = state
            parent = _PROPAGATOR.extract(carrier)
        span = self._tracer.start_span(SPAN_NAME, context=parent, kind=SpanKind.SERVER)
        return _Span(span, context.attach(trace.set_span_in_context(span)))

    def finish(self, started: _Span, outcome: Outcome) -> None:
        """Set the attributes (ids, outcome and status only) and end the span."""
        span = started.span
        try:
            if span.is_recording():
                attributes: dict[str, Any] = {"clustaar.outcome": outcome.outcome,
                                              "http.response.status_code": outcome.status}
                if outcome.step_id is not None:
                    attributes["clustaar.step_id"] = outcome.step_id
                if outcome.bot_id is not None:
                    attributes["clustaar.bot_id"] = outcome.bot_id
                span.set_attributes(attributes)
                if outcome.status >= 500:
                    span.set_status(Status(StatusCode.ERROR, outcome.reason))
            span.end()
        finally:
            context.detach(started.token)

    def abandon(self, started: _Span) -> None:
        """End the span of a request that got no answer (cancelled, the client gone)."""
        try:
            started.span.set_status(Status(StatusCode.ERROR, "abandoned"))
            started.span.end()
        finally:
            context.detach(started.token)
