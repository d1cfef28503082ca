"""Step 2: the replay window on the ``Date`` header (contract §2 "Replay window")."""
from __future__ import annotations

import calendar
import time
from typing import Any, Optional

import pytest
from support import NOW
from support.answers import assert_error
from support.requests import client, http_date
from webtest import TestResponse

from clustaar.webhook import Webhook
from clustaar.webhook.replay import parse_http_date

pytestmark = pytest.mark.usefixtures("both_apps")

PING = b'{"topic": "ping"}'
TOO_OLD = "Request is too old"
FUTURE = "Request date is in the future"
MISSING = "The request's Date header is missing."
INVALID = ("The request's Date header is invalid. "
           'Expected an HTTP date such as "Tue, 01 Dec 2026 21:00:00 GMT".')
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: 1994-11-06 08:49:37 UTC, the example date of RFC 9110 §5.6.7.
RFC_EXAMPLE = 784111777.0


def rfc850(timestamp: float) -> str:
    """The obsolete rfc850-date form, with its two-digit year."""
    t = time.gmtime(timestamp)
    return (f"{DAYS[t.tm_wday]}, {t.tm_mday:02d}-{MONTHS[t.tm_mon - 1]}-{t.tm_year % 100:02d} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT")


def asctime(timestamp: float) -> str:
    """ANSI C's asctime() form, with a space-padded day."""
    t = time.gmtime(timestamp)
    return (f"{DAYS[t.tm_wday][:3]} {MONTHS[t.tm_mon - 1]} {t.tm_mday:2d} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} {t.tm_year}")


def ping_app(now: float = NOW, **options: Any) -> Webhook:
    app = Webhook(clock=lambda: now, **options)
    app.on("ping", lambda request, response, notification: {"pong": True})
    return app


def post(date: Optional[str], app: Optional[Webhook] = None) -> TestResponse:
    headers = {} if date is None else {"Date": date}
    return client(app or ping_app()).post("/", PING, headers=headers, expect_errors=True)


def assert_rejected(response: TestResponse, description: str) -> None:
    assert_error(response, 400, "400 Bad Request", description)


# --- Through HTTP. ---

def test_the_formats_helpers_write_the_rfc_examples() -> None:
    assert http_date(RFC_EXAMPLE) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert rfc850(RFC_EXAMPLE) == "Sunday, 06-Nov-94 08:49:37 GMT"
    assert asctime(RFC_EXAMPLE) == "Sun Nov  6 08:49:37 1994"


@pytest.mark.parametrize("form", [http_date, rfc850, asctime])
def test_all_three_formats_are_accepted(form: Any) -> None:
    # The 1st of the month, so asctime's day is space-padded.
    first = 1793534400.0  # 2026-11-01 12:00:00 UTC
    assert post(form(first), ping_app(now=first)).json == {"pong": True}
    assert post(form(NOW)).json == {"pong": True}


@pytest.mark.parametrize("form", [http_date, rfc850, asctime])
def test_exactly_max_age_away_is_accepted_in_both_directions(form: Any) -> None:
    assert post(form(NOW - 10)).status_int == 200
    assert post(form(NOW + 10)).status_int == 200


@pytest.mark.parametrize("form", [http_date, rfc850, asctime])
def test_one_second_more_is_rejected(form: Any) -> None:
    assert_rejected(post(form(NOW - 11)), TOO_OLD)
    assert_rejected(post(form(NOW + 11)), FUTURE)


def test_far_away_dates_are_rejected() -> None:
    assert_rejected(post(http_date(NOW - 86400 * 365)), TOO_OLD)
    assert_rejected(post(http_date(RFC_EXAMPLE)), TOO_OLD)
    assert_rejected(post(http_date(NOW + 3600)), FUTURE)
    # Today's day and time in the year 26 (a four-digit year is never a two-digit one).
    assert_rejected(post("Sat, 28 Nov 0026 12:00:00 GMT"), TOO_OLD)


def test_a_fractional_clock_is_compared_exactly() -> None:
    app = ping_app(now=NOW + 0.5)
    assert post(http_date(NOW - 9), app).status_int == 200
    assert_rejected(post(http_date(NOW - 10), app), TOO_OLD)  # 10.5 s old


@pytest.mark.parametrize("date", [None, "", "   "])
def test_missing_or_empty_date(date: Optional[str]) -> None:
    # A field value never includes surrounding whitespace (RFC 9110 §5.5): "   " is empty.
    assert_rejected(post(date), MISSING)


@pytest.mark.parametrize("date", [
    "garbage",
    "1795867200",
    "2026-11-28T12:00:00Z",
    "Sat, 31 Feb 2026 12:00:00 GMT",  # no such day
    "Sat, 28 Nov 0000 12:00:00 GMT",  # no such year
    "Sat, 28 Nov 2026 24:00:00 GMT",  # hour 24
    "Sat, 28 Nov 2026 12:60:00 GMT",
    "Sat, 28 Nov 2026 12:00:61 GMT",
    "Sat, 28 Nov 2026 12:00:00 UTC",  # wrong timezone
    "Sat, 28 Nov 2026 12:00:00 +0000",
    "Sat, 28 Nov 2026 12:00:00",
    "Sat, 28 Nov 2026 12:00 GMT",
    "Sat, 28 Foo 2026 12:00:00 GMT",
    "Sat 28 Nov 2026 12:00:00 GMT",
    "Sat, 28 Nov 26 12:00:00 GMT",  # two-digit year in an IMF-fixdate
    "Saturday, 28-Nov-2026 12:00:00 GMT",  # four-digit year in an rfc850-date
    "Sat Nov 28 12:00:00 2026 GMT",
    "Sat, 28 Nov 2026 12:00:00 GMT, Sat, 28 Nov 2026 12:00:00 GMT",
])
def test_unparseable_date(date: str) -> None:
    assert_rejected(post(date), INVALID)


def test_the_first_failure_wins_over_the_window() -> None:
    # An invalid date is not reported as too old, even if it names the past.
    assert_rejected(post("Sun, 30 Feb 1994 08:49:37 GMT"), INVALID)


def test_none_disables_the_check() -> None:
    app = ping_app(request_max_age=None)
    for date in (None, "", "garbage", http_date(RFC_EXAMPLE), http_date(NOW + 86400)):
        assert post(date, app).json == {"pong": True}


def test_the_default_max_age_is_ten_seconds() -> None:
    app = Webhook(clock=lambda: NOW)
    app.on("ping", lambda request, response, notification: {"pong": True})
    assert post(http_date(NOW - 10), app).status_int == 200
    assert_rejected(post(http_date(NOW - 11), app), TOO_OLD)


def test_a_custom_max_age() -> None:
    app = ping_app(request_max_age=300)
    assert post(http_date(NOW - 300), app).status_int == 200
    assert post(http_date(NOW + 300), app).status_int == 200
    assert_rejected(post(http_date(NOW - 301), app), TOO_OLD)
    assert_rejected(post(http_date(NOW + 301), app), FUTURE)


def test_the_clock_is_read_for_each_request() -> None:
    now = [NOW]
    app = Webhook(clock=lambda: now[0])
    app.on("ping", lambda request, response, notification: {"pong": True})
    date = http_date(NOW)
    assert post(date, app).status_int == 200
    now[0] += 11
    assert_rejected(post(date, app), TOO_OLD)


# --- parse_http_date on its own. ---

@pytest.mark.parametrize("value", [
    "Sun, 06 Nov 1994 08:49:37 GMT",
    "Sunday, 06-Nov-94 08:49:37 GMT",
    "Sun Nov  6 08:49:37 1994",
    "Sun Nov 06 08:49:37 1994",  # asctime's day may also be zero-padded
])
def test_parse_the_rfc_examples(value: str) -> None:
    assert parse_http_date(value, NOW) == RFC_EXAMPLE


@pytest.mark.parametrize("year, expected", [("94", 1994), ("30", 2030), ("76", 2076),
                                            ("77", 1977), ("00", 2000), ("99", 1999)])
def test_parse_rfc850_two_digit_years_against_the_clock(year: str, expected: int) -> None:
    # RFC 9110: a year more than 50 years ahead of now belongs to the past century.
    parsed = parse_http_date(f"Monday, 01-Jan-{year} 00:00:00 GMT", NOW)
    assert parsed is not None
    assert time.gmtime(parsed).tm_year == expected


def test_parse_rfc850_years_follow_the_clock() -> None:
    in_1990 = 631152000.0  # 1990-01-01
    parsed = parse_http_date("Monday, 01-Jan-45 00:00:00 GMT", in_1990)
    assert parsed is not None and time.gmtime(parsed).tm_year == 1945


@pytest.mark.parametrize("value", [
    "Fri, 01 Jan 0026 00:00:00 GMT",
    "Fri Jan  1 00:00:00 0026",
])
def test_parse_keeps_four_digit_years_as_written(value: str) -> None:
    # Only rfc850's two-digit years are moved to a century; the year 0026 stays in it.
    assert parse_http_date(value, NOW) == calendar.timegm((26, 1, 1, 0, 0, 0))


def test_parse_accepts_a_leap_second() -> None:
    # RFC 9110 §5.6.7: second 60 is the leap second, 23:59:60.
    assert parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT", NOW) == 1483228800.0
    assert parse_http_date("Sat, 31 Dec 2016 12:00:60 GMT", NOW) is None


@pytest.mark.parametrize("value", [
    "",
    "Sun, 06 Nov 1994 08:49:37 gmt",
    "sun, 06 Nov 1994 08:49:37 GMT",
    "Sun, 6 Nov 1994 08:49:37 GMT",
    "Sun, 06 Nov 1994 8:49:37 GMT",
    "Sun, 29 Feb 1994 08:49:37 GMT",  # not a leap year
    "Sun, 00 Nov 1994 08:49:37 GMT",
    "Sat, 01 Jan 0000 00:00:00 GMT",  # there is no year 0
    "Sun, 06 Nov 1994 08:49:37 GMT ",  # the header's own spaces are stripped before
    "Sun, \u0660\u0666 Nov 1994 08:49:37 GMT",  # Arabic-Indic digits are not DIGIT
    "Sunday, 06-Nov-\u0669\u0664 08:49:37 GMT",
])
def test_parse_rejects(value: str) -> None:
    assert parse_http_date(value, NOW) is None


def test_parse_accepts_february_29_of_a_leap_year() -> None:
    assert parse_http_date("Mon, 29 Feb 2016 00:00:00 GMT", NOW) == 1456704000.0


def test_the_hint_for_an_invalid_date_quotes_a_date_that_parses() -> None:
    quoted = INVALID.split('"')[1]
    assert parse_http_date(quoted, NOW) == calendar.timegm((2026, 12, 1, 21, 0, 0))
