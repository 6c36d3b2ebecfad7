"""Locate files shipped in ``resources/`` whether installed, editable or frozen."""

from __future__ import annotations

import sys
from importlib import resources as _ir
from pathlib import Path


def resource_path(*parts: str) -> Path:
    """Return the path of a bundled resource file, e.g. ``resource_path("icons", "app.svg")``."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        return Path(frozen_root, "resources", *parts)
    try:
        base = Path(str(_ir.files("recotap_desktop._resources")))
    except ModuleNotFoundError:
        base = Path(__file__).resolve().parent.parent / "resources"
    return base.joinpath(*parts)
