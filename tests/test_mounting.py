"""The example bot mounted inside other WSGI sites, in-process: Flask, Django, a bare dispatcher.

The mounted bot must answer at its prefix exactly as it does alone, and the host
site must keep every other path.
"""
from __future__ import annotations

import importlib
import json
import pathlib
from collections.abc import Iterable
from types import ModuleType
from typing import Any, Callable

import pytest
from werkzeug.test import Client

from clustaar.webhook.testing import call, dump, encode, http_date, notification, sign

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"
KEY = "mounting-key"
PREFIX = "/clustaar"


@pytest.fixture
def examples(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """Import a module of examples/ (the bot and the sites import each other by name)."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    return importlib.import_module


def platform_request(bot: ModuleType, first_name: str = "Ada") -> tuple[bytes, dict[str, str]]:
    """A signed, freshly dated notification for the bot's welcome step."""
    body = encode(notification(step_id=bot.WELCOME_STEP, interlocutor={"firstName": first_name}))
    date = http_date()
    return body, {"Content-Type": "application/json", "Date": date,
                  "X-Hub-Signature": sign(body, KEY, date)}


def mounted_site(examples: Callable[[str], ModuleType], name: str) -> tuple[ModuleType, Client]:
    """The bot module and a client of site ``name`` with the bot mounted (signing with KEY)."""
    bot = examples("bot")
    site = examples(name)
    webhook = bot.create_app({"CLUSTAAR_WEBHOOK_PRIVATE_KEY": KEY})
    return bot, Client(site.create_application(webhook))


@pytest.mark.parametrize("name, home", [("flask_site", "The site's home page"),
                                        ("django_site", "The Django site's home page")])
def test_the_mounted_bot_answers_with_its_handlers_json(
        examples: Callable[[str], ModuleType], name: str, home: str) -> None:
    bot, client = mounted_site(examples, name)
    body, headers = platform_request(bot)
    expected = dump(call(bot.welcome, json.loads(body)))
    for path in (PREFIX + "/", PREFIX):  # With or without the trailing slash.
        answer = client.post(path, data=body, headers=headers)
        assert (answer.status_code, answer.mimetype) == (200, "application/json")
        assert answer.get_json() == expected
    assert expected["actions"][0] == {"type": "send_text_action", "alternatives": ["Hello Ada!"]}

    page = client.get("/")  # The site's own route still works.
    assert (page.status_code, page.get_data(as_text=True)) == (200, home)


@pytest.mark.parametrize("name", ["flask_site", "django_site"])
def test_the_mounted_bot_keeps_its_checks_and_the_site_its_paths(
        examples: Callable[[str], ModuleType], name: str) -> None:
    bot, client = mounted_site(examples, name)
    body, headers = platform_request(bot)
    forged = client.post(PREFIX + "/", data=body, headers={**headers, "X-Hub-Signature": "sha1=00"})
    assert forged.status_code == 400
    assert forged.get_json()["description"].endswith("The request's signature is invalid.")

    below = client.post(PREFIX + "/deeper", data=body, headers=headers)
    assert (below.status_code, below.get_json()["title"]) == (404, "404 Not Found")

    # Outside the prefix the site answers, not the bot (no JSON error body).
    for path in ("/", "/clustaarium", "/elsewhere"):
        answer = client.post(path, data=body, headers=headers)
        assert answer.mimetype != "application/json"
        assert answer.status_code in (403, 404, 405)


def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """A WSGI app answering with the SCRIPT_NAME and PATH_INFO it was given."""
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps([environ.get("SCRIPT_NAME", ""), environ["PATH_INFO"]]).encode()]


def test_the_dispatcher_moves_the_prefix_to_script_name(examples: Callable[[str], ModuleType]) -> None:
    mount = examples("wsgi_mount").mount
    client = Client(mount({"/a": echo, "/a/b": echo}, default=echo))
    seen = {path: client.get(path).get_json()
            for path in ("/a", "/a/", "/a/x/y", "/a/b/c", "/ab", "/", "/b")}
    assert seen == {"/a": ["/a", ""], "/a/": ["/a", "/"], "/a/x/y": ["/a", "/x/y"],
                    "/a/b/c": ["/a/b", "/c"],  # the longest prefix wins
                    "/ab": ["", "/ab"],         # whole segments only
                    "/": ["", "/"], "/b": ["", "/b"]}
    nested = Client(mount({"/a": echo}))
    assert nested.get("/a/x", environ_overrides={"SCRIPT_NAME": "/site"}).get_json() == [
        "/site/a", "/x"]  # A prefix the server already set stays in front.


def test_the_dispatcher_answers_404_without_a_default(examples: Callable[[str], ModuleType]) -> None:
    mount = examples("wsgi_mount").mount
    answer = Client(mount({"/a": echo})).get("/b")
    assert (answer.status_code, answer.mimetype, answer.get_data()) == (404, "text/plain", b"Not Found\n")


@pytest.mark.parametrize("prefix", ["bot", "/bot/", "/", ""])
def test_the_dispatcher_refuses_a_malformed_prefix(examples: Callable[[str], ModuleType],
                                                   prefix: str) -> None:
    with pytest.raises(ValueError, match="mount prefix"):
        examples("wsgi_mount").mount({prefix: echo})
