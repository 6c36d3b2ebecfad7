from __future__ import annotations

import base64
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from recotap_desktop.store import settings as settings_mod
from recotap_desktop.store.paths import AppPaths
from recotap_desktop.store.secrets import KeyStore
from recotap_desktop.store.settings import (
    SCHEMA_VERSION,
    UI_MAPPINGS,
    Profile,
    Settings,
    SettingsError,
    header_signature,
)
from tests.helpers.memory_keyring import MemoryKeyring


def _sample(paths: AppPaths) -> Settings:
    s = Settings.load(paths)
    s.upsert_profile(Profile("Production", base_url=None, segment_id="seg_1", segment_name="ABM"))
    s.upsert_profile(
        Profile(
            "Local",
            edition="external",
            base_url="http://127.0.0.1:8080/api/v1/",
            allow_insecure_http=True,
            last_verified="2024-05-01T09:30:00+00:00",
        )
    )
    s.active_profile = "Production"
    s.ui["last_folder"] = "/home/me/exports"
    s.ui["window_geometry"] = base64.b64encode(b"\x01\xd9\xd0\xcb geometry").decode("ascii")
    s.ui["concurrency"] = 4
    s.remember_mapping(header_signature("accounts", ["Name", "Website"]), {"columns": {}})
    return s


def test_missing_file_gives_defaults_without_writing(paths: AppPaths) -> None:
    s = Settings.load(paths)
    assert s.profiles == [] and s.active_profile is None and s.ui == {} and s.warnings == []
    assert not paths.config_dir.exists()


def test_round_trip(paths: AppPaths) -> None:
    _sample(paths).save()
    raw = json.loads(paths.settings_file.read_text("utf-8"))
    assert raw["version"] == SCHEMA_VERSION

    s = Settings.load(paths)
    assert s.warnings == []
    assert [p.name for p in s.profiles] == ["Production", "Local"]
    prod = s.get_profile("Production")
    assert prod is not None and prod.edition == "crm" and prod.base_url is None
    assert prod.segment_id == "seg_1" and prod.segment_name == "ABM"
    local = s.get_profile("Local")
    assert local == Profile(
        "Local",
        "external",
        "http://127.0.0.1:8080/api/v1/",
        True,
        "2024-05-01T09:30:00+00:00",
    )
    assert s.active is prod
    assert base64.b64decode(s.ui["window_geometry"]) == b"\x01\xd9\xd0\xcb geometry"
    assert s.ui["concurrency"] == 4
    # header order/case does not matter for the remembered mapping
    assert s.mapping_for(header_signature("accounts", ["website ", "NAME"])) == {"columns": {}}
    assert s.mapping_for(header_signature("deals", ["Name", "Website"])) is None


def test_profiles_are_unique_by_name(paths: AppPaths) -> None:
    s = _sample(paths)
    s.upsert_profile(Profile("Production", edition="external"))
    assert [p.edition for p in s.profiles if p.name == "Production"] == ["external"]
    assert len(s.profiles) == 2
    local, production = (s.get_profile(n) for n in ("Local", "Production"))
    assert local is not None and production is not None
    with pytest.raises(ValueError):  # two called "Production": nothing changes
        s.replace_profiles([production, replace(local, name="Production")], "Production")
    assert [p.name for p in s.profiles] == ["Production", "Local"]
    # a swap of names in one go, as the Connections dialog makes it; the active one stays
    s.replace_profiles([replace(production, name=" Local "),
                        replace(local, name="Production")], "Local")
    assert [(p.name, p.base_url) for p in s.profiles] == [("Local", production.base_url),
                                                          ("Production", local.base_url)]
    assert s.active_profile == "Local"
    s.replace_profiles([replace(production, name="Prod")], "Gone")
    assert s.active_profile == "Prod"  # the active one is gone: the first one is active
    assert s.remove_profile("Prod") is True
    assert s.active_profile is None
    assert s.remove_profile("Prod") is False
    with pytest.raises(ValueError):
        s.upsert_profile(Profile("  "))


def test_failed_write_keeps_the_old_file(paths: AppPaths, monkeypatch) -> None:
    _sample(paths).save()
    before = paths.settings_file.read_bytes()

    s = Settings.load(paths)
    s.upsert_profile(Profile("Third"))

    def crash(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(settings_mod.os, "replace", crash)
    with pytest.raises(SettingsError) as info:
        s.save()
    assert "No space left on device" in info.value.message
    assert "previous settings are unchanged" in info.value.message
    assert paths.settings_file.read_bytes() == before
    assert sorted(p.name for p in paths.config_dir.iterdir()) == ["settings.json"]


def test_crash_in_the_middle_of_writing_keeps_the_old_file(paths: AppPaths, monkeypatch) -> None:
    _sample(paths).save()
    before = paths.settings_file.read_bytes()

    real_fdopen = os.fdopen

    class Killed(BaseException):
        pass

    def half_write_then_die(fd: int, mode: str):
        handle = real_fdopen(fd, mode)
        real_write = handle.write

        def write(data: bytes) -> int:
            real_write(data[: len(data) // 2])
            handle.flush()
            raise Killed

        handle.write = write  # type: ignore[method-assign]
        return handle

    monkeypatch.setattr(settings_mod.os, "fdopen", half_write_then_die)
    s = Settings.load(paths)
    s.upsert_profile(Profile("Third"))
    with pytest.raises(Killed):
        s.save()
    monkeypatch.undo()

    assert paths.settings_file.read_bytes() == before
    # A temp file left by a process killed mid-write is ignored by load.
    (paths.config_dir / ".settings.json.x1y2.tmp").write_bytes(before[:10])
    again = Settings.load(paths)
    assert again.warnings == []
    assert [p.name for p in again.profiles] == ["Production", "Local"]


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe\x00garbage",
        b"[1, 2, 3]",
        b'{"version": 1, "profiles": {"name": "x"}}',
        b'{"version": 1, "profiles": [{"edition": "crm"}]}',
        b'{"version": 1, "profiles": [{"name": "a"}, {"name": "a"}]}',
        b'{"version": "one"}',
        b"",
    ],
)
def test_corrupt_file_is_moved_aside_and_reported(paths: AppPaths, content: bytes) -> None:
    paths.ensure()
    paths.settings_file.write_bytes(content)

    s = Settings.load(paths)

    assert s.profiles == [] and s.ui == {}
    assert len(s.warnings) == 1
    kept = [p for p in paths.config_dir.iterdir() if p.name.startswith("settings.json.corrupt-")]
    assert len(kept) == 1
    assert kept[0].read_bytes() == content  # nothing lost
    assert not paths.settings_file.exists()
    assert "damaged" in s.warnings[0] and kept[0].name in s.warnings[0]
    assert "default settings" in s.warnings[0]
    s.save()  # and the app can go on
    assert Settings.load(paths).warnings == []


def test_unreadable_file_raises_settings_error(paths: AppPaths) -> None:
    paths.settings_file.mkdir(parents=True)  # a directory where the file should be
    with pytest.raises(SettingsError) as info:
        Settings.load(paths)
    assert str(paths.settings_file) in info.value.message
    assert "--data-dir" in info.value.message


def test_unwritable_folder_raises_settings_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    s = Settings(path=blocker / "config" / "settings.json")
    with pytest.raises(SettingsError):
        Settings.load(s.path)  # "Not a directory" is reported, not mistaken for "no file"
    with pytest.raises(SettingsError) as info:
        s.save()
    assert "could not be saved" in info.value.message


def test_file_without_version_is_migrated(paths: AppPaths) -> None:
    paths.ensure()
    paths.settings_file.write_text(json.dumps({"profiles": [{"name": "Old"}]}))
    s = Settings.load(paths)
    assert s.warnings == []
    assert s.get_profile("Old") == Profile("Old")
    s.save()
    assert json.loads(paths.settings_file.read_text())["version"] == SCHEMA_VERSION


def test_newer_file_keeps_unknown_keys_and_warns(paths: AppPaths) -> None:
    paths.ensure()
    newer = {
        "version": SCHEMA_VERSION + 1,
        "active_profile": "P",
        "profiles": [{"name": "P", "edition": "crm", "colour": "blue"}],
        "ui": {},
        "telemetry": {"enabled": False},
    }
    paths.settings_file.write_text(json.dumps(newer))
    s = Settings.load(paths)
    assert len(s.warnings) == 1 and "newer version" in s.warnings[0]
    s.ui["concurrency"] = 2
    s.save()
    raw = json.loads(paths.settings_file.read_text())
    assert raw["version"] == SCHEMA_VERSION + 1
    assert raw["telemetry"] == {"enabled": False}
    assert raw["profiles"][0]["colour"] == "blue"


def test_api_key_is_never_written(paths: AppPaths, memory_keyring: MemoryKeyring) -> None:
    key = "rtp_live_5f3c9a1b7e2d4c6a8b0e"
    store = KeyStore(memory_keyring)
    store.set("Production", key)
    s = _sample(paths)
    s.save()
    assert store.get("Production") == key
    for path in paths.config_dir.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes()


def test_secret_looking_ui_entries_are_refused(paths: AppPaths) -> None:
    s = _sample(paths)
    s.ui["connection"] = {"api_key": "rtp_live_x"}
    with pytest.raises(SettingsError) as info:
        s.save()
    assert "ui.connection.api_key" in info.value.message
    assert "rtp_live_x" not in info.value.message
    assert not paths.settings_file.exists()


def test_mappings_live_under_ui(paths: AppPaths) -> None:
    s = Settings.load(paths)
    sig = header_signature("deals", ["Deal ID"])
    s.remember_mapping(sig, {"columns": {"externalDealId": "Deal ID"}})
    assert s.ui[UI_MAPPINGS][sig]["columns"] == {"externalDealId": "Deal ID"}
    assert sig.startswith("deals:")


def test_load_accepts_a_file_path(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    s = Settings.load(path)
    s.active_profile = None
    s.save()
    assert Path(path).is_file()


def test_remember_keeps_a_choice_and_saves_it(paths: AppPaths) -> None:
    """Issue 17, item 2: one ``remember`` instead of eight copies of "set, save, log"."""
    settings = Settings.load(paths)
    assert settings.remember("last_folder", "/data/exports")
    assert Settings.load(paths).ui["last_folder"] == "/data/exports"


def test_remember_that_cannot_save_logs_and_keeps_the_choice_for_the_session(
        paths: AppPaths, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings.load(paths)
    assert settings.remember("last_folder", "/a")
    # A secret-looking entry is never written: the save is refused, the file kept as it was.
    assert not settings.remember("api_key", "pasted by mistake")
    assert settings.ui["api_key"] == "pasted by mistake"  # this session only
    assert "could not remember api_key" in caplog.text
    assert "pasted by mistake" not in paths.settings_file.read_text(encoding="utf-8")
    assert Settings.load(paths).ui == {"last_folder": "/a"}
