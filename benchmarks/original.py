"""``python -m benchmarks original`` (``make bench-original``): ours against the original.

The original ``clustaar.webhook`` 0.1.7 (Falcon 3, ujson, lupin) and ours serve the same bot
(:mod:`benchmarks.bot`: secure configuration, a ``StepID`` route, a handler echoing the
step's actions and the session), in one interleaved run. This coordinator starts two worker
processes (:mod:`benchmarks.original_worker`): one in ``.venv-original`` serving the
original, one in our venv serving our ``Webhook``, our ``AsyncWebhook`` (``async def``
handler, ASGI on one event loop) and the bare Falcon 4 floor. Each round runs one batch of
every app on every body, in an order rotating from round to round, after one warm-up batch
each that does not count.

Bodies: "small" is the shipped vector (the same bytes every time); "large" is a new user
every request (:mod:`benchmarks.varied`, about 13 KB). In a round every app gets the same
large indexes (the original fewer of them, it is slower), and no index comes back in a
later round. Ours and the original must give the same answer, as parsed JSON, to every body
(sha256 of the canonical dump): the run fails loudly otherwise, and on any answer that is
not a JSON 200.

Figures are CPU µs per request in the worker (medians over rounds) and medians over rounds
of per-round ratios. ``--quick`` takes a few seconds, ``--json`` prints JSON, ``--profile
large|small`` profiles our ``Webhook`` in this process instead, ``--without-original``
runs ours only (the tests: the comparison is then missing).
"""
from __future__ import annotations

import argparse
import cProfile
import dataclasses
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Optional

from . import ablations
from . import original_worker as worker
from .bodies import STEP_ID

ORIGINAL_PYTHON = os.path.join(worker.ROOT, ".venv-original", "bin", "python")
LABELS = {"original": "original 0.1.7, Webhook", "webhook": "ours, Webhook",
          "async": "ours, AsyncWebhook", "floor": "floor (bare Falcon 4)"}
BODIES = ("small", "large")


@dataclass(frozen=True)
class Sizes:
    """Rounds and requests per batch (the original's batches are smaller: it is slower)."""

    rounds: int = 25
    small_batch: int = 200
    small_batch_original: int = 100
    large_batch: int = 20
    large_batch_original: int = 10

    def batch(self, app: str, body: str) -> int:
        suffix = "_original" if app == "original" else ""
        return int(getattr(self, f"{body}_batch{suffix}"))


QUICK = Sizes(rounds=3, small_batch=40, small_batch_original=20, large_batch=5,
              large_batch_original=3)


class Process:
    """One worker process, spoken to in JSON lines."""

    def __init__(self, python: str, side: str, ablations: bool = False) -> None:
        command = [python, "-m", "benchmarks.original_worker", side]
        if not ablations:
            command.append("--no-ablations")
        self.popen = subprocess.Popen(command,
                                      cwd=worker.ROOT, stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, encoding="utf-8")
        hello = self._read()
        self.ready: dict[str, Any] = hello["ready"]
        self.cases: list[str] = hello["cases"]

    def _read(self) -> dict[str, Any]:
        assert self.popen.stdout is not None
        line = self.popen.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.popen.args!r} ended (status {self.popen.wait()})")
        return json.loads(line)  # type: ignore[no-any-return]

    def batch(self, case: str, body: str, start: int, count: int) -> dict[str, Any]:
        assert self.popen.stdin is not None
        self.popen.stdin.write(json.dumps({"case": case, "body": body, "start": start,
                                           "count": count}) + "\n")
        self.popen.stdin.flush()
        reply = self._read()
        if "error" in reply:
            raise AssertionError(f"{case} on the {body} body failed:\n{reply['error']}")
        return reply

    def close(self) -> None:
        """Ask the worker to quit, wait for it, and close both pipes."""
        assert self.popen.stdin is not None and self.popen.stdout is not None
        try:
            if self.popen.poll() is None:
                self.popen.stdin.write(json.dumps({"quit": True}) + "\n")
                self.popen.stdin.flush()
        except BrokenPipeError:
            pass
        finally:
            self.popen.stdin.close()
            self.popen.wait(timeout=30)
            self.popen.stdout.close()


def _agree(answers: dict[tuple[str, int], dict[str, str]]) -> None:
    """Every body index got the same answer from every app that served it (not the floor)."""
    for (body, index), by_app in answers.items():
        if len(set(by_app.values())) > 1:
            raise AssertionError(f"the answers to the {body} body #{index} differ: {by_app}")


def run(sizes: Sizes, processes: list[Process]) -> dict[str, Any]:
    """The warm-up batches, then ``sizes.rounds`` interleaved rounds; every batch's CPU and
    wall µs per request, by (app, body), one per round."""
    owner = {case: process for process in processes for case in process.cases}
    names = [app for app in LABELS if app in owner] + sorted(set(owner) - set(LABELS))
    cases = [(app, body) for body in BODIES for app in names]
    slot = max(sizes.large_batch, sizes.large_batch_original)
    cpu: dict[tuple[str, str], list[float]] = {case: [] for case in cases}
    wall: dict[tuple[str, str], list[float]] = {case: [] for case in cases}
    for number in range(sizes.rounds + 1):  # Round 0 is the warm-up.
        shift = number % len(cases)
        answers: dict[tuple[str, int], dict[str, str]] = {}
        for app, body in cases[shift:] + cases[:shift]:
            start = 10**6 + number * slot if body == "large" else 0
            reply = owner[app].batch(app, body, start, sizes.batch(app, body))
            if number:
                cpu[(app, body)].append(reply["cpu_us"])
                wall[(app, body)].append(reply["wall_us"])
            if app != "floor":
                for offset, digest in enumerate(reply["hashes"]):
                    answers.setdefault((body, start + offset), {})[app] = digest
        _agree(answers)
    return {"cpu": cpu, "wall": wall}


def _ratio(cpu: dict[tuple[str, str], list[float]], top: str, bottom: str,
           body: str) -> Optional[float]:
    """The median over rounds of ``top``'s µs ÷ ``bottom``'s in the same round."""
    if (top, body) not in cpu or (bottom, body) not in cpu:
        return None
    return statistics.median(a / b for a, b in zip(cpu[(top, body)], cpu[(bottom, body)]))


def summarize(measured: dict[str, Any]) -> dict[str, Any]:
    """Rows of medians, the per-round ratios and the targets, ready for JSON."""
    cpu, wall = measured["cpu"], measured["wall"]
    rows = [{"app": label(app), "body": body, "us_per_request": round(statistics.median(t), 1),
             "wall_us_per_request": round(statistics.median(wall[(app, body)]), 1),
             "requests_per_second": round(1e6 / statistics.median(t))}
            for (app, body), t in cpu.items()]
    ratios: dict[str, dict[str, Optional[float]]] = {}
    for name, top, bottom in (("original / ours, Webhook", "original", "webhook"),
                              ("original / ours, AsyncWebhook", "original", "async"),
                              ("ours Webhook / floor", "webhook", "floor"),
                              ("AsyncWebhook / Webhook", "async", "webhook")):
        ratios[name] = {body: _ratio(cpu, top, bottom, body) for body in BODIES}
    ablated = {ablations.ABLATIONS[app[len(worker.ABLATED):]][0]:
               {body: _ratio(cpu, app, "webhook", body) for body in BODIES}
               for app, body in cpu if app.startswith(worker.ABLATED) and body == BODIES[0]}
    checks = []
    for ours in ("Webhook", "AsyncWebhook"):
        for body, bound in (("large", 30.0), ("small", 2.0)):
            ratio = ratios[f"original / ours, {ours}"][body]
            if ratio is not None:
                checks.append({"target": f"{body}: ours, {ours} >= {bound:g}x the original",
                               "measured": f"{ratio:.1f}x", "met": ratio >= bound})
    for body in BODIES:
        ratio = ratios["AsyncWebhook / Webhook"][body]
        if ratio is not None:
            checks.append({"target": f"{body}: AsyncWebhook within 1.3x of Webhook",
                           "measured": f"{ratio:.2f}x", "met": ratio <= 1.3})
    return {"rows": rows, "ratios": {name: {body: None if value is None else round(value, 2)
                                            for body, value in by_body.items()}
                                     for name, by_body in ratios.items()},
            "ablations": {idea: {body: None if value is None else round(value, 2)
                                 for body, value in by_body.items()}
                          for idea, by_body in ablated.items()},
            "targets": checks}


def label(app: str) -> str:
    """How the table names an app."""
    if app.startswith(worker.ABLATED):
        return "ours, without " + app[len(worker.ABLATED):]
    return LABELS[app]


def print_report(report: dict[str, Any]) -> None:
    """The table, the ratios, the targets and the versions, for people."""
    print("Medians over rounds of CPU µs per request in the worker (req/s: per core).")
    print(f"{'app':<34} {'body':<6} {'us/req':>9} {'req/s':>8} {'wall us':>9}")
    for row in report["rows"]:
        print(f"{row['app']:<34} {row['body']:<6} {row['us_per_request']:>9} "
              f"{row['requests_per_second']:>8} {row['wall_us_per_request']:>9}")
    print("\nMedians of per-round ratios of CPU µs per request:")
    for name, by_body in report["ratios"].items():
        shown = ", ".join(f"{body} {'n/a' if value is None else f'{value:g}x'}"
                          for body, value in by_body.items())
        print(f"  {name:<30} {shown}")
    if report["ablations"]:
        print("\nWhat each idea buys: ours without it / ours, medians of per-round ratios:")
        for idea, by_body in report["ablations"].items():
            shown = ", ".join(f"{body} {value:g}x" for body, value in by_body.items()
                              if value is not None)
            print(f"  {idea:<66} {shown}")
    if not report["with_original"]:
        print("\nThe comparison with the original is missing (--without-original).")
    print("\nTargets:")
    for check in report["targets"]:
        print(f"  [{'met' if check['met'] else 'MISSED'}] {check['target']}: {check['measured']}")
    machine = report["machine"]
    original = machine.get("original") or {}
    print(f"\nPython {machine['ours']['python']}, ours on Falcon {machine['ours']['falcon']}"
          + (f"; the original {original['clustaar.webhook']} on Falcon {original['falcon']},"
             f" ujson {original['ujson']}" if original else "")
          + f"; {machine['cpus']} CPUs, load average "
          + ", ".join(f"{x:.2f}" for x in machine["load_average"])
          + "; {rounds} rounds, batches of {small_batch} small ({small_batch_original} for the "
            "original), {large_batch} large ({large_batch_original})".format(**report["sizes"]))


def profile(body: str, sizes: Sizes, batches: int = 10) -> None:
    """cProfile of our ``Webhook`` on ``body`` in this process, top 30 by cumulative time."""
    from . import bot

    app = bot.build(worker.SMALL_STEP if body == "small" else STEP_ID)
    profiler, served = cProfile.Profile(), 0
    for number in range(batches + 1):
        date = formatdate(time.time(), usegmt=True)
        count = sizes.batch("webhook", body)
        batch = [(worker.environ_of(data, date), data)
                 for data in worker.bodies(body, 2 * 10**6 + number * count, count)]
        if number:  # Batch 0 warms up.
            served += count
            answers = profiler.runcall(worker.serve_wsgi, app, batch)
        else:
            answers = worker.serve_wsgi(app, batch)
        worker.check(f"webhook on {body}", answers)
    print(f"ours, Webhook on the {body} body, {served} requests")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks original", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few seconds, rough figures")
    parser.add_argument("--json", action="store_true", help="print JSON for machines")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 25, quick 3)")
    parser.add_argument("--profile", choices=BODIES, help="profile our Webhook on this body")
    parser.add_argument("--without-original", action="store_true",
                        help="ours only, no comparison (for the tests)")
    parser.add_argument("--no-ablations", action="store_true",
                        help="leave out our Webhook with one idea undone (benchmarks.ablations)")
    parser.add_argument("--original-python", default=ORIGINAL_PYTHON,
                        help="the original's venv python (default: .venv-original)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    if args.rounds:
        sizes = dataclasses.replace(sizes, rounds=args.rounds)
    if args.profile:
        profile(args.profile, sizes)
        return 0
    if not args.without_original and not os.path.exists(args.original_python):
        print(f"{args.original_python} is missing: run `make bench-original` (it builds it), "
              "or pass --without-original", file=sys.stderr)
        return 2
    processes: list[Process] = []
    try:
        processes.append(Process(sys.executable, "ours", ablations=not args.no_ablations))
        if not args.without_original:
            processes.append(Process(args.original_python, "original"))
        if not args.json:
            print(f"{sizes.rounds} interleaved rounds...", file=sys.stderr)
        report = summarize(run(sizes, processes))
    finally:
        for process in processes:
            process.close()
    report.update(with_original=not args.without_original, sizes=vars(sizes), machine={
        "ours": processes[0].ready,
        "original": processes[1].ready if len(processes) > 1 else None,
        "cpus": os.cpu_count(), "load_average": os.getloadavg()})
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
