"""Connection dialog over real sockets: create a profile, test keys, refuse plain HTTP,
explain a missing keychain, and a real keychain round trip."""

from __future__ import annotations

import io
import os
import socket
from pathlib import Path

import pytest
from platform_support import require_real_keychain
from ui_helpers import PROFILE, MemoryKeyring

from recotap_desktop.cli import main
from recotap_desktop.sandbox import DEMO_API_KEY
from recotap_desktop.store.secrets import KeyStore
from recotap_desktop.store.settings import Profile
from recotap_desktop.ui.connection_dialog import ConnectionDialog
from recotap_desktop.ui.services import Services

WAIT = 30_000


def _dialog(qtbot, services: Services) -> ConnectionDialog:
    dialog = ConnectionDialog(services)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.keychain is not None, timeout=WAIT)
    return dialog


def _fill(qtbot, dialog: ConnectionDialog, *, name: str, url: str, key: str) -> None:
    dialog.name_edit.clear()
    qtbot.keyClicks(dialog.name_edit, name)
    dialog.url_edit.clear()
    qtbot.keyClicks(dialog.url_edit, url)
    dialog.key_edit.clear()
    qtbot.keyClicks(dialog.key_edit, key)


def _test(qtbot, dialog: ConnectionDialog) -> str:
    """Press "Test connection", wait for the answer, return what the dialog says."""
    job = dialog.test_connection()
    assert job is not None
    qtbot.waitUntil(lambda: job.is_finished, timeout=WAIT)
    return dialog.result_label.text()


def _files_contain(root: Path, secret: str) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and secret.encode() in path.read_bytes():
            hits.append(path)
    return hits


def test_first_start_create_profile_and_save_key(qtbot, bare_services, sandbox, memory_keyring,
                                                 data_dir):
    dialog = _dialog(qtbot, bare_services)
    assert dialog.profile_list.count() == 1  # a new profile is ready to fill in
    assert "stored in MemoryKeyring" in dialog.storage_label.text()
    assert dialog.url_edit.placeholderText() == "https://eapi.recotap.com/api/v1/crm/"
    _fill(qtbot, dialog, name="ACME", url=sandbox.base_url("crm"), key=DEMO_API_KEY)
    assert dialog.key_edit.echoMode() == dialog.key_edit.EchoMode.Password
    dialog.show_key.setChecked(True)
    assert dialog.key_edit.echoMode() == dialog.key_edit.EchoMode.Normal

    assert "✔ Connected to 127.0.0.1" in _test(qtbot, dialog)

    with qtbot.waitSignal(dialog.accepted, timeout=WAIT):
        dialog.accept()
    settings = bare_services.settings
    assert [p.name for p in settings.profiles] == ["ACME"]
    assert settings.active_profile == "ACME"
    assert settings.get_profile("ACME").last_verified  # the successful test was recorded
    assert memory_keyring.entries[("recotap-desktop", "ACME")] == DEMO_API_KEY
    assert settings.path.exists()
    assert _files_contain(data_dir, DEMO_API_KEY) == []  # never written to a file


def test_wrong_key_says_401_and_api_access_hint(qtbot, services, sandbox):
    dialog = _dialog(qtbot, services)
    dialog.select(PROFILE)
    assert "A key is stored" in dialog.key_hint.text()
    qtbot.keyClicks(dialog.key_edit, "rtp_wrong_key")
    text = _test(qtbot, dialog)
    assert text.startswith("✖")
    assert "401" in text and "API access is enabled" in text
    assert "rtp_wrong_key" not in text


def test_stored_key_is_used_when_field_empty(qtbot, services):
    dialog = _dialog(qtbot, services)
    dialog.select(PROFILE)
    assert dialog.key_edit.text() == ""
    assert _test(qtbot, dialog).startswith("✔ Connected")


def test_unreachable_host_in_plain_words_the_cli_uses_too(qtbot, services, tmp_path):
    with socket.socket() as s:  # a port on which nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dialog = _dialog(qtbot, services)
    dialog.select(PROFILE)
    dialog.url_edit.clear()
    qtbot.keyClicks(dialog.url_edit, f"http://127.0.0.1:{port}/api/v1/crm/")
    text = _test(qtbot, dialog)
    assert text.startswith("✖ Could not reach 127.0.0.1")
    # One owner of each sentence (issue 17): the window says what `recotap auth test` says.
    err = io.StringIO()
    code = main(["--data-dir", str(tmp_path / "cli"), "--base-url",
                 f"http://127.0.0.1:{port}/api/v1/crm/", "auth", "test"],
                stdin=io.StringIO(), stdout=io.StringIO(), stderr=err,
                env={"RECOTAP_API_KEY": DEMO_API_KEY})
    assert code != 0
    assert err.getvalue().strip() == "error: " + text.removeprefix("✖ ")


def test_plain_http_refused_unless_confirmed(qtbot, services):
    dialog = _dialog(qtbot, services)
    dialog.select(PROFILE)
    dialog.url_edit.clear()
    qtbot.keyClicks(dialog.url_edit, "http://crm.example.com/api/v1/crm/")
    assert dialog.insecure_check.isVisibleTo(dialog)
    assert dialog.url_problem.isVisibleTo(dialog)
    assert dialog.test_connection() is None  # nothing is sent
    assert "unencrypted" in dialog.result_label.text()
    dialog.accept()
    assert dialog.save_job is None and dialog.result() == 0  # OK refused
    dialog.insecure_check.setChecked(True)
    assert not dialog.url_problem.isVisibleTo(dialog)
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT):
        dialog.accept()
    saved = services.settings.get_profile(PROFILE)
    assert saved.base_url == "http://crm.example.com/api/v1/crm/"
    assert saved.allow_insecure_http is True


def test_loopback_http_needs_no_confirmation(qtbot, services, sandbox):
    dialog = _dialog(qtbot, services)
    dialog.select(PROFILE)
    assert dialog.url_edit.text() == sandbox.base_url("crm")
    assert not dialog.insecure_check.isVisibleTo(dialog)
    assert not dialog.url_problem.isVisibleTo(dialog)


def test_several_profiles_add_remove_set_active(qtbot, services, memory_keyring):
    dialog = _dialog(qtbot, services)
    dialog.add_profile()
    dialog.name_edit.clear()
    qtbot.keyClicks(dialog.name_edit, "Client B")
    dialog.edition_combo.setCurrentIndex(dialog.edition_combo.findData("external"))
    assert dialog.url_edit.placeholderText() == "https://eapi.recotap.com/api/v1/"
    qtbot.keyClicks(dialog.key_edit, "rtp_client_b")
    dialog.set_current_active()
    assert "(active)" in dialog.profile_list.currentItem().text()
    dialog.select(PROFILE)
    dialog.remove_current()
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT):
        dialog.accept()
    assert [p.name for p in services.settings.profiles] == ["Client B"]
    assert services.settings.get_profile("Client B").edition == "external"
    assert services.active_profile.name == "Client B"
    assert ("recotap-desktop", PROFILE) not in memory_keyring.entries  # removed with profile
    assert memory_keyring.entries[("recotap-desktop", "Client B")] == "rtp_client_b"


def test_rename_moves_the_key(qtbot, services, memory_keyring):
    dialog = _dialog(qtbot, services)
    dialog.select(PROFILE)
    dialog.name_edit.clear()
    qtbot.keyClicks(dialog.name_edit, "Renamed")
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT):
        dialog.accept()
    assert memory_keyring.entries == {("recotap-desktop", "Renamed"): DEMO_API_KEY}
    assert services.active_profile.name == "Renamed"


def test_a_swap_of_names_keeps_each_key_with_its_connection(qtbot, services, memory_keyring):
    """Two connections exchange names in one edit: each key follows its connection (the
    dialog moved keys one by one, so both ended with the first one's key)."""
    services.settings.upsert_profile(Profile("Other", base_url="http://127.0.0.1:9/api/v1/crm/"))
    services.keystore.set("Other", "rtp_other")
    dialog = _dialog(qtbot, services)
    for old, new in ((PROFILE, "tmp"), ("Other", PROFILE), ("tmp", "Other")):
        dialog.select(old)
        dialog.name_edit.clear()
        qtbot.keyClicks(dialog.name_edit, new)
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT):
        dialog.accept()
    assert memory_keyring.entries == {("recotap-desktop", "Other"): DEMO_API_KEY,
                                      ("recotap-desktop", PROFILE): "rtp_other"}
    assert services.settings.get_profile(PROFILE).base_url == "http://127.0.0.1:9/api/v1/crm/"


def test_duplicate_names_refused(qtbot, services):
    dialog = _dialog(qtbot, services)
    dialog.add_profile()
    dialog.name_edit.clear()
    qtbot.keyClicks(dialog.name_edit, PROFILE)
    dialog.accept()
    assert dialog.save_job is None
    assert "Two connections are called" in dialog.result_label.text()


def test_no_keychain_explains_env_var_and_keeps_key_in_memory(qtbot, data_dir, sandbox):
    from keyring.backends.fail import Keyring as FailKeyring

    services = Services.open(data_dir, keystore=KeyStore(FailKeyring()), env={})
    try:
        dialog = _dialog(qtbot, services)
        text = dialog.storage_label.text()
        assert "No system keychain" in text and "RECOTAP_API_KEY" in text
        assert "memory" in text
        _fill(qtbot, dialog, name="NoChain", url=sandbox.base_url("crm"), key=DEMO_API_KEY)
        with qtbot.waitSignal(dialog.accepted, timeout=WAIT):
            dialog.accept()
        assert services.key_for("NoChain") == (DEMO_API_KEY, "session")
        assert _files_contain(data_dir, DEMO_API_KEY) == []
    finally:
        services.close()


@pytest.mark.keychain
def test_real_keychain_round_trip(qtbot, data_dir, sandbox):
    require_real_keychain()
    store = KeyStore()
    name = f"ui-test-{os.getpid()}"
    services = Services.open(data_dir, keystore=store, env={})
    try:
        dialog = _dialog(qtbot, services)
        assert dialog.keychain is not None and dialog.keychain.problem is None, \
            dialog.storage_label.text()
        _fill(qtbot, dialog, name=name, url=sandbox.base_url("crm"), key=DEMO_API_KEY)
        with qtbot.waitSignal(dialog.accepted, timeout=WAIT):
            dialog.accept()
        assert store.get(name) == DEMO_API_KEY
        # A fresh dialog sees the stored key and the test uses it.
        again = _dialog(qtbot, services)
        again.select(name)
        assert "A key is stored" in again.key_hint.text()
        assert _test(qtbot, again).startswith("✔ Connected")
        again.remove_current()
        with qtbot.waitSignal(again.accepted, timeout=WAIT):
            again.accept()
        assert store.get(name) is None
    finally:
        try:
            store.delete(name)
        finally:
            services.close()


def test_memory_keyring_is_isolated(memory_keyring: MemoryKeyring):
    assert memory_keyring.entries == {}


@pytest.mark.parametrize("served", ["crm", "external"])
def test_test_connection_detects_the_edition_that_answers(qtbot, bare_services, memory_keyring,
                                                          served, tmp_path):
    """Finding 8: the edition is found by probing both paths, not asked; the manual choice
    is under a collapsed "Advanced"."""
    from recotap_desktop.sandbox import SandboxServer

    other = "external" if served == "crm" else "crm"
    with SandboxServer(accounts=3, editions=[served]) as server:
        dialog = _dialog(qtbot, bare_services)
        dialog.show()
        assert not dialog.advanced_box.isVisible()  # the manual choice is tucked away
        assert dialog.edition_combo.isHidden() or not dialog.edition_combo.isVisible()
        _fill(qtbot, dialog, name="W", url=server.base_url(other), key=DEMO_API_KEY)
        text = _test(qtbot, dialog)
        assert text.startswith("✔ Connected to 127.0.0.1"), text
        title = "CRM API" if served == "crm" else "External API"
        assert f"speaks the {title}" in text
        assert dialog.edition_label.text().endswith("(detected)")
        assert dialog.edition_combo.currentData() == served
        assert dialog.url_edit.text() == server.base_url(served)
        dialog.grab().save(str(tmp_path / f"connection-detected-{served}.png"))
        with qtbot.waitSignal(dialog.accepted, timeout=WAIT):
            dialog.accept()
        saved = bare_services.settings.get_profile("W")
        assert (saved.edition, saved.base_url) == (served, server.base_url(served))


def test_neither_edition_path_known_says_404(qtbot, services):
    from recotap_desktop.sandbox import SandboxServer

    with SandboxServer(accounts=3) as server:
        dialog = _dialog(qtbot, services)
        dialog.select(PROFILE)
        dialog.url_edit.clear()
        qtbot.keyClicks(dialog.url_edit, f"http://127.0.0.1:{server.port}/nothing/here/")
        qtbot.keyClicks(dialog.key_edit, DEMO_API_KEY)
        text = _test(qtbot, dialog)
    assert text.startswith("✖ Neither API edition answered") and "(404)" in text


@pytest.mark.parametrize("served", ["crm", "external"])
def test_creating_a_connection_detects_the_edition_without_a_test(qtbot, bare_services,
                                                                   served):
    """Finding 8, "and creating a connection": OK on a new connection probes both paths
    like "Test connection" does and keeps the edition that answers."""
    from recotap_desktop.sandbox import SandboxServer

    other = "external" if served == "crm" else "crm"
    with SandboxServer(accounts=3, editions=[served]) as server:
        dialog = _dialog(qtbot, bare_services)
        _fill(qtbot, dialog, name="New", url=server.base_url(other), key=DEMO_API_KEY)
        with qtbot.waitSignal(dialog.accepted, timeout=WAIT):
            dialog.accept()  # no "Test connection" pressed
        saved = bare_services.settings.get_profile("New")
        assert saved is not None
        assert (saved.edition, saved.base_url) == (served, server.base_url(served))
        assert saved.last_verified
        assert dialog.saved_notes == []


def test_a_new_connection_nobody_answers_is_saved_unverified_and_the_window_says_so(
        qtbot, bare_services):
    from recotap_desktop.ui.main_window import MainWindow

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    window = MainWindow(bare_services)
    qtbot.addWidget(window)
    dialog = window.open_connections()
    _fill(qtbot, dialog, name="Offline", url=f"http://127.0.0.1:{port}/api/v1/crm/",
          key=DEMO_API_KEY)
    with qtbot.waitSignal(dialog.finished, timeout=WAIT):
        dialog.accept()
    saved = bare_services.settings.get_profile("Offline")
    assert saved is not None and saved.edition == "crm" and not saved.last_verified
    shown = window.card.result_label.text()
    assert shown.startswith("Note: Offline: not verified"), shown
    assert DEMO_API_KEY not in shown


def test_recotap_base_url_is_tested_but_never_saved_into_the_profile(
        qtbot, data_dir, sandbox, memory_keyring):
    """Under ``RECOTAP_BASE_URL`` "Test connection" talks to that address (as sending does)
    and says so, but what it finds there is not written into the profile: the override is
    the session's, the profile's URL the user's."""
    own = "https://crm.example.invalid/api/v1/crm/"
    services = Services.open(data_dir, keystore=KeyStore(memory_keyring),
                             env={"RECOTAP_BASE_URL": sandbox.base_url("crm")})
    services.settings.upsert_profile(Profile(name=PROFILE, base_url=own, edition="crm"))
    services.keystore.set(PROFILE, DEMO_API_KEY)
    dialog = _dialog(qtbot, services)
    dialog.select(PROFILE)
    assert "✔ Connected to 127.0.0.1" in _test(qtbot, dialog)
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT):
        dialog.accept()
    assert services.settings.get_profile(PROFILE).base_url == own
    services.update_profile_edition(PROFILE, "crm", sandbox.base_url("crm"))
    assert services.settings.get_profile(PROFILE).base_url == own
