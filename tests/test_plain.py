"""Plain JSON: what may go to the fast encoder, and what must not."""
from __future__ import annotations

import datetime
import math
from typing import Any

import pytest

from clustaar.webhook.plain import NotPlain, vet


class _Text(str):
    pass


@pytest.mark.parametrize("value", [
    "é", 0, -(2 ** 80), True, None, 1.5, -0.0, 1e308, [], {}, (1, "a"),
    {"a": [1, {"b": [None, 2.5, ("x",)]}]},
])
def test_plain_values_pass_as_they_are(value: Any) -> None:
    assert vet(value) is value


@pytest.mark.parametrize("value", [
    math.nan, math.inf, -math.inf, {1, 2}, frozenset(), b"bytes", _Text("subclass"),
    {1: "int key"}, {None: 1}, {"deep": [{"deeper": [math.nan]}]}, [(math.inf,)],
    datetime.date(2026, 1, 1), object(), {"a": {"b": {_Text("k"): 1}}},
])
def test_anything_else_is_refused_wherever_it_sits(value: Any) -> None:
    with pytest.raises(NotPlain):
        vet(value)
