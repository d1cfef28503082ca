"""A bot author's own test suite passes under ``-W error`` with the README's warning filters.

A tiny bot project is written to a temporary folder and its tests run in a pytest
subprocess, on the installed clustaar.webhook, the way its author would run them.
"""
from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BIN = pathlib.Path(sys.executable).parent

BOT = '''\
from clustaar.schemas.models import SendTextAction, StepReachedResponse

from clustaar.webhook import Webhook, events
from clustaar.webhook.filters import StepID


def hello(request, response, notification):
    name = notification.event.interlocutor.first_name
    return StepReachedResponse(actions=[SendTextAction(alternatives=[f"Hi {name}!"])],
                               session=notification.event.session)


app = Webhook(private_key="bot-key")
app.on(events.CONVERSATION_STEP_REACHED, hello, filters=StepID("5c1b7a0e1a2b3c4d5e6f7a80"))
'''

BOT_TESTS = '''\
import bot
from clustaar.webhook.testing import TestClient, call, notification

STEP = "5c1b7a0e1a2b3c4d5e6f7a80"


def test_hello_greets():
    result = call(bot.hello, notification(step_id=STEP, interlocutor={"firstName": "Ada"}))
    assert result.actions[0].alternatives == ["Hi Ada!"]


def test_the_webhook_answers_signed_requests():
    client = TestClient(bot.app)
    assert client.send(notification(step_id=STEP)).status_int == 200
    assert client.send(notification(step_id=STEP), sign=False).status_int == 400
'''


def readme_block(language: str, start: str) -> str:
    """The README's ``language`` block whose text starts with ``start``."""
    blocks = re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    return next(block for block in blocks if block.startswith(start))


@pytest.fixture
def project(tmp_path: pathlib.Path) -> pathlib.Path:
    """The bot project, with a pytest.ini that sets nothing (it pins pytest's rootdir)."""
    (tmp_path / "bot.py").write_text(BOT)
    (tmp_path / "test_bot.py").write_text(BOT_TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    return tmp_path


def run(project: pathlib.Path, command: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in the project, free of this suite's own warning settings."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("PYTHONWARNINGS", "PYTEST_ADDOPTS", "PYTHONPATH")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def assert_clean_pass(result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"\b2 passed in\b", output), output
    assert "warning" not in output.lower(), output  # Nothing left to show either.


def test_without_filters_the_dependencies_warnings_fail_the_run(project: pathlib.Path) -> None:
    result = run(project, [sys.executable, "-m", "pytest", "-W", "error", "-p", "no:cacheprovider"])
    assert result.returncode != 0
    assert "DeprecationWarning: pkg_resources is deprecated as an API" in result.stdout


def test_the_documented_ini_filters_keep_every_other_warning_an_error(project: pathlib.Path) -> None:
    ini = readme_block("ini", "[pytest]\nfilterwarnings =\n    error\n")
    (project / "pytest.ini").write_text(ini)
    assert_clean_pass(run(project, [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]))
    assert_clean_pass(run(project, [sys.executable, "-W", "error", "-m", "pytest",
                                    "-p", "no:cacheprovider"]))

    # The filters are no blanket: a warning of the bot's own still fails its tests.
    (project / "test_own_warning.py").write_text(
        "import warnings\n\ndef test_warns():\n    warnings.warn('mine', DeprecationWarning)\n")
    result = run(project, [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"])
    assert result.returncode == 1 and "DeprecationWarning: mine" in result.stdout


def test_the_documented_command_line_passes_with_w_error(project: pathlib.Path) -> None:
    command = readme_block("sh", "pytest -W error ")
    assert_clean_pass(run(project, ["bash", "-c", command.rstrip() + " -p no:cacheprovider"]))
