"""Running handlers: ``def`` and ``async def`` on both apps, the ASGI thread pool, lifespan."""
from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from typing import Any

import pytest
from support.requests import client

from clustaar.webhook import AsyncWebhook, Webhook, events
from clustaar.webhook.testing import call, notification

both_apps = pytest.mark.usefixtures("both_apps")

STEP = events.CONVERSATION_STEP_REACHED
REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


def post(app: Any, body: bytes) -> Any:
    return client(app).post("/", body, headers={"Content-Type": "application/json"})


@both_apps
def test_an_async_handler_answers_on_both_apps(vector_bytes: bytes) -> None:
    async def greet(request: Any, response: Any, notification: Any) -> Any:
        await asyncio.sleep(0)
        return {"name": notification.event.session.values["name"], "topic": request.json["topic"]}

    app = Webhook(request_max_age=None)
    app.on(STEP, greet)
    assert post(app, vector_bytes).json == {"name": "tintin", "topic": STEP}


@both_apps
def test_a_plain_handler_returning_an_awaitable_is_awaited(vector_bytes: bytes) -> None:
    async def later() -> dict[str, bool]:
        return {"awaited": True}

    app = Webhook(request_max_age=None)
    app.on(STEP, lambda request, response, notification: later())
    assert post(app, vector_bytes).json == {"awaited": True}


def test_the_kit_calls_async_handlers_to_completion() -> None:
    async def handler(request: Any, response: Any, notification: Any) -> Any:
        await asyncio.sleep(0)
        return {"id": notification.event.step.id}

    assert call(handler, notification(step_id="s1")) == {"id": "s1"}


def test_plain_handlers_on_the_asgi_app_see_the_requests_contextvars(
        vector_bytes: bytes, both_apps: type) -> None:
    class Tag:
        def process_request(self, req: Any, resp: Any) -> None:
            REQUEST_ID.set("tagged by a middleware")

        async def process_request_async(self, req: Any, resp: Any) -> None:
            self.process_request(req, resp)

    seen: list[tuple[str, bool]] = []

    def handler(request: Any, response: Any, notification: Any) -> None:
        seen.append((REQUEST_ID.get(), threading.current_thread() is threading.main_thread()))

    app = Webhook(request_max_age=None, middlewares=[Tag()])
    app.on(STEP, handler)
    post(app, vector_bytes)
    in_pool = issubclass(both_apps, AsyncWebhook)  # ASGI: a pool thread, context copied.
    assert seen == [("tagged by a middleware", not in_pool)]


def test_the_asgi_pool_runs_at_most_max_threads_plain_handlers_at_once(
        vector_bytes: bytes) -> None:
    app = AsyncWebhook(request_max_age=None, max_threads=2)
    running, most = [0], [0]
    lock = threading.Lock()

    def handler(request: Any, response: Any, notification: Any) -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1

    app.on(STEP, handler)

    async def many() -> None:
        async def one() -> None:
            sent: list[Any] = []

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": vector_bytes, "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                sent.append(message)
            await app({"type": "http", "method": "POST", "path": "/", "headers": [],
                       "query_string": b"", "asgi": {"version": "3.0"}, "http_version": "1.1",
                       "scheme": "http", "root_path": ""}, receive, send)
            assert sent[0]["status"] == 204
        await asyncio.gather(*(one() for _ in range(6)))

    asyncio.run(many())
    assert most[0] == 2


def test_lifespan_startup_and_shutdown_complete() -> None:
    app = AsyncWebhook()
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    asyncio.run(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
