"""Step 6 of the pipeline: find the first route registered for a topic whose filters pass."""
from __future__ import annotations

import heapq
import inspect
import logging
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import falcon

from . import events
from .errors import FilterFailed
from .filters import And, FilterFunc, StepID, step_key
from .rejection import Rejection

#: Registration mistakes (a child of the request logger: configuring one configures both).
logger = logging.getLogger("clustaar.webhook.routing")
#: The topics the platform sends; a route for another one is most likely a typo.
KNOWN_TOPICS = frozenset(value for name, value in vars(events).items() if name.isupper())

Handler = Callable[[Any, Any, Any], Any]
Filters = Union[None, FilterFunc, Iterable[FilterFunc]]


class _Default:
    """``on(..., deadline=...)`` left out: the app's deadline applies."""

    def __repr__(self) -> str:
        return "DEFAULT"


#: The route takes the app's deadline.
DEFAULT: Any = _Default()


@dataclass(frozen=True)
class Route:
    """A handler for one topic, taken when all its filters accept the request."""

    topic: str
    handler: Handler
    filters: tuple[FilterFunc, ...] = ()
    #: Seconds, ``None`` for no deadline, or :data:`DEFAULT` for the app's.
    deadline: Any = DEFAULT
    #: ``fallback(request, notification)`` answered instead of a late handler, or the app's.
    fallback: Optional[Callable[[Any, Any], Any]] = None

    #: Whether the handler is a coroutine function (or an object whose ``__call__`` is).
    is_async: bool = field(init=False, compare=False)

    def __post_init__(self) -> None:
        is_async = (inspect.iscoroutinefunction(self.handler)
                    or inspect.iscoroutinefunction(type(self.handler).__call__))
        object.__setattr__(self, "is_async", is_async)  # Frozen: decided once, here.

    def matches(self, request: Any) -> bool:
        """Whether every filter accepts ``request`` (checked in order, stopping at a no).

        A filter that raises (other than an HTTP error on purpose) is a ``FilterFailed``."""
        check = None
        try:
            for check in self.filters:
                if not check(request):
                    return False
        except (Rejection, falcon.HTTPError):
            raise
        except Exception as error:
            raise FilterFailed(check) from error
        return True


def normalize_filters(filters: Filters) -> tuple[FilterFunc, ...]:
    """Turn ``None``, one filter or an iterable of filters into a tuple, once."""
    if filters is None:
        return ()
    if isinstance(filters, (str, bytes)):
        raise TypeError(f"filters must be a filter or an iterable of filters, not a string: "
                        f"did you mean StepID({filters!r})?")
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


def _pinned_ids(check: FilterFunc) -> Optional[frozenset[Hashable]]:
    """The step ids a filter requires before anything else of it runs, if any.

    That is a StepID, alone or leftmost in an ``&``: a request for another step
    would be refused by it first, so skipping the route runs no filter it would
    have run.
    """
    if isinstance(check, StepID):
        return check.keys
    if isinstance(check, And):
        return _pinned_ids(check.left)
    return None


class _Table:
    """The routes of one topic, those pinned to step ids also indexed by id.

    A request only tries the routes pinned to its step id and the unpinned
    ones, merged back into registration order, so first-match-wins holds and
    fifty routes for other steps cost nothing.
    """

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self._by_step: dict[Hashable, list[int]] = {}
        self._unpinned: list[int] = []

    def add(self, route: Route) -> None:
        position = len(self.routes)
        self.routes.append(route)
        ids = _pinned_ids(route.filters[0]) if route.filters else None
        if ids is None:
            self._unpinned.append(position)
        for key in ids or ():
            self._by_step.setdefault(key, []).append(position)

    def candidates(self, request: Any) -> Iterable[int]:
        """Positions of the routes that may match ``request``, in registration order."""
        key = step_key(request) if self._by_step else None
        pinned = self._by_step.get(key, ()) if key is not None else ()
        if not pinned:
            return self._unpinned
        if not self._unpinned:
            return pinned
        return heapq.merge(pinned, self._unpinned)


class Router:
    """Ordered route tables, one per topic; the first matching route wins."""

    def __init__(self) -> None:
        self._tables: dict[str, _Table] = {}

    def add(self, topic: str, handler: Handler, filters: Filters = None, *,
            deadline: Any = DEFAULT, fallback: Optional[Callable[[Any, Any], Any]] = None
            ) -> Route:
        """Append a route for ``topic``; earlier routes keep precedence."""
        if not isinstance(topic, str):
            raise TypeError(f"an event name must be a string, not {topic!r}")
        if not callable(handler):
            raise TypeError(f"a handler must be callable, not {handler!r}")
        route = Route(topic, handler, normalize_filters(filters), deadline, fallback)
        if topic not in KNOWN_TOPICS:
            logger.warning("route for %r: the platform sends no such topic (it sends %s), so "
                           "only hand-made requests will reach %s", topic,
                           ", ".join(sorted(KNOWN_TOPICS)), getattr(handler, "__qualname__",
                                                                    repr(handler)))
        self._tables.setdefault(topic, _Table()).add(route)
        return route

    def find(self, topic: str, request: Any) -> Optional[Route]:
        """The first route of ``topic`` that matches ``request``, or ``None``."""
        table = self._tables.get(topic)  # .get: unknown topics add no table
        if table is None:
            return None
        routes = table.routes
        for position in table.candidates(request):
            if routes[position].matches(request):
                return routes[position]
        return None

    def __iter__(self) -> Iterator[Route]:
        """Every route, topic by topic, in registration order."""
        for table in self._tables.values():
            yield from table.routes

    def __len__(self) -> int:
        return sum(len(table.routes) for table in self._tables.values())
