"""Frozen entry point of the GUI executable ``recotap-desktop`` (see recotap-desktop.spec)."""

from recotap_desktop.app import main

if __name__ == "__main__":
    raise SystemExit(main())
