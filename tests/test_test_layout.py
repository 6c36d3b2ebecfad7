"""The layout of the tests (issue 17, item 5): a test module never imports another test
module nor a ``conftest.py`` (what two of them share lives in ``tests/helpers/`` under a
public name), and test file names are unique (pytest imports them by their base name)."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _is_forbidden(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last.startswith("test_") or last == "conftest"


def forbidden_imports(path: Path, source: str) -> list[str]:
    """The imports of ``path`` (a file under tests/) that name a test module or a conftest,
    relative imports included, as ``file:line: module``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
            if node.level and not node.module:  # from . import test_x
                names = [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [f"{path.relative_to(TESTS)}:{node.lineno}: {'.' * getattr(node, 'level', 0)}{n}"
                  for n in names if n and _is_forbidden(n)]
    return found


def test_no_test_module_imports_another_test_module_or_a_conftest() -> None:
    found = [hit for path in sorted(TESTS.rglob("*.py"))
             for hit in forbidden_imports(path, path.read_text(encoding="utf-8"))]
    assert found == [], "move what they share to tests/helpers/:\n" + "\n".join(found)


def test_the_check_sees_every_spelling() -> None:
    here = TESTS / "ui" / "test_x.py"
    sources = [
        "from tests.engine.test_runner_sandbox import _conn\n",
        "from test_ui_run_actions import _cancelled_run\n",
        "from .conftest import CUSTOM_FIELDS\n",
        "from . import test_history\n",
        "import tests.ui.test_ui_main_window as m\n",
        "def f():\n    from tests.store.test_history import _info\n",
    ]
    for source in sources:
        assert len(forbidden_imports(here, source)) == 1, source
    assert forbidden_imports(here, "from tests.helpers.runs import import_job\n") == []


def test_test_file_names_are_unique() -> None:
    names = Counter(p.name for p in TESTS.rglob("test_*.py"))
    assert [name for name, n in names.items() if n > 1] == []
