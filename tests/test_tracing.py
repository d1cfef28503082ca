"""One OpenTelemetry span per notification on both apps, child of an incoming traceparent."""
from __future__ import annotations

import json
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from support import KEY
from support.logs import PERSONAL, personal_notification
from support.requests import client, signed_headers

from clustaar.webhook import Webhook, events
from clustaar.webhook.tracing import SPAN_NAME

pytestmark = pytest.mark.usefixtures("both_apps")

STEP = events.CONVERSATION_STEP_REACHED
EXPORTER = InMemorySpanExporter()
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"


def _provider() -> TracerProvider:
    """The process's SDK provider (set once: OpenTelemetry allows no second one)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    return provider


PROVIDER = _provider()


@pytest.fixture(autouse=True)
def spans() -> Any:
    EXPORTER.clear()
    yield
    EXPORTER.clear()


def finished() -> list[ReadableSpan]:
    return list(EXPORTER.get_finished_spans())


def answer(request: Any, response: Any, notification: Any) -> Any:
    # The notification's span is the current one while the handler runs.
    with trace.get_tracer("test").start_as_current_span("handler work"):
        return None


def broken(request: Any, response: Any, notification: Any) -> Any:
    raise RuntimeError("handler bug")


def test_one_span_per_notification_with_its_attributes(vector_bytes: bytes) -> None:
    app = Webhook(request_max_age=None)
    app.on(STEP, answer)
    client(app).post("/", vector_bytes, status=204)
    work, span = finished()
    assert (span.name, span.kind) == (SPAN_NAME, SpanKind.SERVER)
    assert dict(span.attributes or {}) == {
        "clustaar.step_id": "1234", "clustaar.bot_id": "4321", "clustaar.outcome": "answered",
        "http.response.status_code": 204}
    assert span.parent is None
    assert work.name == "handler work"
    assert work.parent is not None and work.parent.span_id == span.context.span_id


def test_the_incoming_traceparent_is_the_parent(vector_bytes: bytes) -> None:
    app = Webhook(request_max_age=None)
    app.on(STEP, answer)
    client(app).post("/", vector_bytes, status=204,
                     headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01",
                              "tracestate": "vendor=value"})
    span = finished()[-1]
    assert span.parent is not None and span.parent.is_remote
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert format(span.parent.span_id, "016x") == PARENT_ID
    assert span.context.trace_state.get("vendor") == "value"


def test_a_malformed_traceparent_starts_a_new_trace(vector_bytes: bytes) -> None:
    app = Webhook(request_max_age=None)
    app.on(STEP, answer)
    client(app).post("/", vector_bytes, status=204, headers={"traceparent": "garbage"})
    span = finished()[-1]
    assert span.parent is None


def test_refusals_and_failures_have_their_span(vector_bytes: bytes) -> None:
    app = Webhook(request_max_age=None, private_key=KEY)
    app.on(STEP, broken)
    client(app).post("/", vector_bytes, status=400)
    client(app).post("/", vector_bytes, headers=signed_headers(vector_bytes), status=500)
    refused, failed = finished()
    assert dict(refused.attributes or {}) == {"clustaar.outcome": "rejected",
                                              "http.response.status_code": 400}
    assert refused.status.status_code is StatusCode.UNSET
    assert (failed.attributes or {})["clustaar.outcome"] == "failed"
    assert failed.status.status_code is StatusCode.ERROR


def test_no_span_for_health_and_the_context_is_restored(vector_bytes: bytes) -> None:
    app = Webhook(request_max_age=None, health_path="/health")
    app.on(STEP, answer)
    client(app).get("/health")
    assert finished() == []
    client(app).post("/", vector_bytes, status=204)
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_no_personal_data_or_secret_in_a_span(vector: dict[str, Any]) -> None:
    app = Webhook(request_max_age=None, private_key=KEY)
    app.on(STEP, answer)
    body = personal_notification(vector)
    client(app).post("/", body, headers=signed_headers(body), status=204)
    client(app).post("/", body, headers={"Content-Type": "application/json"}, status=400)
    exported = json.dumps([json.loads(span.to_json()) for span in finished()])
    assert "clustaar.notification" in exported
    for secret in PERSONAL:
        assert secret not in exported


class Stop(BaseException):
    """Not an error of the handler's: the request is being abandoned (cancelled, say)."""


def stopped(request: Any, response: Any, notification: Any) -> Any:
    raise Stop


def test_an_abandoned_request_still_ends_its_span(vector_bytes: bytes) -> None:
    app = Webhook(request_max_age=None)
    app.on(STEP, stopped)
    with pytest.raises(Stop):
        client(app).post("/", vector_bytes)
    [span] = finished()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "abandoned"
    assert trace.get_current_span() is trace.INVALID_SPAN


_WITHOUT_PROVIDER = """
import json, pathlib, sys
from opentelemetry import trace
from clustaar.webhook import Webhook, events
from clustaar.webhook.testing import TestClient
seen = []
def handler(request, response, notification):
    seen.append(format(trace.get_current_span().get_span_context().trace_id, "032x"))
app = Webhook(request_max_age=None)
app.on(events.CONVERSATION_STEP_REACHED, handler)
body = json.loads(pathlib.Path(sys.argv[1]).read_bytes())
client = TestClient(app)
client.send(body, headers={"traceparent": sys.argv[2]})
client.send(body)
print(json.dumps(seen))
"""


def test_without_a_provider_the_incoming_context_is_still_passed_on(vector_bytes: bytes,
                                                                    tmp_path: Any) -> None:
    # No SDK: no span records anything, but the handler still runs in the caller's trace
    # (what propagation-only set-ups rely on), and in none without a traceparent.
    import subprocess
    import sys

    path = tmp_path / "vector.json"
    path.write_bytes(vector_bytes)
    output = subprocess.run(
        [sys.executable, "-c", _WITHOUT_PROVIDER, str(path), f"00-{TRACE_ID}-{PARENT_ID}-01"],
        check=True, capture_output=True, text=True).stdout
    assert json.loads(output) == [TRACE_ID, "0" * 32]
