"""What S3 failures mean to callers: a missing object is ``ObjectNotFound``; everything
else botocore raises (HTTP errors, TLS and connection failures, a failed ``If-Match``) is
``ObjectStoreError``. botocore is imported late so the local store never needs boto3."""

from __future__ import annotations

from typing import NoReturn

from callvault.storage.objects._errors import ObjectNotFound, ObjectStoreError

__all__ = ["backend_errors", "raise_for"]

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_CHANGED = {"412", "PreconditionFailed"}


def backend_errors() -> tuple[type[Exception], ...]:
    """What botocore raises (imported late: the local store must not need boto3)."""
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    return (BotoCoreError, ClientError)


def raise_for(exc: Exception, key: str) -> NoReturn:
    """Map a botocore failure: a missing object is ``ObjectNotFound``, a changed one (ETag
    precondition) and everything else ``ObjectStoreError``. Fail closed, never retry here
    (botocore already retried what is safe to retry)."""
    response = getattr(exc, "response", None)
    code = str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""
    if code in _NOT_FOUND:
        raise ObjectNotFound(key) from None
    if code in _CHANGED:
        raise ObjectStoreError(f"{key!r} changed while it was being read") from None
    raise ObjectStoreError(f"S3 request for {key!r} failed: {type(exc).__name__}: {exc}") from None
