"""Hypothesis strategies for the HTTP fuzz tests: dates, signatures, credentials, bodies.

Strategies are built once, at import: building them inside a draw costs more
than the request itself.
"""
from __future__ import annotations

import base64
import hmac
import json
import re
import string
import time
from typing import Any, Optional

from hypothesis import strategies as st

from clustaar.webhook import events

from . import KEY, NOW, PASSWORD, USER

WINDOW = 10
ALGORITHMS = ("sha1", "sha256", "sha512")
TOKEN = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

#: Header text a server may deliver: latin-1 without control characters.
LATIN1 = st.characters(min_codepoint=32, max_codepoint=255, exclude_categories=["Cc"])
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
LONG_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
FORMATS = ("imf", "rfc850", "asctime")
YEAR_1, YEAR_10000 = -62135596800, 253402300800


def dated(timestamp: float, form: str = "imf") -> str:
    """``timestamp`` as an RFC 9110 date in one of its three formats (written independently)."""
    t = time.gmtime(timestamp)
    day, month, clock = DAYS[t.tm_wday], MONTHS[t.tm_mon - 1], time.strftime("%H:%M:%S", t)
    if form == "imf":
        return f"{day}, {t.tm_mday:02d} {month} {t.tm_year:04d} {clock} GMT"
    if form == "rfc850":
        return f"{LONG_DAYS[t.tm_wday]}, {t.tm_mday:02d}-{month}-{t.tm_year % 100:02d} {clock} GMT"
    return f"{day} {month} {t.tm_mday:2d} {clock} {t.tm_year:04d}"


def signature_value(body: bytes, date: Optional[str], algorithm: str = "sha1",
                    upper_algorithm: bool = False, upper_digest: bool = False,
                    key: str = KEY) -> str:
    """The X-Hub-Signature the contract defines, computed here from contract §2, not the package."""
    message = b"date=" + str(date).encode("latin-1") + b"\n" + body
    hexdigest = hmac.new(key.encode(), message, algorithm).hexdigest()
    return (f"{algorithm.upper() if upper_algorithm else algorithm}="
            f"{hexdigest.upper() if upper_digest else hexdigest}")


def depth(value: Any) -> int:
    """Nesting levels of a JSON value; the top-level object is level 1."""
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) \
        else None
    return 0 if children is None else 1 + max(map(depth, children), default=0)


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value (no NaN/Infinity), small enough to keep examples fast."""
    scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=10) \
        | st.floats(allow_nan=False, allow_infinity=False)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=10)


# Strategies are built once, at import: building them inside a draw costs more
# than the request itself.
JSON_VALUES = json_values()
SHORT_TEXT = st.text(max_size=12)
ACTIONS = [{"type": "pause_bot_action"}, {"type": "close_intercom_conversation_action"},
           {"type": "wait_action", "duration": 2}]


def _notification(step_id: str, parts: dict[str, Any], indent: Optional[int],
                  ascii_only: bool) -> bytes:
    interlocutor = {"id": parts["interlocutor_id"], "userID": parts["user_id"],
                    **parts["optional"]}
    document = {
        "botID": parts["bot_id"], "timestamp": parts["timestamp"],
        "topic": events.CONVERSATION_STEP_REACHED,
        "data": {"type": "step_reached_event", "channel": parts["channel"],
                 "interlocutor": interlocutor, "session": {"values": parts["values"]},
                 "step": {"id": step_id, "name": parts["name"], "userData": "{}",
                          "actions": parts["actions"]}},
    }
    return json.dumps(document, indent=indent, ensure_ascii=ascii_only).encode()


def notifications(allow_boom: bool, values: st.SearchStrategy[Any] = JSON_VALUES
                  ) -> st.SearchStrategy[bytes]:
    """The bytes of valid ``conversation.step_reached`` notifications."""
    step_ids = st.sampled_from(["1234", "boom"] if allow_boom else ["1234"]) \
        | SHORT_TEXT.filter(lambda text: text != "boom")
    parts = st.fixed_dictionaries({
        "interlocutor_id": SHORT_TEXT, "user_id": SHORT_TEXT, "bot_id": SHORT_TEXT,
        "name": SHORT_TEXT, "timestamp": st.integers(0, 2**40),
        "channel": st.sampled_from(["web", "facebook"]),
        "optional": st.fixed_dictionaries({}, optional={
            "firstName": st.none() | st.text(max_size=20),
            "email": st.none() | st.text(max_size=20)}),
        "values": st.dictionaries(st.text(max_size=8), values, max_size=4),
        "actions": st.lists(st.sampled_from(ACTIONS), max_size=3)})
    return st.builds(_notification, step_ids, parts, st.sampled_from([None, 1]), st.booleans())


NOTIFICATIONS = notifications(allow_boom=True)
# Where the body is not what is tested, plainer session values keep examples cheap.
SAFE_NOTIFICATIONS = notifications(allow_boom=False, values=st.integers() | SHORT_TEXT)

MISSING_DATE = "The request's Date header is missing."
INVALID_DATE = ("The request's Date header is invalid. "
                'Expected an HTTP date such as "Tue, 01 Dec 2026 21:00:00 GMT".')
NEAR_MISSES = ["Sat, 28 Nov 2026 12:00:00 UTC", "Sat, 28 nov 2026 12:00:00 GMT",
               "Sat, 28 Nov 2026 24:00:00 GMT", "Sat, 28 Nov 2026 12:61:00 GMT",
               "Sat, 31 Nov 2026 12:00:00 GMT", "Sat, 8 Nov 2026 12:00:00 GMT",
               "2026-11-28T12:00:00Z", "Sat, 28 Nov 2026 12:00:00 +0000",
               "Saturday, 28-Nov-2026 12:00:00 GMT", "Sat Nov 28 12:00:00 26",
               "Sat, 28 Nov 2026 12:00 GMT", "Sat, 28 Nov 2026 12:00:00 GMT GMT",
               "Sat, 29 Feb 2026 12:00:00 GMT", "1795867200", "Sat, 28 Nov 2026"]


def _far(form: str, sign: int, steps: int) -> str:
    """A date more than the window away from NOW, ``steps`` folded into the format's range."""
    # rfc850 has two-digit years: stay within 49 years, where the century is not ambiguous.
    # Four-digit years go down to 0001: "0026" is the year 26, not 2026.
    furthest = 49 * 365 * 86400 if form == "rfc850" else \
        NOW - YEAR_1 if sign < 0 else YEAR_10000 - 1 - NOW
    return dated(NOW + sign * (WINDOW + 1 + steps % int(furthest - WINDOW)), form)


FORMS = st.sampled_from(FORMATS)
ABSENT = st.sampled_from([None, ""])  # An empty header counts as a missing one.
#: (Date header or None, the replay check's description; "" when it passes).
DATES = st.one_of(
    st.tuples(FORMS, st.integers(-WINDOW, WINDOW)).map(lambda p: (dated(NOW + p[1], p[0]), "")),
    st.tuples(FORMS, st.integers(0, 2**40)).map(lambda p: (_far(p[0], -1, p[1]),
                                                           "Request is too old")),
    st.tuples(FORMS, st.integers(0, 2**40)).map(lambda p: (_far(p[0], 1, p[1]),
                                                           "Request date is in the future")),
    ABSENT.map(lambda v: (v, MISSING_DATE)),
    (st.text(LATIN1, min_size=1, max_size=40).filter(
        lambda text: bool(text.strip()) and not re.search(r"\d\d:\d\d:\d\d", text))
     | st.sampled_from(NEAR_MISSES)).map(lambda v: (v, INVALID_DATE)))

CASE_MASKS = st.integers(0, 2**128 - 1)


def any_case(text: str, mask: int) -> str:
    """``text`` with the letters whose bit is set in ``mask`` upper-cased."""
    return "".join(c.upper() if mask >> i & 1 else c for i, c in enumerate(text))


SIGNATURE_KINDS = st.sampled_from(["ok", "missing", "format", "algorithm", "wrong"])
PICK_ALGORITHM = st.sampled_from(ALGORITHMS)
NO_EQUALS = st.text(LATIN1.filter(lambda c: c != "="), min_size=1, max_size=30).filter(str.strip)
UNKNOWN_ALGORITHMS = st.text(LATIN1.filter(lambda c: c != "=" and not c.isspace()), max_size=10) \
    .filter(lambda text: text.lower() not in ALGORITHMS)
WRONG_DIGESTS = st.text("0123456789abcdefABCDEF", max_size=140) | st.text(LATIN1, max_size=60) \
    | st.sampled_from(["sha512", "other key", "shortened"])


@st.composite
def signatures(draw: Any, body: bytes, date: Optional[str]) -> tuple[Optional[str], str]:
    """(X-Hub-Signature or None, the signature check's reason; "" when it passes)."""
    algorithm = draw(PICK_ALGORITHM)
    good = signature_value(body, date, algorithm).partition("=")[2]
    kind = draw(SIGNATURE_KINDS)
    if kind == "ok":
        return any_case(f"{algorithm}={good}", draw(CASE_MASKS)), ""
    if kind == "missing":
        return draw(ABSENT), "The request's signature is missing."
    if kind == "format":
        return draw(NO_EQUALS), "The request's signature format is invalid."
    if kind == "algorithm":
        digest = good if draw(st.booleans()) else draw(NO_EQUALS)
        return (f"{draw(UNKNOWN_ALGORITHMS)}={digest}",
                "The request's signature hash function is invalid "
                "(should be one of ['sha1', 'sha256', 'sha512']).")
    wrong = {"sha512": signature_value(body, date, "sha512").partition("=")[2],
             "other key": signature_value(body, date, algorithm, key="other").partition("=")[2],
             "shortened": good[:-1]}
    value = draw(WRONG_DIGESTS)
    value = wrong.get(value, value)
    if value.strip().lower() == good:  # Hypothesis found the digest: an "ok" case after all.
        return f"{algorithm}={value}", ""
    return f"{any_case(algorithm, draw(CASE_MASKS))}={value}", "The request's signature is invalid."


SCHEMES = CASE_MASKS.map(lambda mask: any_case("basic", mask))
OTHER_SCHEMES = st.text(string.ascii_letters + string.punctuation, min_size=1, max_size=10) \
    .filter(lambda s: s.lower() != "basic")
NOT_OUR_CREDENTIALS = (st.text(max_size=20).map(str.encode) | st.binary(max_size=20)).filter(
    lambda raw: raw != f"{USER}:{PASSWORD}".encode()).map(lambda raw: base64.b64encode(raw).decode())
BAD_TOKENS = NOT_OUR_CREDENTIALS | st.text(LATIN1, max_size=30) | st.sampled_from(
    [TOKEN[:-1], TOKEN[1:], TOKEN + "é", TOKEN.lower(), base64.b64encode(b"\xff\xfe:x").decode()])
#: (Authorization or None, whether it carries the right Basic credentials).
AUTHORIZATIONS = st.one_of(
    SCHEMES.map(lambda s: (f"{s} {TOKEN}", True)),
    st.just((None, False)),
    OTHER_SCHEMES.map(lambda s: (f"{s} {TOKEN}", False)),
    st.tuples(SCHEMES, BAD_TOKENS).map(lambda p: (f"{p[0]} {p[1]}".rstrip(), False)))

RESERVED = {"DATE", "X_HUB_SIGNATURE", "AUTHORIZATION", "CONTENT_LENGTH", "CONTENT_TYPE"}
EXTRA_HEADERS = st.dictionaries(
    st.text(string.ascii_letters + "-", min_size=1, max_size=12).filter(
        lambda n: n.upper().replace("-", "_") not in RESERVED),
    st.text(LATIN1, max_size=30), max_size=3)
CONTENT_TYPES = st.none() | st.sampled_from(["application/json", "text/plain", "text/html",
                                              "application/x-www-form-urlencoded"]) \
    | st.text(LATIN1, max_size=30)


@st.composite
def hostile_headers(draw: Any, body: bytes) -> tuple[dict[str, str], str, str, bool]:
    """Random Date, signature, Authorization, Content-Type and extra headers, with verdicts."""
    date, date_verdict = draw(DATES)
    signature, signature_verdict = draw(signatures(body, date))
    authorization, auth_ok = draw(AUTHORIZATIONS)
    headers = draw(EXTRA_HEADERS)
    for name, value in (("Date", date), ("X-Hub-Signature", signature),
                        ("Authorization", authorization), ("Content-Type", draw(CONTENT_TYPES))):
        if value is not None:
            headers[name] = value
    return headers, date_verdict, signature_verdict, auth_ok
