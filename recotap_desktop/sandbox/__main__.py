"""``python -m recotap_desktop.sandbox``: run the sandbox server until Ctrl-C."""

from __future__ import annotations

from recotap_desktop.sandbox.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
