"""Renewal inside a live mTLS server: no request fails, new handshakes see the new
certificate, connections already open keep working on the old one."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from typing import Any

import pytest

from callvault.transport.ca import (
    RENEW_WHEN_REMAINING,
    CertificateRenewer,
    InternalCa,
    PeerVerifier,
)
from callvault.transport.ca._policy import BACKDATE

from .conftest import Clock, Connection, client_ctx, issue_listener

_WAIT = 30.0  # safety net for a hung test, never an assertion about speed


def _renewer(ca: InternalCa, **kw: Any) -> CertificateRenewer:
    return CertificateRenewer(ca, "keyd", dns=["localhost"], ips=["127.0.0.1"], **kw)


def _fresh_serial(ctx: Any, port: int) -> str:
    with Connection(ctx, port) as conn:
        assert conn.ask().startswith("ok ")
        return conn.server_serial


class Traffic:
    """Client threads sending requests without pause: ``fresh`` threads open a new
    connection per request, one thread keeps a single connection open throughout."""

    def __init__(self, ctx: Any, port: int, fresh: int = 3) -> None:
        self.ctx, self.port = ctx, port
        self.failures: list[BaseException | str] = []
        self.serials: Counter[str] = Counter()
        self.long_lived_serials: set[str] = set()
        self.done = 0
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._fresh, daemon=True) for _ in range(fresh)]
        self._threads.append(threading.Thread(target=self._long_lived, daemon=True))
        for t in self._threads:
            t.start()

    def _record(self, answer: str, serial: str | None) -> None:
        with self._cond:
            if not answer.startswith("ok "):
                self.failures.append(answer or "empty answer")
            if serial is not None:
                self.serials[serial] += 1
            self.done += 1
            self._cond.notify_all()

    def _fresh(self) -> None:
        while not self._stop.is_set():
            try:
                with Connection(self.ctx, self.port) as conn:
                    self._record(conn.ask(), conn.server_serial)
            except BaseException as exc:
                self.failures.append(exc)
                return

    def _long_lived(self) -> None:
        try:
            with Connection(self.ctx, self.port) as conn:
                while not self._stop.is_set():
                    self.long_lived_serials.add(conn.server_serial)
                    self._record(conn.ask(), None)
        except BaseException as exc:
            self.failures.append(exc)

    def wait_for(self, more: int) -> None:
        with self._cond:
            target = self.done + more
            assert self._cond.wait_for(lambda: self.done >= target or self.failures, _WAIT)

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=_WAIT)


def test_traffic_across_renewals_loses_nothing(
    ca: InternalCa, clock: Clock, mtls_server: Any
) -> None:
    renewer = _renewer(ca)
    server = mtls_server(renewer.server_context, PeerVerifier(ca.layout.ca_dir, clock=clock))
    ctx = client_ctx(ca.issue("api"))
    first = renewer.current.serial
    traffic = Traffic(ctx, server.port)
    seen = [first]
    try:
        traffic.wait_for(20)
        for _ in range(3):
            new = renewer.renew()
            assert new.serial != seen[-1]
            seen.append(new.serial)
            assert _fresh_serial(ctx, server.port) == new.serial  # next handshake: new cert
            traffic.wait_for(20)  # traffic keeps flowing on the new certificate
    finally:
        traffic.stop()
    assert traffic.failures == []
    assert traffic.long_lived_serials == {first}  # the open connection was never disturbed
    assert set(traffic.serials) <= set(seen)
    assert traffic.serials[seen[-1]] > 0
    assert server.rejections.empty()


def test_renews_when_a_third_of_the_lifetime_remains(
    ca: InternalCa, clock: Clock, mtls_server: Any
) -> None:
    # Issue in the past so that, at the real time OpenSSL checks, 1 minute is left before
    # the renewal point; then step 2 minutes (still within the notBefore backdate).
    real_now = clock.now
    threshold = (dt.timedelta(hours=3) + BACKDATE) * RENEW_WHEN_REMAINING
    clock.now = real_now - (dt.timedelta(hours=3) - threshold - dt.timedelta(minutes=1))
    renewer = _renewer(ca, ttl="3h")
    first = renewer.current
    clock.now = real_now
    server = mtls_server(renewer.server_context, PeerVerifier(ca.layout.ca_dir, clock=clock))
    ctx = client_ctx(ca.issue("api", ttl="30d"))
    assert not renewer.renew_if_due()
    assert _fresh_serial(ctx, server.port) == first.serial
    clock.advance(dt.timedelta(minutes=2))
    assert renewer.renew_if_due()
    assert renewer.current.serial != first.serial
    assert _fresh_serial(ctx, server.port) == renewer.current.serial
    assert not renewer.renew_if_due()


def test_revoked_current_certificate_is_replaced(ca: InternalCa) -> None:
    renewer = _renewer(ca)
    old = renewer.current
    ca.revoke(old.serial, reason="key-compromise")
    assert renewer.renew_if_due()
    assert renewer.current.serial != old.serial


def test_existing_certificate_is_reused_until_due(ca: InternalCa, clock: Clock) -> None:
    issued = issue_listener(ca)
    assert _renewer(ca).current.serial == issued.serial
    clock.now = issued.not_after - dt.timedelta(minutes=5)
    assert _renewer(ca).current.serial != issued.serial


def test_background_thread_renews(ca: InternalCa, clock: Clock) -> None:
    renewer = _renewer(ca, ttl="1h")
    first = renewer.current.serial
    renewed = threading.Event()
    renewer.on_renew(lambda _new: renewed.set())
    clock.advance(dt.timedelta(minutes=50))
    renewer.start(check_every=dt.timedelta(milliseconds=20))
    try:
        assert renewed.wait(_WAIT)
    finally:
        renewer.stop()
    assert renewer.current.serial != first and renewer.last_error is None


def test_bad_ttl_is_refused_before_anything_is_issued(ca: InternalCa) -> None:
    with pytest.raises(Exception, match=r"outside 1h \.\. 30d"):
        _renewer(ca, ttl="45d")
    assert ca.current("keyd") is None
