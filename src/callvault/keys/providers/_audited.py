"""Every KMS operation, whatever the provider, reported as one ``KeyEvent``.

The outermost wrapper of the provider stack (``open_provider``): it sees each call once,
as the caller made it, after the retries below it, with its final outcome and latency.
Refused calls are events too: an auditor needs the failed unwraps as much as the good ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from callvault.keys._events import FanOutKeyEvents, KeyEvent, KeyEventSink, current_use
from callvault.keys._material import KeyMaterial
from callvault.keys.providers._base import KeyDescription, KmsProvider, WrappedKey
from callvault.transport.trace import current_trace, record_key_use

__all__ = ["AuditedProvider"]

T = TypeVar("T")


def _tenant_of(key_id: str) -> str | None:
    parts = key_id.split("/")
    return parts[1] if len(parts) == 3 else None


class AuditedProvider:
    """A ``KmsProvider`` that reports every call it passes to the one it wraps."""

    def __init__(self, inner: KmsProvider, sink: KeyEventSink) -> None:
        self.inner = inner
        self.scheme = inner.scheme
        self.environment = inner.environment
        self._sink = sink
        self._in_process = getattr(inner, "in_process", False) is True

    @property
    def observed(self) -> bool:
        """Whether a key call made now would be reported (an enabled sink, a traced call)
        or sent with the object it is for (any provider that is not in-process: keyd logs
        it). The hierarchy names the object of its key calls only then (per-object cost)."""
        return not self._in_process or self._sink.enabled or current_trace() is not None

    @property
    def sink(self) -> KeyEventSink:
        """Where this stack reports key events (jobs add their own, e.g. ``revoke``)."""
        return self._sink

    def add_sink(self, sink: KeyEventSink) -> None:
        """Report to ``sink`` as well from now on (the audit log joins the log lines)."""
        self._sink = FanOutKeyEvents(self._sink, sink)

    def _call(
        self,
        operation: str,
        key_id: str,
        fn: Callable[[], T],
        version: Callable[[T], int | None] | int | None = None,
    ) -> T:
        traced = current_trace() is not None
        if not traced and not self._sink.enabled:
            return fn()
        use = current_use()
        started = time.perf_counter()
        outcome, found = "ok", version if isinstance(version, int) else None
        try:
            result = fn()
            if callable(version):
                found = version(result)
            return result
        except BaseException as exc:
            outcome = type(exc).__name__
            raise
        finally:
            if self._sink.enabled:
                self._sink.emit(
                    KeyEvent(
                        time=datetime.now(UTC),
                        actor=use.actor,
                        operation=operation,
                        provider=self.scheme,
                        key_id=key_id,
                        key_version=found,
                        tenant=_tenant_of(key_id),
                        object_id=use.object_id,
                        outcome=outcome,
                        latency_ms=(time.perf_counter() - started) * 1000,
                    )
                )
            if traced:
                record_key_use(
                    operation=operation,
                    provider=self.scheme,
                    key_id=key_id,
                    key_version=found,
                    object_id=use.object_id,
                    outcome=outcome,
                )

    # -- key operations ----------------------------------------------------------------

    def generate_data_key(
        self, key_id: str, associated_data: bytes
    ) -> tuple[KeyMaterial, WrappedKey]:
        if current_trace() is None and not self._sink.enabled:  # per object: no closures
            return self.inner.generate_data_key(key_id, associated_data)
        return self._call(
            "generate",
            key_id,
            lambda: self.inner.generate_data_key(key_id, associated_data),
            lambda result: result[1].version,
        )

    def wrap(self, key_id: str, key: KeyMaterial, associated_data: bytes) -> WrappedKey:
        if current_trace() is None and not self._sink.enabled:
            return self.inner.wrap(key_id, key, associated_data)
        return self._call(
            "wrap",
            key_id,
            lambda: self.inner.wrap(key_id, key, associated_data),
            lambda wrapped: wrapped.version,
        )

    def unwrap(self, key_id: str, wrapped: WrappedKey, associated_data: bytes) -> KeyMaterial:
        if current_trace() is None and not self._sink.enabled:
            return self.inner.unwrap(key_id, wrapped, associated_data)
        return self._call(
            "unwrap",
            key_id,
            lambda: self.inner.unwrap(key_id, wrapped, associated_data),
            wrapped.version,
        )

    # -- reads: not key use, not reported -------------------------------------------------

    def describe_key(self, key_id: str) -> KeyDescription:
        return self.inner.describe_key(key_id)

    def list_keys(self) -> list[KeyDescription]:
        return self.inner.list_keys()

    # -- administration ----------------------------------------------------------------

    def _admin(
        self, operation: str, key_id: str, fn: Callable[[], KeyDescription]
    ) -> KeyDescription:
        return self._call(operation, key_id, fn, lambda d: d.primary_version)

    def create_key(self, key_id: str, labels: Mapping[str, str]) -> KeyDescription:
        return self._admin("create", key_id, lambda: self.inner.create_key(key_id, labels))

    def rotate_key(self, key_id: str) -> KeyDescription:
        return self._admin("rotate", key_id, lambda: self.inner.rotate_key(key_id))

    def disable_key(self, key_id: str) -> KeyDescription:
        return self._admin("disable", key_id, lambda: self.inner.disable_key(key_id))

    def enable_key(self, key_id: str) -> KeyDescription:
        return self._admin("enable", key_id, lambda: self.inner.enable_key(key_id))

    def set_min_decrypt_version(self, key_id: str, version: int) -> KeyDescription:
        return self._admin(
            "set-min-version", key_id, lambda: self.inner.set_min_decrypt_version(key_id, version)
        )

    def schedule_deletion(self, key_id: str, pending_days: int) -> KeyDescription:
        return self._admin(
            "schedule-deletion",
            key_id,
            lambda: self.inner.schedule_deletion(key_id, pending_days),
        )

    def cancel_deletion(self, key_id: str) -> KeyDescription:
        return self._admin("cancel-deletion", key_id, lambda: self.inner.cancel_deletion(key_id))

    def destroy(self, key_id: str) -> KeyDescription:
        return self._admin("destroy", key_id, lambda: self.inner.destroy(key_id))

    def __getattr__(self, name: str) -> Any:
        # Optional provider extras (``rewrap``) are reported too when they are key use.
        attribute = getattr(self.inner, name)
        if name != "rewrap" or not callable(attribute):
            return attribute

        def rewrap(key_id: str, wrapped: WrappedKey, associated_data: bytes) -> WrappedKey:
            result: WrappedKey = self._call(
                "rewrap",
                key_id,
                lambda: attribute(key_id, wrapped, associated_data),
                lambda new: new.version,
            )
            return result

        return rewrap
