"""``python -m benchmarks adversarial``: the CPU cost per byte of hostile bodies.

Each body of :mod:`.hostile` goes through the whole WSGI app in-process (default
configuration, no replay window, a handler with a tiny fixed answer: what is measured is
the work before the handler). Every request is timed in CPU time (of the one thread that
serves it: this benchmark runs no other) and interrupted once it passes a CPU cap, so even
code with a quadratic stage finishes in minutes. The table compares each body's CPU per
byte with the realistic large notification's; ``--check`` exits 1 when the worst one is over the target.
"""
from __future__ import annotations

import argparse
import gc
import io
import json
import logging
import os
import platform
import signal
import statistics
import sys
import time
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Callable, Optional

from clustaar.webhook import Webhook, events

from . import hostile
from .bodies import large_body
from .runner import build_request

#: Worst CPU per byte allowed, as a multiple of the realistic large notification's.
TARGET = 5.0
ANSWER: dict[str, Any] = {"actions": []}
REFERENCE = "realistic large notification (reference)"


def handler(request: Any, response: Any, notification: Any) -> Any:
    """A tiny fixed answer: the handler's own cost stays out of the figures."""
    return ANSWER


def build_app() -> Webhook:
    """The webhook with its default configuration, without the replay window (the bodies
    are built before they are sent, the Date they carry is not fresh)."""
    app = Webhook(request_max_age=None)
    app.on(events.CONVERSATION_STEP_REACHED, handler)
    return app


class OverCap(BaseException):
    """Raised in a request that passed its CPU cap: not an ``Exception``, so no error
    handler on the way (Falcon's, the loader's) can take it for a failure of its own."""


class _Timer:
    """A CPU-time alarm (``ITIMER_PROF``) that interrupts the request it is armed for."""

    armed = False

    def __init__(self, cap: float) -> None:
        self.cap = cap
        self.available = hasattr(signal, "setitimer")

    def _ring(self, signum: int, frame: Optional[FrameType]) -> None:
        if self.armed:
            raise OverCap

    def run(self, call: Callable[[], Any]) -> tuple[Optional[float], Any]:
        """CPU seconds ``call`` took and its result, or ``(None, None)`` past the cap."""
        if self.available:
            previous = signal.signal(signal.SIGPROF, self._ring)
            # Keeps ringing after the cap, in case a ring lands where it cannot raise.
            signal.setitimer(signal.ITIMER_PROF, self.cap, 0.05)
        started = time.thread_time()  # The process clock turns coarse while the alarm is set.
        try:
            self.armed = True
            result = call()
            self.armed = False
        except OverCap:
            return None, None
        finally:
            self.armed = False
            if self.available:
                signal.setitimer(signal.ITIMER_PROF, 0)
                signal.signal(signal.SIGPROF, previous)
        return time.thread_time() - started, result


def serve(app: Webhook, body: bytes) -> Callable[[], tuple[str, bytes]]:
    """A call that POSTs ``body`` to ``app`` and returns the status line and answer."""
    environ = dict(build_request(body, None).environ, **{"wsgi.input": io.BytesIO(body)})
    got: dict[str, str] = {}

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        got["status"] = status

    def call() -> tuple[str, bytes]:
        answer = b"".join(app(environ, start_response))
        return got["status"], answer
    return call


@dataclass
class Measure:
    """One case: its CPU seconds per request (none when the first one passed the cap)."""

    number: int
    name: str
    size: int
    times: list[float] = field(default_factory=list)
    over_cap: bool = False
    status: str = ""
    answer: Any = None

    @property
    def cpu(self) -> Optional[float]:
        return statistics.median(self.times) if self.times else None


@dataclass
class Settings:
    """How long each case may run."""

    cap: float = 5.0     # CPU seconds one request may take before it is stopped
    budget: float = 3.0  # CPU seconds a case may spend in all (at least one request)
    requests: int = 15   # requests at most per case (the reference gets three times as many)


def measure(app: Webhook, number: int, name: str, body: Callable[[int], bytes],
            settings: Settings, requests: int) -> Measure:
    """Serve new bodies until the budget or ``requests`` is reached; a cheap first request
    is a warm-up, a request past the cap ends the case."""
    timer, result = _Timer(settings.cap), Measure(number, name, 0)
    sizes, variant, warm = [], 0, False
    gc.collect()
    while len(result.times) < requests:
        data = body(variant)
        variant += 1
        spent, answer = timer.run(serve(app, data))
        result.size = result.size or len(data)
        if spent is None:
            result.over_cap = True
            result.times.clear()
            break
        if not warm:
            warm = True
            if spent < settings.budget / 10:
                continue
        sizes.append(len(data))
        result.times.append(spent)
        result.status, result.answer = answer[0], _answer(answer[1])
        if result.status.startswith("200") and result.answer != ANSWER:
            raise AssertionError(f"{name}: the handler's answer came back as {answer[1][:200]!r}")
        if sum(result.times) >= settings.budget:
            break
    if sizes:
        result.size = round(statistics.mean(sizes))
    return result


def _answer(body: bytes) -> Any:
    """The JSON answer (for error answers: their title and description)."""
    try:
        return json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace")


def run(settings: Settings, only: Optional[list[int]] = None) -> list[Measure]:
    """The reference first, then every hostile case (or those numbered in ``only``)."""
    app = build_app()
    logger = logging.getLogger("clustaar.webhook")  # One WARNING per refusal: kept quiet.
    quiet, propagate = logging.NullHandler(), logger.propagate
    logger.addHandler(quiet)
    logger.propagate = False
    try:
        for index in range(20):  # Warms the plan and the cleaned-text cache, as a live worker.
            serve(app, large_body(2 * 10**6 + index))()
        results = [measure(app, 0, REFERENCE, lambda v: large_body(10**6 + v), settings,
                           3 * settings.requests)]
        for number, case in enumerate(hostile.HOSTILE, 1):
            if only and number not in only:
                continue
            results.append(measure(app, number, case.name, case.body, settings,
                                   settings.requests))
            print(f"  {number:>2} {case.name}: {_cpu_text(results[-1], settings)} ms",
                  file=sys.stderr)
    finally:
        logger.removeHandler(quiet)
        logger.propagate = propagate
    return results


def _cpu_text(result: Measure, settings: Settings) -> str:
    return f"> {settings.cap * 1000:,.0f}" if result.cpu is None else f"{result.cpu * 1e3:,.2f}"


def rows(results: list[Measure], settings: Settings) -> list[dict[str, Any]]:
    """One row per case: CPU ms per request, µs per KB and × the reference's CPU per byte
    (for a case past the cap: at least the cap's)."""
    reference = results[0]
    per_byte = (reference.cpu or 0.0) / reference.size
    table = []
    for result in results:
        cpu = settings.cap if result.cpu is None else result.cpu
        description = result.answer.get("description") if isinstance(result.answer, dict) else None
        table.append({
            "case": result.number, "name": result.name, "bytes": result.size,
            "status": int(result.status[:3]) if result.status else None,
            "description": description, "requests": len(result.times) or int(result.over_cap),
            "over_cap": result.over_cap,
            "cpu_ms": None if result.cpu is None else round(cpu * 1e3, 3),
            "us_per_kb": round(cpu * 1e6 / (result.size / 1024), 1),
            "x_reference": round(cpu / result.size / per_byte, 1) if per_byte else None})
    return table


def target(table: list[dict[str, Any]]) -> dict[str, Any]:
    """The worst CPU per byte of the hostile cases against :data:`TARGET`."""
    worst = max(table[1:] or table, key=lambda row: row["x_reference"] or 0.0)
    bound = "> " if worst["over_cap"] else ""
    return {"worst_case": worst["case"], "worst_name": worst["name"],
            "x_reference": worst["x_reference"], "lower_bound": worst["over_cap"],
            "target": TARGET, "met": (worst["x_reference"] or 0.0) <= TARGET,
            "line": f"worst adversarial CPU per byte = {bound}{worst['x_reference']:,.1f}× the "
                    f"realistic large notification (target ≤ {TARGET:g}×)"}


def print_table(table: list[dict[str, Any]], verdict: dict[str, Any], settings: Settings) -> None:
    print("CPU per request (median), before the handler; × ref = CPU per byte / the reference's;")
    print(f"> : stopped at the {settings.cap:g} s CPU cap (a lower bound).")
    print(f"{'#':>2} {'case':<50} {'KB':>7} {'status':>6} {'reqs':>4} {'CPU ms/req':>11} "
          f"{'µs/KB':>10} {'× ref':>9}")
    for row in table:
        bound = "> " if row["over_cap"] else ""
        cpu = f"> {settings.cap * 1e3:,.0f}" if row["over_cap"] else f"{row['cpu_ms']:,.2f}"
        status = "-" if row["status"] is None else str(row["status"])
        print(f"{row['case']:>2} {row['name']:<50} {row['bytes'] / 1024:>7.1f} {status:>6} "
              f"{row['requests']:>4} {cpu:>11} {bound + format(row['us_per_kb'], ',.0f'):>10} "
              f"{bound + format(row['x_reference'], ',.1f'):>9}")
    refused = [row for row in table if row["status"] == 400]
    if refused:
        print("\nRefused with 400:")
        for row in refused:
            print(f"  {row['case']:>2} {row['description']}")
    print(f"\n[{'met' if verdict['met'] else 'MISSED'}] {verdict['line']}"
          f" - case {verdict['worst_case']}: {verdict['worst_name']}")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks adversarial", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON for machines")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    parser.add_argument("--quick", action="store_true", help="cap 1 s, a few requests a case")
    parser.add_argument("--cap", type=float, help="CPU seconds a request may take (default 5)")
    parser.add_argument("--case", type=int, action="append", metavar="N",
                        help="run only case N (repeatable; the reference always runs)")
    args = parser.parse_args(argv)
    settings = Settings(1.0, 0.5, 3) if args.quick else Settings()
    if args.cap:
        settings.cap = args.cap
    if not _Timer(settings.cap).available:
        print("no CPU-time timer here: requests are not capped", file=sys.stderr)
    results = run(settings, args.case)
    table = rows(results, settings)
    verdict = target(table)
    load = os.getloadavg()
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(),
               "load_average": load, "cap_seconds": settings.cap,
               "budget_seconds": settings.budget}
    if args.json:
        print(json.dumps({"cases": table, "target": verdict, "machine": machine}, indent=2,
                         ensure_ascii=False))
    else:
        print_table(table, verdict, settings)
        print(f"\nPython {machine['python']}, {machine['cpus']} CPUs, load average "
              f"{', '.join(f'{x:.2f}' for x in load)}; CPU cap "
              f"{settings.cap:g} s per request, {settings.budget:g} s per case")
    return 1 if args.check and not verdict["met"] else 0

