"""In-process throughput of ``AsyncWebhook`` against ``Webhook``: the price of ASGI.

Part 2 of ``python -m benchmarks concurrency``. Every app has the main benchmark's secure
configuration (signature, Basic auth, replay window on a fixed clock, a ``StepID`` route)
and a handler echoing the step's actions and the session. ``Webhook`` is called with a
WSGI environ (the runner's requests and batches); ``AsyncWebhook`` is driven with an ASGI
scope, ``receive`` and ``send`` on one event loop kept for the whole run, each batch served
request after request in one coroutine. Its plain handler runs in the app's thread pool,
its ``async def`` one on the loop. Timing is the runner's: CPU time of the process (which
counts the pool thread too) per request, interleaved rounds, medians; every large request
is a notification no other request of the run repeats.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from clustaar.schemas.models import StepReachedResponse

from clustaar.webhook import AsyncWebhook, Webhook, events
from clustaar.webhook.filters import StepID

from . import apps, runner
from .bodies import SMALL_VECTOR, STEP_ID, large_body

#: (label, app class, whether the handler is ``async def``), in the table's order.
VARIANTS: tuple[tuple[str, type[Union[Webhook, AsyncWebhook]], bool], ...] = (
    ("Webhook (WSGI)", Webhook, False),
    ("AsyncWebhook, def handler", AsyncWebhook, False),
    ("AsyncWebhook, async def handler", AsyncWebhook, True))
REFERENCE = VARIANTS[0][0]


def echo(request: Any, response: Any, notification: Any) -> StepReachedResponse:
    """Answer with the step's actions and the session: loading and rendering both count."""
    event = notification.event
    return StepReachedResponse(actions=event.step.actions, session=event.session)


async def echo_async(request: Any, response: Any, notification: Any) -> StepReachedResponse:
    """:func:`echo` as a coroutine: on ``AsyncWebhook`` it runs without a thread hop."""
    return echo(request, response, notification)


def build_app(kind: type[Union[Webhook, AsyncWebhook]], coroutine: bool,
              step: str) -> Union[Webhook, AsyncWebhook]:
    """The secure app of the main benchmark, with the echo handler on ``step``."""
    app = kind(auth_username=apps.USER, auth_password=apps.PASSWORD, private_key=apps.KEY,
               clock=lambda: apps.NOW)
    app.on(events.CONVERSATION_STEP_REACHED, echo_async if coroutine else echo,
           filters=StepID(step))
    return app


def echo_request(body: bytes) -> runner.Request:
    """A signed request whose ``expected`` is what the echo must give back: the session,
    and the actions by kind (their texts come back sanitised, which only the loader knows;
    :func:`agree` checks the apps give the very same bytes)."""
    event = json.loads(body)["data"]
    kinds = [action["type"] for action in event["step"]["actions"]]
    return runner.build_request(body, (event["session"], kinds))


class EchoCase(runner.Case):
    """A runner case whose answers are checked against the echo, the last one kept."""

    last: bytes = b""

    def _check(self, request: runner.Request, status: str, headers: Any, body: bytes) -> None:
        content_type = {name.lower(): value for name, value in headers}.get("content-type", "")
        answer = json.loads(body) if status.startswith("200") else None
        session, kinds = request.expected
        if not (content_type.startswith("application/json") and answer is not None
                and answer["session"] == session and answer["interlocutor"] is None
                and [action["type"] for action in answer["actions"]] == kinds):
            raise AssertionError(f"{self.name} on {self.body}: {status} {body[:300]!r}")
        self.last = body


def _scope(request: runner.Request) -> dict[str, Any]:
    """The HTTP scope an ASGI server builds for the request the environ describes."""
    environ = request.environ
    headers = [(b"host", b"127.0.0.1:8000"),
               (b"content-type", environ["CONTENT_TYPE"].encode("latin-1")),
               (b"content-length", environ["CONTENT_LENGTH"].encode("latin-1"))]
    headers += [(key[5:].replace("_", "-").lower().encode("latin-1"), value.encode("latin-1"))
                for key, value in environ.items() if key.startswith("HTTP_")]
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1", "method": "POST", "scheme": "http", "path": "/",
            "raw_path": b"/", "root_path": "", "query_string": b"", "headers": headers,
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}


async def _serve(app: AsyncWebhook, scope: dict[str, Any],
                 body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """One request, as a server passes it: the body in one message, then a disconnect."""
    messages: list[MutableMapping[str, Any]] = []
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> MutableMapping[str, Any]:
        return pending.pop() if pending else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        messages.append(message)

    await app(scope, receive, send)
    start = messages[0]
    return start["status"], start["headers"], b"".join(m.get("body", b"") for m in messages[1:])


async def _serve_all(app: AsyncWebhook, picks: list[tuple[dict[str, Any], bytes]],
                     ) -> list[tuple[int, list[tuple[bytes, bytes]], bytes]]:
    """The batch, then whatever the requests left for the loop (the ``aclose()`` of a body
    stream left unfinished): inside the batch, so no other case pays for it."""
    answers = [await _serve(app, dict(scope), body) for scope, body in picks]
    await asyncio.sleep(0)  # Lets the loop create the tasks finalizers have asked for.
    for _ in range(1000):
        if len(asyncio.all_tasks()) == 1:
            break
        await asyncio.sleep(0)
    return answers


@dataclass
class AsgiCase(EchoCase):
    """A case served through the ASGI entry point on ``loop`` (see the module docstring)."""

    loop: Optional[asyncio.AbstractEventLoop] = None
    scopes: list[dict[str, Any]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.scopes = [_scope(request) for request in self.requests]

    def run_batch(self) -> None:
        """Serve one batch in one coroutine, time it, then check every answer."""
        assert self.loop is not None
        count = len(self.requests)
        picks = [(self.served + offset) % count for offset in range(self.batch)]
        work = [(self.scopes[index], self.requests[index].body) for index in picks]
        started, cpu_started = time.perf_counter(), time.process_time()
        answers = self.loop.run_until_complete(_serve_all(self.app, work))  # type: ignore[arg-type]
        cpu, wall = time.process_time() - cpu_started, time.perf_counter() - started
        self.served += self.batch
        for index, (status, headers, body) in zip(picks, answers):
            self._check(self.requests[index], str(status),
                        [(name.decode("latin-1"), value.decode("latin-1"))
                         for name, value in headers], body)
        self.times.append(cpu / self.batch * 1e6)
        self.wall_times.append(wall / self.batch * 1e6)


def build_cases(loop: asyncio.AbstractEventLoop, rounds: int, small_batch: int,
                large_batch: int) -> list[EchoCase]:
    """Every variant on both bodies; each large case has its own slice of notifications,
    enough for the warm-up batch and ``rounds`` batches, so none is ever served twice."""
    small_step = json.loads(SMALL_VECTOR)["data"]["step"]["id"]
    small = [echo_request(SMALL_VECTOR)]
    distinct = large_batch * (rounds + 1)
    cases: list[EchoCase] = []
    for body, step, batch in (("small", small_step, small_batch), ("large", STEP_ID, large_batch)):
        for number, (label, kind, coroutine) in enumerate(VARIANTS):
            start = 10**7 + number * distinct
            requests = small if body == "small" else [
                echo_request(large_body(index)) for index in range(start, start + distinct)]
            app = build_app(kind, coroutine, step)
            if kind is Webhook:
                cases.append(EchoCase(label, body, app, requests, batch))
            else:
                cases.append(AsgiCase(label, body, app, requests, batch, loop=loop))
    return cases


def agree(cases: list[EchoCase]) -> None:
    """Every variant answers one new large notification with the very same bytes."""
    request = echo_request(large_body(10**8))
    answers = set()
    for case in cases:
        if case.body == "large":
            probe = dataclasses.replace(case, requests=[request], batch=1, times=[],
                                        wall_times=[], served=0)
            probe.run_batch()
            answers.add(probe.last)
    if len(answers) != 1:
        raise AssertionError(f"the apps answered the same notification in {len(answers)} ways")


def run(rounds: int, small_batch: int, large_batch: int) -> list[EchoCase]:
    """Build, check and measure every case on one event loop, then release the loop and the
    apps' thread pools."""
    loop = asyncio.new_event_loop()
    cases = build_cases(loop, rounds, small_batch, large_batch)
    try:
        agree(cases)
        runner.run(list(cases), rounds)
    finally:
        for case in cases:
            case.app.pipeline.shutdown()  # type: ignore[attr-defined]
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    return cases


def rows(cases: list[EchoCase]) -> list[dict[str, Any]]:
    """One row per case: CPU µs/request, requests/s per core, × Webhook's on the same body."""
    reference = {case.body: case.median for case in cases if case.name == REFERENCE}
    return [{"app": case.name, "body": case.body, "us_per_request": round(case.median, 1),
             "wall_us_per_request": round(case.wall_median, 1),
             "requests_per_second": round(1e6 / case.median),
             "x_webhook": round(case.median / reference[case.body], 2),
             "requests": case.served} for case in cases]


def thread_hop(table: list[dict[str, Any]]) -> dict[str, float]:
    """What the pool costs a plain handler on ``AsyncWebhook``, per body: its CPU µs per
    request minus the ``async def`` handler's."""
    by = {(row["app"], row["body"]): row["us_per_request"] for row in table}
    return {body: round(by[(VARIANTS[1][0], body)] - by[(VARIANTS[2][0], body)], 1)
            for body in ("small", "large")}


def targets(table: list[dict[str, Any]], bound: float = 1.3) -> list[dict[str, Any]]:
    """AsyncWebhook's CPU per request within ``bound`` × Webhook's, each variant and body."""
    return [{"target": f"{row['body']}, {row['app']}: <= {bound:g}x Webhook's us/request",
             "measured": f"{row['x_webhook']:.2f}x", "met": row["x_webhook"] <= bound}
            for row in table if row["app"] != REFERENCE]
