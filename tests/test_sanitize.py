"""The markup budget: what bleach may be handed while one notification loads.

Within the budget every text loads as the stock loader loads it (the differential tests
in test_loading_equivalence.py); past it the text is refused with a 400 naming its field,
without ever reaching bleach.
"""
from __future__ import annotations

import copy
import json
import logging
import resource
import time
from typing import Any

import pytest
from clustaar.schemas import processors
from hypothesis import event, given, settings
from hypothesis import strategies as st
from support.logs import served
from support.models import WHOLE_BODY, check
from webtest import TestApp

from benchmarks.bodies import every_sanitised_field, large_body
from clustaar.webhook import Webhook, events, sanitize
from clustaar.webhook.loading import LoadError, NotificationLoader

pytestmark = pytest.mark.usefixtures("both_apps")

LOADER = NotificationLoader()


def with_texts(vector: dict[str, Any], *texts: str) -> dict[str, Any]:
    """The vector whose step says ``texts``, one send_text_action each."""
    body = copy.deepcopy(vector)
    body["data"]["step"]["actions"] = [{"type": "send_text_action", "alternatives": [text]}
                                       for text in texts]
    return body


def post(body: dict[str, Any], status: int = 200) -> Any:
    app = Webhook(request_max_age=None)
    app.on(events.CONVERSATION_STEP_REACHED, lambda request, response, notification: {
        "texts": [action.alternatives for action in notification.event.step.actions]})
    return TestApp(app).post("/", json.dumps(body), status=status,
                             headers={"Content-Type": "application/json"})


def too_much_markup(path: str) -> dict[str, str]:
    return {"title": "Invalid notification",
            "description": f'The field "{path}" has too much markup to sanitise.'}


@pytest.fixture
def bleach_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text handed to bleach from now on."""
    seen: list[str] = []
    clean = sanitize._local.cleaner.clean

    def spy(text: str) -> str:
        seen.append(text)
        return clean(text)
    monkeypatch.setattr(sanitize._local.cleaner, "clean", spy)
    sanitize._cached_clean.cache_clear()
    return seen


def test_nested_lists_past_the_tag_limit_are_refused_unsanitised(
        vector: dict[str, Any], bleach_calls: list[str], caplog: pytest.LogCaptureFixture) -> None:
    text = "<ul>" * (sanitize.MAX_TAGS_PER_TEXT + 1)
    with caplog.at_level(logging.WARNING, logger="clustaar.webhook"):
        answer = post(with_texts(vector, "fine <p>text</p>", text), status=400)
    assert answer.json == too_much_markup("data.step.actions.1.alternatives.0")
    assert bleach_calls == ["fine <p>text</p>"]
    assert [record.levelname for record in served(caplog.records)] == ["WARNING"]


def test_a_text_at_the_tag_limit_loads_as_stock(vector: dict[str, Any]) -> None:
    text = "<ul>" * sanitize.MAX_TAGS_PER_TEXT
    assert post(with_texts(vector, text)).json == {
        "texts": [[processors.html_sanitize(text)]]}


def test_many_short_texts_exhaust_the_notification_budget(
        vector: dict[str, Any], bleach_calls: list[str]) -> None:
    texts = [f"<{number:x}" for number in range(5000)]
    body = with_texts(vector)
    body["data"]["step"]["actions"] = [{"type": "send_text_action", "alternatives": texts}]
    answer = post(body, status=400)
    cost = [len(text) + sanitize.CALL_COST for text in texts]
    fitting = next(count for count in range(len(texts) + 1)
                   if sum(cost[:count + 1]) > sanitize.NOTIFICATION_BUDGET)
    assert answer.json == too_much_markup(f"data.step.actions.0.alternatives.{fitting}")
    # Typed markup ("<3") is worked out without bleach, but charged all the same.
    assert bleach_calls == [text for text in texts[:fitting] if text[1].isalpha()]


def test_cached_texts_are_charged_too_so_every_worker_decides_alike(
        vector: dict[str, Any]) -> None:
    text = "<b>" + "x" * 1000 + "</b>"
    fits = sanitize.NOTIFICATION_BUDGET // (len(text) + sanitize.CALL_COST)
    post(with_texts(vector, *[text] * fits))
    post(with_texts(vector, *[text] * fits))  # All cached now, still within budget.
    answer = post(with_texts(vector, *[text] * (fits + 1)), status=400)
    assert answer.json == too_much_markup(f"data.step.actions.{fits}.alternatives.0")


def test_text_without_markup_costs_nothing(vector: dict[str, Any],
                                           bleach_calls: list[str]) -> None:
    plain = "a long plain text, accents é and emoji 👍 " * 400
    assert post(with_texts(vector, *[plain] * 20)).json == {"texts": [[plain]] * 20}
    assert bleach_calls == []


def test_each_notification_gets_the_whole_budget(vector: dict[str, Any]) -> None:
    text = "<i>" + "y" * 2000 + "</i>"
    fits = sanitize.NOTIFICATION_BUDGET // (len(text) + sanitize.CALL_COST)
    for _ in range(3):
        post(with_texts(vector, *[text] * fits))


def test_outside_a_notification_the_sanitiser_is_the_stock_one() -> None:
    text = "<ol><li>" * sanitize.MAX_TAGS_PER_TEXT
    assert sanitize.html_sanitize(text) == processors.html_sanitize(text)


def test_a_realistic_large_notification_spends_a_fraction_of_the_budget(
        bleach_calls: list[str]) -> None:
    NotificationLoader().load(json.loads(large_body(7)))  # A fresh step cache.
    spent = sum(len(text) + sanitize.CALL_COST for text in bleach_calls)
    assert 0 < spent < sanitize.NOTIFICATION_BUDGET / 4
    assert max(text.count("<") for text in bleach_calls) < sanitize.MAX_TAGS_PER_TEXT / 10


# --- Generated markup: loaded as stock, or refused, never costing more than the budget. ---

ALLOWED = ["a", "abbr", "acronym", "b", "blockquote", "code", "em", "i", "li", "ol", "strong",
           "ul", "br", "p", "div", "script", "table"]
ATTRIBUTES = st.sampled_from(['', ' href="https://x.fr/?a=1&b=2"', ' title="t"',
                              ' target="_blank"', ' onclick="x()"', " class=c"])
TEXTS = st.sampled_from(["", "é", "&amp;", "&lt;", "&nbsp;", "<3", "a & b", "x", "\r\n"])


@st.composite
def markup(draw: st.DrawFn, depth: int = 0) -> str:
    """Nested allowed and other tags, with attributes, entities and stray brackets."""
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        if depth < 4 and draw(st.booleans()):
            tag = draw(st.sampled_from(ALLOWED))
            inner = draw(markup(depth + 1))
            close = draw(st.booleans())
            parts.append(f"<{tag}{draw(ATTRIBUTES)}>{inner}" + (f"</{tag}>" if close else ""))
        else:
            parts.append(draw(TEXTS))
    return "".join(parts)


#: Far above what the whole budget costs (about 80 ms at bleach's worst rate), far below
#: what unbounded markup costs (seconds): a failure means the bound is gone, not a slow machine.
CPU_CEILING = 2.0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_utime + usage.ru_stime


@settings(WHOLE_BODY, max_examples=40)
@given(st.data(), st.integers(1, 300))
def test_generated_markup_in_every_field_loads_as_stock_or_is_refused(
        data: st.DataObject, repeat: int) -> None:
    body = every_sanitised_field(0)
    pieces = data.draw(st.lists(markup(), min_size=1, max_size=4))
    count = 0

    def fill(node: Any) -> Any:
        nonlocal count
        if isinstance(node, dict):
            return {key: value if key in ("type", "id") else fill(value)
                    for key, value in node.items()}
        if isinstance(node, list):
            return [fill(item) for item in node]
        if isinstance(node, str):  # Every field gets markup; one in three, a lot of it.
            count += 1
            return pieces[count % len(pieces)] * (repeat if count % 3 == 0 else 1)
        return node

    body = fill(body)
    body["topic"] = "conversation.step_reached"
    started, wall = _cpu(), time.monotonic()
    try:
        LOADER.load(copy.deepcopy(body))
        refused = False
    except LoadError as error:
        refused = error.reason == "has too much markup to sanitise"
    assert _cpu() - started < CPU_CEILING, f"{time.monotonic() - wall:.2f}s"
    event("refused: too much markup" if refused else "loaded or refused as stock")
    if not refused:
        check(body)  # Loaded, or refused for another reason, exactly as the stock loader.


# --- Typed markup: worked out without bleach, exactly as bleach would. ---

TYPED_PIECES = st.sampled_from([
    "<b>", "</b>", "<i>", "</i>", "<em>", "</em>", "<strong>", "</strong>", "<code>",
    "</code>", "<br>", "<br/>", "<B>", "<3", "<", ">", ">:(", "&", "& ", "&amp;", "&lt;",
    "&nbsp;", "&#38;", "&x", " ", "\t", "\n", "\r", "\x0c", "a", "Zoë", "3", "/", "!", "?",
    "<!--", "<?", "</", "<p>", "<a>", "<ul>", "<li>", "'", '"', "=", ";", "#",
])


@settings(max_examples=600, deadline=None)
@given(st.lists(TYPED_PIECES, min_size=1, max_size=12))
def test_typed_markup_is_sanitised_as_stock(pieces: list[str]) -> None:
    text = "".join(pieces)
    event("worked out" if sanitize._typed_markup(text) is not None else "handed to bleach")
    assert sanitize.html_sanitize(text) == processors.html_sanitize(text)


def test_what_users_type_never_reaches_bleach(bleach_calls: list[str]) -> None:
    typed = ["Dupont & fils", "<b>Dupont</b>", "J'adore <3", ">> pro", "<i>vite</i> svp",
             "<strong>Martin</strong> &amp; associés", "ligne<br>suivante", "a > b & c"]
    assert [sanitize.html_sanitize(text) for text in typed] == [
        processors.html_sanitize(text) for text in typed]
    assert bleach_calls == []


SAFE_TEXT = st.lists(st.sampled_from(["a", "Zoë", " ", "\t", "\n", "<3", "< 3", ">", "& ",
                                      "&amp;", "<br>", "3", "?", "'", '"', "=", ";", "<"]),
                     max_size=4).map("".join)


@st.composite
def typed_markup(draw: st.DrawFn, depth: int = 0) -> str:
    """Properly nested formatting tags around typed text: what the fast path takes."""
    parts = [draw(SAFE_TEXT)]
    for _ in range(draw(st.integers(0, 2 if depth < 3 else 0))):
        tag = draw(st.sampled_from(["b", "i", "em", "strong", "code"]))
        parts += [f"<{tag}>", draw(typed_markup(depth + 1)), f"</{tag}>", draw(SAFE_TEXT)]
    return "".join(parts)


@settings(max_examples=500, deadline=None)
@given(typed_markup())
def test_nested_typed_markup_is_sanitised_as_stock(text: str) -> None:
    event("worked out" if sanitize._typed_markup(text) is not None else "handed to bleach")
    assert sanitize.html_sanitize(text) == processors.html_sanitize(text)
