"""recotap-desktop: move CRM files in and out of Recotap through its HTTP API.

The version below is the single source of truth: pyproject.toml reads it, the
CLI's ``--version``, the About box and the packaging scripts all import it.
"""

__version__ = "0.1.0"
APP_NAME = "recotap-desktop"
APP_DISPLAY_NAME = "Recotap Desktop"
ORG_NAME = "Recotap Desktop"

__all__ = ["APP_DISPLAY_NAME", "APP_NAME", "ORG_NAME", "__version__"]
