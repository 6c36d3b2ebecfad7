"""Everything recotap-desktop keeps on disk: paths, settings, API keys, sync history.

- :mod:`.paths`     per-user directories (platformdirs), overridable with ``--data-dir``
- :mod:`.settings`  connection profiles and remembered choices (atomic JSON)
- :mod:`.secrets`   API keys in the OS keychain (``keyring``), never in a file
- :mod:`.history`   sync history and resume journal (versioned SQLite)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from recotap_desktop.store.paths import AppPaths, app_paths
from recotap_desktop.store.settings import Profile, Settings, SettingsError

if TYPE_CHECKING:
    from recotap_desktop.store.history import (
        History,
        HistoryDiskError,
        HistoryError,
        NewerSchemaError,
        RowOutcome,
        RunInfo,
        RunRecord,
    )
    from recotap_desktop.store.secrets import (
        ENV_VAR,
        SERVICE,
        KeychainUnavailable,
        KeyStore,
        resolve_api_key,
    )

#: Names imported on first access (PEP 562), and the submodule each comes from: importing
#: ``store.paths`` or ``store.settings`` does not load SQLite or the keychain code.
_LAZY: dict[str, str] = {
    **dict.fromkeys(
        ("History", "HistoryDiskError", "HistoryError", "NewerSchemaError", "RowOutcome",
         "RunInfo", "RunRecord"),
        "history",
    ),
    **dict.fromkeys(
        ("ENV_VAR", "SERVICE", "KeychainUnavailable", "KeyStore", "resolve_api_key"), "secrets"),
}


def __getattr__(name: str) -> Any:
    """Import the history and keychain names on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
