"""The object store's errors, under ``callvault.errors.CallvaultError``::

    CallvaultError
    ├── ObjectNotFound       no object under that key (the only "expected" miss)
    └── ObjectStoreError     anything else went wrong: I/O error, S3 error, refused setting.
                             Fail closed: the operation did not happen, or (for a write)
                             the previous version, if any, is what remains under the key.

Bad keys are ``callvault.errors.InvalidRequest``, raised before any I/O.
"""

from __future__ import annotations

from callvault.errors import CallvaultError

__all__ = ["ObjectNotFound", "ObjectStoreError"]


class ObjectNotFound(CallvaultError):
    """No object is stored under the key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no object {key!r}")
        self.key = key


class ObjectStoreError(CallvaultError):
    """The backend failed or refused; nothing was committed by the failing call."""
