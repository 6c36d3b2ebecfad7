from __future__ import annotations

from pathlib import Path

import platformdirs

from recotap_desktop import APP_NAME
from recotap_desktop.store.paths import app_paths


def test_override_puts_all_four_dirs_under_it_and_creates_nothing(tmp_path: Path) -> None:
    root = tmp_path / "portable"
    paths = app_paths(root)
    assert paths.data_dir == root / "data"
    assert paths.config_dir == root / "config"
    assert paths.log_dir == root / "logs"
    assert paths.cache_dir == root / "cache"
    assert paths.settings_file == root / "config" / "settings.json"
    assert paths.history_file == root / "data" / "history.sqlite3"
    assert not root.exists()

    assert paths.ensure() is paths
    for directory in (paths.data_dir, paths.config_dir, paths.log_dir, paths.cache_dir):
        assert directory.is_dir()
    paths.ensure()  # idempotent


def test_override_accepts_str_and_relative_and_home(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert app_paths("rel").data_dir == tmp_path / "rel" / "data"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert app_paths("~/x").config_dir == tmp_path / "home" / "x" / "config"


def test_default_uses_platformdirs_for_the_app(tmp_path: Path, monkeypatch) -> None:
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    paths = app_paths()
    assert paths.data_dir == Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    assert paths.config_dir == Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    assert paths.log_dir == Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
    assert paths.cache_dir == Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
    assert APP_NAME in str(paths.data_dir)
    assert not any((tmp_path / d).exists() for d in ("xdg_data_home", "xdg_config_home"))
