"""Requests as the platform sends them: a Date, its signature, Basic credentials."""
from __future__ import annotations

import base64
from email.utils import formatdate
from typing import Optional

from webtest import TestApp

from clustaar.webhook import Webhook
from clustaar.webhook.signature import digest

from . import KEY, NOW, PASSWORD, USER


def http_date(timestamp: float = NOW) -> str:
    """An IMF-fixdate for ``timestamp``."""
    return formatdate(timestamp, usegmt=True)


def basic(user: str = USER, password: str = PASSWORD) -> str:
    """An ``Authorization`` value for Basic credentials."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def signed_headers(body: bytes, key: str = KEY, date: Optional[str] = None,
                   algorithm: str = "sha1", auth: Optional[str] = None) -> dict[str, str]:
    """Headers of a platform request: Date, its signature and optional Authorization."""
    date = http_date() if date is None else date
    headers = {"Date": date, "X-Hub-Signature": f"{algorithm}={digest(key, body, date, algorithm)}",
               "Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = auth
    return headers


def client(app: Webhook, **extra_environ: str) -> TestApp:
    """A webtest client for ``app``."""
    return TestApp(app, extra_environ=extra_environ)
