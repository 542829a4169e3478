"""keyd failing closed: no key without an audit entry, keyd down means ``KeyUnavailable``,
and its certificate renews under traffic without breaking kept-alive or new connections."""

from __future__ import annotations

import pytest
from cryptography import x509

from callvault import KeyUnavailable, ProviderUnreachable
from callvault.audit import AuditEntry
from callvault.errors import AuditUnavailable

from .conftest import RunningKeyd

KEY_ID = "dev/acme/default"


def test_no_key_leaves_keyd_when_the_audit_log_cannot_take_the_entry(
    keyd: RunningKeyd, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyd.as_service("ops").create_key(KEY_ID, {})
    api = keyd.as_service("api")
    _, wrapped = api.generate_data_key(KEY_ID, b"ad")

    def broken(entry: AuditEntry, subject: object = None) -> int:
        raise AuditUnavailable("the audit log cannot take an entry: OSError")

    monkeypatch.setattr(keyd.log, "append", broken)  # a full disk, injected
    with pytest.raises(AuditUnavailable):
        api.unwrap(KEY_ID, wrapped, b"ad")
    with pytest.raises(AuditUnavailable):
        api.generate_data_key(KEY_ID, b"ad")
    monkeypatch.undo()
    api.unwrap(KEY_ID, wrapped, b"ad")  # and it recovers with the log


def test_keyd_down_is_provider_unreachable(keyd: RunningKeyd) -> None:
    keyd.as_service("ops").create_key(KEY_ID, {})
    api = keyd.as_service("api")
    _, wrapped = api.generate_data_key(KEY_ID, b"ad")
    keyd.keyd.stop()
    api.drop_connections()
    with pytest.raises(ProviderUnreachable):
        api.unwrap(KEY_ID, wrapped, b"ad")
    assert issubclass(ProviderUnreachable, KeyUnavailable)


def _serial(api_kms: object) -> str:
    transport = api_kms._transport  # type: ignore[attr-defined]
    conn, _, _ = transport._idle[-1]
    der = conn.sock.getpeercert(binary_form=True)
    return format(x509.load_der_x509_certificate(der).serial_number, "x")


def test_keyd_renews_its_certificate_under_traffic(keyd: RunningKeyd) -> None:
    keyd.as_service("ops").create_key(KEY_ID, {})
    api = keyd.as_service("api")
    key, wrapped = api.generate_data_key(KEY_ID, b"ad")
    before = _serial(api)
    renewed = keyd.keyd.renewer.renew()
    assert renewed.serial != before
    assert api.unwrap(KEY_ID, wrapped, b"ad").secret_bytes() == key.secret_bytes()
    assert _serial(api) == before  # the kept-alive connection is undisturbed
    api.drop_connections()
    assert api.unwrap(KEY_ID, wrapped, b"ad").secret_bytes() == key.secret_bytes()
    assert _serial(api) == renewed.serial  # a new handshake sees the new certificate
