"""Everything recotap-desktop keeps on disk: paths, settings, API keys, sync history.

- :mod:`.paths`     per-user directories (platformdirs), overridable with ``--data-dir``
- :mod:`.settings`  connection profiles and remembered choices (atomic JSON)
- :mod:`.secrets`   API keys in the OS keychain (``keyring``), never in a file
- :mod:`.history`   sync history and resume journal (versioned SQLite)
"""

from __future__ import annotations

from recotap_desktop.store.history import (
    History,
    HistoryDiskError,
    HistoryError,
    NewerSchemaError,
    RowOutcome,
    RunInfo,
    RunRecord,
)
from recotap_desktop.store.paths import AppPaths, app_paths
from recotap_desktop.store.secrets import (
    ENV_VAR,
    SERVICE,
    KeychainUnavailable,
    KeyStore,
    resolve_api_key,
)
from recotap_desktop.store.settings import Profile, Settings, SettingsError

__all__ = [
    "ENV_VAR",
    "SERVICE",
    "AppPaths",
    "History",
    "HistoryDiskError",
    "HistoryError",
    "KeyStore",
    "KeychainUnavailable",
    "NewerSchemaError",
    "Profile",
    "RowOutcome",
    "RunInfo",
    "RunRecord",
    "Settings",
    "SettingsError",
    "app_paths",
    "resolve_api_key",
]
