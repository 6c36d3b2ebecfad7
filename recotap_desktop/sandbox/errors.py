"""Error answers of the sandbox, shaped like the documented envelopes (§4.2)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class ApiError(Exception):
    """A whole-request error answer.

    ``custom_message`` is the business-flavour detail (``customMessage``); ``data``
    is ``None`` or, for validation errors, the class-validator style list of
    ``{"property": ..., "constraints": {...}}`` objects.
    """

    def __init__(
        self,
        status: int,
        custom_message: str | None = None,
        *,
        data: list[dict[str, Any]] | None = None,
        message: str | None = None,
    ) -> None:
        self.status = status
        self.custom_message = custom_message
        self.data = data
        self.message = message or HTTPStatus(status).phrase
        super().__init__(custom_message or self.message)

    def body(self, *, path: str, timestamp: str) -> dict[str, Any]:
        """Return the error envelope."""
        doc: dict[str, Any] = {
            "statusCode": self.status,
            "timestamp": timestamp,
            "path": path,
            "message": self.message,
        }
        if self.custom_message is not None:
            doc["customMessage"] = self.custom_message
        doc["data"] = self.data
        return doc


def business_error(status: int, custom_message: str) -> ApiError:
    """A service-level error: ``customMessage`` set, ``data`` null."""
    return ApiError(status, custom_message)


def not_found_route(method: str, path: str) -> ApiError:
    """The framework's answer for an unknown route (``Cannot GET /path``)."""
    return ApiError(404, message=f"Cannot {method} {path}")
