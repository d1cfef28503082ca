"""A small mutation run over the request verification modules.

Each mutant is one change to one module of ``clustaar/webhook`` (a comparison
flipped or moved across its boundary, a condition negated, ``and``/``or``
swapped, a ``not`` dropped, a ``.strip()``-like call removed, a number or a
boolean changed, a statement of a function deleted). Every mutant is written to
a temporary copy of the tree (package, tests, benchmarks, examples, tox.ini) and
the test modules that cover that module run against it with
``-x -q -p no:cacheprovider``; a failing or hanging run kills the mutant. The
score is the share of mutants killed; the known equivalent ones (``EQUIVALENT``,
each with why no test can see it) are reported apart and not scored. The
working tree is never written to: the copies live in a temporary directory,
run from there so that their ``clustaar`` comes first on ``sys.path``.

    python tools/mutation.py                 # body, replay, signature, auth, payload
    python tools/mutation.py signature.py    # one module (any key of TESTS)
    python tools/mutation.py --list          # the mutants, without running anything

Hypothesis runs the "mutation" profile (quick and derandomised, without an example
database), so a given tree always gives the same score. The exit status is 1 when
the score is below ``--fail-under`` (percent, default 0), 2 when the unmutated copy
fails its own tests.
"""
from __future__ import annotations

import argparse
import ast
import copy
import os
import pathlib
import queue
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple, Optional

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = pathlib.Path("clustaar", "webhook")
COPIED = ("clustaar", "tests", "benchmarks", "examples", "tox.ini", "README.md")

#: The test modules that cover each module; the verification modules run by default.
TESTS: dict[str, tuple[str, ...]] = {
    "body.py": ("test_body.py", "test_errors.py", "test_fuzz_http.py"),
    "replay.py": ("test_replay.py", "test_errors.py", "test_secrets.py", "test_fuzz_http.py"),
    "signature.py": ("test_signature.py", "test_secrets.py", "test_errors.py",
                     "test_fuzz_http.py"),
    "auth.py": ("test_auth.py", "test_secrets.py", "test_errors.py", "test_fuzz_http.py"),
    "payload.py": ("test_payload.py", "test_errors.py", "test_fuzz_http.py"),
    "messages.py": ("test_rendering.py", "test_webhook.py", "test_routing.py"),
    "config.py": ("test_webhook.py", "test_routing.py", "test_body.py", "test_replay.py",
                  "test_errors.py", "test_secrets.py"),
}
DEFAULT = ("body.py", "replay.py", "signature.py", "auth.py", "payload.py")
#: Mutants that change no behaviour a test could see, with the reason: (module, the
#: start of the mutant's description) -> why. They are run and reported, not scored.
EQUIVALENT: dict[tuple[str, str], str] = {
    ("body.py", "`64` -> `65`"): "the read size only changes how many reads a body takes",
    ("body.py", "`1024` -> `1025`"): "the read size only changes how many reads a body takes",
    ("replay.py", "`256` -> `257`"): "the size of the parsed-date cache",
    ("replay.py", "`0` -> `1`"): "calendar.timegm ignores the weekday, day of year and DST",
    ("payload.py", "delete `return False`"): "the None returned instead is as false",
    ("payload.py", "`>` -> `>=` in `text.count('[')"): "a cheap pre-check: one more walk",
    ("auth.py", "delete `raise _forbidden()`"): "left to the password comparison: without a "
                                               "colon the password is empty, never configured",
}
TIMEOUT = 120.0  # Seconds: a run this long is a mutant that hangs, so a killed one.

FLIPS: dict[type[ast.cmpop], tuple[type[ast.cmpop], ...]] = {
    ast.Lt: (ast.GtE, ast.LtE), ast.LtE: (ast.Gt, ast.Lt),
    ast.Gt: (ast.LtE, ast.GtE), ast.GtE: (ast.Lt, ast.Gt),
    ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,),
    ast.In: (ast.NotIn,), ast.NotIn: (ast.In,),
    ast.Is: (ast.IsNot,), ast.IsNot: (ast.Is,),
}
SYMBOLS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
           ast.NotEq: "!=", ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}
NORMALISERS = {"strip", "lstrip", "rstrip", "lower", "upper", "casefold"}
DELETABLE = (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Raise, ast.Return,
             ast.If, ast.For, ast.While, ast.With, ast.Try)


class Mutant(NamedTuple):
    module: str
    index: int  # Its rank among the module's mutation sites, in traversal order.
    line: int
    description: str


class Mutator(ast.NodeTransformer):
    """Walks a module, numbering every mutation it could make; applies the ``target``-th.

    With ``target=None`` it only records the sites (in ``sites``).
    """

    def __init__(self, target: Optional[int] = None) -> None:
        self.target = target
        self.sites: list[tuple[int, str]] = []
        self._functions = 0
        self._annotations: set[int] = set()

    def _site(self, node: ast.AST, description: str) -> bool:
        """Record a site; whether it is the one to apply."""
        self.sites.append((getattr(node, "lineno", 0), description))
        return len(self.sites) - 1 == self.target

    def visit_Module(self, node: ast.Module) -> ast.AST:
        # Annotations are text at run time here (from __future__ import annotations).
        for child in ast.walk(node):
            for annotation in (getattr(child, "annotation", None), getattr(child, "returns", None)):
                if annotation is not None:
                    self._annotations.update(id(part) for part in ast.walk(annotation))
        return self.generic_visit(node)

    def _function(self, node: ast.AST) -> ast.AST:
        self._functions += 1
        try:
            return self.generic_visit(node)
        finally:
            self._functions -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit(self, node: ast.AST) -> ast.AST:
        if id(node) in self._annotations:
            return node
        result = super().visit(node)
        if (isinstance(node, DELETABLE) and self._functions and not _is_docstring(node)
                and not _only_guards(node) and self._site(node, f"delete `{_short(node)}`")):
            return ast.copy_location(ast.Pass(), node)
        return result  # type: ignore[no-any-return]

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        for position, operator in enumerate(node.ops):
            for replacement in FLIPS.get(type(operator), ()):
                text = f"`{SYMBOLS[type(operator)]}` -> `{SYMBOLS[replacement]}`"
                if self._site(node, f"{text} in `{_short(node)}`"):
                    node.ops[position] = replacement()
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        if self._site(node, f"`{_op_name(node.op)}` -> `{_op_name(other)}` in `{_short(node)}`"):
            node.op = other
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not) and self._site(node, f"drop `not` in `{_short(node)}`"):
            return node.operand
        return node

    def _negate_test(self, node: ast.If | ast.While | ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        # Not for `not x` (dropping the `not` is that mutant) nor a constant (changed already).
        if isinstance(node.test, ast.Constant) or (
                isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not)):
            return node
        if self._site(node.test, f"negate `{_short(node.test)}`"):
            node.test = ast.copy_location(ast.UnaryOp(ast.Not(), node.test), node.test)
        return node

    visit_If = visit_While = visit_IfExp = _negate_test

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if (isinstance(func, ast.Attribute) and func.attr in NORMALISERS
                and self._site(node, f"drop `.{func.attr}()` in `{_short(node)}`")):
            return func.value
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return node  # The parts of an f-string are text, not constants to change.

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        if isinstance(value, bool):
            if self._site(node, f"`{value}` -> `{not value}`"):
                return ast.copy_location(ast.Constant(not value), node)
        elif isinstance(value, int):
            changed = {0: 1, 1: 0}.get(value, value + 1)
            if self._site(node, f"`{value}` -> `{changed}`"):
                return ast.copy_location(ast.Constant(changed), node)
        return node


def _is_docstring(node: ast.AST) -> bool:
    """A docstring, or the ``...`` body of an overload: nothing to delete."""
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and (isinstance(node.value.value, str) or node.value.value is Ellipsis))


def _only_guards(node: ast.AST) -> bool:
    """An ``if`` without ``else`` around one statement: deleting that statement is the mutant."""
    return isinstance(node, ast.If) and not node.orelse and len(node.body) == 1


def _op_name(op: ast.boolop) -> str:
    return "and" if isinstance(op, ast.And) else "or"


def _short(node: ast.AST, width: int = 60) -> str:
    text = ast.unparse(node).splitlines()[0]
    return text if len(text) <= width else text[:width - 3] + "..."


def equivalent(mutant: Mutant) -> Optional[str]:
    """Why ``mutant`` changes nothing observable, if it is a known equivalent one."""
    for (module, start), reason in EQUIVALENT.items():
        if mutant.module == module and mutant.description.startswith(start):
            return reason
    return None


def mutants(module: str) -> list[Mutant]:
    """Every mutant of ``module`` (a file name in the package)."""
    mutator = Mutator()
    mutator.visit(ast.parse((ROOT / PACKAGE / module).read_text()))
    return [Mutant(module, index, line, text) for index, (line, text) in enumerate(mutator.sites)]


def mutated_source(mutant: Mutant) -> str:
    tree = ast.parse((ROOT / PACKAGE / mutant.module).read_text())
    mutator = Mutator(target=mutant.index)
    tree = ast.fix_missing_locations(mutator.visit(copy.deepcopy(tree)))
    return ast.unparse(tree) + "\n"


def make_copy(parent: pathlib.Path, name: str) -> pathlib.Path:
    """A copy of what the tests need, without caches or bytecode."""
    tree = parent / name
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
    for entry in COPIED:
        source = ROOT / entry
        if source.is_dir():
            shutil.copytree(source, tree / entry, ignore=ignore)
        else:
            shutil.copy2(source, tree / entry)
    return tree


def environment(tree: pathlib.Path) -> dict[str, str]:
    env = {**os.environ, "HYPOTHESIS_PROFILE": "mutation", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": str(tree)}
    env.pop("CI", None)
    return env


def run_tests(tree: pathlib.Path, module: str) -> tuple[bool, float]:
    """Run the tests covering ``module`` in ``tree``: (passed, seconds)."""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
               "-m", "not server and not soak", *(f"tests/{name}" for name in TESTS[module])]
    start = time.monotonic()
    try:
        done = subprocess.run(command, cwd=tree, env=environment(tree), capture_output=True,
                              timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return False, time.monotonic() - start
    return done.returncode == 0, time.monotonic() - start


def check_copy(tree: pathlib.Path) -> None:
    """The copy's package is the one imported, not the working tree's or an installed one."""
    probe = "import clustaar.webhook as w; print(w.__file__)"
    done = subprocess.run([sys.executable, "-c", probe], cwd=tree, env=environment(tree),
                          capture_output=True, text=True, check=True)
    imported = pathlib.Path(done.stdout.strip()).resolve()
    if tree.resolve() not in imported.parents:
        raise SystemExit(f"mutation: the copy imports {imported}, not its own package")


def run(selected: Sequence[str], jobs: int) -> tuple[list[Mutant], list[Mutant]]:
    """Run every mutant of ``selected``; the killed ones and the survivors."""
    todo = [mutant for module in selected for mutant in mutants(module)]
    killed: list[Mutant] = []
    survived: list[Mutant] = []
    with tempfile.TemporaryDirectory(prefix="mutation-") as temp:
        trees: queue.Queue[pathlib.Path] = queue.Queue()
        for number in range(jobs):
            trees.put(make_copy(pathlib.Path(temp), f"tree{number}"))
        first = trees.get()
        check_copy(first)
        for module in selected:
            passed, seconds = run_tests(first, module)
            if not passed:
                print(f"mutation: the unmutated tree fails the tests of {module}", file=sys.stderr)
                raise SystemExit(2)
            print(f"{module}: {len(mutants(module))} mutants, tests pass in {seconds:.1f} s")
        trees.put(first)

        def attempt(mutant: Mutant) -> tuple[Mutant, bool]:
            tree = trees.get()
            target = tree / PACKAGE / mutant.module
            try:
                target.write_text(mutated_source(mutant))
                passed, _ = run_tests(tree, mutant.module)
            finally:
                shutil.copy2(ROOT / PACKAGE / mutant.module, target)
                trees.put(tree)
            return mutant, not passed

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for mutant, was_killed in pool.map(attempt, todo):
                (killed if was_killed else survived).append(mutant)
                verdict = "killed  " if was_killed else "SURVIVED"
                if not was_killed and equivalent(mutant):
                    verdict = "equivalent"
                print(f"{verdict} {mutant.module}:{mutant.line} {mutant.description}", flush=True)
    return killed, survived


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE",
                        help=f"modules of the package to mutate, among {', '.join(TESTS)} "
                             f"(default: {' '.join(DEFAULT)})")
    parser.add_argument("--jobs", type=int, default=max(1, min(4, os.cpu_count() or 1)),
                        help="mutants run at once (default: the CPUs, at most 4)")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--fail-under", type=float, default=0.0, metavar="PERCENT",
                        help="exit 1 when the score is below this")
    options = parser.parse_args(argv)
    selected = options.modules or list(DEFAULT)
    unknown = [module for module in selected if module not in TESTS]
    if unknown:
        parser.error(f"no tests are known for {', '.join(unknown)}")
    if options.list:
        for mutant in _all(selected):
            print(f"{mutant.module}:{mutant.line} {mutant.description}")
        return 0
    start = time.monotonic()
    killed, survived = run(selected, options.jobs)
    same = [mutant for mutant in survived if equivalent(mutant)]
    survived = [mutant for mutant in survived if not equivalent(mutant)]
    total = len(killed) + len(survived)
    score = 100.0 * len(killed) / total if total else 100.0
    print(f"\nscore: {len(killed)}/{total} mutants killed ({score:.1f} %), "
          f"{len(same)} equivalent ones left out, in {time.monotonic() - start:.0f} s")
    for mutant in same:
        print(f"  equivalent: {mutant.module}:{mutant.line} {mutant.description}: "
              f"{equivalent(mutant)}")
    for mutant in survived:
        print(f"  SURVIVED: {mutant.module}:{mutant.line} {mutant.description}")
    return 1 if score < options.fail_under else 0


def _all(selected: Sequence[str]) -> Iterator[Mutant]:
    for module in selected:
        yield from mutants(module)


if __name__ == "__main__":
    sys.exit(main())
