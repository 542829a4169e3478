"""How every error becomes an HTTP response: one table, one JSON shape.

Every error body is ``{"error": {"code": "<snake_case>", "message": "<one line>"}}``. The
status comes from the error's *kind* (``callvault.errors`` tree), never from its text, in
the order of ``STATUS_TABLE`` (first match wins, so subclasses come before their bases):

=====================  ======  ============================  ======================================
error                  status  code                          why this status
=====================  ======  ============================  ======================================
InvalidRequest         400     invalid_request               the caller's input; nothing changed
AuthenticationError    401     unauthenticated               one message for every cause (no oracle)
AuthorizationError     403     forbidden                     role or tenant does not allow it
KeyNotFound            404     not_found                     unknown tenant (admin lookups)
ObjectNotFound         404     not_found                     generic text: store keys never leak
NotFound (api)         404     not_found
TenantExists           409     conflict
Conflict (api)         409     conflict                      e.g. a recording id already used
KeyDestroyed           410     key_destroyed                 cryptographically erased: gone for
                                                             good, and saying so is no oracle
PayloadTooLarge (api)  413     payload_too_large
RangeNotSatisfiable    416     range_not_satisfiable         with ``Content-Range: bytes */N``
OpenError              500     integrity_error               the *stored* object does not open:
                                                             the client sent nothing that could
                                                             cause it, so it is a server-side
                                                             integrity failure (tampering, bit
                                                             rot, a bug); one opaque message
KeyUnavailable         503     key_unavailable               the KMS is down; retry later
AuditUnavailable       503     audit_unavailable             the audit log refused the entry:
                                                             the action was not performed
ObjectStoreError       503     storage_unavailable           the backend failed; retry later
ConfigError            500     server_misconfigured          (incl. EnvironmentMismatch below)
EnvironmentMismatch    500     server_misconfigured
anything else          500     internal_error                details only in the server log
=====================  ======  ============================  ======================================

Messages of 5xx errors are fixed strings: configuration errors can name paths and keys, and
the client can do nothing with them. 4xx messages are the library's own, which never carry
key material, plaintext or subjects.
"""

from __future__ import annotations

from typing import Final

from callvault.auth import AuthenticationError, AuthorizationError
from callvault.errors import (
    AuditUnavailable,
    CallvaultError,
    ConfigError,
    EnvironmentMismatch,
    InvalidRequest,
    KeyDestroyed,
    KeyExists,
    KeyNotFound,
    KeyUnavailable,
    OpenError,
    TenantExists,
)
from callvault.storage.objects import ObjectNotFound, ObjectStoreError

__all__ = [
    "STATUS_TABLE",
    "ApiError",
    "AuditUnavailable",
    "Conflict",
    "NotFound",
    "PayloadTooLarge",
    "RangeNotSatisfiable",
    "error_body",
    "map_error",
]


class ApiError(CallvaultError):
    """Base of the errors only the HTTP layer raises."""


class NotFound(ApiError):
    """No such resource for this tenant (another tenant's looks the same)."""


class Conflict(ApiError):
    """The resource already exists; nothing was changed."""


class PayloadTooLarge(ApiError):
    """The request body is over the configured limit; nothing was stored."""


class RangeNotSatisfiable(ApiError):
    """The ``Range`` header is malformed, multi-part, or outside the object."""

    def __init__(self, length: int) -> None:
        super().__init__(f"range not satisfiable for a {length}-byte object")
        self.length = length


_FIXED: Final = {
    "integrity_error": OpenError.MESSAGE,
    "key_unavailable": "the key service is unavailable; retry later",
    "audit_unavailable": "the audit log is unavailable; nothing was done; retry later",
    "storage_unavailable": "the storage backend is unavailable; retry later",
    "server_misconfigured": "the server is misconfigured; see its log",
    "internal_error": "internal error; see the server log",
}

#: (kind, status, code), first match wins.
STATUS_TABLE: Final[tuple[tuple[type[BaseException], int, str], ...]] = (
    (InvalidRequest, 400, "invalid_request"),
    (AuthenticationError, 401, "unauthenticated"),
    (AuthorizationError, 403, "forbidden"),
    (KeyNotFound, 404, "not_found"),
    (ObjectNotFound, 404, "not_found"),
    (NotFound, 404, "not_found"),
    (TenantExists, 409, "conflict"),
    (KeyExists, 409, "conflict"),
    (Conflict, 409, "conflict"),
    (KeyDestroyed, 410, "key_destroyed"),
    (PayloadTooLarge, 413, "payload_too_large"),
    (RangeNotSatisfiable, 416, "range_not_satisfiable"),
    (OpenError, 500, "integrity_error"),
    (KeyUnavailable, 503, "key_unavailable"),
    (AuditUnavailable, 503, "audit_unavailable"),
    (ObjectStoreError, 503, "storage_unavailable"),
    (EnvironmentMismatch, 500, "server_misconfigured"),
    (ConfigError, 500, "server_misconfigured"),
)


def map_error(exc: BaseException) -> tuple[int, str, str]:
    """(status, code, public message) for ``exc``."""
    for kind, status, code in STATUS_TABLE:
        if isinstance(exc, kind):
            if code in _FIXED:
                return status, code, _FIXED[code]
            if isinstance(exc, ObjectNotFound):
                return status, code, "not found"
            return status, code, " ".join(str(exc).split()) or code.replace("_", " ")
    return 500, "internal_error", _FIXED["internal_error"]


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}
