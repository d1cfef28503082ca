"""Every Python example of the user guide runs unchanged, and the apps it builds answer right.

The guide is plain text (code blocks are not marked), so blocks are found line by
line: a code line starts with a Python keyword or name the guide's examples use,
or is indented, or closes a bracket; blank lines between code lines stay in the
block. Every block must compile, and their count and first lines are pinned so
a parsing change cannot silently drop one.
"""
from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from clustaar.schemas.models import StepReachedResponse
from support import DATA, USER
from support.requests import basic, client, http_date, signed_headers

from clustaar.webhook import Webhook

GUIDE = (DATA / "clustaar-webhook-guide.txt").read_text(encoding="utf-8")
_CODE_LINE = re.compile(r"(from |import |def |app\b|data\b|filter\b|assert |del |[ \t]|[)\]}])")
_LOOKS_LIKE_CODE = re.compile(r"^\s*(from|import|def|class|return|assert|del)\b|\w\s*=\s*\S|\)\s*$")

#: The first line of each block, in guide order.
FIRST_LINES = [
    "from clustaar.webhook import Webhook, events",  # minimal example
    "from clustaar.webhook import Webhook, events",  # return the step's actions
    "from clustaar.webhook import Webhook, events",  # build your own actions
    "app.on(events.CONVERSATION_STEP_REACHED, handler)",  # routing by event
    "from clustaar.webhook.filters import JSONKeyEquals",  # routing with a filter
    "data = {",  # JSONKeyEquals
    "data = {",  # JSONKeyIn
    "data = {",  # JSONKeyExists
    "data = {",  # StepID
    'app = Webhook(private_key="XXXXXXXXXX")',
    'app = Webhook(auth_username="XXXXXXXXXX", auth_password="YYYYYYYYY")',
]

#: What the guide takes for granted around its snippets.
PRELUDE = """
from clustaar.webhook import Webhook, events
from clustaar.webhook.filters import *
from clustaar.schemas.models import StepReachedResponse, ConversationSession


def handler(request, response, notification):
    return StepReachedResponse(actions=[], session=ConversationSession(values={"from": "prelude"}))

app = Webhook()
"""


def code_blocks(text: str) -> list[str]:
    """The guide's code blocks, each as its exact text."""
    blocks: list[list[str]] = []
    current: list[str] = []
    pending_blank = 0
    for line in text.splitlines():
        if not line.strip():
            pending_blank += 1 if current else 0
        elif _CODE_LINE.match(line):
            current.extend([""] * pending_blank + [line])
            pending_blank = 0
        else:
            if current:
                blocks.append(current)
            current, pending_blank = [], 0
    if current:
        blocks.append(current)
    return ["\n".join(block) + "\n" for block in blocks]


BLOCKS = code_blocks(GUIDE)


def run(index: int) -> dict[str, Any]:
    """Run block ``index`` exactly as written after the prelude; return its namespace."""
    namespace: dict[str, Any] = {"__name__": f"guide_block_{index}"}
    exec(compile(PRELUDE, "<prelude>", "exec"), namespace)
    exec(compile(BLOCKS[index], f"<guide block {index}>", "exec"), namespace)
    return namespace


def test_every_block_is_found() -> None:
    assert [block.splitlines()[0] for block in BLOCKS] == FIRST_LINES
    assert [len(block.splitlines()) for block in BLOCKS] == [10, 12, 16, 1, 4, 9, 11, 9, 11, 1, 1]
    for block in BLOCKS:
        assert block in GUIDE + "\n"  # verbatim: tabs, comments and blank lines kept
    # Nothing that looks like Python is left outside the blocks.
    code_lines = {line for block in BLOCKS for line in block.splitlines()}
    prose = [line for line in GUIDE.splitlines() if line not in code_lines]
    assert [line for line in prose if _LOOKS_LIKE_CODE.search(line)] == []


def test_every_block_compiles() -> None:
    for index, block in enumerate(BLOCKS):
        compile(block, f"<guide block {index}>", "exec")


def step_reached(vector: dict[str, Any], step_id: str = "1234") -> bytes:
    data = json.loads(json.dumps(vector))
    data["data"]["step"]["id"] = step_id
    return json.dumps(data).encode()


def unsigned_now() -> dict[str, str]:
    """Headers for a webhook built with defaults: a current Date, nothing else."""
    return {"Content-Type": "application/json", "Date": http_date(time.time())}


def test_minimal_example_answers_session_name_john(vector_bytes: bytes) -> None:
    app = run(0)["app"]
    answer = client(app).post("/", vector_bytes, headers=unsigned_now())
    assert answer.json == {"actions": [], "session": {"values": {"name": "John"}},
                           "interlocutor": None}


def test_return_actions_example_sends_back_the_steps_actions(vector_bytes: bytes) -> None:
    app = run(1)["app"]
    answer = client(app).post("/", vector_bytes, headers=unsigned_now())
    assert answer.json == {"actions": [{"type": "pause_bot_action"}],
                           "session": {"values": {"name": "tintin"}}, "interlocutor": None}


def test_own_actions_example_builds_text_and_new_session(vector_bytes: bytes) -> None:
    app = run(2)["app"]
    answer = client(app).post("/", vector_bytes, headers=unsigned_now())
    assert answer.json == {
        "actions": [{"type": "send_text_action", "alternatives": ["hello", "bye"]}],
        "session": {"values": {"name": "John"}}, "interlocutor": None}


def test_routing_by_event_example(vector_bytes: bytes) -> None:
    app = run(3)["app"]
    assert len(app.router) == 1
    answer = client(app).post("/", vector_bytes, headers=unsigned_now())
    assert answer.json["session"] == {"values": {"from": "prelude"}}
    client(app).post("/", vector_bytes, status=400)  # the default replay window is on


def test_routing_with_a_filter_example(vector: dict[str, Any]) -> None:
    app = run(4)["app"]
    web = client(app)
    matching = web.post("/", step_reached(vector, "507f191e810c19729de860ea"),
                        headers=unsigned_now())
    assert matching.json["session"] == {"values": {"from": "prelude"}}
    other = web.post("/", step_reached(vector, "507f191e810c19729de860eb"),
                     headers=unsigned_now(), status=404)
    assert other.json["title"] == "No route"


@pytest.mark.parametrize("index, kind", [(5, "JSONKeyEquals"), (6, "JSONKeyIn"),
                                         (7, "JSONKeyExists"), (8, "StepID")])
def test_filter_examples_run_their_asserts(index: int, kind: str) -> None:
    namespace = run(index)  # the block's own asserts run here
    assert type(namespace["filter"]).__name__ == kind
    assert "assert filter(data)" in BLOCKS[index]
    assert namespace["filter"](namespace["data"]) is False  # each block ends on "assert not"


def security_app(index: int) -> Webhook:
    """The app of a Security block, with a route added so accepted requests answer 200."""
    app: Webhook = run(index)["app"]
    app.on("conversation.step_reached",
           lambda request, response, notification: StepReachedResponse(
               actions=[], session=notification.event.session))
    return app


def test_signature_example_checks_signatures(vector_bytes: bytes) -> None:
    web = client(security_app(9))
    now = http_date(time.time())
    signed = signed_headers(vector_bytes, key="XXXXXXXXXX", date=now)
    assert web.post("/", vector_bytes, headers=signed).json["session"] == {
        "values": {"name": "tintin"}}
    unsigned = web.post("/", vector_bytes, headers=unsigned_now(), status=400)
    assert unsigned.json["description"].endswith("The request's signature is missing.")
    wrong = signed_headers(vector_bytes, key="YYYYYYYYY", date=now)
    web.post("/", vector_bytes, headers=wrong, status=400)


def test_authentication_example_checks_credentials(vector_bytes: bytes) -> None:
    web = client(security_app(10))
    good = {**unsigned_now(), "Authorization": basic("XXXXXXXXXX", "YYYYYYYYY")}
    assert web.post("/", vector_bytes, headers=good).json["session"] == {
        "values": {"name": "tintin"}}
    refused = web.post("/", vector_bytes, headers=unsigned_now(), status=403)
    assert refused.json == {"title": "Invalid credentials",
                            "description": "This call needs authentication"}
    wrong = {**unsigned_now(), "Authorization": basic(USER, "YYYYYYYYY")}
    web.post("/", vector_bytes, headers=wrong, status=403)
