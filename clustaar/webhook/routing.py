"""Step 6 of the pipeline: find the first route registered for a topic whose filters pass."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Optional, Union

from .filters import FilterFunc

Handler = Callable[[Any, Any, Any], Any]
Filters = Union[None, FilterFunc, Iterable[FilterFunc]]


@dataclass(frozen=True)
class Route:
    """A handler for one topic, taken when all its filters accept the request."""

    topic: str
    handler: Handler
    filters: tuple[FilterFunc, ...] = ()

    def matches(self, request: Any) -> bool:
        """Whether every filter accepts ``request`` (checked in order, stopping at a no)."""
        return all(check(request) for check in self.filters)


def normalize_filters(filters: Filters) -> tuple[FilterFunc, ...]:
    """Turn ``None``, one filter or an iterable of filters into a tuple, once."""
    if filters is None:
        return ()
    if callable(filters):
        return (filters,)
    try:
        items = tuple(filters)
    except TypeError:
        raise TypeError(f"filters must be a filter or an iterable of filters, not {filters!r}") from None
    for item in items:
        if not callable(item):
            raise TypeError(f"a filter must be callable, not {item!r}")
    return items


class Router:
    """Ordered route tables, one per topic; the first matching route wins."""

    def __init__(self) -> None:
        self._tables: dict[str, list[Route]] = {}

    def add(self, topic: str, handler: Handler, filters: Filters = None) -> Route:
        """Append a route for ``topic``; earlier routes keep precedence."""
        if not isinstance(topic, str):
            raise TypeError(f"an event name must be a string, not {topic!r}")
        if not callable(handler):
            raise TypeError(f"a handler must be callable, not {handler!r}")
        route = Route(topic, handler, normalize_filters(filters))
        self._tables.setdefault(topic, []).append(route)
        return route

    def find(self, topic: str, request: Any) -> Optional[Route]:
        """The first route of ``topic`` that matches ``request``, or ``None``."""
        for route in self._tables.get(topic, ()):  # .get: unknown topics add no table
            if route.matches(request):
                return route
        return None

    def __iter__(self) -> Iterator[Route]:
        """Every route, topic by topic, in registration order."""
        for table in self._tables.values():
            yield from table

    def __len__(self) -> int:
        return sum(map(len, self._tables.values()))
