"""Render ``resources/icons/app.svg`` to the PNG sizes desktops and installers need.

Run from the repository root (any platform; works headless)::

    python packaging/make_icons.py

Writes ``resources/icons/app-<size>.png`` for 16, 24, 32, 48, 64, 128, 256 and 512 pixels.
Uses Qt's own SVG renderer so the result matches what the running app shows.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"


def render(svg: Path, out_dir: Path, sizes: tuple[int, ...] = SIZES) -> list[Path]:
    """Render *svg* once per size into *out_dir*; return the written paths."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"Cannot read SVG: {svg}")
    written = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        path = out_dir / f"app-{size}.png"
        if not image.save(str(path), "PNG"):
            raise SystemExit(f"Cannot write {path}")
        written.append(path)
    return written


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for path in render(ICONS / "app.svg", ICONS):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
