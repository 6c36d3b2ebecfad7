"""The results grid of an import run: compact storage, its Qt model, the summary bar and
the window (:class:`ResultsWindow`, :func:`open_results`)."""

from __future__ import annotations

from recotap_desktop.ui.results.view import ResultsView, ResultsWindow, open_results

__all__ = ["ResultsView", "ResultsWindow", "open_results"]
