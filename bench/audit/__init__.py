"""The audit-log benchmark (issue 5): durable append rate, single thread and 8 threads, each
against a plain ``write``+``fsync`` baseline in the same directory and run, plus checkpoint
signing and inclusion-proof time at the log size reached.

``bench.run`` runs it as the ``audit`` section; what it measures and how: bench/README.md.
"""

from bench.audit._bench import (
    AUDIT_FULL,
    AUDIT_QUICK,
    THREADS,
    AuditPlan,
    audit_targets,
    bench_audit,
    print_audit,
)

__all__ = [
    "AUDIT_FULL",
    "AUDIT_QUICK",
    "THREADS",
    "AuditPlan",
    "audit_targets",
    "bench_audit",
    "print_audit",
]
