"""An example bot: greets visitors by name and counts their visits.

Serve it with ``make run`` (gunicorn on 127.0.0.1:8000). Its secrets come from
the environment; an unset variable turns that check off:

* ``CLUSTAAR_WEBHOOK_PRIVATE_KEY`` — the key the platform signs requests with;
* ``CLUSTAAR_WEBHOOK_AUTH_USERNAME`` and ``CLUSTAAR_WEBHOOK_AUTH_PASSWORD`` —
  the Basic credentials set in the bot's webhook configuration.
"""
from __future__ import annotations

import os
from typing import Any

from clustaar.schemas.models import SendTextAction, StepReachedResponse

from clustaar.webhook import Webhook, events
from clustaar.webhook.filters import JSONKeyExists, JSONKeyIn, StepID

#: Step ids of the bot's scenario, as shown in the Clustaar editor.
WELCOME_STEP = "5c1b7a0e1a2b3c4d5e6f7a80"
GOODBYE_STEP = "5c1b7a0e1a2b3c4d5e6f7a81"

#: The session value the bot keeps the visitor's name in.
NAME = "data.session.values.name"


def secrets(environ: Any = os.environ) -> dict[str, Any]:
    """The webhook's secrets from the environment (unset or empty variables: ``None``)."""
    return {"auth_username": environ.get("CLUSTAAR_WEBHOOK_AUTH_USERNAME") or None,
            "auth_password": environ.get("CLUSTAAR_WEBHOOK_AUTH_PASSWORD") or None,
            "private_key": environ.get("CLUSTAAR_WEBHOOK_PRIVATE_KEY") or None}


def create_app(environ: Any = os.environ) -> Webhook:
    """Build the bot from the environment (unset or empty variables turn a check off)."""
    app = Webhook(**secrets(environ))
    # A returning visitor's session already holds a name (a null or empty one is
    # no name): greet them with it.
    app.on(events.CONVERSATION_STEP_REACHED, welcome_back,
           filters=StepID(WELCOME_STEP) & JSONKeyExists(NAME) & ~JSONKeyIn(NAME, [None, ""]))
    app.on(events.CONVERSATION_STEP_REACHED, welcome, filters=StepID(WELCOME_STEP))
    app.on(events.CONVERSATION_STEP_REACHED, goodbye, filters=StepID(GOODBYE_STEP))
    return app


def _visits(notification: Any) -> int:
    """Count this visit in the session and return the new count."""
    values = notification.event.session.values
    count = values.get("visits", 0)
    values["visits"] = (count if isinstance(count, int) else 0) + 1
    return values["visits"]  # type: ignore[no-any-return]


def welcome(request: Any, response: Any, notification: Any) -> StepReachedResponse:
    """First visit: say hello, then play the step's own actions."""
    _visits(notification)
    name = notification.event.interlocutor.first_name or "there"
    notification.event.session.values["name"] = name
    hello = SendTextAction(alternatives=[f"Hello {name}!"])
    return StepReachedResponse(actions=[hello] + list(notification.event.step.actions),
                               session=notification.event.session)


def welcome_back(request: Any, response: Any, notification: Any) -> StepReachedResponse:
    """A known visitor: greet them by the name kept in the session."""
    visits = _visits(notification)
    name = notification.event.session.values["name"]
    text = SendTextAction(alternatives=[f"Welcome back {name}! This is visit number {visits}."])
    return StepReachedResponse(actions=[text], session=notification.event.session)


def goodbye(request: Any, response: Any, notification: Any) -> StepReachedResponse:
    """Say goodbye and forget the visitor's name."""
    values = notification.event.session.values
    name = values.pop("name", None)
    text = SendTextAction(alternatives=[f"Goodbye {name}!" if name else "Goodbye!"])
    return StepReachedResponse(actions=[text], session=notification.event.session)


app = create_app()
