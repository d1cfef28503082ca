"""Types for bot authors: what a handler and a filter receive, for editors and ``mypy``.

``clustaar.schemas`` builds its models at run time, untyped; the Protocols below describe
the attributes of a ``conversation.step_reached`` notification as the loader fills them,
so ``notification.event.session.values`` completes and a misspelt attribute is an error::

    from clustaar.webhook.types import Notification, Request, Response

    def welcome(request: Request, response: Response, notification: Notification) -> None:
        name = notification.event.interlocutor.first_name
"""
from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Callable, Optional, Protocol, Union

from .messages import AsyncRequest, AsyncResponse
from .messages import Request as SyncRequest
from .messages import Response as SyncResponse

#: The request a handler gets (``request.json`` and ``request.body`` are always set).
Request = Union[SyncRequest, AsyncRequest]
#: The response a handler may set a status, headers or a body on.
Response = Union[SyncResponse, AsyncResponse]


class Session(Protocol):
    """The conversation's session: ``values`` may be changed and sent back."""

    values: dict[str, Any]


class Interlocutor(Protocol):
    """The end user the bot talks to (personal data: never log it)."""

    id: str
    external_id: Optional[str]
    remote_id: Optional[str]
    email: Optional[str]
    first_name: Optional[str]
    last_name: Optional[str]
    phone_number: Optional[str]
    custom_attributes: Optional[dict[str, Any]]
    is_logged: Optional[bool]
    used_to_test: Optional[bool]
    location: Any


class Step(Protocol):
    """The step of the scenario the conversation reached, and its configured actions."""

    id: str
    name: Optional[str]
    user_data: Optional[str]
    actions: list[Any]


class StepReached(Protocol):
    """The event of a ``conversation.step_reached`` notification."""

    step: Step
    session: Session
    interlocutor: Interlocutor
    channel: Optional[str]
    input: Any


class Notification(Protocol):
    """A notification as handlers receive it (a ``clustaar.schemas`` ``WebhookRequest``)."""

    topic: str
    bot_id: Optional[str]
    timestamp: Optional[int]
    event: StepReached


#: A handler: ``def`` or ``async def``, returning a model, JSON-ready data, or ``None``.
Handler = Callable[[Any, Any, Any], Union[Any, Awaitable[Any]]]
#: A filter: takes the request (or, for the built-in filters, the parsed JSON) and says yes.
Filter = Callable[[Any], Any]
