"""What AWS KMS failures mean in callvault's error tree.

=====================================================  ===================================
botocore failure                                       callvault error
=====================================================  ===================================
``InvalidCiphertextException``, ``IncorrectKeyException``  ``OpenError`` (unwrap / rewrap)
``AccessDeniedException`` "ciphertext refers to …"     ``OpenError`` (a blob naming a key we
                                                       cannot use is just a bad blob)
``NotFoundException``                                  ``OpenError`` in unwrap (the key id
                                                       and version come from a header);
                                                       ``KeyNotFound`` in every other call
``DisabledException``, ``KMSInvalidStateException``    ``KeyDestroyed`` in unwrap / rewrap
on a version key pending deletion                      (an erasure scheduled it: erased)
``DisabledException``, ``KMSInvalidStateException``,   ``KeyUnavailable``: the key may be
``KeyUnavailableException``                            usable again later
``ThrottlingException``, ``LimitExceededException``,   ``KeyUnavailable``: after botocore's
``DependencyTimeoutException``, ``KMSInternalException``, standard retries gave up
5xx, connection / TLS / timeout errors
``AccessDeniedException`` "not authorized to perform"  ``KeyUnavailable`` (IAM policy)
anything else                                          ``KeyUnavailable`` naming the code
=====================================================  ===================================

Messages name the operation, the key id and the AWS error code, never request bodies.
"""

from __future__ import annotations

from typing import Any, NoReturn

from callvault.errors import KeyNotFound, KeyUnavailable, OpenError

__all__ = ["error_code", "kms_errors", "raise_admin", "raise_crypto", "unavailable"]

_BAD_BLOB = {"InvalidCiphertextException", "IncorrectKeyException"}
_STATE = {
    "DisabledException": "is disabled",
    "KMSInvalidStateException": "is not usable in its current state (pending deletion?)",
    "KeyUnavailableException": "is unavailable (its custom key store is disconnected)",
}
_BUSY = {
    "ThrottlingException": "is throttling requests",
    "LimitExceededException": "refused the request: a request or key quota is exhausted",
    "DependencyTimeoutException": "timed out internally",
    "KMSInternalException": "had an internal error",
}


def kms_errors() -> tuple[type[Exception], ...]:
    """What a botocore call raises (imported late so the local provider never needs boto3)."""
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    return (BotoCoreError, ClientError)


def error_code(exc: Exception) -> str:
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _message(exc: Exception) -> str:
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Message", ""))
    return ""


def unavailable(exc: Exception, operation: str, key_id: str) -> KeyUnavailable:
    """The ``KeyUnavailable`` for a failure that may pass later (or needs an operator)."""
    code = error_code(exc)
    if code in _STATE:
        return KeyUnavailable(f"AWS KMS key {key_id} {_STATE[code]} ({operation})")
    if code in _BUSY:
        return KeyUnavailable(f"AWS KMS {_BUSY[code]} ({operation} on {key_id}, {code})")
    if code == "AccessDeniedException":
        return KeyUnavailable(
            f"AWS KMS denied {operation} on {key_id}: check the IAM / key policy ({code})"
        )
    if code:
        return KeyUnavailable(f"AWS KMS refused {operation} on {key_id} ({code})")
    # Connection refused, DNS, TLS, timeouts: botocore gave up after its retries.
    return KeyUnavailable(
        f"AWS KMS unreachable for {operation} on {key_id}: {type(exc).__name__}: {exc}"
    )


def raise_admin(exc: Exception, operation: str, key_id: str) -> NoReturn:
    """Map a failure of a call that names a key by configuration (admin, wrap, generate)."""
    if error_code(exc) == "NotFoundException":
        raise KeyNotFound(f"no AWS KMS key {key_id}") from None
    raise unavailable(exc, operation, key_id) from None


def raise_crypto(exc: Exception, operation: str, key_id: str) -> NoReturn:
    """Map a failure of a call on a wrapped blob read from a ciphertext header: anything
    that says "this blob is wrong" is the one opaque ``OpenError``."""
    code = error_code(exc)
    if code in _BAD_BLOB or code == "NotFoundException":
        raise OpenError from None
    if code == "AccessDeniedException" and "not authorized" not in _message(exc).lower():
        raise OpenError from None
    raise unavailable(exc, operation, key_id) from None
