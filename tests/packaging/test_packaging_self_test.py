"""``recotap-desktop --self-test`` from the source tree (the frozen build runs the same
checks in .ci/package and in the release workflow)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from platform_support import display_required, has_native_display_env, require_real_keychain

from recotap_desktop import APP_NAME, __version__
from recotap_desktop.app import SelfTestReport, build_parser, use_offscreen_without_display

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ("window", "icons", "keychain", "data", "files", "sandbox", "import", "reports")
#: Only a guard against a hung child process, not a speed requirement.
HANG_GUARD_S = 600


def run_self_test(data_dir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recotap_desktop", "--self-test", "--data-dir", str(data_dir)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=HANG_GUARD_S, check=False)


def check_lines(stdout: str) -> dict[str, str]:
    """check name -> "ok" | "FAIL" from the self-test's output."""
    found = {}
    for line in stdout.splitlines():
        status, _, rest = line.partition(" ")
        name = rest.strip().split(":", 1)[0]
        if status in ("ok", "FAIL") and name in CHECKS:
            found[name] = status
    return found


@pytest.mark.xcb
@pytest.mark.keychain
def test_self_test_passes_on_the_real_display_with_the_real_keychain(tmp_path):
    if not has_native_display_env():
        if display_required():
            pytest.fail("RECOTAP_REQUIRE_DISPLAY/XCB is set but there is no display")
        pytest.skip("needs a display (run under .ci/with-desktop)")
    require_real_keychain()
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    # Like ~/Library/Application Support on macOS: spaces in the data folder.
    data = tmp_path / "Application Support" / "recotap desktop"
    result = run_self_test(data, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert check_lines(result.stdout) == dict.fromkeys(CHECKS, "ok"), result.stdout
    assert "keychain: wrote, read and deleted an entry in" in result.stdout
    assert f"data: {data / 'data'}: SQLite (WAL) writes and reads back" in result.stdout
    assert "import: 20 of 20 accounts created" in result.stdout
    assert "reports: results written as CSV (UTF-8 BOM, CRLF)" in result.stdout
    assert result.stdout.rstrip().endswith(f"{APP_NAME} {__version__} self-test: ok")
    log = (data / "logs" / "recotap-desktop.log").read_text(encoding="utf-8")
    assert "self-test: ok   import:" in log
    assert "self-test: ok   reports:" in log


@pytest.mark.linux_only(reason="the offscreen fallback is for Linux without DISPLAY; "
                        "Windows and macOS always have their own windowing system")
def test_self_test_without_display_uses_offscreen_and_reports_each_check(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM",
                        "DBUS_SESSION_BUS_ADDRESS")}
    result = run_self_test(tmp_path / "data", env)
    checks = check_lines(result.stdout)
    assert set(checks) == set(CHECKS), result.stdout + result.stderr
    assert "no display found" in result.stdout
    assert "window: main window shown and painted (Qt platform offscreen)" in result.stdout
    for name in ("window", "icons", "data", "files", "sandbox", "import", "reports"):
        assert checks[name] == "ok", result.stdout
    # Without a session bus there is usually no keychain: then the self-test must fail
    # and say so, and never pretend.
    all_ok = all(status == "ok" for status in checks.values())
    assert result.returncode == (0 if all_ok else 1), result.stdout
    if not all_ok:
        assert "FAIL keychain: No system keychain" in result.stdout
        assert result.stdout.rstrip().endswith("self-test: FAILED (keychain)")


def test_offscreen_fallback_only_on_linux_without_a_display(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    env: dict[str, str] = {}
    assert use_offscreen_without_display(env) and env == {"QT_QPA_PLATFORM": "offscreen"}
    for present in ({"DISPLAY": ":1"}, {"WAYLAND_DISPLAY": "wayland-0"},
                    {"QT_QPA_PLATFORM": "xcb"}):
        env = dict(present)
        assert not use_offscreen_without_display(env) and env == present
    monkeypatch.setattr(sys, "platform", "win32")
    env = {}
    assert not use_offscreen_without_display(env) and env == {}


def test_report_prints_one_line_per_check_and_never_raises():
    out = io.StringIO()
    report = SelfTestReport(out)
    assert report.run("first", lambda: "fine")

    def broken() -> str:
        raise RuntimeError("it broke")

    assert not report.run("second", broken)
    assert out.getvalue().splitlines() == ["ok   first: fine",
                                           "FAIL second: RuntimeError: it broke"]
    assert not report.ok


def test_self_test_flag_is_parsed():
    args = build_parser().parse_args(["--self-test", "--data-dir", "/tmp/x"])
    assert args.self_test and str(args.data_dir) == "/tmp/x"


# ------------------------------------------------------------ the platform checks
def test_data_check_names_a_onedrive_folder_and_refuses_an_unusable_history(tmp_path):
    from recotap_desktop.platform_self_test import check_data_dir
    from recotap_desktop.store.paths import app_paths

    synced = tmp_path / "OneDrive - Contoso"
    paths = app_paths(synced / "recotap").ensure()
    detail = check_data_dir(paths, None, env={"OneDriveCommercial": str(synced)})
    assert "SQLite (WAL) writes and reads back" in detail
    assert f"WARNING: The recotap-desktop data folder {paths.data_dir} is inside OneDrive" \
        in detail
    assert not [p for p in paths.data_dir.iterdir() if p.name.startswith(".self-test")]
    with pytest.raises(RuntimeError, match="the sync history cannot be opened: disk full"):
        check_data_dir(paths, "disk full", env={})


@pytest.mark.posix_only(reason="POSIX folder modes")
def test_data_check_fails_on_a_folder_other_users_can_read(tmp_path):
    from recotap_desktop.platform_self_test import check_data_dir
    from recotap_desktop.store.paths import app_paths

    paths = app_paths(tmp_path / "d").ensure()
    os.chmod(paths.log_dir, 0o755)
    with pytest.raises(RuntimeError, match=r"readable by other users: .*logs"):
        check_data_dir(paths, None, env={})


def test_gatekeeper_line_only_for_a_macos_bundle(tmp_path, monkeypatch):
    from recotap_desktop.platform_self_test import check_gatekeeper

    exe = tmp_path / "Recotap Desktop.app" / "Contents" / "MacOS" / "recotap-desktop"
    exe.parent.mkdir(parents=True)

    def reader(path, name):
        return b"0083;6750d1c2;Safari;" if path.suffix == ".app" else None

    monkeypatch.setattr("recotap_desktop.platform_self_test.current_platform", lambda: "darwin")
    verdict = check_gatekeeper(str(exe), reader)
    assert verdict is not None and "downloaded by Safari" in verdict
    assert check_gatekeeper(sys.executable if ".app" not in sys.executable else "/x/y",
                            reader) is None
    monkeypatch.setattr("recotap_desktop.platform_self_test.current_platform", lambda: "linux")
    assert check_gatekeeper(str(exe), reader) is None
