"""The CLI catches every error written for the user once (issue 17, item 3): one
``UserError`` base, ``error: <its message>`` and its exit code, never a traceback."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from recotap_desktop.api import errors as api_errors
from recotap_desktop.cli import main
from recotap_desktop.engine.export import ExportError
from recotap_desktop.engine.plan import PlanError
from recotap_desktop.errors import EXIT_API, EXIT_USAGE, UserError
from recotap_desktop.files.problems import FileProblem
from recotap_desktop.files.targets import TargetProblem
from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer
from recotap_desktop.store.history import HistoryError
from recotap_desktop.store.paths import DataDirError, app_paths
from recotap_desktop.store.secrets import KeychainUnavailable
from recotap_desktop.store.settings import SettingsError


@pytest.mark.parametrize("error, code", [
    (api_errors.RecotapError, EXIT_API), (api_errors.AuthError, EXIT_API),
    (api_errors.ConfigError, EXIT_USAGE), (PlanError, EXIT_USAGE), (ExportError, EXIT_USAGE),
    (TargetProblem, EXIT_USAGE), (FileProblem, EXIT_USAGE), (DataDirError, EXIT_USAGE),
    (KeychainUnavailable, EXIT_USAGE), (HistoryError, EXIT_USAGE),
    (SettingsError, EXIT_USAGE),
])
def test_every_error_for_the_user_shares_one_base(error: type, code: int) -> None:
    assert issubclass(error, UserError)
    assert error.exit_code == code


def test_a_settings_error_on_saving_is_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    """A hand-edited settings file with a secret-looking entry loads, but is never saved
    with it; `auth test` saves the detected edition. Before, that SettingsError escaped
    main() as a traceback."""
    data_dir = tmp_path / "d"
    with SandboxServer(port=0, accounts=3) as server:
        settings_file = app_paths(data_dir).ensure().settings_file
        profile = {"name": "W", "edition": "crm", "base_url": server.base_url("crm")}
        settings_file.write_text(json.dumps(
            {"version": 1, "active_profile": "W", "profiles": [profile],
             "ui": {"api_key": "pasted here by hand"}}), encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        code = main(["--data-dir", str(data_dir), "--base-url", server.base_url("crm"),
                     "auth", "test"], stdin=io.StringIO(),
                     stdout=out, stderr=err, env={"RECOTAP_API_KEY": DEMO_API_KEY})
    assert code == EXIT_USAGE, err.getvalue()
    assert err.getvalue().startswith("error: Refusing to save"), err.getvalue()
    assert "Traceback" not in err.getvalue()
