"""List functions, methods and classes of recotap_desktop/ that nothing in the package uses.

A name counts as used when it appears anywhere in the package's source other than its own
definition (as a name, an attribute, a string such as a Qt slot or ``__all__``). Overrides
called by frameworks are not dead: Qt's camelCase virtuals (``sizeHint``, ``data`` …),
dunder methods, and the entry points and overrides listed in ``ALLOWED``; ``TEST_ONLY`` lists
the known definitions only tests use. Exit 1 when anything else is found, listing it as
``path:line name``. Run by ``.ci/test``: ``python .ci/dead_code.py``.
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
}

#: Known definitions that only tests use, kept for now and listed so that the check stays
#: meaningful for everything new (issue 17, item 5: remove them or let the tests use the
#: real API). Each is a way for a test to drive or read a window, or the sandbox's own
#: seeding API for tests.
TEST_ONLY = {
    "outcome_of", "histogram_labels", "would_overwrite", "is_used", "schema_version",
    "run_chain", "clear_last_sync", "set_column", "choose_candidate", "select_run",
    "segment_rect", "stage_rows", "all_accounts", "add_accounts", "members_of",
    # issue 17, item 2: the Connections dialog should call these instead of its own copy
    "rename_profile", "remove_profile",
}


def _defs(tree: ast.AST) -> list[tuple[str, int]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.append((node.name, node.lineno))
    return out


def main() -> int:
    sources = {p: p.read_text(encoding="utf-8") for p in sorted(PACKAGE.rglob("*.py"))}
    words: dict[str, int] = {}
    for text in sources.values():
        for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text):
            words[word] = words.get(word, 0) + 1
    found = []
    for path, text in sources.items():
        for name, line in _defs(ast.parse(text)):
            if name.startswith("__") or name in ALLOWED | TEST_ONLY:
                continue
            if re.search(r"[a-z][A-Z]", name) and not name[0].isupper():
                continue  # a Qt virtual (sizeHint, resizeEvent, …) or slot
            if words.get(name, 0) <= 1:
                found.append(f"{path.relative_to(ROOT)}:{line} {name}")
    for line in found:
        print(line)
    print(f"dead-code check: {len(found)} unused definition(s) in {len(sources)} modules")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
