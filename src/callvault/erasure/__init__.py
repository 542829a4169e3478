"""Erasure: per data subject, per record or per tenant, after a cancellable grace period.

``Erasures`` schedules requests (``erasures.json`` in the home), cancels them during the
grace period and executes due ones: destroy the keys concerned, delete objects and rows,
tell the audit sink, and sign a receipt (``verify_receipt`` checks one). Before any key
goes, a signed tombstone naming it is appended to the tombstone ledger, which backups never
contain, so a restore re-applies every later erasure (docs/backup.md). See docs/erasure.md
for what "erased" means for each kind.
"""

from callvault.erasure._audit import AuditSink
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
from callvault.erasure._service import Erasures, Target
from callvault.erasure._store import ERASURES_FILE, ErasureStore
from callvault.erasure._tombstones import (
    LEDGER_FILE,
    TOMBSTONE_FORMAT,
    LedgerHead,
    TombstoneLedger,
    ledger_for,
    record_tombstone,
    verify_ledger,
)
from callvault.erasure._worker import ErasureWorker

__all__ = [
    "DEFAULT_GRACE_DAYS",
    "ERASURES_FILE",
    "LEDGER_FILE",
    "MAX_GRACE_DAYS",
    "MIN_GRACE_DAYS",
    "RECEIPT_FORMAT",
    "TOMBSTONE_FORMAT",
    "AuditSink",
    "ErasureKind",
    "ErasureRequest",
    "ErasureState",
    "ErasureStore",
    "ErasureWorker",
    "Erasures",
    "LedgerHead",
    "ReceiptKey",
    "RecordKind",
    "Target",
    "TombstoneLedger",
    "VerifiedReceipt",
    "check_grace_days",
    "ledger_for",
    "load_public_key",
    "record_tombstone",
    "verify_ledger",
    "verify_receipt",
]
