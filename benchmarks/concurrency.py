"""``python -m benchmarks concurrency``: what the ASGI app buys, and what it costs.

1. I/O-bound concurrency (:mod:`.bursts`): 100 notifications at once to handlers that wait
   0.5 s, under one real uvicorn worker serving ``examples/async_bot.py``, for its
   ``async def`` handler and its plain one (pool of 32 threads); for contrast, the same
   handlers on the WSGI ``Webhook`` under one sync gunicorn worker, on 20 notifications
   only (it answers them one after the other). Wall time until the last answer, min and
   median of 3 bursts.
2. In-process throughput (:mod:`.throughput`): CPU µs per request of ``AsyncWebhook``
   (plain and ``async def`` handler) against ``Webhook``, on the shipped vector and on
   distinct large notifications, secure configuration.

``--json`` prints the same as JSON; ``--quick`` is rough and short (one burst, 5 requests
to gunicorn, small batches); ``--part`` runs one part only.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Optional

from . import bursts, throughput
from .bodies import large_body


@dataclass(frozen=True)
class Sizes:
    """How much each part does."""

    requests: int = 100     # per burst, on uvicorn
    contrast: int = 20      # per burst, on the sync gunicorn worker
    runs: int = 3           # bursts per scenario
    rounds: int = 25        # interleaved rounds in-process
    small_batch: int = 400  # requests per batch, shipped vector
    large_batch: int = 40   # requests per batch, large notifications


QUICK = Sizes(contrast=5, runs=1, rounds=3, small_batch=50, large_batch=5)


def measure(sizes: Sizes, part: str) -> dict[str, Any]:
    """Run the parts asked for; their rows and targets, ready for JSON."""
    report: dict[str, Any] = {}
    if part in ("all", "servers"):
        table = bursts.rows(bursts.run(sizes.requests, sizes.runs, sizes.contrast))
        report["bursts"] = table
        report["burst_targets"] = [
            {"target": f"{row['requests']} at once, {row['scenario']}, {row['server']}: "
                       f"median < {row['target_s']:g} s",
             "measured": f"{row['median_s']:.3f} s", "met": row["met"]}
            for row in table if row["target_s"] is not None]
    if part in ("all", "inprocess"):
        cases = throughput.run(sizes.rounds, sizes.small_batch, sizes.large_batch)
        table = throughput.rows(cases)
        report["inprocess"] = table
        report["inprocess_targets"] = throughput.targets(table)
        report["thread_hop_us"] = throughput.thread_hop(table)
    report["sizes"] = vars(sizes)
    report["machine"] = _machine()
    return report


def _machine() -> dict[str, Any]:
    versions: dict[str, Optional[str]] = {}
    for name in ("falcon", "uvicorn", "gunicorn"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"python": platform.python_version(), **versions, "cpus": os.cpu_count(),
            "load_average": os.getloadavg(), "large_body_bytes": len(large_body(0))}


def _targets(checks: list[dict[str, Any]]) -> None:
    for check in checks:
        print(f"  [{'met' if check['met'] else 'MISSED'}] {check['target']}: {check['measured']}")


def print_report(report: dict[str, Any]) -> None:
    """The tables, their targets and the machine, for people."""
    if "bursts" in report:
        print(f"1. Concurrent notifications, each handler waiting {bursts.DELAY:g} s; wall "
              "seconds until the last answer (min / median of the bursts)")
        print(f"{'handler':<34} {'server':<24} {'reqs':>4} {'min s':>7} {'median s':>8} "
              f"{'slowest':>8} {'if serial':>9}")
        for row in report["bursts"]:
            print(f"{row['scenario']:<34} {row['server']:<24} {row['requests']:>4} "
                  f"{row['min_s']:>7.3f} {row['median_s']:>8.3f} {row['slowest_answer_s']:>8.3f} "
                  f"{row['serial_s']:>9.1f}")
        contrast = report["bursts"][-1]
        print(f"  (the sync gunicorn row gets {contrast['requests']} notifications, not "
              f"{report['bursts'][0]['requests']}: it serves them in turn, "
              f"{report['bursts'][0]['requests'] * bursts.DELAY:g} s a burst at 100; its "
              "replay window is widened so the last Date stays fresh)")
        _targets(report["burst_targets"])
    if "inprocess" in report:
        if "bursts" in report:
            print()
        print("2. In-process, secure config, echo handler: medians of CPU time per request "
              "(req/s: per core)")
        print(f"{'app':<32} {'body':<6} {'us/req':>9} {'req/s':>8} {'x Webhook':>10} "
              f"{'wall us':>9}")
        for row in report["inprocess"]:
            print(f"{row['app']:<32} {row['body']:<6} {row['us_per_request']:>9} "
                  f"{row['requests_per_second']:>8} {row['x_webhook']:>10.2f} "
                  f"{row['wall_us_per_request']:>9}")
        hop = report["thread_hop_us"]
        print(f"  (a def handler's trip through the pool: +{hop['small']} us small, "
              f"+{hop['large']} us large, over the async def handler)")
        _targets(report["inprocess_targets"])
    machine, sizes = report["machine"], report["sizes"]
    print(f"\nPython {machine['python']}, Falcon {machine['falcon']}, uvicorn "
          f"{machine['uvicorn']}, gunicorn {machine['gunicorn']}, {machine['cpus']} CPUs, "
          f"load average {', '.join(f'{x:.2f}' for x in machine['load_average'])}; "
          f"{sizes['runs']} bursts a scenario, {sizes['rounds']} in-process rounds, large body "
          f"{machine['large_body_bytes']} bytes")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks concurrency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs, rough figures")
    parser.add_argument("--json", action="store_true", help="print JSON for machines")
    parser.add_argument("--part", choices=("all", "servers", "inprocess"), default="all",
                        help="run only the real servers or only the in-process part")
    parser.add_argument("--rounds", type=int, help="in-process rounds (default 25, quick 3)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    if args.rounds:
        sizes = Sizes(**{**vars(sizes), "rounds": args.rounds})
    if not args.json:
        print("bursts to real servers, then in-process rounds...", file=sys.stderr, flush=True)
    report = measure(sizes, args.part)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0
