"""AsyncWebhook under real servers on 127.0.0.1: uvicorn, gunicorn with uvicorn's worker,
and mounted in a FastAPI app; each stopped by its PID."""
from __future__ import annotations

import concurrent.futures
import http.client
import json
import time
from typing import Any

import pytest

from benchmarks.servers import free_port, gunicorn_asgi, serve, uvicorn
from clustaar.webhook.testing import http_date, notification, platform_headers

pytestmark = pytest.mark.server

KEY = "asgi-test-key"
ENV = {"CLUSTAAR_WEBHOOK_PRIVATE_KEY": KEY, "CLUSTAAR_EXAMPLE_DELAY": "0.5"}
ASYNC_STEP = "5c1b7a0e1a2b3c4d5e6f7a90"
SYNC_STEP = "5c1b7a0e1a2b3c4d5e6f7a91"


def post(port: int, path: str, step: str, key: str = KEY,
         chunked: bool = False) -> tuple[int, Any]:
    body = json.dumps(notification(step_id=step)).encode()
    headers = platform_headers(body, private_key=key, date=http_date())
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        if chunked:
            connection.request("POST", path, body=iter([body[:100], body[100:]]),
                               headers=headers, encode_chunked=True)
        else:
            connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def texts(answer: Any) -> list[str]:
    return [text for action in answer["actions"] for text in action["alternatives"]]


def test_uvicorn_serves_async_and_sync_handlers_concurrently() -> None:
    port = free_port()
    with serve(uvicorn(port), port, env=ENV):
        assert post(port, "/", ASYNC_STEP)[1]["actions"][0]["alternatives"] == [
            "Answered by the async handler."]
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(lambda n: post(port, "/", (ASYNC_STEP, SYNC_STEP)[n % 2]),
                                    range(20)))
        elapsed = time.monotonic() - started
    assert [status for status, _ in answers] == [200] * 20
    assert sorted(texts(answer)[0] for _, answer in answers) == (
        ["Answered by the async handler."] * 10 + ["Answered by the sync handler."] * 10)
    # Twenty handlers waiting 0.5 s each, one worker: they waited together, not in turn.
    assert elapsed < 5


def test_uvicorn_refuses_as_the_wsgi_app_does() -> None:
    port = free_port()
    with serve(uvicorn(port), port, env=ENV):
        status, answer = post(port, "/", ASYNC_STEP, key="wrong")
        assert (status, answer["title"]) == (400, "Invalid header value")
        status, answer = post(port, "/elsewhere", ASYNC_STEP)
        assert (status, answer["title"]) == (404, "404 Not Found")
        assert post(port, "/", ASYNC_STEP, chunked=True)[0] == 200


def test_uvicorn_root_path_is_honoured() -> None:
    """``--root-path`` is for a proxy that strips the prefix: uvicorn puts it back in front
    of the path, and the app still sees itself at its mount point."""
    port = free_port()
    with serve(uvicorn(port, "async_bot:app", "--root-path", "/bot"), port, env=ENV):
        assert post(port, "/", ASYNC_STEP)[0] == 200
        assert post(port, "/other", ASYNC_STEP)[0] == 404


def test_gunicorn_with_the_uvicorn_worker() -> None:
    port = free_port()
    with serve(gunicorn_asgi(port, "async_bot:app", "--workers", "1"), port, env=ENV):
        assert post(port, "/", SYNC_STEP)[0] == 200


def test_mounted_in_fastapi() -> None:
    port = free_port()
    with serve(uvicorn(port, "fastapi_app:api"), port, env=ENV):
        status, answer = post(port, "/clustaar/", ASYNC_STEP)
        assert status == 200 and texts(answer) == ["Answered by the async handler."]
        assert post(port, "/clustaar/other", ASYNC_STEP)[0] == 404
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/status")
        assert json.loads(connection.getresponse().read()) == {"app": "host"}
        connection.close()
