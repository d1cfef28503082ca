"""The ``clustaar-webhook`` command: send test notifications, sign bodies, list routes.

Exit codes: 0 success, 1 failure (a non-2xx answer, an unreachable server, a
module that does not import), 2 a usage mistake. Every error is one line on
stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from http.client import HTTPException
from typing import Any, NoReturn, Optional

from . import __version__
from .platform import encode, http_date, notification, platform_headers, sign
from .signature import ALGORITHMS
from .webhook import Webhook

PROG = "clustaar-webhook"
ENV_PRIVATE_KEY = "CLUSTAAR_WEBHOOK_PRIVATE_KEY"
ENV_USERNAME = "CLUSTAAR_WEBHOOK_AUTH_USERNAME"
ENV_PASSWORD = "CLUSTAAR_WEBHOOK_AUTH_PASSWORD"
_SECRETS_HELP = (f"Secrets not given as options are read from {ENV_PRIVATE_KEY}, {ENV_USERNAME} "
                 f"and {ENV_PASSWORD}, as the example bot does.")


class CommandError(Exception):
    """A failure shown as one line on stderr, ending the command with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        raise CommandError(f"{message} (see {self.prog} --help)", 2)


def _secret(given: Optional[str], variable: str) -> Optional[str]:
    """An option's value, else the environment's; empty counts as unset, as in the bot."""
    return given or os.environ.get(variable) or None


def _read(path: str) -> bytes:
    """The exact bytes of ``path``, or of standard input for ``-``."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None


def _session_item(text: str) -> tuple[str, Any]:
    """``KEY=VALUE``; VALUE is taken as JSON when it is valid JSON (3, true, null), else text."""
    key, separator, raw = text.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, not {text!r}")
    try:
        value = json.loads(raw)
        json.dumps(value, allow_nan=False)  # NaN, Infinity and 1e999 parse but cannot be sent.
    except ValueError:
        return key, raw
    return key, value


def _seconds(text: str) -> float:
    """A strictly positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, not {text!r}")
    return value


def _send(args: argparse.Namespace) -> int:
    """Post a signed notification and print the answer; 0 only for a 2xx status."""
    username, password = _secret(args.username, ENV_USERNAME), _secret(args.password, ENV_PASSWORD)
    if (username is None) != (password is None):
        raise CommandError("give both a username and a password, or neither", 2)
    if args.file is not None:
        if args.step_id is not None or args.session:
            raise CommandError("--file cannot be combined with --step-id or --session", 2)
        body = _read(args.file)
    else:
        options = {"step_id": args.step_id} if args.step_id is not None else {}
        body = encode(notification(session_values=dict(args.session), **options))
    date = {"now": http_date(time.time()), "none": None}.get(args.date.lower(), args.date)
    headers = platform_headers(
        body, private_key=_secret(args.private_key, ENV_PRIVATE_KEY), date=date,
        credentials=(username, password) if username and password else None,
        extra={"User-Agent": f"{PROG}/{__version__}"})
    status, reason, answer = _post(args.url, body, headers, args.timeout)
    print(f"{status} {reason}")
    if answer:
        print(_pretty(answer))
    return 0 if 200 <= status < 300 else 1


#: Talks straight to the URL: no proxy from the environment, no redirect followed
#: (urllib would turn a redirected POST into a GET without its body).
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str, bytes]:
    """POST ``body`` to ``url``: the status, its reason and the answer's body."""
    try:
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme not in ("http", "https"):
            raise CommandError(f"URL must start with http:// or https://, not {url!r}", 2)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.reason, response.read()
    except urllib.error.HTTPError as error:  # Any non-2xx status: still an answer.
        with error:
            return error.code, str(error.reason), error.read()
    except urllib.error.URLError as error:
        raise CommandError(f"cannot reach {url}: {error.reason}") from None
    except (OSError, HTTPException) as error:  # Timeouts, resets, broken answers.
        raise CommandError(f"cannot reach {url}: {error or type(error).__name__}") from None
    except ValueError as error:  # urllib's verdict on a malformed URL, e.g. http://[::1
        raise CommandError(f"invalid URL {url!r}: {error}", 2) from None


def _pretty(answer: bytes) -> str:
    """The answer as indented JSON, or as text when it is not JSON."""
    try:
        return json.dumps(json.loads(answer), indent=2, ensure_ascii=False)
    except ValueError:
        return answer.decode("utf-8", "replace")


def _sign(args: argparse.Namespace) -> int:
    """Print the ``X-Hub-Signature`` value of a body."""
    key = _secret(args.private_key, ENV_PRIVATE_KEY)
    if key is None:
        raise CommandError(f"a private key is needed: --private-key or {ENV_PRIVATE_KEY}", 2)
    print(sign(_read(args.file), key, args.date, args.algorithm))
    return 0


def _load_webhook(target: str, pythonpath: Optional[str]) -> Webhook:
    """Import ``MODULE:ATTR`` (ATTR may be dotted) and check that it is a Webhook."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise CommandError(f"expected MODULE:ATTR (e.g. bot:app), not {target!r}", 2)
    # Like gunicorn: modules are found from the working directory, or --pythonpath.
    for directory in (os.getcwd(), pythonpath):
        if directory and directory not in sys.path:
            sys.path.insert(0, directory)
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # The user's module may fail in any way; report it in one line.
        reason = f"{type(error).__name__}: {error}"
        raise CommandError(f"cannot import {module_name}: {reason}") from None
    try:
        webhook = functools.reduce(getattr, attribute.split("."), module)
    except AttributeError:
        raise CommandError(f"{module_name} has no attribute {attribute!r}") from None
    if not isinstance(webhook, Webhook):
        raise CommandError(f"{target} is a {type(webhook).__name__}, not a Webhook")
    return webhook


def _describe(func: Any) -> str:
    """A function's qualified name, a filter's own repr, else the callable's type."""
    if hasattr(func, "__qualname__"):
        return f"{func.__module__}.{func.__qualname__}"
    if getattr(type(func), "__repr__") is not object.__repr__:  # noqa: B009 (mypy narrows the attribute)
        return repr(func)
    return f"{type(func).__module__}.{type(func).__qualname__} instance"


def _routes(args: argparse.Namespace) -> int:
    """List the routes of a Webhook in the order they are tried."""
    rows = [(route.topic, ", ".join(map(_describe, route.filters)) or "-", _describe(route.handler))
            for route in _load_webhook(args.target, args.pythonpath).routes]
    if not rows:
        print("no routes")
        return 0
    topic_width, filters_width = (max(len(row[column]) for row in rows) for column in (0, 1))
    for topic, filters, handler in rows:
        print(f"{topic:<{topic_width}}  {filters:<{filters_width}}  {handler}")
    return 0


def _parser() -> _Parser:
    parser = _Parser(prog=PROG, description="Try a Clustaar webhook without the platform.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", required=True,
                                     parser_class=_Parser)

    send = commands.add_parser(
        "send", help="post a signed notification and print the answer",
        description="Post a signed conversation.step_reached notification to URL and print the "
                    "status and the JSON answer. Exits 0 on a 2xx answer, 1 otherwise.",
        epilog=_SECRETS_HELP)
    send.add_argument("url", metavar="URL")
    send.add_argument("--file", metavar="PATH", help="send this file's exact bytes (- for stdin) "
                      "instead of a built notification")
    send.add_argument("--step-id", metavar="ID", help="the id of the step reached")
    send.add_argument("--session", metavar="KEY=VALUE", type=_session_item, action="append",
                      default=[], help="a session value, repeatable; VALUE is JSON if it parses")
    send.add_argument("--private-key", metavar="K", help="sign with this key")
    send.add_argument("--username", metavar="U", help="Basic auth user name")
    send.add_argument("--password", metavar="P", help="Basic auth password")
    send.add_argument("--date", metavar="now|none|VALUE", default="now",
                      help="the Date header: now (default), none (no header) or this exact value")
    send.add_argument("--timeout", metavar="SECONDS", type=_seconds, default=10.0,
                      help="give up after this long (default 10)")
    send.set_defaults(run=_send)

    signer = commands.add_parser(
        "sign", help="print the X-Hub-Signature value of a body",
        description="Print the X-Hub-Signature header value the platform sends for a body.",
        epilog=f"The private key may also come from {ENV_PRIVATE_KEY}.")
    signer.add_argument("file", metavar="FILE|-", help="the exact body (- for stdin)")
    signer.add_argument("--private-key", metavar="K", help="the signing key")
    signer.add_argument("--date", metavar="D", help="the request's exact Date header "
                        "(default: none, which signs the text None as the platform does)")
    signer.add_argument("--algorithm", metavar="A", type=str.lower, choices=ALGORITHMS,
                        default="sha1", help=f"one of {', '.join(ALGORITHMS)} (default sha1)")
    signer.set_defaults(run=_sign)

    routes = commands.add_parser(
        "routes", help="list the routes of a Webhook",
        description="Import MODULE and list the routes of its Webhook ATTR in the order they are "
                    "tried: topic, filters, handler.")
    routes.add_argument("target", metavar="MODULE:ATTR", help="e.g. bot:app")
    routes.add_argument("--pythonpath", metavar="DIR", help="import MODULE from this directory")
    routes.set_defaults(run=_routes)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``) and return its exit code."""
    try:
        args = _parser().parse_args(argv)
        return int(args.run(args))
    except CommandError as error:
        one_line = " ".join(str(error).split())  # A user module's error may span lines.
        print(f"{PROG}: error: {one_line}", file=sys.stderr)
        return error.exit_code
    except SystemExit as exit_:  # --help and --version
        return int(exit_.code or 0)
