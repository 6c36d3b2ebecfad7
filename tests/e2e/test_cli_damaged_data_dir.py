"""A damaged data directory or settings file: a clear message and exit 2, never a
traceback (issue 15, finding 9), in the CLI and in the GUI's start-up (Qt-free part)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from recotap_desktop.cli import main
from recotap_desktop.sandbox import DEMO_API_KEY
from recotap_desktop.store.paths import DataDirError, app_paths
from tests.tmpfs import tmpfs


def _run(args: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdin=io.StringIO(""), stdout=out, stderr=err,
                env={"RECOTAP_API_KEY": DEMO_API_KEY})
    return code, err.getvalue()


def _damaged(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "gone")
    settings_dir = tmp_path / "settings-is-a-dir"
    (settings_dir / "config" / "settings.json").mkdir(parents=True)
    return {
        "file": (a_file, "is a file"),
        "dangling": (dangling, "does not exist"),
        "settings": (settings_dir, "settings.json"),
    }


@pytest.mark.parametrize(("case", "command"), [
    ("file", ["history"]), ("file", ["segments"]), ("file", ["resume", "1"]),
    ("dangling", ["history"]), ("dangling", ["segments"]), ("dangling", ["resume", "1"]),
    ("settings", ["segments"]), ("settings", ["auth", "test"]),  # commands that read settings
])
def test_cli_says_what_is_wrong(tmp_path: Path, case: str, command: list[str]) -> None:
    folder, words = _damaged(tmp_path)[case]
    code, err = _run(["--data-dir", str(folder), "--base-url", "http://127.0.0.1:9/api/v1/crm/",
                      *command])
    assert code == 2, err
    assert words in err and "Traceback" not in err


def test_read_only_file_system(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", read_only=True) as folder:
        code, err = _run(["--data-dir", str(folder), "history"])
        with pytest.raises(DataDirError) as info:
            app_paths(folder).ensure()
    assert code == 2 and "read-only file system" in err and "Traceback" not in err
    assert "read-only file system" in info.value.message


def test_gui_services_raise_the_same_message(tmp_path: Path) -> None:
    from recotap_desktop.store.settings import SettingsError
    from recotap_desktop.ui.services import Services

    damaged = _damaged(tmp_path)
    for case in ("file", "dangling"):
        with pytest.raises(DataDirError) as info:
            Services.open(damaged[case][0])
        assert damaged[case][1] in info.value.message
    with pytest.raises(SettingsError, match=r"settings\.json"):
        Services.open(damaged["settings"][0])
