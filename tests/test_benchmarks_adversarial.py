"""The hostile bodies of ``python -m benchmarks adversarial`` have the shape they claim.

Every body is valid JSON (or, for the very deep one, refused by the decoder as too deep),
within the body limit (one is one unit past it on purpose), filled close to its size, with
its markup in fields the loader really sanitises. No timing is asserted here.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from typing import Any

import pytest

from benchmarks import adversarial, hostile
from benchmarks.bodies import every_sanitised_field
from clustaar.webhook import payload
from clustaar.webhook.loading import NotificationLoader

CASES = {case.name: case for case in hostile.HOSTILE}
#: Characters that send a text through bleach (the others are returned as they are).
BLEACHED = re.compile(r"[\x00-\x08\x0b-\x1f&<>]")


def depth(value: Any) -> int:
    """How many levels of arrays and objects ``value`` nests (the top level is one)."""
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


def bleached(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(path, text) for path, text in hostile.sanitised_texts(data) if BLEACHED.search(text)]


@pytest.fixture(scope="module")
def built() -> dict[int, tuple[hostile.Hostile, bytes, Any]]:
    """Every case's first body, and its JSON (``None`` where the stdlib decoder refuses it:
    the product's own refusals are what the benchmark measures)."""
    result = {}
    for number, case in enumerate(hostile.HOSTILE, 1):
        body = case.body(0)
        try:
            data: Any = json.loads(body)
        except (ValueError, RecursionError):
            data = None
        result[number] = (case, body, data)
    return result


def test_every_body_fills_its_size_within_the_limit(built: dict[int, Any]) -> None:
    for case, body, _ in built.values():
        if case.over:
            assert hostile.LIMIT < len(body) <= hostile.LIMIT + 8, case.name
        else:
            assert 0.99 * case.size <= len(body) <= case.size <= hostile.LIMIT, case.name
    sizes = sorted(len(body) for case, body, _ in built.values() if case.name == hostile.NESTED_UL)
    assert len(sizes) == 5 and sizes[0] < 5000 and sizes[-1] > 1_000_000


def test_every_body_is_json_but_the_deep_ones_and_the_long_integer(built: dict[int, Any]) -> None:
    refused = {case.name for case, _, data in built.values() if data is None}
    # Pythons older than 3.9.14/3.10.7 have no digit limit: they take the long integer.
    digit_limit = {"4,301-digit integer after many"} if hasattr(sys, "get_int_max_str_digits") else set()
    assert refused == {"JSON nested 500,000+ levels deep", *digit_limit}
    for case, _, data in built.values():
        if data is not None:
            assert data["topic"] == "conversation.step_reached", case.name
            too_deep = case.name == "JSON 65 levels, after many of 64"
            assert depth(data) == payload.MAX_DEPTH + 1 if too_deep else \
                depth(data) <= payload.MAX_DEPTH, case.name


def test_nested_lists_fill_one_sanitised_text(built: dict[int, Any]) -> None:
    for case, body, data in built.values():
        if case.name == hostile.NESTED_UL and not case.over:
            [(path, text)] = bleached(data)
            assert path == "data.step.actions.0.alternatives.0"
            assert text.count("<ul>") * 4 > len(body) - 400  # All but the notification around it.


def test_spread_markup_fills_every_kind_of_sanitised_field() -> None:
    def kinds(data: dict[str, Any]) -> set[str]:
        return {re.sub(r"\.\d+", "", path) for path, _ in hostile.sanitised_texts(data)}

    for name, unit in (("nested <ol><li>, 1 KB in every sanitised field", "<ol><li>"),
                       ("allowed tags+attributes, 1 KB in every field", '<a href="')):
        data = json.loads(CASES[name].body(0))
        texts = hostile.sanitised_texts(data)
        assert len(texts) > 900 and all(unit * 2 in text or unit in text for _, text in texts)
        assert kinds(data) == kinds(every_sanitised_field(0)), name
        assert sum(map(len, (text for _, text in texts))) > 0.85 * hostile.LIMIT


def test_the_loader_sanitises_every_text_the_walker_finds() -> None:
    """Fill each string the walker calls sanitised with an unclosed tag: once loaded, every
    one of them (and nothing else) has had it closed by bleach."""
    template = every_sanitised_field(0)["data"]["step"]["actions"]
    data = json.loads(hostile.every_field("<i>", 16)(len(template), 0))
    found = len(hostile.sanitised_texts(data))
    loaded: list[str] = []

    def strings(value: Any) -> None:
        if isinstance(value, str):
            loaded.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                strings(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                strings(item)
        elif hasattr(value, "__dict__"):
            strings(vars(value))

    strings(NotificationLoader().load(data))
    marked = [text for text in loaded if "<i>" in text]
    assert found > 60 and len(marked) == found
    assert all(text.endswith("</i>") for text in marked)


def test_short_texts_are_many_distinct_and_marked_up(built: dict[int, Any]) -> None:
    data = next(data for case, _, data in built.values() if case.name.startswith("distinct"))
    texts = [text for _, text in hostile.sanitised_texts(data)]
    assert len(texts) == len(set(texts)) > 80_000 and all(text[0] == "<" for text in texts)


@pytest.mark.parametrize(("name", "piece", "count"), [
    ("allowed tags+attributes, one text", '<a href="https://exemple.fr/aide" title="Aide">', 13000),
    ("closed lists <ul><li>x</li></ul>, one text", "<ul><li>x</li></ul>", 55000),
    ("nested <blockquote><b><i> (no list)", "<blockquote><b><i>", 58000),
    ("control characters \\u0001, one text", "\x01", 170000),
    ("plain text and one '<', one text", "texte ", 170000),
])
def test_long_texts_carry_their_markup(name: str, piece: str, count: int) -> None:
    [(_, text)] = hostile.sanitised_texts(json.loads(CASES[name].body(0)))
    assert text.count(piece) > count


def test_deep_and_container_bodies(built: dict[int, Any]) -> None:
    by_name = {case.name: (body, data) for case, body, data in built.values()}
    body, data = by_name["JSON 64 levels deep, many branches"]
    assert depth(data) == payload.MAX_DEPTH and len(data["data"]["session"]["values"]) > 7000
    body, _ = by_name["JSON 65 levels, after many of 64"]
    assert depth(json.loads(body)) == payload.MAX_DEPTH + 1
    body, _ = by_name["JSON nested 500,000+ levels deep"]
    assert body.count(b"[") == body.count(b"]") > 500_000
    assert len(by_name["pause_bot_action actions"][1]["data"]["step"]["actions"]) > 30_000
    assert len(by_name["[] in a key the loader ignores"][1]["padding"]) > 300_000
    assert len(by_name["{} in the session values"][1]["data"]["session"]["values"]["objects"]) > 300_000
    letters = by_name["one-letter texts"][1]["data"]["step"]["actions"][0]["alternatives"]
    assert len(letters) > 250_000 and {len(letter) for letter in letters} == {1}


def test_numbers(built: dict[int, Any]) -> None:
    by_name = {case.name: (body, data) for case, body, data in built.values()}
    values = by_name["4,299-digit integers"][1]["data"]["session"]["values"]
    assert len(values) > 200 and {len(str(value)) for value in values.values()} == {4299}
    assert b":" + b"7" * 4301 + b"}" in by_name["4,301-digit integer after many"][0]
    floats = by_name["floats with 4,000-digit mantissas"]
    assert len(floats[1]["data"]["session"]["values"]) > 200
    assert re.search(rb":0\.\d{4000}", floats[0])


def test_variants_share_no_text_that_goes_through_bleach() -> None:
    """Repeated requests must not find their texts in the cleaned-text cache."""
    for case in hostile.HOSTILE:
        first, second = case.body(0), case.body(1)
        assert len(first) == len(second) and first != second, case.name
        if b"[[[" in first or case.over or b"7" * 4301 in first:
            continue  # Bodies without marked-up texts.
        texts = [{text for _, text in bleached(json.loads(body))} for body in (first, second)]
        assert not texts[0] & texts[1], case.name


def test_the_command_runs_and_prints_json() -> None:
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(io.StringIO()):
        code = adversarial.main(["--quick", "--json", "--case", str(len(hostile.HOSTILE))])
    report = json.loads(output.getvalue())
    assert code == 0
    assert [row["case"] for row in report["cases"]] == [0, len(hostile.HOSTILE)]
    assert [row["status"] for row in report["cases"]] == [200, 413]
    assert report["target"]["line"].startswith("worst adversarial CPU per byte = ")
