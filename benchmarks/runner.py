"""Timing: the cases, their signed request pools, and one interleaved run over all of them.

Requests go straight to the WSGI callable (no sockets). Each case runs a batch per round
and the rounds rotate the order of the cases, so all of them share the same machine
conditions. A batch is timed in CPU time of this process (so other processes on a
shared machine do not count) and in wall-clock time. Every response is checked after its
batch (status, content type, JSON), outside the timing.
"""
from __future__ import annotations

import base64
import io
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, Callable

from clustaar.webhook.signature import digest

from . import apps
from .bodies import SMALL_VECTOR, STEP_ID, large_body

SMALL_STEP = json.loads(SMALL_VECTOR)["data"]["step"]["id"]
DATE = formatdate(apps.NOW, usegmt=True)
_AUTHORIZATION = "Basic " + base64.b64encode(
    f"{apps.USER}:{apps.PASSWORD}".encode()).decode()


@dataclass
class Request:
    """One pre-built request: its environ (without input), body and expected answer."""

    environ: dict[str, Any]
    body: bytes
    expected: Any


def build_request(body: bytes, expected: Any) -> Request:
    """A signed, authenticated POST of ``body`` as the platform sends it."""
    environ = {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": "/", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)), "HTTP_DATE": DATE,
        "HTTP_X_HUB_SIGNATURE": "sha1=" + digest(apps.KEY, body, DATE),
        "HTTP_AUTHORIZATION": _AUTHORIZATION,
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }
    return Request(environ, body, expected)


def small_requests() -> list[Request]:
    """The shipped vector: every request is the same."""
    return [build_request(SMALL_VECTOR, apps.expected_answer(json.loads(SMALL_VECTOR)))]


def large_requests(start: int, count: int) -> list[Request]:
    """``count`` distinct large notifications, from the ``start``-th one."""
    pool = []
    for index in range(start, start + count):
        body = large_body(index)
        pool.append(build_request(body, apps.expected_answer(json.loads(body))))
    return pool


@dataclass
class Case:
    """One application on one kind of body, and what it measured."""

    name: str
    body: str
    app: Callable[..., Any]
    requests: list[Request]
    batch: int
    floor: bool = False
    #: µs per request, one per batch: CPU time of this process (what the table shows:
    #: other load on the machine does not count) and wall-clock time.
    times: list[float] = field(default_factory=list)
    wall_times: list[float] = field(default_factory=list)
    served: int = 0

    def run_batch(self) -> None:
        """Serve one batch, time it, then check every answer."""
        app, requests, count = self.app, self.requests, len(self.requests)
        picks = [requests[(self.served + offset) % count] for offset in range(self.batch)]
        answers: list[tuple[str, Any, bytes]] = []
        statuses: dict[str, Any] = {}

        def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
            statuses["status"], statuses["headers"] = status, headers

        started, cpu_started = time.perf_counter(), time.process_time()
        for request in picks:
            environ = dict(request.environ)
            environ["wsgi.input"] = io.BytesIO(request.body)
            chunks = app(environ, start_response)
            answers.append((statuses["status"], statuses["headers"], b"".join(chunks)))
        cpu, wall = time.process_time() - cpu_started, time.perf_counter() - started
        self.served += self.batch
        for request, answer in zip(picks, answers):
            self._check(request, *answer)
        self.times.append(cpu / self.batch * 1e6)
        self.wall_times.append(wall / self.batch * 1e6)

    def _check(self, request: Request, status: str, headers: Any, body: bytes) -> None:
        content_type = {name.lower(): value for name, value in headers}.get("content-type", "")
        expected = apps.FLOOR_ANSWER if self.floor else request.expected
        got = body if self.floor else json.loads(body)
        if not (status.startswith("200") and content_type.startswith("application/json")
                and got == expected):
            raise AssertionError(f"{self.name} on {self.body}: {status} {body[:300]!r}")

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def wall_median(self) -> float:
        return statistics.median(self.wall_times)


def build_cases(quick: bool, rounds: int) -> list[Case]:
    """Every benchmark case, sized for ``rounds``. Each of our large cases gets its own slice
    of the pool, no body repeated, so no text is ever found in the cleaned-text cache by
    chance (the stock path has no cache and shares the first slice)."""
    small, scale = small_requests(), (1 if quick else 4)
    large_batch = 10 * scale
    distinct = large_batch * (rounds + 1)  # +1: the warm-up batch
    plain_pool = large_requests(0, distinct)
    secure_pool = large_requests(distinct, distinct)
    cases = [Case("floor (bare Falcon)", "small", apps.floor_app(), small, 100 * scale, True),
             Case("floor (bare Falcon)", "large", apps.floor_app(), plain_pool, 50 * scale, True)]
    for secure, label in ((False, "plain"), (True, "secure")):
        for stock in (False, True):
            name = f"{'stock ' if stock else ''}{label}"
            small_app = apps.webhook(secure=secure, stock=stock, step_id=SMALL_STEP)
            large_app = apps.webhook(secure=secure, stock=stock, step_id=STEP_ID)
            large_pool = secure_pool if secure and not stock else plain_pool
            cases.append(Case(name, "small", small_app, small, 100 * scale))
            cases.append(Case(name, "large", large_app, large_pool,
                              scale if stock else large_batch))
    for where in ("before", "after"):
        cases.append(Case(f"secure, 1,050 routes ({where})", "small",
                          apps.webhook(secure=True, step_id=SMALL_STEP, many_routes=where),
                          small, 100 * scale))
    return cases


def rounds_for(quick: bool) -> int:
    """The default number of interleaved rounds."""
    return 3 if quick else 25


def run(cases: list[Case], rounds: int) -> None:
    """One warm-up batch per case, then ``rounds`` interleaved rounds."""
    for case in cases:
        case.run_batch()
        case.times.clear()
        case.wall_times.clear()
    for number in range(rounds):
        shift = number % len(cases)
        for case in cases[shift:] + cases[:shift]:
            case.run_batch()
