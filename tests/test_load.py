"""The load generator: a 10-second run against gunicorn must pass, and its verdict must bite."""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from typing import Any

import pytest

from benchmarks import load

pytestmark = [pytest.mark.soak, pytest.mark.server]

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run_cli(*args: str) -> tuple[int, dict[str, Any]]:
    """``python -m benchmarks.load ... --json``, as ``make soak`` runs it."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.load", *args, "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    return done.returncode, json.loads(done.stdout)


def test_ten_second_run_passes() -> None:
    code, summary = run_cli("--seconds", "10")
    assert (code, summary["failures"]) == (0, []), summary
    assert 9.5 <= summary["seconds"] < 30
    statuses = {int(status): count for status, count in summary["statuses"].items()}
    assert sum(statuses.values()) == summary["requests"] > 100
    # Half the mix is valid, and every kind of rejection came back as its own 4xx.
    assert statuses[200] >= summary["requests"] // 2 - 4
    assert {400, 403, 404, 405} <= set(statuses) <= {200, 400, 403, 404, 405}
    # contract §3: one WARNING per rejected request, and no secret in the server's log.
    assert summary["rejection_warnings"] == summary["requests"] - statuses[200]
    assert summary["leaks"] == [] and summary["errors"] == {}
    assert 0 < summary["p50_ms"] <= summary["p99_ms"]
    assert summary["requests_per_second"] == pytest.approx(
        summary["requests"] / summary["seconds"], rel=0.01)


def test_max_requests_bounds_the_run() -> None:
    code, summary = run_cli("--seconds", "60", "--max-requests", "24", "--threads", "2")
    assert (code, summary["requests"]) == (0, 24)
    assert summary["statuses"]["200"] == 12  # The mix is cycled: 6 valid requests in 12.


def _summary(**changes: Any) -> dict[str, Any]:
    results = load.Results()
    results.record("valid", 200, 0.001)
    results.record("stale", 400, 0.002)
    summary = {**results.summary(), "leaks": [], **changes}
    return summary


@pytest.mark.parametrize("kind, status", [("valid", 400), ("valid", 204), ("valid", 500),
                                          ("stale", 200), ("stale", 500), ("get", 302)])
def test_an_unexpected_answer_fails_the_run(kind: str, status: int) -> None:
    results = load.Results()
    results.record("valid", 200, 0.001)
    results.record(kind, status, 0.001)
    failures = load.verdict({**results.summary(), "leaks": []})
    assert failures == [f"unexpected answers {{'{kind}: {status}': 1}}"]


def test_errors_leaks_and_silence_fail_the_run() -> None:
    assert load.verdict(_summary()) == []
    assert load.verdict(_summary(errors={"ConnectionResetError": 1}))
    assert load.verdict(_summary(leaks=["password"]))
    assert load.verdict(_summary(requests=0))


def test_leaks_finds_each_secret() -> None:
    keys = load.Secrets()
    token = keys.authorization().partition(" ")[2]
    assert load.leaks("worker booted; rejected POST / with status 403", keys) == []
    assert load.leaks(f"key={keys.key} auth={token}", keys) == ["private key", "Authorization"]
    assert load.leaks(f"...{keys.password}...", keys) == ["password"]
