"""The public types let ``mypy --strict`` check a bot: attributes complete, mistakes fail."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

import clustaar.webhook

BOT = '''
from typing import Any
from clustaar.schemas.models import StepReachedResponse
from clustaar.webhook import AsyncWebhook, Webhook, events
from clustaar.webhook.types import Notification, Request, Response


def welcome(request: Request, response: Response, notification: Notification) -> Any:
    values: dict[str, Any] = notification.event.session.values
    values["seen"] = request.json["topic"] + str(len(request.body))
    name: str | None = notification.event.interlocutor.first_name
    return StepReachedResponse(actions=notification.event.step.actions,
                               session=notification.event.session)


async def later(request: Request, response: Response, notification: Notification) -> None:
    response.status = 204


app = Webhook()
app.on(events.CONVERSATION_STEP_REACHED, welcome)
asgi = AsyncWebhook()
asgi.on(events.CONVERSATION_STEP_REACHED, later)
'''


#: Where this clustaar.webhook is (an editable install hides it from mypy's search).
PACKAGE_ROOT = pathlib.Path(clustaar.webhook.__file__).resolve().parents[2]


def mypy(tmp_path: pathlib.Path, source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "typed_bot.py").write_text(textwrap.dedent(source))
    # clustaar.schemas is untyped: only its imports are let through untyped.
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--ignore-missing-imports", "typed_bot.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MYPYPATH": str(PACKAGE_ROOT)})


@pytest.mark.slow
def test_a_typed_bot_passes_mypy_strict_and_a_mistake_does_not(tmp_path: pathlib.Path) -> None:
    assert mypy(tmp_path, BOT).returncode == 0, mypy(tmp_path, BOT).stdout
    wrong = BOT.replace("interlocutor.first_name", "interlocutor.firstname")
    result = mypy(tmp_path, wrong)
    assert result.returncode == 1
    assert '"Interlocutor" has no attribute "firstname"' in result.stdout
