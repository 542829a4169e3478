"""Per-call "encryption events": which hop carried the call's data, over what TLS, and
which key sealed it at rest.

The surface::

    from callvault.transport.trace import CallTrace, tracing, record_tls, read_trace
    with tracing(CallTrace(home / "traces", "call-42")):
        ...  # every traced hop used in this context appends one event

Components record their own hops (keyd, PostgreSQL, S3 and KMS clients, egress providers)
from the live connection, and key events join through ``TraceKeyEvents``
(``callvault.keys``). With no trace active, recording costs one context-variable read.
The file format is in docs/protocols/tls.md, section "Encryption events trace".
"""

from callvault.transport.trace._record import (
    CALL_ID_HEADER,
    TRACE_DIR,
    TRACE_FORMAT,
    CallTrace,
    current_trace,
    read_trace,
    record_key_use,
    record_tls,
    record_tls_values,
    tracing,
    valid_call_id,
)

__all__ = [
    "CALL_ID_HEADER",
    "TRACE_DIR",
    "TRACE_FORMAT",
    "CallTrace",
    "current_trace",
    "read_trace",
    "record_key_use",
    "record_tls",
    "record_tls_values",
    "tracing",
    "valid_call_id",
]
