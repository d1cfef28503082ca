"""Test kit for bot authors: build, sign and send notifications without the platform.

* :func:`notification` builds a realistic ``conversation.step_reached`` notification;
* :func:`sign` computes the ``X-Hub-Signature`` value the platform would send;
* :class:`TestClient` posts to a :class:`~clustaar.webhook.Webhook` through the whole
  pipeline, with a fresh Date, signature and Basic credentials;
* :func:`call` runs one handler directly, with the arguments the framework builds.

Only :class:`TestClient` needs ``webtest`` (the ``testing`` extra); the rest runs anywhere.
"""
from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Mapping
from email.utils import formatdate
from typing import Any, Optional, Union

import falcon.testing
from lupin.errors import MissingMapping

from . import events
from .dumping import Dumper
from .loading import NotificationLoader
from .messages import Request, Response
from .payload import parse
from .routing import Handler
from .signature import ALGORITHMS, HEADER, digest
from .webhook import Webhook

__all__ = ["TestClient", "basic_auth", "call", "dump", "encode", "http_date", "notification",
           "platform_headers", "sign"]

#: A notification to send: a JSON-ready dict, a ``clustaar.schemas`` model, or exact bytes.
Payload = Union[Mapping[str, Any], bytes, Any]

#: Fixed ids in the platform's format (24-hex ObjectIDs), so test output is reproducible.
DEFAULT_BOT_ID = "5c1b7a0e1a2b3c4d5e6f7000"
DEFAULT_STEP_ID = "5c1b7a0e1a2b3c4d5e6f7001"
DEFAULT_INTERLOCUTOR_ID = "5c1b7a0e1a2b3c4d5e6f7002"

_LOADER = NotificationLoader()
#: Dumps models as the framework does, without registering anything in the shared mapper.
_DUMPER = Dumper()


def _default_interlocutor() -> dict[str, Any]:
    """A complete interlocutor, as the platform describes a known web visitor."""
    return {
        "id": DEFAULT_INTERLOCUTOR_ID,
        "userID": "5c1b7a0e1a2b3c4d5e6f7003",
        "externalID": None,
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada@example.com",
        "phoneNumber": None,
        "customAttributes": {},
        "location": {"lat": 48.8566, "long": 2.3522},
        "isLogged": False,
        "usedToTest": True,
    }


def dump(value: Any) -> Any:
    """``value`` as plain JSON data, ``clustaar.schemas`` models dumped as the framework does.

    Handy to compare a handler's result with the JSON the platform would get.
    """
    return json.loads(encode(value))


def notification(*, step_id: str = DEFAULT_STEP_ID, step_name: str = "Welcome",
                 actions: Iterable[Any] = (), session_values: Optional[Mapping[str, Any]] = None,
                 interlocutor: Optional[Mapping[str, Any]] = None, channel: str = "web",
                 input: Any = None, bot_id: str = DEFAULT_BOT_ID,
                 topic: str = events.CONVERSATION_STEP_REACHED,
                 timestamp: Optional[int] = None) -> dict[str, Any]:
    """A JSON-ready notification of a conversation reaching a step.

    ``actions`` and ``input`` may be ``clustaar.schemas`` models or dicts;
    ``interlocutor`` holds overrides (JSON names, e.g. ``{"firstName": "Tintin"}``)
    over a complete default visitor; ``input=None`` leaves the key out, as for a
    step reached without a user message. The result is a fresh copy of everything
    given, so a handler mutating it cannot change the caller's data.
    """
    data: dict[str, Any] = {
        "type": "step_reached_event",
        "channel": channel,
        "interlocutor": {**_default_interlocutor(), **(interlocutor or {})},
        "session": {"values": dict(session_values or {})},
        "step": {"id": step_id, "name": step_name, "userData": "{}", "actions": list(actions)},
    }
    if input is not None:
        data["input"] = input
    document = {
        "topic": topic,
        "botID": bot_id,
        "timestamp": int(time.time()) if timestamp is None else timestamp,
        "type": "notification_event",
        "data": data,
    }
    result: dict[str, Any] = dump(document)
    return result


def encode(payload: Payload) -> bytes:
    """The body for ``payload``: bytes as they are, anything else as JSON (models dumped)."""
    if isinstance(payload, bytes):
        return payload
    return json.dumps(payload, default=_dump_model, allow_nan=False).encode()


def _dump_model(value: Any) -> Any:
    """JSON data of a ``clustaar.schemas`` model; ``TypeError`` for anything else, as json says."""
    try:
        return _DUMPER.dump(value)
    except MissingMapping:
        raise TypeError(f"{type(value).__name__} objects are not JSON serializable") from None


def sign(body: bytes, private_key: str, date: Optional[str] = None,
         algorithm: str = "sha1") -> str:
    """The ``X-Hub-Signature`` value the platform sends for ``body`` and ``date``.

    ``date`` is the request's Date header; ``None`` (no header) signs the text
    ``None``, as the platform's signer does.
    """
    name = algorithm.lower()
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r} (should be one of {list(ALGORITHMS)})")
    return f"{name}={digest(private_key, body, date, name)}"


def http_date(timestamp: Optional[float] = None) -> str:
    """An RFC 9110 HTTP date (IMF-fixdate) for ``timestamp``, default now."""
    return formatdate(time.time() if timestamp is None else timestamp, usegmt=True)


def basic_auth(username: str, password: str) -> str:
    """An ``Authorization`` header value for Basic credentials."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


class TestClient:
    """Sends notifications to a :class:`Webhook` the way the platform does.

    The client reads the webhook's configuration: it signs with its (first)
    private key, authenticates with its Basic credentials and dates requests
    with its clock, so a webhook built with a fixed ``clock`` accepts them.
    """

    __test__ = False  # Not a test class, whatever pytest thinks of the name.

    def __init__(self, webhook: Webhook) -> None:
        import webtest  # Imported here: only TestClient needs the test extra.

        self.app = webtest.TestApp(webhook)
        self.private_key = webhook.private_keys[0] if webhook.private_keys else None
        self.credentials = webhook.credentials
        self.clock = webhook.clock

    def send(self, payload: Payload, *, sign: Union[bool, str] = True,
             auth: Union[bool, tuple[str, str]] = True, date: Optional[str] = "now",
             headers: Optional[Mapping[str, str]] = None, path: str = "/") -> Any:
        """POST ``payload`` and return the webtest response, whatever its status.

        ``sign``: ``True`` signs with the webhook's key (if it has one), a string
        signs with that key, ``False`` sends no signature. ``auth``: ``True`` uses
        the webhook's credentials (if any), a ``(user, password)`` pair those,
        ``False`` none. ``date``: ``"now"`` per the webhook's clock, ``None`` no
        Date header, or the exact header value. ``headers`` are sent last and win,
        e.g. ``{"X-Hub-Signature": "sha1=..."}``; the signature covers their Date.
        """
        body = encode(payload)
        when = http_date(self.clock()) if date == "now" else date
        credentials = self.credentials if auth is True else (auth or None)
        key = self.private_key if sign is True else (sign or None)
        sent = platform_headers(body, private_key=key, credentials=credentials, date=when,
                                extra=headers)
        return self.app.post(path, body, headers=sent, expect_errors=True)


def platform_headers(body: bytes, *, private_key: Optional[str] = None,
                     credentials: Optional[tuple[str, str]] = None, date: Optional[str] = None,
                     extra: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    """The headers of a platform request for ``body``: JSON type, Date, Basic auth, signature.

    ``extra`` headers are added last and win; the signature covers the final
    Date, and is left out when ``extra`` brings its own.
    """
    headers = {"Content-Type": "application/json"}
    if date is not None:
        headers["Date"] = date
    if credentials is not None:
        headers["Authorization"] = basic_auth(*credentials)
    for name, value in (extra or {}).items():
        # Replace ours whatever the case of the name, so no header is sent twice.
        for ours in [key for key in headers if key.lower() == name.lower()]:
            del headers[ours]
        headers[name] = value
    if private_key is not None and _header(headers, HEADER) is None:
        headers[HEADER] = sign(body, private_key, _header(headers, "Date"))
    return headers


def _header(headers: Mapping[str, str], name: str) -> Optional[str]:
    """A header's value, whatever the case of its name."""
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def call(handler: Handler, payload: Payload) -> Any:
    """Run ``handler`` on ``payload`` as the pipeline would, bypassing HTTP and checks.

    The request has ``body`` and ``json`` set, the response is fresh and the
    notification is loaded by the framework's loader; invalid JSON raises the
    framework's ``falcon.HTTPBadRequest``, an unloadable notification its
    ``LoadError`` naming the field. Returns what the handler returns.
    """
    body = encode(payload)
    environ = falcon.testing.create_environ(
        method="POST", path="/", body=body, headers={"Content-Type": "application/json"})
    request = Request(environ)
    request.body = body
    request.json = data = parse(body)
    return handler(request, Response(), _LOADER.load(data))
