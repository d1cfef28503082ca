"""Tests of the example bot, written with the test kit (``clustaar.webhook.testing``)."""
from __future__ import annotations

from email.utils import formatdate
from typing import Any

# pytest imports this file with examples/ on sys.path; mypy finds it through mypy_path.
import bot

from clustaar.webhook.testing import TestClient, call, dump, notification, route

SECRETS = {"CLUSTAAR_WEBHOOK_PRIVATE_KEY": "k3y", "CLUSTAAR_WEBHOOK_AUTH_USERNAME": "bot",
           "CLUSTAAR_WEBHOOK_AUTH_PASSWORD": "pa:ss"}
PAUSE = {"type": "pause_bot_action"}


def test_welcome_greets_by_first_name_and_plays_the_step() -> None:
    result = call(bot.welcome, notification(actions=[PAUSE], interlocutor={"firstName": "Tintin"}))
    assert dump(result)["actions"] == [
        {"type": "send_text_action", "alternatives": ["Hello Tintin!"]}, PAUSE]
    assert result.session.values == {"name": "Tintin", "visits": 1}


def test_welcome_without_a_first_name_says_there() -> None:
    result = call(bot.welcome, notification(interlocutor={"firstName": None}))
    assert result.actions[0].alternatives == ["Hello there!"]


def test_welcome_back_counts_visits() -> None:
    result = call(bot.welcome_back, notification(session_values={"name": "Milou", "visits": 2}))
    assert result.actions[0].alternatives == ["Welcome back Milou! This is visit number 3."]
    assert result.session.values == {"name": "Milou", "visits": 3}


def test_a_visit_count_that_is_not_a_number_restarts() -> None:
    result = call(bot.welcome_back, notification(session_values={"name": "Milou", "visits": "x"}))
    assert result.session.values["visits"] == 1


def test_goodbye_forgets_the_name() -> None:
    result = call(bot.goodbye, notification(session_values={"name": "Milou", "visits": 2}))
    assert result.actions[0].alternatives == ["Goodbye Milou!"]
    assert result.session.values == {"visits": 2}


def test_goodbye_to_a_stranger() -> None:
    assert call(bot.goodbye, notification()).actions[0].alternatives == ["Goodbye!"]


def handler_for(**fields: Any) -> Any:
    """The handler the bot's routes pick for a notification built from ``fields``."""
    found = route(bot.create_app({}), notification(**fields))
    return None if found is None else found.handler


def test_a_name_in_the_session_picks_welcome_back() -> None:
    assert handler_for(step_id=bot.WELCOME_STEP, session_values={"name": "Milou"}) is bot.welcome_back
    assert handler_for(step_id=bot.WELCOME_STEP) is bot.welcome
    for no_name in ("", None):
        assert handler_for(step_id=bot.WELCOME_STEP, session_values={"name": no_name}) is bot.welcome
    assert handler_for(step_id=bot.GOODBYE_STEP, text="bye") is bot.goodbye
    assert handler_for(step_id="5c1b7a0e1a2b3c4d5e6f7aff") is None


def test_routes_pick_the_handler_from_the_step_and_the_session() -> None:
    client = TestClient(bot.create_app(SECRETS))
    first = client.send(notification(step_id=bot.WELCOME_STEP, interlocutor={"firstName": "Ada"}))
    assert first.status_int == 200
    # The platform sends the session the bot answered with the next notification.
    session = first.json["session"]["values"]
    again = client.send(notification(step_id=bot.WELCOME_STEP, session_values=session))
    assert again.json["actions"][0]["alternatives"] == ["Welcome back Ada! This is visit number 2."]
    session = again.json["session"]["values"]
    bye = client.send(notification(step_id=bot.GOODBYE_STEP, session_values=session))
    assert bye.json["session"]["values"] == {"visits": 2}
    assert client.send(notification(step_id="5c1b7a0e1a2b3c4d5e6f7aff")).status_int == 404


def test_the_bot_refuses_unsigned_or_unauthenticated_requests() -> None:
    client = TestClient(bot.create_app(SECRETS))
    welcome = notification(step_id=bot.WELCOME_STEP)
    assert client.send(welcome).status_int == 200
    assert client.send(welcome, sign=False).status_int == 400
    assert client.send(welcome, sign="not-the-key").status_int == 400
    assert client.send(welcome, auth=False).status_int == 403
    assert client.send(welcome, auth=("bot", "guess")).status_int == 403


def test_an_empty_name_in_the_session_is_no_name() -> None:
    client = TestClient(bot.create_app({}))
    answer = client.send(notification(step_id=bot.WELCOME_STEP, session_values={"name": ""}))
    assert answer.json["actions"][0]["alternatives"] == ["Hello Ada!"]


def test_a_duplicate_gets_the_first_answer_with_a_deliveries_store() -> None:
    client = TestClient(bot.create_app({**SECRETS, "CLUSTAAR_WEBHOOK_DELIVERIES": "memory://"}))
    welcome = notification(step_id=bot.WELCOME_STEP, interlocutor={"firstName": "Ada"})
    date = formatdate(usegmt=True)  # The same Date both times: the same delivery.
    first, second = client.send(welcome, date=date), client.send(welcome, date=date)
    assert "Clustaar-Webhook-Replayed" not in first.headers
    assert second.headers["Clustaar-Webhook-Replayed"] == "true"
    assert second.body == first.body
