"""Retries with backoff and a circuit breaker around any KMS provider.

A KMS is a network service: a dropped connection or a throttling answer should cost a
short retry, not a failed upload, while a KMS that is down must not be hammered by every
request (and every request must not wait out every timeout). So:

* only ``ProviderUnreachable`` is retried (connection refused, timeout, throttling, 5xx):
  a disabled key, a destroyed key or a ciphertext that does not authenticate will not
  change by asking again;
* only operations that are safe to repeat are retried: wrap, unwrap, data-key generation
  and reads. An administrative change (create, rotate, disable, delete…) whose answer was
  lost may have happened, so it is attempted once and the error is the caller's to judge;
* after ``breaker_failures`` consecutive unreachable answers the breaker opens: calls fail
  at once with ``ProviderUnreachable`` for ``breaker_cooldown`` seconds, then one trial
  call is let through (half-open); success closes it again.

A provider that holds its keys in this process (``in_process = True``: the local KMS) has
no network to lose, so its per-object calls (generate, wrap, unwrap) go straight through:
there is nothing to retry and a retry loop per sealed object is pure overhead.

Reads of recently used keys keep working meanwhile from the unwrapped-key cache in the
hierarchy (``KeyCache``); a write needs a fresh wrap and fails closed (HTTP 503).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from callvault.errors import ProviderUnreachable
from callvault.keys._material import KeyMaterial
from callvault.keys.providers._base import KeyDescription, KmsProvider, WrappedKey

__all__ = ["ResilientProvider", "RetryPolicy"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3
    """Tries per idempotent call, the first included."""
    base_delay: float = 0.05
    max_delay: float = 1.0
    breaker_failures: int = 5
    breaker_cooldown: float = 10.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.breaker_failures < 1:
            raise ValueError("attempts and breaker_failures must be at least 1")
        if min(self.base_delay, self.max_delay, self.breaker_cooldown) < 0:
            raise ValueError("delays must be >= 0")


class _Breaker:
    def __init__(self, policy: RetryPolicy, clock: Callable[[], float]) -> None:
        self._policy, self._clock = policy, clock
        self._failures = 0
        self._open_until: float | None = None
        self._trial_running = False
        self._lock = threading.Lock()

    def before(self) -> None:
        # Closed, the per-object case: no lock. Reading one attribute is atomic; a failure
        # racing with this call is simply ordered after it, as it could be with the lock.
        if self._open_until is None:
            return
        with self._lock:
            if self._open_until is None:
                return
            if self._clock() < self._open_until or self._trial_running:
                raise ProviderUnreachable("the KMS is unreachable (circuit open); retry later")
            self._trial_running = True  # half-open: this call is the trial

    def succeeded(self) -> None:
        if not self._failures and self._open_until is None:  # nothing to reset: no lock
            return  # (a trial runs only while open, so _trial_running is False here too)
        with self._lock:
            self._failures, self._open_until, self._trial_running = 0, None, False

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            if self._trial_running or self._failures >= self._policy.breaker_failures:
                self._open_until = self._clock() + self._policy.breaker_cooldown
            self._trial_running = False

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._open_until is not None


class ResilientProvider:
    """A ``KmsProvider`` that retries and breaks the circuit for the one it wraps."""

    def __init__(
        self,
        inner: KmsProvider,
        policy: RetryPolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inner = inner
        self.scheme = inner.scheme
        self.environment = inner.environment
        self._policy = policy or RetryPolicy()
        self._breaker = _Breaker(self._policy, clock)
        self._sleep = sleep
        self._direct = getattr(inner, "in_process", False) is True

    @property
    def circuit_open(self) -> bool:
        return self._breaker.is_open

    def _call(self, fn: Callable[[], T], *, idempotent: bool) -> T:
        attempts = self._policy.attempts if idempotent else 1
        for attempt in range(1, attempts + 1):
            self._breaker.before()
            try:
                result = fn()
            except ProviderUnreachable:
                self._breaker.failed()
                if attempt == attempts:
                    raise
                self._sleep(self._delay(attempt))
            except BaseException:
                self._breaker.succeeded()  # the KMS answered, even if with a refusal
                raise
            else:
                self._breaker.succeeded()
                return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int) -> float:
        ceiling = min(self._policy.max_delay, self._policy.base_delay * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)  # noqa: S311 - "full jitter", not a secret

    # -- reads and key operations: retried ---------------------------------------------

    def describe_key(self, key_id: str) -> KeyDescription:
        return self._call(lambda: self.inner.describe_key(key_id), idempotent=True)

    def list_keys(self) -> list[KeyDescription]:
        return self._call(self.inner.list_keys, idempotent=True)

    def generate_data_key(
        self, key_id: str, associated_data: bytes
    ) -> tuple[KeyMaterial, WrappedKey]:
        if self._direct:
            return self.inner.generate_data_key(key_id, associated_data)
        return self._call(
            lambda: self.inner.generate_data_key(key_id, associated_data), idempotent=True
        )

    def wrap(self, key_id: str, key: KeyMaterial, associated_data: bytes) -> WrappedKey:
        if self._direct:
            return self.inner.wrap(key_id, key, associated_data)
        return self._call(lambda: self.inner.wrap(key_id, key, associated_data), idempotent=True)

    def unwrap(self, key_id: str, wrapped: WrappedKey, associated_data: bytes) -> KeyMaterial:
        if self._direct:
            return self.inner.unwrap(key_id, wrapped, associated_data)
        return self._call(
            lambda: self.inner.unwrap(key_id, wrapped, associated_data), idempotent=True
        )

    # -- administrative changes: attempted once -----------------------------------------

    def create_key(self, key_id: str, labels: Mapping[str, str]) -> KeyDescription:
        return self._call(lambda: self.inner.create_key(key_id, labels), idempotent=False)

    def rotate_key(self, key_id: str) -> KeyDescription:
        return self._call(lambda: self.inner.rotate_key(key_id), idempotent=False)

    def disable_key(self, key_id: str) -> KeyDescription:
        return self._call(lambda: self.inner.disable_key(key_id), idempotent=False)

    def enable_key(self, key_id: str) -> KeyDescription:
        return self._call(lambda: self.inner.enable_key(key_id), idempotent=False)

    def set_min_decrypt_version(self, key_id: str, version: int) -> KeyDescription:
        return self._call(
            lambda: self.inner.set_min_decrypt_version(key_id, version), idempotent=False
        )

    def schedule_deletion(self, key_id: str, pending_days: int) -> KeyDescription:
        return self._call(
            lambda: self.inner.schedule_deletion(key_id, pending_days), idempotent=False
        )

    def cancel_deletion(self, key_id: str) -> KeyDescription:
        return self._call(lambda: self.inner.cancel_deletion(key_id), idempotent=False)

    def destroy(self, key_id: str) -> KeyDescription:
        return self._call(lambda: self.inner.destroy(key_id), idempotent=False)

    def __getattr__(self, name: str) -> Any:
        # Optional provider extras (e.g. ``rewrap``) pass through unchanged.
        return getattr(self.inner, name)
