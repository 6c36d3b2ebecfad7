"""The layers of DESIGN.md, checked on every module's imports (issue 17, item 6): only
``ui/`` and ``app.py`` import Qt; the lower layers import nothing above them; the shared
rules of the domain (``domain/``) and the user-error base (``errors``) import nothing of
the app, so that every layer may use them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "recotap_desktop"

#: What each part of the package may import from the package (besides itself).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "domain": set(),
    "api": {"errors", "domain"},
    "files": {"errors", "domain"},
    "store": {"errors", "domain"},
    "records": {"errors", "domain", "files"},
    "sandbox": {"errors", "domain"},
}


def _part(module: Path) -> str:
    rel = module.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imports(module: Path) -> set[str]:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("module", MODULES, ids=lambda m: str(m.relative_to(PACKAGE)))
def test_imports_follow_the_layers(module: Path) -> None:
    part = _part(module)
    imports = _imports(module)
    if part not in ("ui", "app"):
        assert not {i for i in imports if i.split(".")[0] in ("PySide6", "shiboken6")}, \
            f"{part} imports Qt"
    if part in ALLOWED:
        above = {i for i in imports if i.startswith("recotap_desktop.")
                 and i.split(".")[1] not in ALLOWED[part] | {part}}
        assert not above, f"{module.relative_to(PACKAGE)} imports {sorted(above)}"


def test_the_check_sees_every_part() -> None:
    parts = {_part(m) for m in MODULES}
    assert set(ALLOWED) <= parts
