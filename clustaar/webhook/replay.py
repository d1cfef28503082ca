"""Step 2 of the pipeline: refuse requests whose ``Date`` is outside the replay window."""
from __future__ import annotations

import calendar
import functools
import re
import time
from typing import Callable, Optional

from .exchange import Exchange
from .rejection import bad_request

Clock = Callable[[], float]

#: An IMF-fixdate, the form the platform sends: shown to whoever sent a Date we cannot read.
EXAMPLE_DATE = "Tue, 01 Dec 2026 21:00:00 GMT"
# The first sentence is the one clients match on; the hint follows it.
_INVALID = ("The request's Date header is invalid. "
            f'Expected an HTTP date such as "{EXAMPLE_DATE}".')

_MONTHS = {name: number for number, name in enumerate(calendar.month_abbr) if name}
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_LONG_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_MONTH = r"(?P<month>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_TIME = r"(?P<hour>\d\d):(?P<minute>\d\d):(?P<second>\d\d)"
# The three formats of RFC 9110 §5.6.7: IMF-fixdate, rfc850-date and asctime-date.
# re.ASCII: a DIGIT is 0-9, not any Unicode digit.
_FORMATS = tuple(re.compile(pattern, re.ASCII) for pattern in (
    rf"{_DAY}, (?P<day>\d\d) {_MONTH} (?P<year>\d{{4}}) {_TIME} GMT",
    rf"{_LONG_DAY}, (?P<day>\d\d)-{_MONTH}-(?P<year>\d\d) {_TIME} GMT",
    rf"{_DAY} {_MONTH} (?P<day>[ \d]\d) {_TIME} (?P<year>\d{{4}})",
))


def parse_http_date(value: str, now: float) -> Optional[float]:
    """Return the POSIX time of an RFC 9110 HTTP date, or ``None`` if it is not one.

    ``now`` resolves rfc850's two-digit years: a year more than 50 years ahead
    is taken from the previous century, as RFC 9110 says.
    """
    return _parse(value, time.gmtime(now).tm_year)


# Every request of the same second carries the same Date: parsing each distinct
# value once takes the regex and calendar work off the hot path. Bounded, and
# thread-safe as functools promises.
@functools.lru_cache(maxsize=256)
def _parse(value: str, this_year: int) -> Optional[float]:
    for pattern in _FORMATS:
        match = pattern.fullmatch(value)
        if match:
            break
    else:
        return None
    year = int(match["year"])
    if len(match["year"]) == 2:  # Only rfc850's; a written "0026" is the year 26.
        year += this_year // 100 * 100
        if year > this_year + 50:
            year -= 100
    fields = (year, _MONTHS[match["month"]], int(match["day"]),
              int(match["hour"]), int(match["minute"]), int(match["second"]))
    if not _valid(*fields):
        return None
    return float(calendar.timegm(fields + (0, 0, 0)))


def _valid(year: int, month: int, day: int, hour: int, minute: int, second: int) -> bool:
    # Second 60 is a leap second, which only ever follows 23:59:59 (RFC 9110 §5.6.7).
    return (year >= 1 and 1 <= day <= calendar.monthrange(year, month)[1]
            and hour < 24 and minute < 60
            and (second < 60 or (hour, minute, second) == (23, 59, 60)))


class ReplayWindow:
    """Accept a request only if its ``Date`` is within ``max_age`` seconds of the clock."""

    def __init__(self, max_age: float, clock: Clock) -> None:
        self._max_age = max_age
        self._clock = clock

    def __call__(self, exchange: Exchange) -> None:
        # A field value never includes surrounding whitespace (RFC 9110 §5.5).
        value = (exchange.header("Date") or "").strip()
        if not value:
            bad_request("The request's Date header is missing.")
        now = self._clock()
        sent = parse_http_date(value, now)
        if sent is None:
            bad_request(_INVALID)
        if now - sent > self._max_age:
            bad_request("Request is too old")
        if sent - now > self._max_age:
            bad_request("Request date is in the future")

    def __repr__(self) -> str:
        return f"ReplayWindow(max_age={self._max_age!r})"
