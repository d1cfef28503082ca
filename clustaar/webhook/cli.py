"""The ``clustaar-webhook`` command: send test notifications, sign bodies, list routes.

Exit codes: 0 success, 1 failure (a non-2xx answer, an unreachable server, a
module that does not import, a closed standard output), 2 a usage mistake.
Every error is one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import socket
import sys
import time
import urllib.error
from collections.abc import Sequence
from http.client import HTTPException
from typing import Any, Callable, NoReturn, Optional, TypeVar

from . import __version__, platform
from .replay import EXAMPLE_DATE
from .signature import ALGORITHMS
from .webhook import Webhook

PROG = "clustaar-webhook"
ENV_PRIVATE_KEY = "CLUSTAAR_WEBHOOK_PRIVATE_KEY"
ENV_USERNAME = "CLUSTAAR_WEBHOOK_AUTH_USERNAME"
ENV_PASSWORD = "CLUSTAAR_WEBHOOK_AUTH_PASSWORD"
T = TypeVar("T")
_SECRETS_HELP = (f"A secret not given as an option comes from the variable its --*-env names, by "
                 f"default {ENV_PRIVATE_KEY}, {ENV_USERNAME} and {ENV_PASSWORD} (as the example "
                 "bot reads them); an unset default variable turns that check off.")


class CommandError(Exception):
    """A failure shown as one line on stderr, ending the command with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        raise CommandError(f"{message} (see {self.prog} --help)", 2)


def _secret(args: argparse.Namespace, option: str, default_variable: str) -> Optional[str]:
    """A secret: its option, else the variable ``--OPTION-env`` names, else ``default_variable``.

    Empty counts as unset, as in the bot; a variable named on purpose must be set.
    """
    given: Optional[str] = getattr(args, option)
    variable: Optional[str] = getattr(args, f"{option}_env")
    if given or variable is None:
        return given or os.environ.get(default_variable) or None
    value = os.environ.get(variable)
    if not value:
        raise CommandError(f"{variable} is not set (--{option.replace('_', '-')}-env)", 2)
    return value


def _read(path: str) -> bytes:
    """The exact bytes of ``path``, or of standard input for ``-``."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None


def _usage(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse type from ``parse``: its ``ValueError`` becomes the one-line usage error."""
    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    return convert


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
    username, password = _secret(args, "username", ENV_USERNAME), _secret(args, "password", ENV_PASSWORD)
    if (username is None) != (password is None):
        raise CommandError("give both a username and a password, or neither", 2)
    # The options that build the notification, by the names notification() gives them.
    built: dict[str, Any] = {name: value for name, value in (
        ("step_id", args.step_id), ("text", args.text), ("channel", args.channel),
        ("session_values", args.session and dict(args.session)),
        ("interlocutor", args.interlocutor and dict(args.interlocutor))) if value is not None}
    if args.file is not None:
        if built:
            raise CommandError("--file cannot be combined with --step-id, --text, --channel, "
                               "--session or --interlocutor", 2)
        body = _read(args.file)
    else:
        body = platform.encode(platform.notification(**built))
    headers = platform.platform_headers(
        body, private_key=_secret(args, "private_key", ENV_PRIVATE_KEY),
        date=platform.date_header(args.date, time.time()), algorithm=args.algorithm,
        credentials=(username, password) if username and password else None,
        extra={"User-Agent": f"{PROG}/{__version__}", **dict(args.header or ())})
    status, reason, answer = _post(args.url, body, headers, args.timeout)
    print(f"{status} {reason}")
    if answer:
        print(_pretty(answer))
    return 0 if 200 <= status < 300 else 1


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str, bytes]:
    """:func:`platform.post`, its failures as one-line errors."""
    try:
        return platform.post(url, body, headers, timeout)
    except urllib.error.URLError as error:
        raise CommandError(f"cannot reach {url}: {error.reason}") from None
    except socket.timeout:  # Connected, then no answer in time (TimeoutError from 3.10 on).
        raise CommandError(f"timed out waiting for an answer from {url} "
                           f"(after {timeout:g} seconds)") from None
    except (OSError, HTTPException) as error:  # Resets, broken answers.
        raise CommandError(f"cannot reach {url}: {error or type(error).__name__}") from None
    except ValueError as error:  # Not http(s), or urllib's verdict on e.g. http://[::1
        raise CommandError(f"invalid URL {url!r}: {error}", 2) from None


def _pretty(answer: bytes) -> str:
    """The answer as indented JSON, or as text when it is not JSON."""
    try:
        return json.dumps(json.loads(answer), indent=2, ensure_ascii=False)
    except ValueError:
        return answer.decode("utf-8", "replace")


def _sign(args: argparse.Namespace) -> int:
    """Print the ``X-Hub-Signature`` value of a body (and on stderr the Date ``now`` stood for)."""
    key = _secret(args, "private_key", ENV_PRIVATE_KEY)
    if key is None:
        raise CommandError(f"a private key is needed: --private-key, --private-key-env or "
                           f"{ENV_PRIVATE_KEY}", 2)
    date = platform.date_header(args.date, time.time())
    print(platform.sign(_read(args.file), key, date, args.algorithm))
    if date is not None and date != args.date:
        print(f"Date: {date}", file=sys.stderr)
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


def _add_secret(parser: argparse.ArgumentParser, option: str, metavar: str, what: str,
                variable: str) -> None:
    """``--OPTION VALUE`` or ``--OPTION-env NAME`` (one of them), for a secret ``what``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(f"--{option}", metavar=metavar, help=f"the {what}")
    group.add_argument(f"--{option}-env", metavar="NAME",
                       help=f"read the {what} from variable NAME (default {variable})")


def _add_signing(parser: argparse.ArgumentParser, date_default: str) -> None:
    """The options both commands sign with: the key, the Date and the algorithm."""
    _add_secret(parser, "private-key", "K", "signing key", ENV_PRIVATE_KEY)
    parser.add_argument(
        "--date", metavar="now|none|VALUE", default=date_default,
        help=f"the Date header: now, none (no Date header: the text None is signed, as the "
             f"platform does) or this exact value, an HTTP date such as \"{EXAMPLE_DATE}\" "
             f"(default {date_default})")
    parser.add_argument("--algorithm", metavar="A", type=str.lower, choices=ALGORITHMS,
                        default="sha1", help=f"one of {', '.join(ALGORITHMS)} (default sha1)")


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
    send.add_argument("--text", metavar="TEXT", help="the user's message (a message input)")
    send.add_argument("--channel", metavar="NAME", help="the conversation's channel (default web)")
    field = _usage(platform.assignment)
    send.add_argument("--session", metavar="KEY=VALUE", type=field, action="append",
                      help="a session value, repeatable; VALUE is JSON if it parses")
    send.add_argument("--interlocutor", metavar="KEY=VALUE", type=field, action="append",
                      help="a field of the interlocutor by its JSON name (firstName=Tintin), "
                           "repeatable; VALUE is JSON if it parses")
    send.add_argument("--header", metavar="NAME:VALUE", type=_usage(platform.header_field),
                      action="append", help="an extra header, repeatable; it replaces ours")
    _add_signing(send, "now")
    _add_secret(send, "username", "U", "Basic auth user name", ENV_USERNAME)
    _add_secret(send, "password", "P", "Basic auth password", ENV_PASSWORD)
    send.add_argument("--timeout", metavar="SECONDS", type=_seconds, default=10.0,
                      help="give up after this long (default 10)")
    send.set_defaults(run=_send)

    signer = commands.add_parser(
        "sign", help="print the X-Hub-Signature value of a body",
        description="Print the X-Hub-Signature header value the platform sends for a body. "
                    "With --date now, the Date used is shown on stderr.",
        epilog=f"The private key may also come from the variable --private-key-env names, by "
               f"default {ENV_PRIVATE_KEY}.")
    signer.add_argument("file", metavar="FILE|-", help="the exact body (- for stdin)")
    _add_signing(signer, "none")
    signer.set_defaults(run=_sign)

    routes = commands.add_parser(
        "routes", help="list the routes of a Webhook",
        description="Import MODULE and list the routes of its Webhook ATTR in the order they are "
                    "tried: topic, filters, handler.")
    routes.add_argument("target", metavar="MODULE:ATTR", help="e.g. bot:app")
    routes.add_argument("--pythonpath", metavar="DIR", help="import MODULE from this directory")
    routes.set_defaults(run=_routes)
    return parser


def _run(argv: Optional[Sequence[str]]) -> int:
    """Parse ``argv`` and run its command; every failure becomes one line on stderr."""
    try:
        args = _parser().parse_args(argv)
        return int(args.run(args))
    except CommandError as error:
        one_line = " ".join(str(error).split())  # A user module's error may span lines.
        print(f"{PROG}: error: {one_line}", file=sys.stderr)
        return error.exit_code
    except SystemExit as exit_:  # --help and --version
        return int(exit_.code or 0)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``) and return its exit code."""
    try:
        code = _run(argv)
        sys.stdout.flush()  # A reader that went away shows here, where it can be handled.
    except BrokenPipeError:
        # As in `clustaar-webhook routes bot:app | head`: nobody reads the rest, and
        # Python would complain again when flushing it at exit, so it goes nowhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 1
    return code
