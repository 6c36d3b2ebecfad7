"""packaging/make_icons.py: the committed app.ico / app.icns are valid and match the PNGs."""

from __future__ import annotations

import struct

import pytest
from packaging_helpers import PACKAGING, RESOURCES, load_script
from PySide6.QtGui import QImageReader

icons = load_script(PACKAGING / "make_icons.py", "recotap_make_icons")
ICONS = RESOURCES / "icons"


def test_ico_header_and_directory_follow_the_format():
    data = (ICONS / "app.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data, 0)
    assert (reserved, kind, count) == (0, 1, len(icons.ICO_SIZES))
    sizes = []
    for i in range(count):
        w, h, colours, res, planes, bpp, length, offset = struct.unpack_from(
            "<BBBBHHII", data, 6 + 16 * i)
        size = w or 256
        sizes.append(size)
        assert (w, h, colours, res, planes, bpp) == (w, w, 0, 0, 1, 32)
        payload = data[offset:offset + length]
        assert len(payload) == length
        assert payload.startswith(b"\x89PNG\r\n\x1a\n")
        assert struct.unpack(">II", payload[16:24]) == (size, size)
    assert sizes == sorted(icons.ICO_SIZES)
    assert 256 in sizes and 16 in sizes


def test_icns_header_and_elements_follow_the_format():
    data = (ICONS / "app.icns").read_bytes()
    assert data[:4] == b"icns"
    assert struct.unpack(">I", data[4:8])[0] == len(data)
    seen = {}
    pos = 8
    while pos < len(data):
        ostype, length = data[pos:pos + 4], struct.unpack(">I", data[pos + 4:pos + 8])[0]
        payload = data[pos + 8:pos + length]
        assert payload.startswith(b"\x89PNG\r\n\x1a\n"), ostype
        seen[ostype] = struct.unpack(">II", payload[16:24])
        pos += length
    assert pos == len(data)
    assert seen == {ostype: (size, size) for ostype, size in icons.ICNS_TYPES}
    assert seen[b"ic09"] == (512, 512) and seen[b"icp4"] == (16, 16)


def test_committed_containers_are_rebuilt_byte_for_byte_from_the_pngs(tmp_path):
    for size in icons.SIZES:
        (tmp_path / f"app-{size}.png").write_bytes((ICONS / f"app-{size}.png").read_bytes())
    written = icons.write_containers(tmp_path)
    assert [p.name for p in written] == ["app.ico", "app.icns"]
    assert (tmp_path / "app.ico").read_bytes() == (ICONS / "app.ico").read_bytes(), \
        "app.ico is stale: run python packaging/make_icons.py --containers-only"
    assert (tmp_path / "app.icns").read_bytes() == (ICONS / "app.icns").read_bytes(), \
        "app.icns is stale: run python packaging/make_icons.py --containers-only"


def test_parsers_round_trip_the_builders():
    pngs = icons.read_pngs()
    assert icons.parse_ico(icons.build_ico(pngs)) == [(s, pngs[s]) for s in icons.ICO_SIZES]
    assert icons.parse_icns(icons.build_icns(pngs)) == [
        (ostype, pngs[size]) for ostype, size in icons.ICNS_TYPES]


@pytest.mark.parametrize("name, count", [("app.ico", 7), ("app.icns", 10)])
def test_qt_reads_every_image_of_the_containers(qapp, name, count):
    reader = QImageReader(str(ICONS / name))
    assert reader.canRead(), reader.errorString()
    assert reader.imageCount() == count
    widths = []
    for i in range(count):
        assert reader.jumpToImage(i)
        image = reader.read()
        assert not image.isNull(), reader.errorString()
        widths.append(image.width())
    assert max(widths) == (256 if name == "app.ico" else 512)


def test_builders_refuse_bad_input():
    pngs = icons.read_pngs()
    with pytest.raises(ValueError, match="at most 256"):
        icons.build_ico(pngs, sizes=(16, 512))
    with pytest.raises(ValueError, match="not a PNG"):
        icons.png_size(b"GIF89a" + bytes(30))
    with pytest.raises(ValueError, match="the 32 px PNG"):
        icons.build_ico({**pngs, 32: pngs[16]}, sizes=(32,))
    with pytest.raises(ValueError, match="not an ICNS"):
        icons.parse_icns(b"icns" + struct.pack(">I", 999))
