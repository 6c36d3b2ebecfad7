"""``python -m recotap_desktop`` opens the GUI."""

from recotap_desktop.app import main

if __name__ == "__main__":
    raise SystemExit(main())
