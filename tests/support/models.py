"""Loaded notifications compared all the way down: classes, values and attribute order."""
from __future__ import annotations

import re
from typing import Any


def assert_same(ours: Any, stock: Any, where: str = "notification") -> None:
    """Same classes, values and attribute order, all the way down."""
    assert type(ours) is type(stock), where
    if isinstance(stock, (list, tuple)):
        assert len(ours) == len(stock), where
        for index, (left, right) in enumerate(zip(ours, stock)):
            assert_same(left, right, f"{where}.{index}")
    elif isinstance(stock, dict):
        assert list(ours) == list(stock), where
        for key in stock:
            assert_same(ours[key], stock[key], f"{where}.{key}")
    elif isinstance(stock, re.Pattern):
        assert (ours.pattern, ours.flags) == (stock.pattern, stock.flags), where
    elif hasattr(stock, "__dict__"):  # Models (and any other loaded object).
        assert list(vars(ours)) == list(vars(stock)), where
        for name, value in vars(stock).items():
            assert_same(getattr(ours, name), value, f"{where}.{name}")
    else:
        assert ours == stock, where
