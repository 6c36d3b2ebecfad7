"""Segment picker and custom fields dialog against the sandbox over real sockets."""

from __future__ import annotations

from ui_helpers import PROFILE

from recotap_desktop.sandbox import DEMO_API_KEY
from recotap_desktop.ui.custom_fields import CustomFieldsDialog
from recotap_desktop.ui.segment_picker import SegmentPickerDialog

WAIT = 30_000
# The sandbox lists static segments that are active or draft (not archived, not dynamic).
LISTED = {"Q2 Target Accounts", "Enterprise Expansion", "Draft Campaign List",
          "EMEA Event Invitees", "Partner Referrals"}


def _picker(qtbot, services) -> SegmentPickerDialog:
    dialog = SegmentPickerDialog(services, services.active_profile)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.job is not None and dialog.job.is_finished, timeout=WAIT)
    return dialog


def _shown_names(dialog: SegmentPickerDialog) -> set[str]:
    return {dialog.proxy.index(r, 0).data() for r in range(dialog.proxy.rowCount())}


def test_pick_a_segment_with_search_and_remember_it(qtbot, services):
    dialog = _picker(qtbot, services)
    assert _shown_names(dialog) == LISTED
    assert dialog.status_label.text() == "5 segments"
    statuses = {dialog.proxy.index(r, 0).data(): dialog.proxy.index(r, 1).data()
                for r in range(dialog.proxy.rowCount())}
    assert statuses["Draft Campaign List"] == "draft"

    qtbot.keyClicks(dialog.search, "emea")
    assert _shown_names(dialog) == {"EMEA Event Invitees"}
    assert dialog.status_label.text() == "1 of 5 segments"
    assert dialog.use_button.isEnabled()  # the single match is selected
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT):
        dialog.use_button.click()
    segment_id, name = dialog.choice
    assert name == "EMEA Event Invitees"
    assert segment_id.startswith("65f0a1b2")

    saved = services.settings.get_profile(PROFILE)
    assert (saved.segment_id, saved.segment_name) == (segment_id, name)
    # Opening the picker again preselects the remembered segment.
    again = _picker(qtbot, services)
    assert again.selected_segment().segment_id == segment_id


def test_no_match_and_no_segment(qtbot, services):
    dialog = _picker(qtbot, services)
    qtbot.keyClicks(dialog.search, "zzz-nothing")
    assert dialog.proxy.rowCount() == 0
    assert "No segment matches" in dialog.status_label.text()
    assert not dialog.use_button.isEnabled()
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT):
        dialog.none_button.click()
    assert dialog.choice is None
    assert services.settings.get_profile(PROFILE).segment_id is None


def test_segment_error_state_is_shown_in_the_dialog(qtbot, services, memory_keyring):
    memory_keyring.set_password("recotap-desktop", PROFILE, "rtp_revoked")
    dialog = _picker(qtbot, services)
    assert dialog.stack.currentWidget() is dialog.state_label
    assert "could not be loaded" in dialog.state_label.text()
    assert "401" in dialog.state_label.text()
    assert dialog.refresh_button.isEnabled()
    memory_keyring.set_password("recotap-desktop", PROFILE, DEMO_API_KEY)
    job = dialog.refresh()
    qtbot.waitUntil(lambda: job.is_finished, timeout=WAIT)
    assert _shown_names(dialog) == LISTED


def test_empty_workspace_says_so(qtbot, services, sandbox):
    with sandbox.state.lock:
        sandbox.state.segments.clear()
    dialog = _picker(qtbot, services)
    assert dialog.stack.currentWidget() is dialog.state_label
    assert "no static segments" in dialog.state_label.text()


def _fields_dialog(qtbot, services) -> CustomFieldsDialog:
    dialog = CustomFieldsDialog(services, services.active_profile)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.load_job is not None and dialog.load_job.is_finished,
                    timeout=WAIT)
    return dialog


def test_create_custom_field_and_409_for_duplicate(qtbot, services, sandbox):
    dialog = _fields_dialog(qtbot, services)
    before = dialog.model.rowCount()
    assert before > 0 and dialog.stack.currentWidget() is dialog.view
    assert all(k.endswith("_C") for k in dialog.existing_keys)

    qtbot.keyClicks(dialog.label_edit, "Renewal Owner")
    assert dialog.key_label.text() == "RENEWAL_OWNER_C"
    dialog.type_combo.setCurrentIndex(dialog.type_combo.findData("singleSelection"))
    assert not dialog.create_button.isEnabled()
    assert "at least one option" in dialog.form_problem.text()
    dialog.options_edit.setPlainText("Sales\nCustomer success\n\n")
    qtbot.keyClicks(dialog.description_edit, "Who renews")
    assert dialog.create_button.isEnabled()
    job = dialog.create_field()
    qtbot.waitUntil(lambda: job.is_finished, timeout=WAIT)
    assert dialog.result_label.text() == "✔ Created RENEWAL_OWNER_C (Renewal Owner)."
    assert dialog.model.rowCount() == before + 1
    created = sandbox.state.custom_fields["RENEWAL_OWNER_C"]
    assert created["options"] == ["Sales", "Customer success"]
    assert created["description"] == "Who renews"

    # Typing the same label again is caught before anything is sent...
    qtbot.keyClicks(dialog.label_edit, "renewal owner")
    assert "already exists" in dialog.form_problem.text()
    assert not dialog.create_button.isEnabled()

    # ...and when someone else created it meanwhile, the server's 409 is explained.
    dialog.label_edit.clear()
    qtbot.keyClicks(dialog.label_edit, "Contract Tier")
    dialog.type_combo.setCurrentIndex(dialog.type_combo.findData("number"))
    with services.make_client(services.active_profile) as client:
        client.create_custom_field("Contract Tier", "number")
    job = dialog.create_field()
    qtbot.waitUntil(lambda: job.is_finished, timeout=WAIT)
    assert dialog.result_label.text() == "✖ A field with key CONTRACT_TIER_C already exists."
    qtbot.waitUntil(lambda: "CONTRACT_TIER_C" in dialog.existing_keys, timeout=WAIT)


def test_custom_fields_error_state(qtbot, services, memory_keyring):
    memory_keyring.set_password("recotap-desktop", PROFILE, "rtp_revoked")
    dialog = _fields_dialog(qtbot, services)
    assert dialog.stack.currentWidget() is dialog.state_label
    assert "could not be loaded" in dialog.state_label.text()
