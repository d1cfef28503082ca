"""Deadlines under real servers: a handler sleeping 5 s with ``deadline=0.5`` answers the
fallback in time, and the server keeps answering other requests meanwhile."""
from __future__ import annotations

import concurrent.futures
import http.client
import json
import pathlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from support.servers import app_module

from benchmarks.servers import free_port, gunicorn, serve, uvicorn
from clustaar.webhook.testing import notification

pytestmark = pytest.mark.server

SLOW, QUICK = "5c1b7a0e1a2b3c4d5e6f7b01", "5c1b7a0e1a2b3c4d5e6f7b02"
APP = f'''
import time
from clustaar.webhook import AsyncWebhook, Webhook, events
from clustaar.webhook.filters import StepID


def slow(request, response, notification):
    time.sleep(5)
    return {{"late": True}}


def quick(request, response, notification):
    return {{"quick": True}}


def build(kind):
    app = kind(request_max_age=None, deadline=0.5)
    app.on(events.CONVERSATION_STEP_REACHED, slow, filters=StepID("{SLOW}"))
    app.on(events.CONVERSATION_STEP_REACHED, quick, filters=StepID("{QUICK}"))
    return app


wsgi = build(Webhook)
asgi = build(AsyncWebhook)
'''


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return app_module(tmp_path_factory, "deadline_app", APP)


def post(port: int, step: str) -> tuple[int, dict[str, str], Any, float]:
    hello = {"type": "send_text_action", "alternatives": ["Hello"]}
    body = json.dumps(notification(step_id=step, actions=[hello])).encode()
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        answer = json.loads(response.read())
        return (response.status, {k.lower(): v for k, v in response.getheaders()}, answer,
                time.monotonic() - started)
    finally:
        connection.close()


def assert_in_time_and_responsive(port: int) -> None:
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        slow = pool.submit(post, port, SLOW)
        time.sleep(0.1)
        quick = [pool.submit(post, port, QUICK) for _ in range(3)]
        status, headers, answer, elapsed = slow.result()
        assert (status, headers["clustaar-webhook-fallback"]) == (200, "deadline")
        assert answer["actions"] == [{"type": "send_text_action", "alternatives": ["Hello"]}]
        assert elapsed < 1.5
        for future in quick:
            status, _, answer, elapsed = future.result()
            assert (status, answer, elapsed < 1) == (200, {"quick": True}, True)


@pytest.fixture
def served(folder: pathlib.Path, request: pytest.FixtureRequest) -> Iterator[int]:
    port = free_port()
    command = (gunicorn(port, "deadline_app:wsgi", "--pythonpath", str(folder),
                        "--worker-class", "gthread", "--threads", "4", "--workers", "1")
               if request.param == "gunicorn gthread"
               else uvicorn(port, "deadline_app:asgi", "--app-dir", str(folder)))
    with serve(command, port):
        yield port


@pytest.mark.parametrize("served", ["gunicorn gthread", "uvicorn"], indirect=True)
def test_the_fallback_leaves_in_time_and_the_server_stays_responsive(served: int) -> None:
    assert_in_time_and_responsive(served)
