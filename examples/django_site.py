"""The example bot mounted at ``/clustaar`` beside a Django site, at the WSGI level.

A one-file Django project; in yours, only the last lines of ``wsgi.py`` change::

    application = mount({"/clustaar": bot.app}, default=get_wsgi_application())

Serve it with ``gunicorn --pythonpath examples django_site:application``. The
bot's requests never enter Django (no CSRF middleware to exempt, no view reading
the body); every other path is Django's.
"""
from __future__ import annotations

import os
from typing import Any

import bot
from django.conf import settings  # type: ignore[import-untyped,unused-ignore]
from django.core.wsgi import get_wsgi_application  # type: ignore[import-untyped,unused-ignore]
from django.http import HttpRequest, HttpResponse  # type: ignore[import-untyped,unused-ignore]
from django.urls import path  # type: ignore[import-untyped,unused-ignore]
from wsgi_mount import WSGIApp, mount

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret"),
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["django.middleware.common.CommonMiddleware",
                    "django.middleware.csrf.CsrfViewMiddleware"],
    )


def home(request: HttpRequest) -> HttpResponse:
    """The site's own page: untouched by the bot."""
    return HttpResponse("The Django site's home page", content_type="text/plain")


urlpatterns = [path("", home)]


def create_application(webhook: Any) -> WSGIApp:
    """Django with ``webhook`` mounted at ``/clustaar``."""
    return mount({"/clustaar": webhook}, default=get_wsgi_application())


application = create_application(bot.app)
