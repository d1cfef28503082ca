"""Duplicate deliveries across processes: gunicorn with 4 workers (WSGI, and ASGI through
uvicorn's worker), the SQLite store then Redis; the same signed notification sent 20 times
at once runs its handler exactly once, and the 20 answers are byte-identical. With Redis,
two gunicorn instances sharing it still run it once."""
from __future__ import annotations

import concurrent.futures
import contextlib
import http.client
import json
import pathlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from support.requests import http_date, signed_headers
from support.servers import app_module

from benchmarks.servers import free_port, gunicorn, gunicorn_asgi, serve
from clustaar.webhook.testing import notification

pytestmark = pytest.mark.server

KEY = "deliveries-key"
APP = f'''
import os
import time

from clustaar.webhook import AsyncWebhook, Webhook, events

COUNT = os.environ["DELIVERIES_COUNT_FILE"]


def handler(request, response, notification):
    with open(COUNT, "a") as count:  # One line for each run, whichever process it is.
        count.write(f"{{os.getpid()}}\\n")
    time.sleep(0.3)  # The duplicates arrive while it runs.
    return {{"pid": os.getpid(), "at": time.time()}}


def build(kind):
    app = kind(private_key="{KEY}", deliveries=os.environ["CLUSTAAR_WEBHOOK_DELIVERIES"])
    app.on(events.CONVERSATION_STEP_REACHED, handler)
    return app


wsgi = build(Webhook)
asgi = build(AsyncWebhook)
'''


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return app_module(tmp_path_factory, "deliveries_app", APP)


@contextlib.contextmanager
def served(folder: pathlib.Path, kind: str, url: str, count: pathlib.Path) -> Iterator[int]:
    port = free_port()
    options = ("--pythonpath", str(folder), "--workers", "4")
    command = (gunicorn(port, "deliveries_app:wsgi", *options) if kind == "wsgi"
               else gunicorn_asgi(port, "deliveries_app:asgi", *options))
    env = {"CLUSTAAR_WEBHOOK_DELIVERIES": url, "DELIVERIES_COUNT_FILE": str(count)}
    with serve(command, port, env=env):
        yield port


def post(port: int, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, bool]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        return (response.status, response.read(),
                response.getheader("Clustaar-Webhook-Replayed") == "true")
    finally:
        connection.close()


def send_20(ports: list[int], step: str = "5c1b7a0e1a2b3c4d5e6f7c01") -> list[Any]:
    """The same signed notification, 20 times at once, spread over ``ports``."""
    body = json.dumps(notification(step_id=step)).encode()
    headers = signed_headers(body, key=KEY, date=http_date(time.time()))
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        futures = [pool.submit(post, ports[n % len(ports)], body, headers) for n in range(20)]
        return [future.result() for future in futures]


def assert_once(answers: list[tuple[int, bytes, bool]], count: pathlib.Path) -> None:
    assert len(count.read_text().splitlines()) == 1
    assert {status for status, _, _ in answers} == {200}
    assert len({body for _, body, _ in answers}) == 1
    assert sum(replayed for _, _, replayed in answers) == 19


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_sqlite_four_workers_run_the_handler_once(
        folder: pathlib.Path, tmp_path: pathlib.Path, kind: str) -> None:
    count = tmp_path / "runs"
    with served(folder, kind, f"sqlite:///{tmp_path}/deliveries.db", count) as port:
        assert_once(send_20([port]), count)


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_redis_two_instances_of_four_workers_run_the_handler_once(
        folder: pathlib.Path, tmp_path: pathlib.Path, kind: str, redis_url: str) -> None:
    count = tmp_path / "runs"
    with served(folder, kind, redis_url, count) as port:
        assert_once(send_20([port]), count)
        count.write_text("")
        with served(folder, kind, redis_url, count) as other:
            assert_once(send_20([port, other], "5c1b7a0e1a2b3c4d5e6f7c02"), count)
