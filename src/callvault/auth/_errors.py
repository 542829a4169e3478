"""The auth package's errors: who you are (401) versus what you may do (403).

Both are ``CallvaultError``s, so callers that catch the library's base error still catch
them. The HTTP layer maps them by kind, never by message::

    CallvaultError
    └── AuthError                 base of this package's errors; ``status_code``
        ├── AuthenticationError   401: missing, malformed, forged, expired or revoked
        │                         credential. One public message for every cause (no
        │                         oracle); the cause is in ``reason`` for the audit log only.
        └── AuthorizationError    403: a valid principal asked for an action its role does
                                  not grant, or for another tenant's data.
"""

from __future__ import annotations

from callvault.errors import CallvaultError

__all__ = ["AuthError", "AuthenticationError", "AuthorizationError"]


class AuthError(CallvaultError):
    """Base of the auth errors; ``status_code`` is the HTTP status it maps to."""

    status_code: int = 401


class AuthenticationError(AuthError):
    """The credential does not prove an identity. ``str()`` never says why."""

    status_code = 401
    MESSAGE = "authentication failed: the credential is missing, invalid or expired"

    def __init__(self, reason: str) -> None:
        super().__init__(self.MESSAGE)
        #: Why it failed, for the audit log and tests. Never send it to the client: telling
        #: an attacker "wrong kid" versus "bad signature" helps them probe.
        self.reason = reason


class AuthorizationError(AuthError):
    """The principal is authenticated but may not do this."""

    status_code = 403
