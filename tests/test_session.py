"""One session, both faces (recotap_desktop/session.py): the command line's Context and
the app's Services turn a profile into the same connection by one rule, environment
overrides included, and keys follow renames, swaps and removals of profiles."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from recotap_desktop.cli import build_parser
from recotap_desktop.cli.context import CliError, Context
from recotap_desktop.errors import EXIT_API
from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer
from recotap_desktop.session import NoApiKey, Overrides, Session
from recotap_desktop.store.paths import app_paths
from recotap_desktop.store.secrets import KeyStore
from recotap_desktop.store.settings import Profile, Settings
from recotap_desktop.ui.services import NoApiKey as AppNoApiKey
from recotap_desktop.ui.services import Services, open_demo
from tests.helpers.memory_keyring import MemoryKeyring

SAVED = "https://eapi.example.test/api/v1/external/"
ELSEWHERE = "http://127.0.0.1:9/api/v1/crm/"


def _save_profile(data_dir: Path, profile: Profile) -> None:
    settings = Settings.load(app_paths(data_dir).ensure())
    settings.upsert_profile(profile)
    settings.active_profile = profile.name
    settings.save()


def _cli_context(data_dir: Path, env: dict[str, str], *options: str) -> Context:
    args = build_parser().parse_args(["--data-dir", str(data_dir), *options, "segments"])
    return Context(args, io.StringIO(""), io.StringIO(), io.StringIO(), env)


def _app(data_dir: Path, env: dict[str, str],
         keyring: MemoryKeyring | None = None) -> Services:
    return Services.open(data_dir, keystore=KeyStore(keyring or MemoryKeyring()), env=env)


def _session(tmp_path: Path, keyring: MemoryKeyring, **kwargs: object) -> Session:
    return Session(app_paths(tmp_path / "data"), KeyStore(keyring),
                   settings=Settings.load(app_paths(tmp_path / "data").ensure()),
                   **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("env_url", [None, ELSEWHERE])
def test_both_faces_make_the_same_connection_of_a_profile(data_dir: Path,
                                                          env_url: str | None) -> None:
    _save_profile(data_dir, Profile("Work", edition="external", base_url=SAVED,
                                    allow_insecure_http=True))
    env = {"RECOTAP_API_KEY": DEMO_API_KEY}
    if env_url:
        env["RECOTAP_BASE_URL"] = env_url
    ctx = _cli_context(data_dir, env)
    app = _app(data_dir, env)
    try:
        from_cli = ctx.connection()
        from_app = app.connection_spec(app.settings.get_profile("Work"))  # type: ignore[arg-type]
    finally:
        ctx.close()
        app.close()
    assert from_cli == from_app
    assert from_app.base_url == (env_url or SAVED)
    assert (from_app.edition, from_app.api_key, from_app.allow_insecure_http,
            from_app.profile) == ("external", DEMO_API_KEY, True, "Work")


def test_recotap_base_url_applies_to_the_app_too(data_dir: Path) -> None:
    """It was honoured by the command line only: the app sent to the saved address."""
    _save_profile(data_dir, Profile("Work", base_url=SAVED))
    keyring = MemoryKeyring()
    app = _app(data_dir, {"RECOTAP_BASE_URL": f"  {ELSEWHERE} "}, keyring)
    try:
        app.keystore.set("Work", DEMO_API_KEY)
        profile = app.settings.get_profile("Work")
        assert profile is not None
        spec = app.connection_spec(profile)
        assert spec.base_url == ELSEWHERE
        assert app.target_of(profile).host == "127.0.0.1:9"  # runs are matched by it too
        assert app.host_of(profile) == "127.0.0.1:9"  # and the window says so
        assert profile.base_url == SAVED  # the override is not written into the profile
    finally:
        app.close()


def test_the_command_line_wins_over_the_environment_and_the_profile(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    session = _session(tmp_path, keyring, env={"RECOTAP_BASE_URL": ELSEWHERE},
                       overrides=Overrides(base_url=SAVED, edition="external"))
    session.settings.upsert_profile(Profile("Work", edition="crm", base_url=None))
    address = session.address("Work")
    assert (address.base_url, address.edition, address.allow_insecure_http) == (
        SAVED, "external", False)
    plain = _session(tmp_path, keyring, env={})
    assert plain.address("Work").base_url is None  # the edition's default
    assert plain.address("Unsaved").edition == "crm"


def test_the_demo_ignores_the_environment(data_dir: Path) -> None:
    """The demo's address and key are the in-process sandbox's, whatever the environment
    says: nothing of the demo is sent elsewhere."""
    app = _app(data_dir, {"RECOTAP_BASE_URL": ELSEWHERE, "RECOTAP_API_KEY": "rtp_env"})
    try:
        profile = open_demo(app)
        spec = app.connection_spec(profile)
        assert spec.base_url == profile.base_url and spec.base_url != ELSEWHERE
        assert spec.api_key == DEMO_API_KEY
    finally:
        app.close()


def test_no_key_in_each_face_s_words(data_dir: Path) -> None:
    _save_profile(data_dir, Profile("Work"))
    ctx = _cli_context(data_dir, {})
    ctx.session.keystore = KeyStore(MemoryKeyring())
    app = _app(data_dir, {})
    try:
        with pytest.raises(CliError, match="recotap --profile Work auth set") as cli_error:
            ctx.connection()
        assert cli_error.value.exit_code == EXIT_API
        with pytest.raises(AppNoApiKey, match="Connections") as app_error:
            app.connection_spec(app.settings.get_profile("Work"))  # type: ignore[arg-type]
        assert isinstance(app_error.value, NoApiKey) and app_error.value.profile == "Work"
    finally:
        ctx.close()
        app.close()


def test_keys_follow_a_swap_a_rename_and_a_removal(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    session = _session(tmp_path, keyring, env={})
    for name in ("A", "B", "C", "D"):
        session.keystore.set(name, f"key-{name}")
    session.remember_session_key("M", "key-M")
    session.move_keys({"A": "B", "B": "A", "C": "C2", "M": "M2"}, removed=["D"])
    assert {name: session.key_for(name) for name in ("A", "B", "C", "C2", "D", "M", "M2")} == {
        "A": ("key-B", "keychain"),
        "B": ("key-A", "keychain"),
        "C": (None, None),
        "C2": ("key-C", "keychain"),
        "D": (None, None),
        "M": (None, None),
        "M2": ("key-M", "session"),
    }


def test_a_rename_onto_a_removed_name_takes_no_stale_key(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    session = _session(tmp_path, keyring, env={})
    session.keystore.set("B", "key-B")  # B is removed, A (no key) becomes B
    session.move_keys({"A": "B"}, removed=["B"])
    assert session.key_for("B") == (None, None)


def test_custom_fields_only_for_the_kinds_that_map_them(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    session = _session(tmp_path, keyring, env={"RECOTAP_API_KEY": DEMO_API_KEY})
    with SandboxServer(accounts=5, seed=3) as server:
        session.settings.upsert_profile(Profile("S", base_url=server.base_url("crm")))
        conn = session.connection("S")
        assert session.custom_fields("deals", conn) == []
        before = len(server.state.request_log)
        assert session.custom_fields("deals", conn) == [] and \
            len(server.state.request_log) == before  # no request for a kind without them
        fields = session.custom_fields("accounts", conn)
        assert fields and len(server.state.request_log) == before + 1
