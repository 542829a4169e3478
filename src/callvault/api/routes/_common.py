"""What the route modules share: the error responses they document."""

from __future__ import annotations

from typing import Any

from callvault.api._schemas import ErrorResponse

__all__ = ["errors"]

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
    503: "Key service or storage unavailable; retry",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the given error statuses (plus 400/401/403/500 always)."""
    wanted = sorted({400, 401, 403, 500, *statuses})
    return {s: {"model": ErrorResponse, "description": _TEXT[s]} for s in wanted}
