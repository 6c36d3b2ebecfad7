"""Work-arounds for the Qt binding's bugs and costs, in one place.

:data:`Qt` — ``PySide6.QtCore.Qt``, fetched on first use. The first touch of the ``Qt``
namespace builds its ~190 Python enum classes, about 20 ms (a tenth of an empty
window's start-up); the modules on the way to the main window's first frame
(``main_window``, ``workers``) reach it through this object, so that cost is paid
after the window has appeared, when a dialog or job first needs an enum. Everything
else imports ``Qt`` from ``PySide6.QtCore`` as usual (hot paths such as model
``data()`` should not pay the extra attribute lookup).

:func:`protect_bools` — PySide6 6.12 returns ``True``/``False`` from several methods
without owning a reference to them (``SignalInstance.emit()`` and ``disconnect()``
return a borrowed ``True``; ``QEventLoop.exec()`` drops a reference to ``False``).
Each call costs one reference; after a few hundred calls CPython 3.11 aborts with
"Fatal Python error: bool_dealloc: deallocating True or False". Python 3.12 made
``True``/``False`` immortal, which makes the bug harmless; on 3.11 we do the same
by hand: the two singletons get 2**40 extra references, so the binding's lost
references can never bring them to zero. Leaking references to these two
singletons is harmless (they are never freed anyway).
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtCore import Qt
else:

    class _LazyQtNamespace:
        """Attribute access forwards to ``PySide6.QtCore.Qt`` (created on first use)."""

        __slots__ = ()

        def __getattr__(self, name: str) -> Any:
            from PySide6.QtCore import Qt as namespace

            return getattr(namespace, name)

        def __repr__(self) -> str:
            return "<lazy PySide6.QtCore.Qt>"

    Qt = _LazyQtNamespace()

__all__ = ["Qt", "protect_bools"]

_EXTRA_REFERENCES = 1 << 40
_lock = threading.Lock()
_done = False


def protect_bools() -> bool:
    """Make ``True``/``False`` effectively immortal on CPython < 3.12 (idempotent).

    Returns whether anything was done. Call it before creating the QApplication.
    """
    global _done
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    import PySide6

    if not PySide6.__version__.startswith("6.12."):
        # pyproject.toml pins <6.12; this guard only matters for a hand-upgraded install.
        return False
    import ctypes

    with _lock:
        if _done:
            return False
        for singleton in (True, False):
            # CPython's object header starts with the Py_ssize_t reference count.
            refcnt = ctypes.c_ssize_t.from_address(id(singleton))
            refcnt.value += _EXTRA_REFERENCES
        _done = True
        return True
