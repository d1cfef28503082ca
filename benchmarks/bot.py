"""The one bot both sides of ``python -m benchmarks original`` serve.

It uses only the API the original ``clustaar.webhook`` 0.1.7 and ours share: ``Webhook``
with a private key and Basic credentials, ``events``, the ``StepID`` filter, and a handler
returning a ``StepReachedResponse``. So it imports and answers alike in the original's venv
(Falcon 3, ujson, lupin) and in ours. The handler echoes the step's actions and the
session: loading and rendering the whole notification both count, as in a real bot.

The replay window is each library's default (10 s against the ``Date`` header, wall
clock): the workers date every request just before timing its batch.
"""
from __future__ import annotations

from typing import Any

from clustaar.schemas.models import StepReachedResponse

from clustaar.webhook import Webhook, events
from clustaar.webhook.filters import StepID

KEY = "benchmark-key"
#: No ``:`` in the password: the original splits the decoded credentials on every colon and
#: refuses (403) anything but exactly two parts, where ours splits on the first one only.
USER, PASSWORD = "bot", "pass-word"


def echo(request: Any, response: Any, notification: Any) -> Any:
    """Answer with the step's actions and the session of the notification."""
    return StepReachedResponse(actions=notification.event.step.actions,
                               session=notification.event.session)


async def echo_async(request: Any, response: Any, notification: Any) -> Any:
    """:func:`echo` as a coroutine (same body), for ``AsyncWebhook``."""
    return StepReachedResponse(actions=notification.event.step.actions,
                               session=notification.event.session)


def build(step_id: str) -> Any:
    """The secure ``Webhook`` answering ``conversation.step_reached`` on ``step_id``.

    ``filters`` is a list: the original's routes iterate over it (ours takes both).
    """
    app = Webhook(private_key=KEY, auth_username=USER, auth_password=PASSWORD)
    app.on(events.CONVERSATION_STEP_REACHED, echo, filters=[StepID(step_id)])
    return app


def build_async(step_id: str) -> Any:
    """Our ``AsyncWebhook`` twin of :func:`build`, with the ``async def`` echo (ours only:
    the original has no ASGI app, hence the late import)."""
    from clustaar.webhook import AsyncWebhook

    app = AsyncWebhook(private_key=KEY, auth_username=USER, auth_password=PASSWORD)
    app.on(events.CONVERSATION_STEP_REACHED, echo_async, filters=[StepID(step_id)])
    return app
