"""The applications the benchmark serves, and the answers each request must get.

* :func:`floor_app`: bare Falcon 4, reads the body and answers constant JSON;
* :func:`webhook` builds our ``Webhook``, plain or secure (signature + Basic auth +
  replay window on a fixed clock + a ``StepID`` filter), optionally on the stock
  ``clustaar.schemas`` loading path, optionally with 1,050 more routes;
* :func:`expected_answer` computes what the handler must send back straight from the
  request JSON and the stock string processors, never through a loader, so a broken
  loading path cannot look fast.
"""
from __future__ import annotations

from typing import Any, Callable

import falcon
from clustaar.schemas import processors, v1
from clustaar.schemas.models import SendTextAction, StepReachedResponse

from clustaar.webhook import Webhook, events
from clustaar.webhook.filters import JSONKeyEquals, StepID
from clustaar.webhook.invoke import BoundedPool
from clustaar.webhook.loading import MAPPER, LoadError, check_required
from clustaar.webhook.pipeline import Pipeline
from clustaar.webhook.rendering import Renderer

KEY = "benchmark-key"
USER, PASSWORD = "bot", "pa:ss:word"
#: The fixed clock of the replay window, and the Date every request carries.
NOW = 1795867200.0
FLOOR_ANSWER = b'{"actions":[],"session":null,"interlocutor":null}'


def floor_app() -> Callable[..., Any]:
    """The floor: bare Falcon reading the POSTed body and answering constant JSON."""
    class Resource:
        def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
            req.bounded_stream.read()
            resp.data = FLOOR_ANSWER
            resp.content_type = falcon.MEDIA_JSON

    app = falcon.App()
    app.add_route("/", Resource())
    return app


def handler(request: Any, response: Any, notification: Any) -> StepReachedResponse:
    """A typical bot answer: greet the visitor by name, note the step in the session."""
    event = notification.event
    name = event.interlocutor.first_name or "toi"
    event.session.values["last_step"] = event.step.id
    greeting = SendTextAction(alternatives=[f"Bonjour {name} !"], text=None)
    return StepReachedResponse(actions=[greeting], session=event.session, interlocutor=None)


def expected_answer(data: dict[str, Any]) -> Any:
    """The JSON :func:`handler` must answer to the notification ``data`` (computed directly)."""
    event = data["data"]
    first_name = event["interlocutor"].get("firstName")
    name = processors.unicode_normalize(processors.html_sanitize(first_name)) or "toi"
    values = dict(event["session"]["values"], last_step=event["step"]["id"])
    return {"actions": [{"type": "send_text_action", "alternatives": [f"Bonjour {name} !"]}],
            "session": {"values": values}, "interlocutor": None}


class StockLoader:
    """The stock loading path: the v1 mapper's ``load``, with our required-field checks and
    our error mapping (any failure becomes a 400 naming the notification)."""

    def load(self, data: dict[str, Any]) -> Any:
        check_required(data)
        try:
            return MAPPER.load(data, v1.WEBHOOK_REQUEST)
        except Exception as error:
            raise LoadError(("data",), "cannot be loaded") from error


def webhook(*, secure: bool, stock: bool = False, step_id: str = "",
            many_routes: str = "") -> Webhook:
    """Our webhook answering ``conversation.step_reached`` with :func:`handler`.

    ``secure``: signature, Basic auth, replay window and a ``StepID(step_id)`` filter.
    ``stock``: the benchmark swaps the loader for :class:`StockLoader` (only here).
    ``many_routes``: 1,000 routes on other topics and 50 routes on the same topic whose
    filters do not match, registered ``"before"`` the one that does (all 50 are tried:
    the worst case) or ``"after"`` it (none is tried).
    """
    if secure:
        app = Webhook(auth_username=USER, auth_password=PASSWORD, private_key=KEY,
                      clock=lambda: NOW)
    else:
        app = Webhook(request_max_age=None)
    for number in range(1000 if many_routes else 0):
        app.on(f"other.topic.{number}", handler, filters=StepID(step_id))
    if many_routes == "after":
        app.on(events.CONVERSATION_STEP_REACHED, handler, filters=StepID(step_id))
    for number in range(50 if many_routes else 0):
        app.on(events.CONVERSATION_STEP_REACHED, handler,
               filters=[StepID(f"{number:024x}"), JSONKeyEquals("data.channel", "web")])
    if many_routes != "after":
        app.on(events.CONVERSATION_STEP_REACHED, handler,
               filters=StepID(step_id) if secure else None)
    if stock:
        app.pipeline = Pipeline(checks=app.checks, router=app.router, loader=StockLoader(),
                                renderer=Renderer(MAPPER), pool=BoundedPool(1))
    return app

