"""What the route modules share: the error responses they document, the records store
(with the one error for a server started without one), and the request's audit trail."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from callvault.api._audit import Trail, trail_of
from callvault.api._auth import services
from callvault.api._errors import ApiError
from callvault.api._schemas import ErrorResponse
from callvault.storage.records import RecordStore

__all__ = ["RecordsNotConfigured", "errors", "records_of", "trail"]


class RecordsNotConfigured(ApiError):
    """The server runs without a records store; a 500 (``internal_error``)."""


def trail(request: Request) -> Trail:
    """The request's audit trail, which ``require`` opened."""
    found = trail_of(request)
    if found is None:
        raise RuntimeError("route without an audit trail: use require(action, event)")
    return found


def records_of(request: Request) -> RecordStore:
    found = services(request).records
    if found is None:
        raise RecordsNotConfigured("no records store")
    return found


_TEXT = {
    400: "Invalid request",
    401: "Missing, invalid or expired credential",
    403: "The credential's role or tenant does not allow this",
    404: "No such tenant or resource",
    409: "Already exists",
    410: "The data was cryptographically erased",
    413: "Body too large",
    416: "Range not satisfiable",
    500: "Integrity failure or server error",
    503: "Key service, storage or audit log unavailable; retry",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the given error statuses (plus 400/401/403/500/503 always:
    any route may meet an unavailable audit log)."""
    wanted = sorted({400, 401, 403, 500, 503, *statuses})
    return {s: {"model": ErrorResponse, "description": _TEXT[s]} for s in wanted}
