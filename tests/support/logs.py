"""Log records of the requests a test sent, without the apps' start-up records."""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any


def served(records: Iterable[logging.LogRecord]) -> list[logging.LogRecord]:
    """``records`` less the start-up ones (``extra`` field ``startup``)."""
    return [record for record in records if not getattr(record, "startup", False)]


#: Personal data and secrets a notification may carry; none may reach a record, a metric
#: label or a span attribute.
PERSONAL = ("Zoé-Marker", "Durand-Marker", "zoe.marker@example.org", "+33600000042",
            "what-the-user-typed-marker", "session-value-marker", "sessionvaluekey")


def personal_notification(vector: dict[str, Any]) -> bytes:
    """The shipped vector, at step ``1234`` of bot ``4321``, full of :data:`PERSONAL`."""
    data = json.loads(json.dumps(vector))
    inner = data["data"]
    inner["interlocutor"].update({"firstName": PERSONAL[0], "lastName": PERSONAL[1],
                                  "email": PERSONAL[2], "phoneNumber": PERSONAL[3]})
    inner["session"]["values"] = {PERSONAL[6]: PERSONAL[5]}
    inner["step"]["actions"] = [{"type": "send_text_action", "alternatives": [PERSONAL[4]]}]
    return json.dumps(data).encode()


def everything_in(record: logging.LogRecord) -> str:
    """The record as a JSON formatter could write it: message, every attribute, traceback."""
    return logging.Formatter().format(record) + json.dumps(vars(record), default=repr)
