"""Turn exceptions from the lower layers into sentences a marketing-ops person can act on."""

from __future__ import annotations

from recotap_desktop.store.secrets import ENV_VAR, KeychainUnavailable


def describe_error(exc: BaseException, host: str = "") -> str:
    """Plain words for an error raised while talking to Recotap (or getting the key)."""
    from recotap_desktop.api import errors as api_errors

    where = host or "the server"
    if isinstance(exc, KeychainUnavailable):
        return exc.message
    message = getattr(exc, "message", "") or str(exc)
    if isinstance(exc, api_errors.AuthError):
        return (
            f"{where} refused the API key (401). Check that you pasted the whole, current key "
            "(generating a new key invalidates the old one). If the key is right, API access may "
            "not be enabled for your workspace yet: ask your Recotap account manager."
        )
    if isinstance(exc, api_errors.AmbiguousOutcome):
        return (
            f"The answer from {where} was lost after the request was sent, so it is not known "
            f"whether it was processed. ({message})"
        )
    if isinstance(exc, api_errors.TransportError):
        kind = getattr(exc, "kind", "")
        if kind == "tls":
            return (
                f"A secure (TLS) connection to {where} could not be set up: its certificate was "
                "not accepted. Check the address; on a company network, a proxy that inspects "
                "HTTPS traffic can cause this (ask your IT team)."
            )
        if kind == "timeout":
            return (
                f"{where} did not answer in time. Check your internet connection and try again."
            )
        if kind == "protocol":
            return (
                f"{where} answered, but not like the Recotap API does. Check the base URL and "
                "the edition of this connection."
            )
        return (
            f"Could not reach {where}. Check the address (base URL), your internet connection "
            "and any proxy or firewall."
        )
    if isinstance(exc, api_errors.Conflict):
        return f"Recotap refused this because it already exists: {message}"
    if isinstance(exc, api_errors.RateLimited):
        return f"{where} asked to slow down (too many requests). Wait a moment and try again."
    if isinstance(exc, api_errors.ServerError):
        return f"{where} had a problem ({getattr(exc, 'status_code', '5xx')}). Try again later."
    if isinstance(exc, api_errors.ApiStatusError):
        details = "; ".join(getattr(exc, "details", []) or [])
        text = f"Recotap answered {getattr(exc, 'status_code', '')}: {message}"
        return f"{text} ({details})" if details and details not in text else text
    if isinstance(exc, api_errors.CancelledError):
        return "Cancelled."
    if isinstance(exc, api_errors.ConfigError | api_errors.RecotapError):
        return message
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {exc}"
    if message:
        return message
    return f"Unexpected error ({type(exc).__name__}). Details are in the log file."


def keychain_help() -> str:
    """Why the environment variable helps when the keychain cannot be used."""
    return (
        f"Without a system keychain, set the environment variable {ENV_VAR} to your API key "
        "before starting recotap-desktop. The app never writes your key to a file."
    )
