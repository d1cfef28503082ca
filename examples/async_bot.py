"""An example ASGI bot whose handlers wait on I/O: ``uvicorn --app-dir examples async_bot:app``.

One handler is a coroutine (it awaits a simulated CRM call), one is plain (it sleeps in a
thread of the app's pool): under one uvicorn worker, many notifications wait at once.
``CLUSTAAR_EXAMPLE_DELAY`` (seconds, default 0) sets how long each one waits. Secrets come
from the same variables as ``bot.py``.
"""
from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import bot
from clustaar.schemas.models import SendTextAction, StepReachedResponse

from clustaar.webhook import AsyncWebhook, events
from clustaar.webhook.filters import StepID

ASYNC_STEP = "5c1b7a0e1a2b3c4d5e6f7a90"
SYNC_STEP = "5c1b7a0e1a2b3c4d5e6f7a91"


def create_app(environ: Any = os.environ) -> AsyncWebhook:
    """Build the bot from the environment (unset or empty variables turn a check off)."""
    app = AsyncWebhook(**bot.secrets(environ))
    delay = float(environ.get("CLUSTAAR_EXAMPLE_DELAY") or 0)

    async def from_crm(request: Any, response: Any, notification: Any) -> StepReachedResponse:
        """Looks the visitor up in a (simulated) CRM without blocking the event loop."""
        await asyncio.sleep(delay)
        return _answer(notification, "async")

    def from_legacy_client(request: Any, response: Any,
                           notification: Any) -> StepReachedResponse:
        """Calls a blocking client: it runs in the app's thread pool."""
        time.sleep(delay)
        return _answer(notification, "sync")

    app.on(events.CONVERSATION_STEP_REACHED, from_crm, filters=StepID(ASYNC_STEP))
    app.on(events.CONVERSATION_STEP_REACHED, from_legacy_client, filters=StepID(SYNC_STEP))
    return app


def _answer(notification: Any, kind: str) -> StepReachedResponse:
    text = SendTextAction(alternatives=[f"Answered by the {kind} handler."])
    return StepReachedResponse(actions=[text], session=notification.event.session)


app = create_app()
