""".ci/dead_code.py counts only real references (issue 17, item 5): a name in a docstring,
a comment, a parameter or a local variable does not keep a method alive."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _check():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("dead_code", ROOT / ".ci" / "dead_code.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SOURCE = '''
"""Mentions first_row and batch_done in a docstring."""
import re


class Tracker:
    def first_row(self, name):  # a local variable below shares the name
        return self.first_row(name)  # calls itself only

    def groups(self):
        return []

    def used(self):
        return 1

    def _get(self):
        return 0

    value = property(_get)


def helper(first_row=2, batch_done=None):
    # batch_done
    first_row = first_row + 1
    return getattr(Tracker(), "used")(), re.match("a", "a").groups()


def orphan():
    return helper()
'''


def test_only_real_references_count() -> None:
    dead_code = _check()
    found = {name for _path, _line, name in dead_code.unused({Path("m.py"): SOURCE}, set())}
    # groups: named like re.Match.groups, which the source reads (names, not types)
    assert found == {"first_row", "orphan"}


def test_the_package_has_no_dead_code() -> None:
    dead_code = _check()
    sources = {p: p.read_text(encoding="utf-8") for p in sorted(dead_code.PACKAGE.rglob("*.py"))}
    allowed = dead_code.ALLOWED | dead_code.TEST_ONLY | dead_code.PENDING
    assert dead_code.unused(sources, allowed) == []
