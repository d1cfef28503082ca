"""``python -m benchmarks operations`` builds the set-ups it claims, and they answer right.

No timing is asserted here: one quick round checks every answer and the table's shape.
"""
from __future__ import annotations

import logging

from benchmarks import operations, runner


def test_every_setup_has_what_it_names_on() -> None:
    for setup in operations.SETUPS:
        app = operations.app_for(setup, runner.SMALL_STEP)
        assert (app.outcomes.tracing is not None) == (setup in ("tracing", "all"))
        assert bool(app.outcomes.recorders) == (setup in ("metrics", "all"))


def test_one_quick_round_answers_every_request_and_gives_ratios() -> None:
    cases = operations.build_cases(quick=True, rounds=1)
    assert {(case.name, case.body) for case in cases} == {
        (setup, body) for setup in operations.SETUPS for body in ("small", "large")}
    assert {case.name: case.level for case in cases  # type: ignore[attr-defined]
            } == {"none": logging.WARNING, "records": logging.INFO,
                  "metrics": logging.WARNING, "tracing": logging.WARNING, "all": logging.INFO}
    try:
        runner.run(cases, 1)  # Every answer is checked after its batch.
    finally:
        operations.LOGGER.setLevel(logging.NOTSET)
    rows = operations.summarize(cases)
    assert [row["ratio_to_none"] for row in rows if row["setup"] == "none"] == [1.0, 1.0]
    assert all(row["us_per_request"] > 0 for row in rows)
    metrics = next(case for case in cases if case.name == "metrics").app.metrics
    assert metrics.registry.get_sample_value(
        "clustaar_webhook_notifications_total",
        {"outcome": "answered", "handler": "benchmarks.apps.handler"}) >= 1
