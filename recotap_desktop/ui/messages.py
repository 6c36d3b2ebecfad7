"""Turn exceptions from the lower layers into sentences a marketing-ops person can act on."""

from __future__ import annotations

from recotap_desktop.errors import UserError


def describe_error(exc: BaseException, host: str = "") -> str:
    """The sentence for an error, as the CLI prints it (issue 17: one owner of each
    sentence). Errors written for the user (:class:`UserError`) carry their own words,
    written by the layer that knows (the API layer tells a refused key, an expired
    certificate and a wrong host name apart); the window shows those, with its context
    around them. ``host`` names the server for an error that does not."""
    from recotap_desktop.api.errors import CancelledError

    if isinstance(exc, CancelledError):
        return "Cancelled."
    if isinstance(exc, UserError):
        return exc.message
    where = f" (talking to {host})" if host else ""
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}{where}: {exc}"
    message = str(exc)
    if message:
        return message
    return f"Unexpected error ({type(exc).__name__}){where}. Details are in the log file."

