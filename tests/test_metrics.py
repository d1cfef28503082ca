"""The Prometheus metrics on both apps, and summed over gunicorn workers (multiprocess)."""
from __future__ import annotations

import http.client
import os
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from support import KEY
from support.logs import PERSONAL, personal_notification
from support.requests import client, signed_headers

from benchmarks.servers import free_port, gunicorn, gunicorn_asgi, serve
from clustaar.webhook import AsyncWebhook, Webhook, events
from clustaar.webhook.metrics import Metrics

pytestmark = pytest.mark.usefixtures("both_apps")

STEP = events.CONVERSATION_STEP_REACHED
HANDLER = f"{__name__}.answer"


def answer(request: Any, response: Any, notification: Any) -> Any:
    return None


def slow(request: Any, response: Any, notification: Any) -> Any:
    time.sleep(0.3)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition, by name and sorted labels."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def scrape(app: Any, path: str = "/metrics") -> Any:
    response = client(app).get(path, status=200)
    assert response.content_type == "text/plain"
    return samples(response.text)


@pytest.fixture(autouse=True)
def single_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)


def test_notifications_are_counted_by_outcome_and_handler(vector_bytes: bytes) -> None:
    app = Webhook(request_max_age=None, metrics_path="/metrics")
    app.on(STEP, answer)
    for _ in range(3):
        client(app).post("/", vector_bytes, status=204)
    client(app).get("/", status=405)
    got = scrape(app)
    assert got[("clustaar_webhook_notifications_total",
                (("handler", HANDLER), ("outcome", "answered")))] == 3
    assert got[("clustaar_webhook_notifications_total",
                (("handler", ""), ("outcome", "rejected")))] == 1
    assert got[("clustaar_webhook_handler_duration_seconds_count", (("handler", HANDLER),))] == 3
    assert got[("clustaar_webhook_handler_duration_seconds_sum", (("handler", HANDLER),))] > 0


def test_deadlines_exceeded_are_counted(vector_bytes: bytes) -> None:
    app = Webhook(request_max_age=None, metrics_path="/metrics", deadline=0.05)
    app.on(STEP, slow)
    client(app).post("/", vector_bytes, status=200)
    got = scrape(app)
    handler = f"{__name__}.slow"
    assert got[("clustaar_webhook_deadline_exceeded_total", (("handler", handler),))] == 1
    assert got[("clustaar_webhook_notifications_total",
                (("handler", handler), ("outcome", "fallback_deadline")))] == 1
    time.sleep(0.3)  # The late handler ends (and logs its dropped answer) within this test.


def test_duplicates_are_counted_by_kind() -> None:
    app = Webhook(request_max_age=None, metrics_path="/metrics")
    assert "clustaar_webhook_duplicates_total" in client(app).get("/metrics").text
    app.metrics.duplicate("redelivery")
    assert scrape(app)[("clustaar_webhook_duplicates_total", (("kind", "redelivery"),))] == 1


def test_metrics_only_answer_get_and_are_off_by_default() -> None:
    client(Webhook(metrics_path="/metrics")).post("/metrics", b"", status=405)
    app = Webhook()
    assert app.metrics is None
    client(app).get("/metrics", status=404)


def test_metrics_can_go_to_a_registry_of_the_applications() -> None:
    registry = CollectorRegistry()
    app = Webhook(request_max_age=None, metrics=Metrics(registry))
    client(app).get("/", status=405)
    assert registry.get_sample_value("clustaar_webhook_notifications_total",
                                     {"outcome": "rejected", "handler": ""}) == 1


def test_no_personal_data_or_secret_in_a_label(vector: dict[str, Any]) -> None:
    app = Webhook(request_max_age=None, metrics_path="/metrics", private_key=KEY)
    app.on(STEP, answer)
    body = personal_notification(vector)
    client(app).post("/", body, headers=signed_headers(body), status=204)
    client(app).post("/", body, headers={"Content-Type": "application/json"}, status=400)
    text = client(app).get("/metrics").text
    assert "clustaar_webhook_notifications_total" in text
    for secret in (*PERSONAL, "1234", "4321"):  # Not even the ids: labels stay few.
        assert secret not in text


BOT = """
    import time

    from clustaar.webhook import {app_class}, events

    app = {app_class}(request_max_age=None, metrics_path="/metrics")

    @app.on(events.CONVERSATION_STEP_REACHED)
    def answer(request, response, notification):
        time.sleep(0.05)  # Busy a while: the other workers take the next connections.
"""


def _post(port: int, body: bytes) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.mark.server
def test_one_scrape_sums_every_gunicorn_worker(tmp_path: Path, vector_bytes: bytes,
                                               both_apps: type) -> None:
    is_async = issubclass(both_apps, AsyncWebhook)
    app_class = "AsyncWebhook" if is_async else "Webhook"
    (tmp_path / "metrics_bot.py").write_text(textwrap.dedent(BOT.format(app_class=app_class)))
    values = tmp_path / "prometheus"
    values.mkdir()
    port, count = free_port(), 60
    command = (gunicorn_asgi if is_async else gunicorn)(
        port, "metrics_bot:app", "--pythonpath", str(tmp_path), "--workers", "3")
    with serve(command, port, env={"PROMETHEUS_MULTIPROC_DIR": str(values)}):
        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(lambda _: _post(port, vector_bytes), range(count)))
        assert statuses == [204] * count
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
        connection.close()
    got = samples(text)
    assert got[("clustaar_webhook_notifications_total",
                (("handler", "metrics_bot.answer"), ("outcome", "answered")))] == count
    assert got[("clustaar_webhook_handler_duration_seconds_count",
                (("handler", "metrics_bot.answer"),))] == count
    # Several workers wrote their values (one file each), and the scrape summed them.
    writers = {name.rsplit("_", 1)[-1] for name in os.listdir(values)
               if name.startswith("counter_")}
    assert len(writers) >= 2
