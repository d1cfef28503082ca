"""``python -m benchmarks concurrency`` runs and reports in the shape it promises.

The in-process part runs once with tiny counts; the real-server part is not started here
(``tests/test_asgi_servers.py`` covers the servers), but its WSGI contrast app is built
and answers as the example does. No timing is asserted.
"""
from __future__ import annotations

import contextlib
import io
import json
import pathlib
import sys
from typing import Any

import pytest

from benchmarks import bursts, concurrency, throughput
from benchmarks.servers import EXAMPLES
from clustaar.webhook.testing import TestClient, notification

ROWS = {(app, body) for app, _, _ in throughput.VARIANTS for body in ("small", "large")}


def test_in_process_part_reports_every_variant_on_both_bodies() -> None:
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(io.StringIO()):
        code = concurrency.main(["--quick", "--json", "--part", "inprocess", "--rounds", "1"])
    report = json.loads(output.getvalue())
    assert code == 0 and "bursts" not in report
    rows = report["inprocess"]
    assert {(row["app"], row["body"]) for row in rows} == ROWS and len(rows) == len(ROWS)
    for row in rows:
        assert row["us_per_request"] > 0 and row["requests_per_second"] > 0
        # The warm-up batch and one round.
        assert row["requests"] == 2 * getattr(concurrency.QUICK, f"{row['body']}_batch")
        if row["app"] == throughput.REFERENCE:
            assert row["x_webhook"] == 1.0
    assert len(report["inprocess_targets"]) == 4
    assert all(isinstance(check["met"], bool) for check in report["inprocess_targets"])
    assert set(report["thread_hop_us"]) == {"small", "large"}
    assert report["sizes"]["rounds"] == 1


def test_the_table_prints(capsys: pytest.CaptureFixture[str]) -> None:
    report = {"inprocess": [{"app": app, "body": body, "us_per_request": 10.0,
                             "requests_per_second": 100000, "x_webhook": 1.0,
                             "wall_us_per_request": 10.0} for app, body in sorted(ROWS)],
              "inprocess_targets": [{"target": "t", "measured": "1.00x", "met": True}],
              "thread_hop_us": {"small": 1.0, "large": 2.0},
              "sizes": vars(concurrency.QUICK),
              "machine": {"python": "3", "falcon": "4", "uvicorn": "0", "gunicorn": "2",
                          "cpus": 1, "load_average": (0.0, 0.0, 0.0),
                          "large_body_bytes": 1}}
    concurrency.print_report(report)
    printed = capsys.readouterr().out
    assert printed.startswith("2. In-process") and "[met] t: 1.00x" in printed


def test_the_wsgi_contrast_app_answers_as_the_example(
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "contrast.py"
    module.write_text(bursts.WSGI_MODULE)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    for name, value in {**bursts.ENV, "CLUSTAAR_EXAMPLE_DELAY": "0"}.items():
        monkeypatch.setenv(name, value)
    had_example = "async_bot" in sys.modules
    namespace: dict[str, Any] = {}
    try:
        exec(compile(module.read_text(), str(module), "exec"), namespace)
    finally:
        if not had_example:
            sys.modules.pop("async_bot", None)
    client = TestClient(namespace["app"])
    for number, step in enumerate((bursts.ASYNC_STEP, bursts.SYNC_STEP)):
        answer = client.send(notification(step_id=step, session_values={"n": number}))
        bursts.check(step, number, answer.status_code, answer.content)
    with pytest.raises(AssertionError):
        bursts.check(bursts.ASYNC_STEP, 7, answer.status_code, answer.content)


def test_burst_requests_are_signed_http_with_their_own_session() -> None:
    wire = bursts.build_requests(8000, bursts.ASYNC_STEP, 3, 5)
    assert [number for _, number in wire] == [5, 6, 7]
    for request, number in wire:
        head, body = request.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        assert lines[0] == "POST / HTTP/1.1" and int(headers["Content-Length"]) == len(body)
        assert headers["X-Hub-Signature"].startswith("sha1=") and "Date" in headers
        assert json.loads(body)["data"]["session"] == {"values": {"n": number}}
