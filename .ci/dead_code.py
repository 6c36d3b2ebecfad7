"""List functions, methods and classes of recotap_desktop/ that nothing in the package uses.

A definition counts as used only when the package really refers to it (ast): a module-level
function or class when it is read as a name or an attribute or imported, a method when it
is read as an attribute (``obj.name``; a bare name in its class body) or named as a string
to getattr()/hasattr()/setattr()/QMetaObject.invokeMethod(). Docstrings, comments,
parameter and keyword names, local variables and a definition's calls to itself are no use
(a method and a local variable may share a name). Names are matched, not types: a method
named like an attribute of another object the package reads (``re.Match.groups``) is not
found. Overrides called by frameworks are not dead: Qt's camelCase virtuals (``sizeHint``,
``data`` …), dunder methods, and the entry points and overrides listed in ``ALLOWED``;
``TEST_ONLY`` lists the known definitions only tests use, ``PENDING`` those defined ahead of
their caller. Exit 1 when anything else is found, listing it as ``path:line name``. Run by
``.ci/test``: ``python .ci/dead_code.py``.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "recotap_desktop"

#: Names that frameworks or the outside call (Qt virtuals with snake_case-free names are
#: recognised by their camelCase; these are the rest). Each with why.
ALLOWED = {
    "main",  # console entry points (pyproject.toml)
    "data", "flags", "headerData", "rowCount", "columnCount", "setData", "sort",  # Qt models
    "paint",  # QStyledItemDelegate override
    "event",  # QWidget override
    "run",  # QRunnable/Thread
    "format",  # logging.Formatter override
    "filter",  # logging.Filter override
    "emit",  # logging.Handler override
    "handle_request",  # httpx transport override
    "connect_tcp", "connect_unix_socket", "sleep", "read", "write", "close", "start_tls",
    "get_extra_info",  # httpcore network backend/stream overrides
    "auth_flow",  # httpx.Auth override
    "get_password", "set_password", "delete_password", "priority",  # keyring backend API
    "log_message", "do_GET", "do_POST", "do_PUT", "do_PATCH", "do_DELETE",  # http.server
    "update",  # ProgressSink protocol
    "get_request", "handle_error", "do_OPTIONS",  # socketserver / http.server overrides
    "server_bind", "shutdown_request",  # socketserver overrides
}

#: Known definitions that only tests use, kept for now and listed so that the check stays
#: meaningful for everything new (issue 17, item 5: remove them or let the tests use the
#: real API). The check fails when one of them is used by the package after all, or gone.
TEST_ONLY = {
    # a way for a test to drive or read a window
    "histogram_labels", "would_overwrite", "set_column", "choose_candidate", "select_run",
    "segment_rect", "choose", "page", "banner_text", "locked", "entries",
    # a way for a test to read an engine or record result
    "outcome_of", "is_used", "schema_version", "run_chain", "stage_rows", "members_of",
    "proposals", "scored", "first_row",
    # the account mirror read whole (tests compare it with the server; the bench's size)
    "iter_accounts", "size_on_disk",
    # Worker.is_finished: tests wait on it; the package asks Worker.running (one rule,
    # ui/job_dialog.py)
    "is_finished",
    "convert",  # RecordKind.convert: one row at a time (the engine compiles blocks)
    # the sandbox's own seeding and driving API for tests
    "clear_last_sync", "all_accounts", "add_accounts", "touch", "sandbox_fixture",
    # Settings.remove_profile: tests remove one connection with it; the Connections dialog
    # applies its removals, renames and swaps at once (Settings.replace_profiles, and
    # Session.move_keys for the keys)
    "remove_profile",
}

#: Work in progress, defined ahead of the code that will call it: the account mirror
#: (issue 16; the tests of engine/mirror.py call some). Remove each name once its caller
#: lands; the check fails on a listed name the package uses.
PENDING: set[str] = set()


def _defs(tree: ast.AST) -> list[tuple[str, int, bool]]:
    """``(name, line, is_method)`` of every function, method and class."""
    out = []
    for node in ast.walk(tree):
        children = node.body if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                                  ast.AsyncFunctionDef)) else []
        for child in children:
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                is_method = isinstance(node, ast.ClassDef) and not isinstance(child, ast.ClassDef)
                out.append((child.name, child.lineno, is_method))
    return out


#: Calls whose string argument names an attribute: ``getattr(obj, "name")`` and the like,
#: and Qt's ``QMetaObject.invokeMethod(obj, "slot")``.
_BY_NAME = {"getattr", "hasattr", "setattr", "delattr", "invokeMethod"}


class _References(ast.NodeVisitor):
    """The names a module really refers to: names and attributes it reads, names it
    imports, attribute names given as strings to getattr() and the like. Docstrings,
    comments, parameter and keyword names, assignments and a definition's own name (and
    its calls to itself) are not references."""

    def __init__(self) -> None:
        self.names: set[str] = set()  # read as a name, or imported
        self.attributes: set[str] = set()  # read as an attribute, or by getattr()
        self._inside: list[str] = []
        self._class_body = False  # in a class body, a name is an attribute of the class

    def _use(self, name: str, *, attribute: bool = False) -> None:
        if name not in self._inside:  # recursion is no use from outside
            (self.attributes if attribute else self.names).add(name)

    def _define(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        for decorator in node.decorator_list:  # decorators run outside the definition
            self.visit(decorator)
        if not isinstance(node, ast.ClassDef):
            self.visit(node.args)
            if node.returns is not None:
                self.visit(node.returns)
        else:
            for base in [*node.bases, *node.keywords]:
                self.visit(base)
        self._inside.append(node.name)
        outer, self._class_body = self._class_body, isinstance(node, ast.ClassDef)
        for statement in node.body:
            self.visit(statement)
        self._class_body = outer
        self._inside.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _define

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._use(node.id, attribute=self._class_body)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.ctx, ast.Load):
            self._use(node.attr, attribute=True)
        self.visit(node.value)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            self._use(alias.name)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._use(alias.name.rsplit(".", 1)[-1])

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if called in _BY_NAME:
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    self._use(arg.value, attribute=True)
        self.generic_visit(node)


def references(source: str) -> tuple[set[str], set[str]]:
    """The names and the attribute names ``source`` refers to (see :class:`_References`)."""
    visitor = _References()
    visitor.visit(ast.parse(source))
    return visitor.names, visitor.attributes


def unused(sources: dict[Path, str], allowed: set[str]) -> list[tuple[Path, int, str]]:
    """The definitions in ``sources`` that no source refers to, ``allowed`` excepted. A
    method is used only as an attribute (``obj.name``, ``getattr(obj, "name")``): a local
    variable or parameter of the same name is no use of it."""
    names: set[str] = set()
    attributes: set[str] = set()
    for text in sources.values():
        n, a = references(text)
        names |= n
        attributes |= a
    found = []
    for path, text in sources.items():
        for name, line, is_method in _defs(ast.parse(text)):
            if name.startswith("__") or name in allowed:
                continue
            if name in attributes or (name in names and not is_method):
                continue
            if re.search(r"[a-z][A-Z]", name) and not name[0].isupper():
                continue  # a Qt virtual (sizeHint, resizeEvent, …) or slot
            found.append((path, line, name))
    return found


def main() -> int:
    sources = {p: p.read_text(encoding="utf-8") for p in sorted(PACKAGE.rglob("*.py"))}
    found = unused(sources, ALLOWED | TEST_ONLY | PENDING)
    for path, line, name in found:
        print(f"{path.relative_to(ROOT)}:{line} {name}")
    print(f"dead-code check: {len(found)} unused definition(s) in {len(sources)} modules")
    # A listed name the package uses after all, or that no longer exists, is stale.
    really_unused = {name for _path, _line, name in unused(sources, ALLOWED)}
    stale = sorted((TEST_ONLY | PENDING) - really_unused)
    for name in stale:
        print(f"TEST_ONLY/PENDING lists {name}, which the package uses or no longer defines")
    return 1 if found or stale else 0


if __name__ == "__main__":
    sys.exit(main())
