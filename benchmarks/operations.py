"""``python -m benchmarks operations``: what the records, metrics and spans cost per request.

The secure app (signature, Basic auth, replay window, a ``StepID`` filter) serves the small
and the large notification in-process, as ``python -m benchmarks`` does, in five set-ups:
all off (records below the logger's level, no metrics, no tracing: what an install without
the extras gets), each of the three alone, and all three on. Records on means the INFO
records are formatted and written (to ``/dev/null``); metrics on means prometheus_client
counts into a registry; tracing on means the OpenTelemetry SDK's tracer provider, with a
batch processor and an exporter that drops the spans (its thread's CPU counts too: this is
CPU time of the whole process). The cases run in interleaved rounds; the table gives the
median CPU µs per request and the ratio to all off.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from clustaar.webhook.metrics import Metrics

from . import apps, runner
from .bodies import STEP_ID

LOGGER = logging.getLogger("clustaar.webhook")
SETUPS = ("none", "records", "metrics", "tracing", "all")


class Dropping(SpanExporter):
    """Exports nowhere: the cost measured is ours and the SDK's, not a collector's."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def install_tracing() -> None:
    """The SDK's provider (the process's, if one is set already) with a batch processor."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(BatchSpanProcessor(Dropping()))


def install_records() -> None:
    """A handler formatting every record as the logging recipe does, to /dev/null."""
    handler = logging.StreamHandler(open(os.devnull, "w"))
    handler.setFormatter(logging.Formatter(
        "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"))
    LOGGER.addHandler(handler)
    LOGGER.propagate = False


@dataclass
class SetupCase(runner.Case):
    """A case whose batches run with the logger at its set-up's level."""

    level: int = logging.WARNING

    def run_batch(self) -> None:
        LOGGER.setLevel(self.level)
        super().run_batch()


def app_for(setup: str, step_id: str) -> Any:
    """The secure app with ``setup``'s operations on."""
    app = apps.webhook(secure=True, step_id=step_id)
    if setup in ("metrics", "all"):
        app.metrics = Metrics()
        app.outcomes.recorders = (app.metrics,)
    if setup not in ("tracing", "all"):
        app.outcomes.tracing = None
    return app


def build_cases(quick: bool, rounds: int) -> list[runner.Case]:
    scale = 1 if quick else 4
    small = runner.small_requests()
    large = runner.large_requests(0, 10 * scale * (rounds + 1))
    cases: list[runner.Case] = []
    for body, requests, batch, step in (("small", small, 100 * scale, runner.SMALL_STEP),
                                        ("large", large, 10 * scale, STEP_ID)):
        for setup in SETUPS:
            level = logging.INFO if setup in ("records", "all") else logging.WARNING
            cases.append(SetupCase(setup, body, app_for(setup, step), requests, batch,
                                   level=level))
    return cases


def summarize(cases: list[runner.Case]) -> list[dict[str, Any]]:
    rows = []
    for case in cases:
        none = next(c for c in cases if c.name == "none" and c.body == case.body).median
        rows.append({"setup": case.name, "body": case.body,
                     "us_per_request": round(case.median, 1),
                     "ratio_to_none": round(case.median / none, 3)})
    return rows


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks operations",
                                     description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few seconds, rough figures")
    parser.add_argument("--json", action="store_true", help="print JSON for machines")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 25, quick 3)")
    args = parser.parse_args(argv)
    rounds = args.rounds or runner.rounds_for(args.quick)
    install_records()
    install_tracing()
    cases = build_cases(args.quick, rounds)
    if not args.json:
        print(f"{len(cases)} cases, {rounds} interleaved rounds...", file=sys.stderr)
    runner.run(cases, rounds)
    rows = summarize(cases)
    if args.json:
        print(json.dumps({"cases": rows, "rounds": rounds}, indent=2))
        return 0
    print("Medians of CPU time per request, secure app; ratio to all off.")
    print(f"{'set-up':<10} {'body':<6} {'us/req':>9} {'x none':>8}")
    for row in rows:
        print(f"{row['setup']:<10} {row['body']:<6} {row['us_per_request']:>9} "
              f"{row['ratio_to_none']:>8}")
    return 0
