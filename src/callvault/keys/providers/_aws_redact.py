"""Keep data keys out of botocore's debug log.

At DEBUG level botocore logs every request's parameters (``botocore.endpoint``: "Making
request … with params") and every response body (``botocore.parsers``: "Response body").
For KMS those carry key material: ``Encrypt``'s ``Plaintext`` going out, ``GenerateDataKey``'s
and ``Decrypt``'s ``Plaintext`` coming back. An operator who turns on debug logging to chase
a network problem must not end up with data keys in a log file, so a filter on exactly those
two loggers replaces any record that mentions a ``Plaintext`` field by a fixed notice.
Records of other services (S3 bodies are sealed objects) pass unchanged. Credentials are
never in these records: botocore logs the signature and the access key id, not the secret.
"""

from __future__ import annotations

import logging
import threading

__all__ = ["REDACTED", "install_redaction"]

REDACTED = "(callvault: a KMS request or response carrying key material; not logged)"
_LOGGERS = ("botocore.endpoint", "botocore.parsers")
_lock = threading.Lock()


class _RedactKeyMaterial(logging.Filter):
    """Blank out records whose message or arguments carry a ``Plaintext`` field."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _mentions_plaintext(record):
            record.msg = REDACTED
            record.args = ()
        return True


def _mentions_plaintext(record: logging.LogRecord) -> bool:
    pieces: list[object] = [record.msg]
    args = record.args
    if isinstance(args, tuple):
        pieces.extend(args)
    elif args is not None:
        pieces.append(args)
    # repr() of the bytes bodies and request dicts keeps the field name readable.
    return any("Plaintext" in (p if isinstance(p, str) else repr(p)) for p in pieces)


def install_redaction() -> None:
    """Attach the filter once per process (idempotent, thread-safe)."""
    with _lock:
        for name in _LOGGERS:
            logger = logging.getLogger(name)
            if not any(isinstance(f, _RedactKeyMaterial) for f in logger.filters):
                logger.addFilter(_RedactKeyMaterial())
