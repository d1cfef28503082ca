"""The example bot mounted at ``/clustaar`` inside an existing Flask site.

werkzeug's ``DispatcherMiddleware`` (installed with Flask) sends ``/clustaar`` and
below to the bot and everything else to the site::

    gunicorn --pythonpath examples flask_site:application

The platform's webhook URL is then ``https://<your host>/clustaar/``.
"""
from __future__ import annotations

from typing import Any

import bot
from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

site = Flask(__name__)


@site.get("/")
def home() -> str:
    """The site's own page: untouched by the bot."""
    return "The site's home page"


def create_application(webhook: Any) -> DispatcherMiddleware:
    """The site with ``webhook`` mounted at ``/clustaar``."""
    return DispatcherMiddleware(site, {"/clustaar": webhook})


#: What the WSGI server serves (``site`` alone has no bot).
application = create_application(bot.app)
