"""Helpers for the packaging tests: the repository's files and the spec's literal tables."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
RESOURCES = ROOT / "resources"
SPEC = PACKAGING / "recotap-desktop.spec"
DESKTOP_FILE = RESOURCES / "recotap-desktop.desktop"
METAINFO = RESOURCES / "io.recotap.desktop.metainfo.xml"


def load_script(path: Path, name: str) -> ModuleType:
    """Import a script that is not in a package (``packaging/`` would clash with the
    ``packaging`` library) under a private module name."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def spec_literal(name: str) -> Any:
    """The first literal value assigned to ``name`` at the top of the PyInstaller spec
    (the spec itself only runs inside PyInstaller)."""
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            assert node.value is not None
            return ast.literal_eval(node.value)
    raise AssertionError(f"{SPEC.name} assigns no literal {name}")
