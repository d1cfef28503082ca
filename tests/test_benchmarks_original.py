"""``python -m benchmarks original``: its bodies, its bot and one round of its coordinator.

Nothing here needs the original's venv or times anything: the varied generator keeps its
promises (a new user every index, the step byte-identical, the markup rates, the size),
the shared bot answers a signed request with the echo, the worker signs as we check, and
one quick round runs with our worker only, Webhook and AsyncWebhook agreeing on every body.
"""
from __future__ import annotations

import contextlib
import io
import json
import time
from email.utils import formatdate
from typing import Any

import pytest

from benchmarks import ablations, bot, original, original_worker, varied
from benchmarks.bodies import SMALL_VECTOR, STEP_ID
from clustaar.webhook.signature import digest
from clustaar.webhook.testing import TestClient


def _compact(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def test_every_index_is_a_new_user_on_the_same_step() -> None:
    bodies = [varied.varied_body(index) for index in range(300)]
    assert len(set(bodies)) == len(bodies)
    step = _compact(varied.varied_notification(0)["data"]["step"])
    users = set()
    for index, body in enumerate(bodies):
        event = json.loads(body)["data"]
        assert _compact(event["step"]) == step and step in body
        assert event["step"]["id"] == STEP_ID
        people = event["interlocutor"]
        users.add((people["firstName"], people["lastName"], people["email"]))
        assert people["id"] == f"{index:024x}" and len(event["session"]["values"]) == 50
        assert 11_000 <= len(body) <= 15_000
    assert len(users) == len(bodies)
    assert varied.varied_body(7) == varied.varied_body(7)  # The same index, the same bytes.


def test_session_values_and_message_differ_per_user() -> None:
    first, second = (varied.varied_notification(index)["data"] for index in (1, 2))
    assert first["input"]["text"] != second["input"]["text"]
    differing = [key for key, value in first["session"]["values"].items()
                 if second["session"]["values"][key] != value]
    assert len(differing) >= 45


def test_markup_rates_are_as_people_type() -> None:
    users = [varied.varied_notification(index)["data"] for index in range(2000)]
    names = sum(varied.has_markup(user["interlocutor"]["lastName"]) for user in users) / 2000
    messages = sum(varied.has_markup(user["input"]["text"]) for user in users) / 2000
    assert abs(names - varied.LAST_NAME_MARKUP_RATE) <= 0.04
    assert abs(messages - varied.MESSAGE_MARKUP_RATE) <= 0.04
    for user in users:  # Markup only where it is drawn.
        people = user["interlocutor"]
        assert not varied.has_markup(people["firstName"] + people["email"])
        assert not any(varied.has_markup(str(value))
                       for value in [*people["customAttributes"].values(),
                                     *user["session"]["values"].values()])


def test_the_worker_signs_as_we_check() -> None:
    body, date = varied.varied_body(3), "Thu, 01 Jan 2026 00:00:00 GMT"
    environ = original_worker.environ_of(body, date)
    assert environ["HTTP_X_HUB_SIGNATURE"] == "sha1=" + digest(bot.KEY, body, date)


def test_every_varied_body_gets_the_echo_from_our_bot() -> None:
    app = bot.build(STEP_ID)
    bodies = [varied.varied_body(index) for index in range(40)]
    date = formatdate(time.time(), usegmt=True)
    answers = original_worker.serve_wsgi(
        app, [(original_worker.environ_of(body, date), body) for body in bodies])
    original_worker.check("webhook on large", answers)
    for body, (_, _, answer) in zip(bodies, answers):
        sent, got = json.loads(body)["data"], json.loads(answer)
        assert got["session"] == sent["session"]
        assert [action["type"] for action in got["actions"]] == [
            action["type"] for action in sent["step"]["actions"]]


def test_the_bot_answers_a_signed_request_with_the_echo() -> None:
    step = original_worker.SMALL_STEP
    answer = TestClient(bot.build(step)).send(json.loads(SMALL_VECTOR))
    assert answer.status_code == 200
    assert answer.json["session"] == {"values": {"name": "tintin"}}
    assert answer.json["actions"] == [{"type": "pause_bot_action"}]
    assert TestClient(bot.build("another step")).send(json.loads(SMALL_VECTOR)).status_code == 404


class FakeProcess:
    """Stands for a worker: records the batches asked, answers one hash per index."""

    def __init__(self, cases: list[str], wrong: str = "") -> None:
        self.cases, self.wrong, self.asked = cases, wrong, []  # type: ignore[var-annotated]

    def batch(self, case: str, body: str, start: int, count: int) -> dict[str, Any]:
        self.asked.append((case, body, start, count))
        hashes = [f"{body}{index}" + ("!" if case == self.wrong else "")
                  for index in range(start, start + count)]
        return {"cpu_us": 1.0, "wall_us": 1.0, "hashes": hashes}


def test_rounds_share_indexes_between_apps_and_never_repeat_them() -> None:
    sizes = original.Sizes(rounds=4, small_batch=3, small_batch_original=2, large_batch=5,
                           large_batch_original=2)
    ours, theirs = FakeProcess(["webhook", "async", "floor"]), FakeProcess(["original"])
    measured = original.run(sizes, [ours, theirs])  # type: ignore[list-item]
    assert all(len(times) == 4 for times in measured["cpu"].values())
    large = [ask for ask in ours.asked + theirs.asked if ask[1] == "large"]
    starts = {start for _, _, start, _ in large}
    assert len(starts) == 5  # The warm-up and four rounds, each its own slice.
    for start in starts:
        assert {(case, count) for case, _, first, count in large if first == start} == {
            ("webhook", 5), ("async", 5), ("floor", 5), ("original", 2)}
    assert max(starts) - min(starts) == 4 * 5


def test_disagreeing_answers_fail_the_run() -> None:
    sizes = original.Sizes(rounds=1, small_batch=1, small_batch_original=1, large_batch=1,
                           large_batch_original=1)
    processes = [FakeProcess(["webhook", "async"]), FakeProcess(["original"], wrong="original")]
    with pytest.raises(AssertionError, match="differ"):
        original.run(sizes, processes)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(io.StringIO()):
        code = original.main(["--quick", "--json", "--without-original", "--rounds", "1"])
    assert code == 0
    return json.loads(output.getvalue())  # type: ignore[no-any-return]


def test_one_round_with_our_worker_only(report: dict[str, Any]) -> None:
    assert not report["with_original"] and report["machine"]["original"] is None
    apps = [original.LABELS[app] for app in ("webhook", "async", "floor")] + [
        f"ours, without {name}" for name in ablations.ABLATIONS]
    assert {(row["app"], row["body"]) for row in report["rows"]} == {
        (app, body) for app in apps for body in ("small", "large")}
    # Each idea undone has its before/after ratio on both bodies.
    assert sorted(report["ablations"]) == sorted(idea for idea, *_ in
                                                 ablations.ABLATIONS.values())
    assert all(value > 0 for by_body in report["ablations"].values()
               for value in by_body.values())
    assert all(row["us_per_request"] > 0 for row in report["rows"])
    assert report["ratios"]["original / ours, Webhook"] == {"small": None, "large": None}
    assert report["ratios"]["AsyncWebhook / Webhook"]["large"] > 0
    assert [check["target"].split(":")[0] for check in report["targets"]] == ["small", "large"]
    ours = report["machine"]["ours"]
    assert ours["clustaar.webhook file"].endswith("clustaar/webhook/__init__.py")


def test_the_report_says_the_comparison_is_missing(report: dict[str, Any],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    original.print_report(report)
    printed = capsys.readouterr().out
    assert "comparison with the original is missing" in printed
    assert "ours, AsyncWebhook" in printed and "[" in printed


def test_each_ablation_undoes_its_idea_only_inside_its_block() -> None:
    for name, (_, owner, attribute, replacement) in ablations.ABLATIONS.items():
        kept = getattr(owner, attribute)
        with ablations.without(name):
            assert getattr(owner, attribute) is replacement
            app = bot.build(STEP_ID)
            date = formatdate(time.time(), usegmt=True)
            body = varied.varied_body(17)
            answers = original_worker.serve_wsgi(app, [(original_worker.environ_of(body, date),
                                                        body)])
            original_worker.check(name, answers)
        assert getattr(owner, attribute) is kept
