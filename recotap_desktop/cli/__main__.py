"""``python -m recotap_desktop.cli``."""

from recotap_desktop.cli import main

raise SystemExit(main())
