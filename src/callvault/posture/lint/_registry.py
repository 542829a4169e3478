"""Every lint rule, in one table: the order is the report's order."""

from __future__ import annotations

from callvault.posture.lint._model import Check
from callvault.posture.lint.checks import (
    _backup_unencrypted,
    _cert_dev_ca,
    _endpoint_plaintext_debug,
    _kms_shared,
    _log_sensitive,
    _pg_sslmode,
    _secret_hardcoded,
    _tls_legacy_protocol,
    _tls_no_pfs,
    _tls_weak_suite,
)

__all__ = ["CHECKS", "check_ids"]

CHECKS: tuple[Check, ...] = (
    _tls_legacy_protocol.CHECK,
    _tls_weak_suite.CHECK,
    _tls_no_pfs.CHECK,
    _cert_dev_ca.CHECK,
    _secret_hardcoded.CHECK,
    _kms_shared.CHECK,
    _backup_unencrypted.CHECK,
    _pg_sslmode.CHECK,
    _endpoint_plaintext_debug.CHECK,
    _log_sensitive.CHECK,
)


def check_ids() -> tuple[str, ...]:
    return tuple(check.info.id for check in CHECKS)
