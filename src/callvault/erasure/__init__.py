"""Erasure: per data subject, per record or per tenant, after a cancellable grace period.

``Erasures`` schedules requests (``erasures.json`` in the home), cancels them during the
grace period and executes due ones: destroy the keys concerned, delete objects and rows,
tell the audit sink, and sign a receipt (``verify_receipt`` checks one). See
docs/erasure.md for what "erased" means for each kind.
"""

from callvault.erasure._model import (
    DEFAULT_GRACE_DAYS,
    MAX_GRACE_DAYS,
    MIN_GRACE_DAYS,
    ErasureKind,
    ErasureRequest,
    ErasureState,
    RecordKind,
    check_grace_days,
)
from callvault.erasure._receipts import (
    RECEIPT_FORMAT,
    ReceiptKey,
    VerifiedReceipt,
    load_public_key,
    verify_receipt,
)
from callvault.erasure._service import AuditSink, Erasures, Target
from callvault.erasure._store import ERASURES_FILE, ErasureStore

__all__ = [
    "DEFAULT_GRACE_DAYS",
    "ERASURES_FILE",
    "MAX_GRACE_DAYS",
    "MIN_GRACE_DAYS",
    "RECEIPT_FORMAT",
    "AuditSink",
    "ErasureKind",
    "ErasureRequest",
    "ErasureState",
    "ErasureStore",
    "Erasures",
    "ReceiptKey",
    "RecordKind",
    "Target",
    "VerifiedReceipt",
    "check_grace_days",
    "load_public_key",
    "verify_receipt",
]
