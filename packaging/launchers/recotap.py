"""Frozen entry point of the console executable ``recotap`` (see recotap-desktop.spec)."""

from recotap_desktop.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
