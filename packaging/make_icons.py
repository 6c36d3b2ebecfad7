"""Render ``resources/icons/app.svg`` to the icon files desktops and installers need.

Run from the repository root (any platform; works headless)::

    python packaging/make_icons.py                    # PNGs (Qt) + app.ico + app.icns
    python packaging/make_icons.py --containers-only  # app.ico + app.icns from the PNGs

Writes ``resources/icons/app-<size>.png`` for 16, 24, 32, 48, 64, 128, 256 and 512 pixels
(Qt's own SVG renderer, so the result matches what the running app shows), then packs
those PNGs into:

- ``app.ico`` (Windows: executable and installer icon): 16 … 256 px. The ICO container
  accepts PNG-compressed images (Windows Vista and later), so the PNGs go in unchanged.
- ``app.icns`` (macOS: the .app bundle icon): 16 … 512 px at 1x and 2x, PNG-encoded
  elements (``icp4`` … ``ic14``, macOS 10.7 and later). There is no 1024 px element
  (``ic10``) because there is no 1024 px PNG.

The containers are built with :mod:`struct` only (Pillow is not a dependency); they are
byte-for-byte reproducible from the PNGs, and tests/packaging checks the committed files
against a fresh build.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"

#: Sizes packed into app.ico (the ICO directory stores a size as one byte; 0 means 256).
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)

#: ICNS element types with PNG payloads, and the pixel size each one holds.
ICNS_TYPES: tuple[tuple[bytes, int], ...] = (
    (b"icp4", 16),   # 16x16
    (b"ic11", 32),   # 16x16@2x
    (b"icp5", 32),   # 32x32
    (b"ic12", 64),   # 32x32@2x
    (b"icp6", 64),   # 64x64
    (b"ic07", 128),  # 128x128
    (b"ic13", 256),  # 128x128@2x
    (b"ic08", 256),  # 256x256
    (b"ic14", 512),  # 256x256@2x
    (b"ic09", 512),  # 512x512
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; ``ValueError`` if *data* is not a PNG."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _checked(pngs: Mapping[int, bytes], size: int) -> bytes:
    data = pngs[size]
    if png_size(data) != (size, size):
        raise ValueError(f"the {size} px PNG is {png_size(data)}")
    return data


def build_ico(pngs: Mapping[int, bytes], sizes: Sequence[int] = ICO_SIZES) -> bytes:
    """An ICO file holding the PNG images of *sizes* (each at most 256 px), smallest first."""
    images = [(size, _checked(pngs, size)) for size in sorted(sizes)]
    if any(size > 256 for size, _ in images):
        raise ValueError("ICO images are at most 256 px")
    header = struct.pack("<HHH", 0, 1, len(images))  # reserved, type 1 = icon, count
    offset = len(header) + 16 * len(images)
    entries, blobs = [], []
    for size, data in images:
        dim = 0 if size == 256 else size
        # width, height, palette colours, reserved, colour planes, bits per pixel, size, offset
        entries.append(struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset))
        blobs.append(data)
        offset += len(data)
    return header + b"".join(entries) + b"".join(blobs)


def build_icns(pngs: Mapping[int, bytes],
               types: Sequence[tuple[bytes, int]] = ICNS_TYPES) -> bytes:
    """An ICNS file with one PNG element per ``(type, size)`` in *types*."""
    body = b"".join(
        ostype + struct.pack(">I", 8 + len(data)) + data
        for ostype, size in types
        for data in (_checked(pngs, size),)
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def parse_ico(data: bytes) -> list[tuple[int, bytes]]:
    """``[(size, png_bytes), ...]`` from an ICO file written by :func:`build_ico`."""
    reserved, kind, count = struct.unpack_from("<HHH", data, 0)
    if reserved != 0 or kind != 1 or count == 0:
        raise ValueError("not an ICO file")
    images = []
    for i in range(count):
        width, height, _colours, _res, planes, bpp, length, offset = struct.unpack_from(
            "<BBBBHHII", data, 6 + 16 * i)
        if width != height or planes != 1 or bpp != 32 or offset + length > len(data):
            raise ValueError(f"bad ICO directory entry {i}")
        images.append((width or 256, data[offset:offset + length]))
    return images


def parse_icns(data: bytes) -> list[tuple[bytes, bytes]]:
    """``[(type, payload), ...]`` from an ICNS file; checks every length."""
    if data[:4] != b"icns" or struct.unpack(">I", data[4:8])[0] != len(data):
        raise ValueError("not an ICNS file (bad magic or length)")
    elements, pos = [], 8
    while pos < len(data):
        ostype = data[pos:pos + 4]
        (length,) = struct.unpack(">I", data[pos + 4:pos + 8])
        if length < 8 or pos + length > len(data):
            raise ValueError(f"bad ICNS element {ostype!r} at {pos}")
        elements.append((ostype, data[pos + 8:pos + length]))
        pos += length
    return elements


def read_pngs(icons: Path = ICONS, sizes: Sequence[int] = SIZES) -> dict[int, bytes]:
    """The committed ``app-<size>.png`` files, by size."""
    return {size: (icons / f"app-{size}.png").read_bytes() for size in sizes}


def write_containers(icons: Path = ICONS) -> list[Path]:
    """(Re)build ``app.ico`` and ``app.icns`` in *icons* from its PNGs."""
    pngs = read_pngs(icons)
    ico, icns = icons / "app.ico", icons / "app.icns"
    ico.write_bytes(build_ico(pngs))
    icns.write_bytes(build_icns(pngs))
    return [ico, icns]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the app icon files.")
    parser.add_argument("--containers-only", action="store_true",
                        help="only rebuild app.ico and app.icns from the existing PNGs (no Qt)")
    args = parser.parse_args(argv)
    written: list[Path] = []
    if not args.containers_only:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        written += render(ICONS / "app.svg", ICONS)
    written += write_containers(ICONS)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
