"""Locate files shipped in ``resources/`` whether installed, editable or frozen."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def resource_path(*parts: str) -> Path:
    """Return the path of a bundled resource file, e.g. ``resource_path("icons", "app.svg")``.

    ``resources/`` is the package ``recotap_desktop._resources`` (see pyproject.toml): its
    folder is found from the package itself, installed or editable (pip never installs it
    zipped), without importlib.resources, which costs the GUI ~10 ms at every start.
    """
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        return Path(frozen_root, "resources", *parts)
    try:
        package = importlib.import_module("recotap_desktop._resources")
    except ModuleNotFoundError:  # a source checkout that is not installed
        base = Path(__file__).resolve().parent.parent / "resources"
    else:
        base = Path(next(iter(package.__path__)))
    return base.joinpath(*parts)
