"""The logging recipes of examples/: the JSON formatter, and both gunicorn configurations."""
from __future__ import annotations

import importlib.util
import json
import logging
import re
import tempfile
import time
from types import ModuleType
from typing import Any

import pytest
from support.logs import PERSONAL
from support.servers import SECRETS, Server, fresh_headers, notification, post

from benchmarks.servers import EXAMPLES, free_port, gunicorn, serve
from clustaar.webhook import Webhook

pytestmark = pytest.mark.usefixtures("both_apps")



def _load_formatter_module() -> ModuleType:
    """Import examples/json_logging.py (examples/ is not on the tests' path)."""
    spec = importlib.util.spec_from_file_location("json_logging", EXAMPLES / "json_logging.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


json_logging = _load_formatter_module()


def test_the_formatter_writes_the_extra_fields() -> None:
    record = logging.LogRecord("clustaar.webhook.notifications", logging.INFO, __file__, 1,
                               "notification %s", ("answered",), None)
    record.outcome, record.duration_ms = "answered", 1.5
    line = json.loads(json_logging.JSONFormatter().format(record))
    assert line["message"] == "notification answered"
    assert (line["level"], line["logger"], line["outcome"], line["duration_ms"]) == (
        "INFO", "clustaar.webhook.notifications", "answered", 1.5)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])
    assert "args" not in line and "msg" not in line


def test_the_formatter_writes_the_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert "ValueError: boom" in json.loads(json_logging.JSONFormatter().format(record))[
        "traceback"]


def _serve_and_log(*options: str) -> list[str]:
    port = free_port()
    with tempfile.TemporaryFile() as log:
        command = gunicorn(port, "bot:app", "--workers", "1", *options)
        with serve(command, port, env=SECRETS, output=log):
            body = notification(first_name=PERSONAL[0], values={"name": PERSONAL[0]})
            status, _, _ = post(Server(port, ""), body, fresh_headers(body))
            assert status == 200
            time.sleep(0.2)
        log.seek(0)
        return log.read().decode().splitlines()


@pytest.mark.server
def test_gunicorn_log_config_gives_timestamped_levelled_lines(both_apps: Any) -> None:
    lines = _serve_and_log("--log-config", str(EXAMPLES / "gunicorn_logging.conf"))
    pattern = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} \[\d+\] (INFO|WARNING|ERROR) ")
    assert lines and all(pattern.match(line) for line in lines), lines
    assert any("INFO clustaar.webhook: webhook started with signature with 1 key" in line
               for line in lines)
    assert any("INFO clustaar.webhook.notifications: notification answered with 200" in line
               for line in lines)
    assert not any(secret in line for line in lines for secret in PERSONAL)


@pytest.mark.server
def test_gunicorn_json_config_gives_json_lines_with_the_outcome(both_apps: Any) -> None:
    lines = _serve_and_log("-c", str(EXAMPLES / "gunicorn_json.py"))
    documents = [json.loads(line) for line in lines]
    [outcome] = [d for d in documents if d["logger"] == "clustaar.webhook.notifications"]
    assert {key: outcome[key] for key in ("level", "outcome", "status", "reason", "step_id")} == {
        "level": "INFO", "outcome": "answered", "status": 200, "reason": None,
        "step_id": "5c1b7a0e1a2b3c4d5e6f7a80"}
    assert outcome["handler"] == "bot.welcome_back" and outcome["duration_ms"] >= 0
    assert any(d["logger"] == "gunicorn.error" for d in documents)
    assert not any(secret in line for line in lines for secret in PERSONAL)


assert Webhook  # The module opts in to both apps like the others; the servers run bot.py.
