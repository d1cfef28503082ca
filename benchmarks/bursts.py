"""Bursts of concurrent notifications to real servers on 127.0.0.1, timed from outside.

Part 1 of ``python -m benchmarks concurrency``: ``examples/async_bot.py`` under one uvicorn
worker, each handler waiting ``DELAY`` seconds (the async one on the event loop, the plain
one in the app's pool of 32 threads), and, for contrast, the same handlers in a WSGI
``Webhook`` under one sync gunicorn worker, which serves one request at a time.

The client is one asyncio event loop on raw streams: every request is built (body, Date,
signature, bytes on the wire) before the clock starts, then all of them connect, send and
read their answer at once. A burst's time runs from the first connection until the last
answer is read, connections included; every answer is then checked (200, its handler's
text, its own session back).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import pathlib
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Optional

from clustaar.webhook.testing import http_date, notification, platform_headers

from .servers import free_port, gunicorn, serve, uvicorn

KEY = "concurrency-benchmark-key"
DELAY = 0.5
ASYNC_STEP = "5c1b7a0e1a2b3c4d5e6f7a90"
SYNC_STEP = "5c1b7a0e1a2b3c4d5e6f7a91"
TEXTS = {ASYNC_STEP: "Answered by the async handler.", SYNC_STEP: "Answered by the sync handler."}
#: The example reads its secrets from these; empty ones turn the Basic check off whatever
#: the calling shell exports.
ENV = {"CLUSTAAR_WEBHOOK_PRIVATE_KEY": KEY, "CLUSTAAR_EXAMPLE_DELAY": str(DELAY),
       "CLUSTAAR_WEBHOOK_AUTH_USERNAME": "", "CLUSTAAR_WEBHOOK_AUTH_PASSWORD": ""}
#: No single answer may take longer than this (a burst is bounded in time, not only count).
TIMEOUT = 60.0

#: The WSGI equivalent of the example, written to a temporary directory: a ``Webhook``
#: given the very routes (handlers and filters) the example's ``create_app`` registers.
WSGI_MODULE = '''"""async_bot's handlers on a WSGI Webhook (written by benchmarks/bursts.py)."""
import os

import async_bot
from clustaar.webhook import Webhook

# One sync worker answers queued requests in turn, so the last of a burst is read
# seconds after its Date was set: the replay window is widened to keep it valid.
app = Webhook(private_key=os.environ["CLUSTAAR_WEBHOOK_PRIVATE_KEY"], request_max_age=120)
for route in async_bot.create_app(os.environ).routes:
    app.on(route.topic, route.handler, filters=route.filters)
'''


@dataclass
class Scenario:
    """One server and handler, burst ``runs`` times with ``requests`` notifications."""

    name: str
    server: str
    step: str
    requests: int
    runs: int
    target: Optional[float] = None
    #: Wall seconds of each burst, and the slowest single answer of each.
    times: list[float] = field(default_factory=list)
    slowest: list[float] = field(default_factory=list)


def build_requests(port: int, step: str, count: int, first: int) -> list[tuple[bytes, int]]:
    """``count`` signed POSTs as bytes, each with its own session value ``n``."""
    wire = []
    for number in range(first, first + count):
        body = json.dumps(notification(step_id=step, session_values={"n": number})).encode()
        headers = platform_headers(body, private_key=KEY, date=http_date())
        lines = ["POST / HTTP/1.1", f"Host: 127.0.0.1:{port}",
                 f"Content-Length: {len(body)}", "Connection: close",
                 *(f"{name}: {value}" for name, value in headers.items())]
        wire.append((("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body, number))
    return wire


async def _exchange(port: int, request: bytes, started: float) -> tuple[int, bytes, float]:
    """Send one request on its own connection; its status, body and when it was read."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ")[1])
        headers = dict(line.split(": ", 1) for line in head[1:] if line)
        length = {name.lower(): value for name, value in headers.items()}["content-length"]
        body = await reader.readexactly(int(length))
        return status, body, time.perf_counter() - started
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _burst(port: int, requests: list[bytes]) -> tuple[float, list[tuple[int, bytes, float]]]:
    started = time.perf_counter()
    answers = await asyncio.wait_for(
        asyncio.gather(*(_exchange(port, request, started) for request in requests)), TIMEOUT)
    return time.perf_counter() - started, list(answers)


def check(step: str, number: int, status: int, body: bytes) -> None:
    """The answer of notification ``number``: 200, its handler's text, its session."""
    answer: Any = json.loads(body) if status == 200 else None
    expected = {"actions": [{"type": "send_text_action", "alternatives": [TEXTS[step]]}],
                "session": {"values": {"n": number}}, "interlocutor": None}
    if answer != expected:
        raise AssertionError(f"notification {number} to step {step}: {status} {body[:300]!r}")


def burst(scenario: Scenario, port: int) -> None:
    """Run the scenario's bursts, one after the other, against the server on ``port``."""
    for run in range(scenario.runs):
        wire = build_requests(port, scenario.step, scenario.requests, run * scenario.requests)
        elapsed, answers = asyncio.run(_burst(port, [request for request, _ in wire]))
        for (_, number), (status, body, _) in zip(wire, answers):
            check(scenario.step, number, status, body)
        scenario.times.append(elapsed)
        scenario.slowest.append(max(answered for _, _, answered in answers))


def warm_up(port: int, *steps: str) -> None:
    """One untimed notification per handler: imports and first-call costs stay out."""
    for step in steps:
        [(request, number)] = build_requests(port, step, 1, 10**6)
        _, [(status, body, _)] = asyncio.run(_burst(port, [request]))
        check(step, number, status, body)


@contextmanager
def _wsgi_module() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="clustaar-concurrency-") as directory:
        (pathlib.Path(directory) / "concurrency_wsgi_bot.py").write_text(WSGI_MODULE)
        yield directory


def run(requests: int = 100, runs: int = 3, contrast: int = 20) -> list[Scenario]:
    """The three scenarios: uvicorn with the async handler, then the plain one (32 threads),
    then one sync gunicorn worker with the async handler on ``contrast`` requests."""
    on_uvicorn = [Scenario("async def handler", "uvicorn, 1 worker", ASYNC_STEP, requests, runs,
                           1.5),
                  Scenario("def handler, max_threads=32", "uvicorn, 1 worker", SYNC_STEP,
                           requests, runs, 3.0)]
    port = free_port()
    with serve(uvicorn(port, "async_bot:app", "--workers", "1"), port, env=ENV):
        warm_up(port, ASYNC_STEP, SYNC_STEP)
        for scenario in on_uvicorn:
            burst(scenario, port)
    serial = Scenario("async def handler (WSGI Webhook)", "gunicorn, 1 sync worker", ASYNC_STEP,
                      contrast, runs)
    port = free_port()
    with _wsgi_module() as directory, serve(
            gunicorn(port, "concurrency_wsgi_bot:app", "--workers", "1", "--worker-class", "sync",
                     "--timeout", "120"),
            port, env={**ENV, "PYTHONPATH": directory}):
        warm_up(port, ASYNC_STEP)
        burst(serial, port)
    return [*on_uvicorn, serial]


def rows(scenarios: list[Scenario]) -> list[dict[str, Any]]:
    """One row per scenario: min and median wall seconds over the runs, and the target."""
    table = []
    for scenario in scenarios:
        best, median = min(scenario.times), statistics.median(scenario.times)
        table.append({
            "scenario": scenario.name, "server": scenario.server, "requests": scenario.requests,
            "delay_s": DELAY, "runs": scenario.runs, "min_s": round(best, 3),
            "median_s": round(median, 3), "times_s": [round(t, 3) for t in scenario.times],
            "slowest_answer_s": round(max(scenario.slowest), 3),
            "serial_s": round(scenario.requests * DELAY, 1),
            "target_s": scenario.target,
            "met": None if scenario.target is None else median < scenario.target})
    return table
