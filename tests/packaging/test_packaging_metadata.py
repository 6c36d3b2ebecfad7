"""The spec, the .desktop file, the AppStream metainfo and the installers agree with each
other and with recotap_desktop (version, names, icons)."""

from __future__ import annotations

import ast
import configparser
import datetime as dt
import importlib.util
import re
import xml.etree.ElementTree as ET

import pytest
from packaging_helpers import (
    DESKTOP_FILE,
    METAINFO,
    PACKAGING,
    RESOURCES,
    ROOT,
    SPEC,
    spec_literal,
)

from recotap_desktop import APP_DISPLAY_NAME, APP_NAME, __version__

GUI_EXE, CLI_EXE = APP_NAME, "recotap"


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(DESKTOP_FILE.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def metainfo() -> ET.Element:
    return ET.parse(METAINFO).getroot()


# ------------------------------------------------------------------------ spec
def test_spec_names_the_two_executables_and_the_bundle():
    assert spec_literal("APP_NAME") == GUI_EXE
    assert spec_literal("CLI_NAME") == CLI_EXE
    assert spec_literal("DISPLAY_NAME") == APP_DISPLAY_NAME
    assert spec_literal("BUNDLE_ID") == metainfo().findtext("id")
    text = SPEC.read_text(encoding="utf-8")
    assert 'analysis("recotap-desktop.py", gui=True)' in text
    assert 'analysis("recotap.py", gui=False)' in text
    for launcher in ("recotap-desktop.py", "recotap.py"):
        assert (PACKAGING / "launchers" / launcher).is_file()


def test_spec_reads_the_version_from_the_package():
    text = SPEC.read_text(encoding="utf-8")
    assert not re.search(r"version\s*=\s*['\"]\d", text), "the spec hard-codes a version"
    # Run the spec's own read_version() (the rest of the spec needs PyInstaller).
    function = next(node for node in ast.parse(text).body
                    if isinstance(node, ast.FunctionDef) and node.name == "read_version")
    namespace: dict[str, object] = {"ROOT": ROOT, "ast": ast}
    exec(compile(ast.Module(body=[function], type_ignores=[]), str(SPEC), "exec"), namespace)
    read_version = namespace["read_version"]
    assert callable(read_version)
    assert read_version() == __version__


def test_spec_icons_exist():
    for name in ("app.ico", "app.icns", "app-256.png", "app.svg"):
        assert (RESOURCES / "icons" / name).is_file(), name
    text = SPEC.read_text(encoding="utf-8")
    assert '"app.ico"' in text and '"app.icns"' in text


def test_spec_names_the_keyring_backends_and_they_exist():
    imports = spec_literal("KEYRING_IMPORTS")
    for backend in ("keyring.backends.SecretService", "keyring.backends.Windows",
                    "keyring.backends.macOS", "keyring.backends.fail"):
        assert backend in imports
    for module in imports:
        assert importlib.util.find_spec(module) is not None, module
    assert "copy_metadata(\"keyring\")" in SPEC.read_text(encoding="utf-8")


def test_spec_keeps_every_qt_module_the_app_imports():
    used = set()
    for path in (ROOT / "recotap_desktop").rglob("*.py"):
        used.update(re.findall(r"\bPySide6\.(Qt\w+)", path.read_text(encoding="utf-8")))
    assert {"QtCore", "QtGui", "QtWidgets"} <= used
    dropped = set(spec_literal("UNUSED_QT_MODULES"))
    assert not used & dropped, f"the spec excludes Qt modules the app imports: {used & dropped}"


def test_spec_keeps_a_platform_plugin_for_every_system_and_the_icon_formats():
    plugins = spec_literal("QT_PLUGINS")
    assert {"qxcb", "qwayland", "qwindows", "qcocoa", "qoffscreen"} <= plugins["platforms"]
    assert "qsvg" in plugins["imageformats"] and "qico" in plugins["imageformats"]
    assert "qsvgicon" in plugins["iconengines"]


# ------------------------------------------------------------------- .desktop
def test_desktop_file_launches_the_gui_with_the_app_icon():
    entry = desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"] == APP_DISPLAY_NAME
    assert entry["Exec"].split()[0] == GUI_EXE
    assert entry["TryExec"] == GUI_EXE
    assert entry["Icon"] == APP_NAME
    assert entry["StartupWMClass"] == APP_NAME
    assert entry["Terminal"] == "false"
    categories = entry["Categories"].split(";")
    assert entry["Categories"].endswith(";")
    assert "Office" in categories and "Network" in categories


#: The files the app opens (issue 18: 9), by MIME type and by extension.
OPENED_MIME_TYPES = {"text/csv", "text/tab-separated-values",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
OPENED_EXTENSIONS = {"csv", "tsv", "xlsx"}


def test_desktop_file_opens_csv_tsv_and_xlsx_files():
    entry = desktop_entry()
    assert entry["Exec"] == f"{GUI_EXE} %F"  # the app takes FILE… (app.build_parser)
    assert set(entry["MimeType"].split(";")) >= OPENED_MIME_TYPES
    assert entry["MimeType"].endswith(";")


def test_desktop_file_is_valid():
    import shutil
    import subprocess

    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("desktop-file-validate is not installed (apt: desktop-file-utils)")
    done = subprocess.run([tool, str(DESKTOP_FILE)], capture_output=True, text=True)
    errors = [line for line in (done.stdout + done.stderr).splitlines() if "error" in line]
    assert done.returncode == 0 and not errors, done.stdout + done.stderr


def test_gui_takes_the_files_the_desktop_file_passes():
    from recotap_desktop.app import build_parser

    args = build_parser().parse_args(["--data-dir", "/d", "a.csv", "b.xlsx"])
    assert [p.name for p in args.files] == ["a.csv", "b.xlsx"]


def test_desktop_file_is_named_for_the_app_desktop_file_name():
    # app.py calls QGuiApplication.setDesktopFileName(APP_NAME): window <-> launcher match.
    assert DESKTOP_FILE.name == f"{APP_NAME}.desktop"


# ------------------------------------------------------------------ metainfo
def test_metainfo_structure():
    root = metainfo()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    cid = root.findtext("id")
    assert cid is not None and METAINFO.name == f"{cid}.metainfo.xml"
    assert re.fullmatch(r"[a-z][a-z0-9]*(\.[a-z0-9_-]+){2,}", cid), cid
    assert root.findtext("metadata_license") in {"CC0-1.0", "FSFAP", "MIT", "CC-BY-4.0"}
    assert root.findtext("project_license")
    assert root.findtext("name") == APP_DISPLAY_NAME
    summary = root.findtext("summary") or ""
    assert summary and len(summary) <= 80 and not summary.endswith(".")
    description = root.find("description")
    assert description is not None and description.findall("p")
    assert root.find("content_rating") is not None


def test_metainfo_points_at_the_desktop_file_icon_and_binaries():
    root = metainfo()
    launchable = root.find("launchable")
    assert launchable is not None and launchable.get("type") == "desktop-id"
    assert launchable.text == DESKTOP_FILE.name
    assert root.findtext("icon[@type='stock']") == desktop_entry()["Icon"]
    binaries = {b.text for b in root.findall("provides/binary")}
    assert binaries == {GUI_EXE, CLI_EXE}
    categories = {c.text for c in root.findall("categories/category")}
    assert categories <= set(desktop_entry()["Categories"].rstrip(";").split(";"))


def test_metainfo_newest_release_is_this_version():
    releases = metainfo().findall("releases/release")
    assert releases, "no <release>"
    assert releases[0].get("version") == __version__, \
        "add a <release> for recotap_desktop.__version__ at the top of the metainfo file"
    dates = [dt.date.fromisoformat(r.get("date") or "") for r in releases]
    assert dates == sorted(dates, reverse=True)
    assert len({r.get("version") for r in releases}) == len(releases)


# ---------------------------------------------------------------- installers
def test_linux_build_installs_the_names_the_desktop_file_uses():
    script = (PACKAGING / "build-linux").read_text(encoding="utf-8")
    assert "apps/recotap-desktop.png" in script and "apps/recotap-desktop.svg" in script
    assert "/opt/recotap-desktop/recotap-desktop" in script
    assert "/opt/recotap-desktop/recotap " in script or "/opt/recotap-desktop/recotap\"" in script
    assert "share/applications/recotap-desktop.desktop" in script
    assert "share/metainfo/io.recotap.desktop.metainfo.xml" in script
    assert "recotap_desktop.__version__" in script


@pytest.mark.parametrize("path", ["windows/recotap-desktop.iss", "macos/build-dmg.sh"])
def test_platform_recipes_take_the_version_from_the_package(path: str):
    text = (PACKAGING / path).read_text(encoding="utf-8")
    assert "recotap_desktop" in text or "AppVersion" in text
    assert __version__ not in text, f"{path} hard-codes the version"


def test_inno_setup_installs_both_executables_with_the_icon():
    text = (PACKAGING / "windows" / "recotap-desktop.iss").read_text(encoding="utf-8")
    assert "#error" in text and "AppVersion" in text
    assert f"{GUI_EXE}.exe" in text and f"{CLI_EXE}.exe" in text
    assert "app.ico" in text
    assert re.search(r"AppId=\{\{[0-9A-F-]{36}\}", text)


def test_inno_setup_offers_open_with_for_csv_tsv_and_xlsx():
    text = (PACKAGING / "windows" / "recotap-desktop.iss").read_text(encoding="utf-8")
    for ext in sorted(OPENED_EXTENSIONS):
        assert re.search(rf'Subkey: "Software\\Classes\\\.{ext}\\OpenWithProgids"; '
                         r'ValueType: string; ValueName: "RecotapDesktop\.File"', text), ext
        assert f'SupportedTypes"; ValueType: string; ValueName: ".{ext}"' in text
    command = r'ValueData: """{app}\{#AppExe}"" ""%1"""'
    assert text.count(command) == 2  # the ProgID's and the Applications entry's open verb
    assert "ChangesAssociations=yes" in text.split("[Languages]")[0]  # in [Setup]


def test_macos_bundle_declares_the_document_types():
    types = spec_literal("DOCUMENT_TYPES")
    assert {e for t in types for e in t["CFBundleTypeExtensions"]} == OPENED_EXTENSIONS
    assert all(t["LSHandlerRank"] == "Alternate" and t["LSItemContentTypes"] for t in types)
    assert '"CFBundleDocumentTypes": DOCUMENT_TYPES' in SPEC.read_text(encoding="utf-8")


def test_macos_bundle_is_a_foreground_app_launching_the_gui():
    text = SPEC.read_text(encoding="utf-8")
    assert '"LSBackgroundOnly": False' in text
    # BUNDLE launches the first executable given to COLLECT: the GUI.
    collect = text[text.index("coll = COLLECT("):]
    assert collect.index("gui_exe") < collect.index("cli_exe")
