"""The trace file of one call and the context that routes events into it.

Why one append-only JSON-lines file per call id, shared by every process: a call crosses
several requests and processes (the voice pipeline, the api, its clients), and each of them
knows only its own hops. Appending one whole line per event (``O_APPEND``, one ``write``)
lets them all add to the same call's trace without coordination. The trace is evidence, not
a ledger: it is not fsync'd per event, and it never holds a key, a wrapped key, a token or
call content, only names (hop, peer, protocol, suite, certificate fingerprint, key id).

Why a context variable: the hop that needs recording (a pooled connection deep inside a
client library) has no call id in its arguments; the request or job that handles the call
sets the trace once, and everything it runs (threads started by Starlette and anyio copy
the context) records into it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import ssl
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Final

from callvault.errors import InvalidRequest
from callvault.transport._negotiated import negotiated

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

TRACE_FORMAT: Final = "callvault.trace/v1"
TRACE_DIR: Final = "traces"
"""Under a home: ``<home>/traces/<call id>.jsonl``."""
CALL_ID_HEADER: Final = "x-callvault-call-id"
"""The request header that names the call a request belongs to (the api traces it)."""

# A call id is a file name: no separators, no dots first, bounded. A caller's number is
# not a call id (it would land in a file name); the pattern refuses '+'.
_CALL_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

_CURRENT: ContextVar[CallTrace | None] = ContextVar("callvault_trace", default=None)


def valid_call_id(call_id: str) -> str:
    """``call_id`` if it can name a trace file; :class:`InvalidRequest` otherwise."""
    if not _CALL_ID.fullmatch(call_id):
        raise InvalidRequest("a call id is 1-64 of [A-Za-z0-9_.-], starting alphanumeric")
    return call_id


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class CallTrace:
    """The trace file of one call; thread-safe, shareable between processes."""

    def __init__(self, directory: Path, call_id: str, *, process: str = "callvault") -> None:
        self.call_id = valid_call_id(call_id)
        self.path = directory / f"{call_id}.jsonl"
        self.process = process
        self._lock = threading.Lock()
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"CallTrace({self.call_id!r})"

    def append(self, event: dict[str, Any]) -> None:
        record = {
            "format": TRACE_FORMAT,
            "call_id": self.call_id,
            "time": _now(),
            "process": self.process,
            **event,
        }
        line = (json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n").encode()
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)


def current_trace() -> CallTrace | None:
    return _CURRENT.get()


@contextlib.contextmanager
def tracing(trace: CallTrace) -> Iterator[CallTrace]:
    """Record every traced hop and key use of this context into ``trace``."""
    token = _CURRENT.set(trace)
    try:
        yield trace
    finally:
        _CURRENT.reset(token)


def record_tls(
    hop: str,
    peer: str,
    conn: ssl.SSLSocket | ssl.SSLObject,
    *,
    authenticated_by: str,
    identity: str | None = None,
    side: str = "client",
) -> None:
    """One use of a live TLS connection on ``hop`` (no-op outside a trace).

    ``authenticated_by`` says how the peer was authenticated on this connection (e.g.
    ``"internal CA + SPIFFE ID"``, ``"WebPKI chain + host name"``); the caller states it
    because only the caller knows which checks it made before using the connection.
    """
    trace = _CURRENT.get()
    if trace is None:
        return
    got = negotiated(conn)
    trace.append(
        {
            "kind": "tls",
            "hop": hop,
            "side": side,
            "peer": peer,
            "protocol": got["protocol"],
            "cipher": got["cipher"],
            "peer_cert_sha256": got["peer_cert_sha256"],
            "peer_identity": identity or next(iter(got["peer_spiffe_ids"]), None),
            "authenticated_by": authenticated_by,
        }
    )


def record_tls_values(
    hop: str,
    peer: str,
    *,
    protocol: str,
    cipher: str,
    authenticated_by: str,
    identity: str | None = None,
    side: str = "client",
) -> None:
    """As :func:`record_tls`, for a client library that reports the negotiated values
    instead of its socket (libpq)."""
    trace = _CURRENT.get()
    if trace is None:
        return
    trace.append(
        {
            "kind": "tls",
            "hop": hop,
            "side": side,
            "peer": peer,
            "protocol": protocol,
            "cipher": cipher,
            "peer_cert_sha256": None,
            "peer_identity": identity,
            "authenticated_by": authenticated_by,
        }
    )


def record_key_use(
    *,
    operation: str,
    provider: str,
    key_id: str,
    key_version: int | None,
    object_id: str | None,
    outcome: str,
) -> None:
    """One KMS operation made for this call: which key protects its data at rest."""
    trace = _CURRENT.get()
    if trace is None:
        return
    trace.append(
        {
            "kind": "key",
            "operation": operation,
            "provider": provider,
            "key_id": key_id,
            "key_version": key_version,
            "object_id": object_id,
            "outcome": outcome,
        }
    )


def read_trace(directory: Path, call_id: str) -> list[dict[str, Any]]:
    """Every event of a call, in the order written; a malformed line is an error."""
    path = directory / f"{valid_call_id(call_id)}.jsonl"
    events: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                event = json.loads(line)
            except ValueError:
                raise InvalidRequest(f"{path.name}: line {number} is not JSON") from None
            if not isinstance(event, dict) or event.get("format") != TRACE_FORMAT:
                raise InvalidRequest(f"{path.name}: line {number} is not a trace event")
            events.append(event)
    return events
