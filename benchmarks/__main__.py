"""``python -m benchmarks`` (``make bench``): the whole WSGI app, in-process, one interleaved run.

Prints a table of medians (CPU µs per request and requests/s per core) with the ratios to
the floor and to the stock loading path, the issue's targets, and the peak memory of one
worker process. ``--json`` prints the same as JSON, with wall-clock medians too; ``--quick``
takes a few seconds; ``--profile N`` prints the top cProfile entries (by cumulative time) of
case number N (as numbered in the table) instead.

``python -m benchmarks adversarial`` runs the hostile-body benchmark instead (see
:mod:`benchmarks.adversarial`), ``python -m benchmarks concurrency`` the ASGI app against
real servers and against the WSGI app (see :mod:`benchmarks.concurrency`), ``python -m
benchmarks operations`` the cost of the records, metrics and spans (see
:mod:`benchmarks.operations`); ``make bench`` runs them all. ``python -m benchmarks
original`` (``make bench-original``, not part of ``make bench``: it needs the original's
venv) compares ours with the original clustaar.webhook 0.1.7 (see
:mod:`benchmarks.original`).
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
from typing import Any, Optional

import falcon

from . import apps, runner
from .bodies import STEP_ID, large_body


def _find(cases: list[runner.Case], name: str, body: str) -> runner.Case:
    return next(case for case in cases if case.name == name and case.body == body)


def summarize(cases: list[runner.Case]) -> list[dict[str, Any]]:
    """One row per case: median CPU µs/request, requests/s per core, × the floor, speed-up
    over the stock path (and the wall-clock median, for the JSON)."""
    rows = []
    for number, case in enumerate(cases, 1):
        floor = _find(cases, "floor (bare Falcon)", case.body).median
        stock_name = "stock " + case.name
        stock = next((c.median for c in cases if c.name == stock_name and c.body == case.body),
                     None)
        rows.append({"case": number, "app": case.name, "body": case.body,
                     "us_per_request": round(case.median, 1),
                     "wall_us_per_request": round(case.wall_median, 1),
                     "requests_per_second": round(1e6 / case.median),
                     "x_floor": round(case.median / floor, 2),
                     "speedup_vs_stock": None if stock is None else round(stock / case.median, 1),
                     "requests": case.served})
    return rows


def targets(cases: list[runner.Case]) -> list[dict[str, Any]]:
    """The issue's targets, measured."""
    def median(name: str, body: str) -> float:
        return _find(cases, name, body).median

    checks = []
    for label in ("plain", "secure"):
        ratio = median(f"stock {label}", "large") / median(label, "large")
        checks.append({"target": f"large, {label}: req/s >= 10x the stock path",
                       "measured": f"{ratio:.1f}x", "met": ratio >= 10})
    times_floor = median("secure", "small") / median("floor (bare Falcon)", "small")
    checks.append({"target": "small, secure: <= 5x the floor's us/request",
                   "measured": f"{times_floor:.1f}x", "met": times_floor <= 5})
    for body in ("small", "large"):
        cost = median("secure", body) - median("plain", body)
        checks.append({"target": f"{body}: secure minus plain <= 10 us",
                       "measured": f"{cost:.1f} us", "met": cost <= 10})
    for where, tried in (("before", "all 50 tried"), ("after", "none tried")):
        extra = median(f"secure, 1,050 routes ({where})", "small") / median("secure", "small") - 1
        checks.append({"target": f"1,000 other-topic + 50 filtered routes ({tried}) add <= ~10%",
                       "measured": f"{extra * 100:+.1f}%", "met": extra <= 0.10})
    return checks


def worker_memory(requests: int) -> dict[str, Any]:
    """Peak RSS of a fresh process that builds the secure app and serves ``requests``
    distinct large notifications (run with ``--memory-worker``)."""
    command = [sys.executable, "-m", "benchmarks", "--memory-worker", str(requests)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output)  # type: ignore[no-any-return]


def _peak_rss_mib() -> float:
    """This process's peak resident memory. Linux's VmHWM starts afresh at exec, whereas
    ru_maxrss keeps the parent's peak when the process was spawned from a big one."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _serve_for_memory(requests: int) -> None:
    app = apps.webhook(secure=True, step_id=STEP_ID)
    ready = _peak_rss_mib()
    for index in range(requests):  # One body at a time: a worker holds no pool.
        case = runner.Case("secure", "large", app, runner.large_requests(10**6 + index, 1), 1)
        case.run_batch()
    print(json.dumps({"requests": requests, "peak_rss_mib_ready": ready,
                      "peak_rss_mib_after": _peak_rss_mib()}))


def profile(cases: list[runner.Case], number: int, batches: int) -> None:
    """Print the top cProfile entries of one case."""
    case = cases[number - 1]
    case.run_batch()  # warm-up
    profiler = cProfile.Profile()

    def batches_of_case() -> None:
        for _ in range(batches):
            case.run_batch()

    profiler.runcall(batches_of_case)
    print(f"case {number}: {case.name} on the {case.body} body, {case.served} requests")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def print_table(rows: list[dict[str, Any]], checks: list[dict[str, Any]],
                memory: Optional[dict[str, Any]]) -> None:
    print("Medians of CPU time per request (req/s: per core); wall-clock medians in --json.")
    print(f"{'#':>2} {'app':<31} {'body':<6} {'us/req':>9} {'req/s':>8} {'x floor':>8} "
          f"{'vs stock':>9}")
    for row in rows:
        speedup = "" if row["speedup_vs_stock"] is None else f"{row['speedup_vs_stock']}x faster"
        print(f"{row['case']:>2} {row['app']:<31} {row['body']:<6} {row['us_per_request']:>9} "
              f"{row['requests_per_second']:>8} {row['x_floor']:>8} {speedup:>9}")
    print("\nTargets (issue 3):")
    for check in checks:
        print(f"  [{'met' if check['met'] else 'MISSED'}] {check['target']}: {check['measured']}")
    if memory:
        print(f"\nOne worker (secure app, {memory['requests']} distinct large notifications): "
              f"peak RSS {memory['peak_rss_mib_ready']} MiB when ready, "
              f"{memory['peak_rss_mib_after']} MiB after serving")


def main(argv: Optional[list[str]] = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["adversarial"]:
        from . import adversarial  # Only this run needs the hostile bodies.

        raise SystemExit(adversarial.main(argv[1:]))
    if argv[:1] == ["concurrency"]:
        from . import concurrency  # Starts servers: only on demand.

        raise SystemExit(concurrency.main(argv[1:]))
    if argv[:1] == ["operations"]:
        from . import operations  # Only this run needs the metrics and tracing extras.

        raise SystemExit(operations.main(argv[1:]))
    if argv[:1] == ["original"]:
        from . import original  # Starts a worker in the original's venv.

        raise SystemExit(original.main(argv[1:]))
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few seconds, rough figures")
    parser.add_argument("--json", action="store_true", help="print JSON for machines")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 25, quick 3)")
    parser.add_argument("--profile", type=int, metavar="N", help="profile case N instead")
    parser.add_argument("--memory-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_worker:
        _serve_for_memory(args.memory_worker)
        return
    rounds = args.rounds or runner.rounds_for(args.quick)
    cases = runner.build_cases(args.quick, rounds)
    if args.profile:
        profile(cases, args.profile, batches=min(rounds, 10))
        return
    if not args.json:
        print(f"{len(cases)} cases, {rounds} interleaved rounds...", file=sys.stderr)
    runner.run(cases, rounds)
    memory = worker_memory(50 if args.quick else 500)
    rows, checks = summarize(cases), targets(cases)
    load = os.getloadavg()
    machine = {"python": platform.python_version(), "falcon": falcon.__version__,
               "cpus": os.cpu_count(), "load_average": load}
    if args.json:
        print(json.dumps({"cases": rows, "targets": checks, "memory": memory,
                          "rounds": rounds, "machine": machine}, indent=2))
    else:
        print_table(rows, checks, memory)
        print(f"\nPython {machine['python']}, Falcon {machine['falcon']}, {machine['cpus']} CPUs, "
              f"load average {', '.join(f'{x:.2f}' for x in load)}; "
              f"{rounds} rounds, large body {len(large_body(0))} bytes")


if __name__ == "__main__":
    main()
