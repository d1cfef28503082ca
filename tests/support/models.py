"""Loaded notifications compared all the way down (classes, values, attribute order), and
our loader checked against the stock clustaar.schemas one."""
from __future__ import annotations

import copy
import re
from typing import Any

import lupin
import pytest
from clustaar.schemas import v1
from hypothesis import HealthCheck, Phase, settings

from clustaar.webhook.loading import MAPPER, LoadError, NotificationLoader

STOCK = v1.get_mapper(factory=lupin.constructor)
LOADER = NotificationLoader()


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


def stock_load(data: dict[str, Any]) -> Any:
    return STOCK.load(data, v1.WEBHOOK_REQUEST)


def dump(notification: Any) -> Any:
    """``MAPPER.dump``, or the type of the error it raises (lupin cannot dump every model)."""
    try:
        return MAPPER.dump(notification)
    except Exception as error:
        return type(error)


def check(data: dict[str, Any], loader: NotificationLoader = LOADER) -> None:
    """Our result equals the stock one, or ours raises LoadError where the stock one raises.
    Both get their own copy: clustaar.schemas' CustomerSatisfactionChoiceSchema edits it."""
    ours_data, stock_data = copy.deepcopy(data), copy.deepcopy(data)
    try:
        stock = stock_load(stock_data)
    except Exception:
        with pytest.raises(LoadError):
            loader.load(ours_data)
        return
    ours = loader.load(ours_data)
    assert_same(ours, stock)
    assert dump(ours) == dump(stock)
    assert ours_data == stock_data  # The same edits of the input, if any.


#: Shrinking a whole notification takes minutes: the small sanitiser test shrinks instead.
WHOLE_BODY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow],
                      phases=[Phase.explicit, Phase.reuse, Phase.generate])
