"""Platform traps of the app's own files (recotap_desktop/store/platform_checks.py):
private modes on POSIX, OneDrive data folders, the macOS keychain explanation and the
quarantine reader. What cannot happen on this machine is simulated through the module's
seams (the platform name, the environment, the xattr reader); the markers say where the
real thing runs."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
from pathlib import Path

import keyring.errors
import pytest

from recotap_desktop.api.redact import SecretFilter
from recotap_desktop.app import RotatingLog, setup_logging
from recotap_desktop.store import platform_checks as pc
from recotap_desktop.store.history import History
from recotap_desktop.store.paths import app_paths
from recotap_desktop.store.secrets import KeyStore
from recotap_desktop.store.settings import Settings
from tests.helpers.history import run_info
from tests.helpers.memory_keyring import MemoryKeyring


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask():
    """The usual umask of a desktop session (022): files 0644 and folders 0755 by default."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


# ------------------------------------------------------------------ private files
@pytest.mark.posix_only(reason="POSIX file modes; Windows keeps %LOCALAPPDATA% private by ACL")
def test_history_settings_logs_and_journal_are_private_to_the_user(tmp_path, loose_umask):
    paths = app_paths(tmp_path / "Application Support" / "recotap desktop").ensure()
    settings = Settings.load(paths)
    settings.ui["last_folder"] = str(tmp_path)
    settings.save()
    history = History(paths.history_file)
    try:
        run_id = history.create_run(run_info())
        history.batch_started(run_id, 1, [2, 3])  # the journal: in the same database
        wal = paths.history_file.with_name(paths.history_file.name + "-wal")
        assert wal.exists()
        assert _mode(wal) == 0o600
        assert _mode(paths.history_file.with_name(paths.history_file.name + "-shm")) == 0o600
    finally:
        history.close()
    log_file = setup_logging(paths.log_dir, SecretFilter())
    try:
        logging.getLogger("recotap_desktop").warning("a line")
    finally:
        _drop_handlers(log_file)
    for folder in (paths.data_dir, paths.config_dir, paths.log_dir, paths.cache_dir):
        assert _mode(folder) == 0o700, folder
    for file in (paths.history_file, paths.settings_file, log_file):
        assert _mode(file) == 0o600, file


def _drop_handlers(log_file: Path) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "baseFilename", None) == str(log_file):
            root.removeHandler(handler)
            handler.close()


@pytest.mark.posix_only(reason="POSIX file modes")
def test_files_left_readable_by_an_older_version_are_made_private(tmp_path, loose_umask):
    paths = app_paths(tmp_path / "data")
    for folder in (paths.data_dir, paths.log_dir):
        folder.mkdir(parents=True, mode=0o755)
    paths.history_file.touch(mode=0o644)
    (paths.log_dir / "recotap-desktop.log").touch(mode=0o644)
    paths.ensure()
    History(paths.history_file).close()
    log_file = setup_logging(paths.log_dir, SecretFilter())
    _drop_handlers(log_file)
    assert _mode(paths.data_dir) == 0o700
    assert _mode(paths.history_file) == 0o600
    assert _mode(log_file) == 0o600


@pytest.mark.posix_only(reason="POSIX file modes")
def test_a_read_only_history_stays_read_only(tmp_path):
    db = tmp_path / "history.sqlite3"
    History(db).close()
    os.chmod(db, 0o444)
    pc.make_private_file(db)
    assert _mode(db) == 0o400  # others lose read; the owner does not gain write


# ------------------------------------------------------------------ CRLF in the log
def test_log_lines_end_with_the_platforms_line_end(tmp_path, monkeypatch):
    """Windows simulated: every line of the log (tracebacks too) ends in CRLF."""
    monkeypatch.setattr(RotatingLog, "newline", "\r\n")
    path = tmp_path / "app.log"
    handler = RotatingLog(path, max_bytes=0, backups=0)
    logger = logging.getLogger("test-crlf")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("first")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("with a traceback")
    finally:
        logger.removeHandler(handler)
        handler.close()
    data = path.read_bytes()
    assert data.count(b"\n") >= 4 and data.count(b"\n") == data.count(b"\r\n")


@pytest.mark.windows_only(reason="the real Windows default of the log's line ends")
def test_log_uses_crlf_on_windows(tmp_path):
    assert RotatingLog.newline == "\r\n"
    handler = RotatingLog(tmp_path / "app.log", max_bytes=0, backups=0)
    handler.emit(logging.makeLogRecord({"msg": "one"}))
    handler.close()
    assert (tmp_path / "app.log").read_bytes().endswith(b"one\r\n")


# ------------------------------------------------------------------ OneDrive
ONEDRIVE_ENV = {"OneDrive": r"C:\Users\Ana\OneDrive",
                "OneDriveCommercial": r"C:\Users\Ana\OneDrive - Contoso",
                "LOCALAPPDATA": r"C:\Users\Ana\AppData\Local"}


@pytest.mark.parametrize(("path", "root"), [
    (r"C:\Users\Ana\OneDrive\Documents\recotap", r"C:\Users\Ana\OneDrive"),
    (r"c:\users\ana\onedrive - contoso\Reports", r"C:\Users\Ana\OneDrive - Contoso"),
    (r"D:\Sync\OneDrive - Fabrikam\recotap", r"D:\Sync\OneDrive - Fabrikam"),
    (r"C:\Users\Ana\AppData\Local\recotap-desktop", None),
    (r"C:\Users\Ana\OneDriveBackup\x", None),
])
def test_onedrive_folders_are_recognised(path, root):
    assert pc.onedrive_root(path, ONEDRIVE_ENV, "win32") == root


def test_onedrive_folders_on_macos():
    synced = "/Users/ana/Library/CloudStorage/OneDrive-Contoso"
    assert pc.onedrive_root(f"{synced}/recotap", {}, "darwin") == synced
    assert pc.onedrive_root("/Users/ana/Library/Application Support/recotap-desktop",
                            {}, "darwin") is None


def test_a_data_folder_in_onedrive_is_warned_about_with_a_local_folder_to_use(monkeypatch):
    paths = app_paths(r"C:\Users\Ana\OneDrive - Contoso\recotap")
    # (on Linux the Windows path is a relative name: the test only looks at the text)
    warnings = pc.data_dir_warnings(paths, ONEDRIVE_ENV, "win32")
    assert len(warnings) == 1
    assert "inside OneDrive (C:\\Users\\Ana\\OneDrive - Contoso)" in warnings[0]
    assert "history.sqlite3" in warnings[0] and "--data-dir" in warnings[0]
    assert r"C:\Users\Ana\AppData\Local\recotap-desktop" in warnings[0]
    assert pc.data_dir_warnings(app_paths(r"C:\Users\Ana\AppData\Local\x"),
                                ONEDRIVE_ENV, "win32") == []


def test_the_cli_warns_once_per_start_when_its_data_folder_is_in_onedrive(tmp_path):
    """Simulated on this machine: OneDriveCommercial names a folder that holds --data-dir."""
    import io

    from recotap_desktop.cli import main

    synced = tmp_path / "OneDrive - Contoso"
    err = io.StringIO()
    code = main(["--data-dir", str(synced / "recotap"), "history"], stdin=io.StringIO(""),
                stdout=io.StringIO(), stderr=err, env={"OneDriveCommercial": str(synced)})
    assert code == 0, err.getvalue()
    assert err.getvalue().count("is inside OneDrive") == 1
    err = io.StringIO()
    main(["--data-dir", str(tmp_path / "local"), "history"], stdin=io.StringIO(""),
         stdout=io.StringIO(), stderr=err, env={"OneDriveCommercial": str(synced)})
    assert "OneDrive" not in err.getvalue()


# ------------------------------------------------------------------ macOS keychain notice
class CountingKeyring(MemoryKeyring):
    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events

    def get_password(self, service: str, username: str) -> str | None:
        self.events.append("keychain")
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self.events.append("keychain")
        super().set_password(service, username, password)


def test_the_keychain_explanation_comes_once_before_the_first_access_on_macos(tmp_path):
    events: list[str] = []
    settings = Settings.load(app_paths(tmp_path).ensure())
    hook = pc.FirstKeychainUse(settings, lambda text: events.append(text), platform="darwin")
    store = KeyStore(CountingKeyring(events), before_first_use=hook)
    store.set("Prod", "rtp_x")
    assert store.get("Prod") == "rtp_x"
    assert events[1:] == ["keychain", "keychain"]
    assert "macOS Keychain" in events[0] and "Always Allow" in events[0]
    assert "RECOTAP_API_KEY" in events[0]
    # Remembered for the next start.
    again = Settings.load(app_paths(tmp_path))
    assert again.ui[pc.KEYCHAIN_NOTICE_SHOWN] is True
    shown: list[str] = []
    KeyStore(MemoryKeyring(), before_first_use=pc.FirstKeychainUse(
        again, shown.append, platform="darwin")).get("Prod")
    assert shown == []


def test_no_keychain_explanation_on_linux_and_windows(tmp_path):
    settings = Settings.load(app_paths(tmp_path).ensure())
    for platform in ("linux", "win32"):
        shown: list[str] = []
        KeyStore(MemoryKeyring(), before_first_use=pc.FirstKeychainUse(
            settings, shown.append, platform=platform)).get("Prod")
        assert shown == []
    assert pc.KEYCHAIN_NOTICE_SHOWN not in settings.ui


def test_the_cli_explains_the_keychain_before_storing_a_key_on_macos(tmp_path, monkeypatch):
    import io

    from recotap_desktop.cli import main

    events: list[str] = []
    backend = CountingKeyring(events)
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    monkeypatch.setattr(pc, "current_platform", lambda: "darwin")

    class Err(io.StringIO):
        def write(self, text: str) -> int:
            if "macOS Keychain" in text:
                events.append("notice")
            return super().write(text)

    def auth_set() -> str:
        err = Err()
        code = main(["--data-dir", str(tmp_path), "--profile", "Prod", "auth", "set"],
                    stdin=io.StringIO("rtp_key_1\n"), stdout=io.StringIO(), stderr=err, env={})
        assert code == 0, err.getvalue()
        return err.getvalue()

    first = auth_set()
    assert events == ["notice", "keychain"]  # said before the keychain was touched
    assert first.startswith("note: recotap-desktop keeps your API keys in the macOS Keychain")
    assert "rtp_key_1" not in first
    assert "macOS Keychain" not in auth_set()  # once per user


# ------------------------------------------------------------------ quarantine
def _bundle(tmp_path: Path, *, signed: bool = False, stapled: bool = False) -> Path:
    app = tmp_path / "Recotap Desktop.app"
    (app / "Contents" / "MacOS").mkdir(parents=True)
    if signed:
        (app / "Contents" / "_CodeSignature").mkdir()
        (app / "Contents" / "_CodeSignature" / "CodeResources").write_text("x")
    if stapled:
        (app / "Contents" / "CodeResources").write_text("ticket")
    return app


def _reader(value: bytes | None):
    def read(path: Path, name: str) -> bytes | None:
        assert name == "com.apple.quarantine"
        return value

    return read


def test_gatekeeper_verdicts_from_the_quarantine_attribute(tmp_path):
    downloaded = _reader(b"0083;6750d1c2;Safari;3F2504E0-4F89-11D3-9A0C-0305E82C3301")
    unsigned = pc.gatekeeper_verdict(_bundle(tmp_path / "a"), downloaded)
    assert "quarantined (downloaded by Safari) and not signed" in unsigned
    assert "cannot be opened because Apple cannot check it" in unsigned
    assert "xattr -d com.apple.quarantine" in unsigned
    notarised = pc.gatekeeper_verdict(_bundle(tmp_path / "b", signed=True, stapled=True),
                                      downloaded)
    assert "is an app downloaded from the Internet" in notarised
    approved = pc.gatekeeper_verdict(_bundle(tmp_path / "c"),
                                     _reader(b"00c3;6750d1c2;Safari;"))
    assert "already approved" in approved
    clean = pc.gatekeeper_verdict(_bundle(tmp_path / "d"), _reader(None))
    assert "is not quarantined" in clean


def test_the_bundle_is_found_from_the_frozen_executable():
    exe = "/Applications/Recotap Desktop.app/Contents/MacOS/recotap-desktop"
    assert pc.app_bundle(exe) == Path("/Applications/Recotap Desktop.app")
    assert pc.app_bundle("/usr/bin/python3") is None


@pytest.mark.macos_only(reason="reads a real com.apple.quarantine attribute with xattr(1)")
def test_the_real_quarantine_attribute_is_read_on_macos(tmp_path):
    app = _bundle(tmp_path)
    assert pc.read_quarantine(app) is None
    subprocess.run(["/usr/bin/xattr", "-w", "com.apple.quarantine",
                    "0083;6750d1c2;Safari;", str(app)], check=True)
    assert pc.read_quarantine(app) == "0083;6750d1c2;Safari;"
    assert "downloaded by Safari" in pc.gatekeeper_verdict(app)


def test_keychain_errors_are_not_swallowed_by_the_hook(tmp_path):
    def broken() -> None:
        raise keyring.errors.KeyringError("no")

    store = KeyStore(MemoryKeyring(), before_first_use=broken)
    with pytest.raises(keyring.errors.KeyringError):
        store.get("x")
    assert store.get("x") is None  # the hook runs once; the keychain still works



def test_the_gui_shows_the_onedrive_warning_at_start(tmp_path):
    """The GUI's services carry it with the settings warnings (shown once at start-up)."""
    from recotap_desktop.ui.services import Services

    synced = tmp_path / "OneDrive"
    services = Services.open(synced / "recotap", keystore=KeyStore(MemoryKeyring()),
                             env={"OneDrive": str(synced)})
    try:
        assert [w for w in services.settings.warnings if "is inside OneDrive" in w]
    finally:
        services.close()
