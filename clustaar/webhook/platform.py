"""What the Clustaar platform sends: notifications, their body, Date, signature and headers.

The test kit (:mod:`clustaar.webhook.testing`) and the ``clustaar-webhook``
command build their requests here, so both send what the platform would. None
of it needs anything beyond the framework's own dependencies.
"""
from __future__ import annotations

import base64
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from email.utils import formatdate
from typing import Any, Optional, Union

from lupin.errors import MissingMapping

from . import events
from .dumping import Dumper
from .signature import ALGORITHMS, HEADER, digest

__all__ = ["DEFAULT_BOT_ID", "DEFAULT_INTERLOCUTOR_ID", "DEFAULT_STEP_ID", "Payload", "assignment",
           "basic_auth", "date_header", "dump", "encode", "header_field", "http_date", "notification",
           "platform_headers", "post", "sign"]

#: A notification to send: a JSON-ready dict, a ``clustaar.schemas`` model, or exact bytes.
Payload = Union[Mapping[str, Any], bytes, Any]

#: Fixed ids in the platform's format (24-hex ObjectIDs), so test output is reproducible.
DEFAULT_BOT_ID = "5c1b7a0e1a2b3c4d5e6f7000"
DEFAULT_STEP_ID = "5c1b7a0e1a2b3c4d5e6f7001"
DEFAULT_INTERLOCUTOR_ID = "5c1b7a0e1a2b3c4d5e6f7002"

#: Dumps models as the framework does, without registering anything in the shared mapper.
_DUMPER = Dumper()
#: RFC 9110 §5.6.2: a field name is a token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: RFC 9110 §5.5: visible characters, spaces and tabs, or obs-text; no CR, LF or NUL.
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


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
                 input: Any = None, text: Optional[str] = None, bot_id: str = DEFAULT_BOT_ID,
                 topic: str = events.CONVERSATION_STEP_REACHED,
                 timestamp: Optional[int] = None) -> dict[str, Any]:
    """A JSON-ready notification of a conversation reaching a step.

    ``actions`` and ``input`` may be ``clustaar.schemas`` models or dicts;
    ``interlocutor`` holds overrides (JSON names, e.g. ``{"firstName": "Tintin"}``)
    over a complete default visitor. ``text`` is the user's message: the input
    ``{"type": "message", "text": text, "attachments": []}``, which loads as a
    ``Message``. With neither ``input`` nor ``text`` the key is left out, as for
    a step reached without a user message. The result is a fresh copy of
    everything given, so a handler mutating it cannot change the caller's data.
    """
    if text is not None:
        if input is not None:
            raise ValueError("give input or text, not both")
        input = {"type": "message", "text": text, "attachments": []}
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


def date_header(option: str, now: float) -> Optional[str]:
    """The Date header a user asks for: ``now`` (at ``now``), ``none`` (no header), else as written.

    Either word in any case; anything else is the exact header value.
    """
    word = option.lower()
    if word == "now":
        return http_date(now)
    return None if word == "none" else option


def basic_auth(username: str, password: str) -> str:
    """An ``Authorization`` header value for Basic credentials."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def assignment(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` as a key and a value: JSON when VALUE is JSON that can be sent
    (``3``, ``true``, ``null``, ``"3"``), else the text itself; ``ValueError`` without a KEY.
    """
    key, separator, raw = text.partition("=")
    if not separator or not key:
        raise ValueError(f"expected KEY=VALUE, not {text!r}")
    try:
        value = json.loads(raw)
        json.dumps(value, allow_nan=False)  # NaN, Infinity and 1e999 parse but cannot be sent.
    except ValueError:
        return key, raw
    return key, value


def header_field(text: str) -> tuple[str, str]:
    """``NAME:VALUE`` as a header name and value; ``ValueError`` when HTTP cannot carry it."""
    name, separator, value = text.partition(":")
    if not separator or not _TOKEN.fullmatch(name):
        raise ValueError(f"expected NAME:VALUE with a header name before the colon, not {text!r}")
    value = value.strip(" \t")  # A field value never includes surrounding whitespace.
    if not _FIELD_VALUE.fullmatch(value):
        raise ValueError(f"the value of header {name} has characters HTTP cannot carry")
    return name, value


def platform_headers(body: bytes, *, private_key: Optional[str] = None,
                     credentials: Optional[tuple[str, str]] = None, date: Optional[str] = None,
                     extra: Optional[Mapping[str, str]] = None,
                     algorithm: str = "sha1") -> dict[str, str]:
    """The headers of a platform request for ``body``: JSON type, Date, Basic auth, signature.

    ``extra`` headers are added last and win; the signature (made with
    ``algorithm``) covers the final Date, and is left out when ``extra`` brings its own.
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
        headers[HEADER] = sign(body, private_key, _header(headers, "Date"), algorithm)
    return headers


def _header(headers: Mapping[str, str], name: str) -> Optional[str]:
    """A header's value, whatever the case of its name."""
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Leaves redirects unfollowed: urllib would re-send a redirected POST as a GET without its body."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


#: Talks straight to the URL, as the platform does: no proxy from the environment, no redirect.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> tuple[int, str, bytes]:
    """POST ``body`` to the webhook at ``url``: the status, its reason and the answer's body.

    Any status is an answer. ``ValueError`` for a URL that is not a valid http(s)
    one; ``socket.timeout`` when the server took the request but did not answer
    within ``timeout`` seconds; another ``OSError`` (``urllib.error.URLError``
    when it cannot be reached) or an ``http.client.HTTPException`` otherwise.
    """
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise ValueError("it must start with http:// or https://")
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.reason, response.read()
    except urllib.error.HTTPError as error:  # Any non-2xx status: still an answer.
        with error:
            return error.code, str(error.reason), error.read()
