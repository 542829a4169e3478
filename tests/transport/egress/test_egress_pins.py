"""SPKI pinning (checked between the handshake and the first request byte), the evidence
entries (contents, trimming, never headers or bodies) and the async client."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from callvault.transport.egress import (
    EvidenceStore,
    PinMismatch,
    async_egress_client,
    egress_client,
)

SECRET = b"sk-live-SECRET-API-KEY"
BODY = b"caller: my card number is 4111 1111 1111 1111"


def _pin_of(der: bytes) -> str:
    """Independent of the library: SPKI DER -> SHA-256 -> base64."""
    spki = (
        x509.load_der_x509_certificate(der)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return "sha256/" + base64.b64encode(hashlib.sha256(spki).digest()).decode()


def _random_pin() -> str:
    return "sha256/" + base64.b64encode(os.urandom(32)).decode()


def test_wrong_pin_refused_before_any_request_byte(
    provider_server: Any, egress_settings: Any, home: Path
) -> None:
    server = provider_server()
    settings = egress_settings(server.port, pins=(_random_pin(),))
    headers = {"Authorization": SECRET.decode()}
    with (
        egress_client("stt", home=home, settings=settings, headers=headers) as client,
        pytest.raises(PinMismatch, match="matches none of its pins"),
    ):
        client.post("/v1/listen", content=BODY)
    server.wait()
    assert server.handshakes == 1  # the handshake happened, then nothing was sent
    assert server.received == [b""]
    [entry] = EvidenceStore(home).read()["stt"]
    assert (entry["outcome"], entry["reason"], entry["pinned"]) == (
        "refused",
        "pin-mismatch",
        True,
    )


def test_right_pin_ok_and_evidence_complete(
    provider_server: Any, egress_settings: Any, home: Path, pki: Any
) -> None:
    server = provider_server()
    right = _pin_of(pki.server_ec.der)
    settings = egress_settings(server.port, pins=(_random_pin(), right))  # backup pin first
    moment = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
    headers = {"Authorization": SECRET.decode()}
    with egress_client(
        "stt", home=home, settings=settings, headers=headers, clock=lambda: moment
    ) as client:
        response = client.post("/v1/listen?lang=en", content=BODY)
    assert response.status_code == 200
    server.wait()
    assert SECRET in server.received[0] and BODY in server.received[0]  # it was sent
    [entry] = EvidenceStore(home).read()["stt"]
    leaf = x509.load_der_x509_certificate(pki.server_ec.der)
    assert entry == {
        "provider": "stt",
        "host": "localhost",
        "port": server.port,
        "time": moment.isoformat(),
        "outcome": "ok",
        "reason": None,
        "protocol": "TLSv1.3",
        "cipher": entry["cipher"],
        "peer_cert_sha256": hashlib.sha256(pki.server_ec.der).hexdigest(),
        "spki_sha256": right,
        "not_after": leaf.not_valid_after_utc.isoformat(),
        "pinned": True,
    }
    text = (home / "egress" / "evidence.json").read_bytes()
    for leaked in (SECRET, BODY, b"/v1/listen", b"lang=en"):
        assert leaked not in text
    assert (home / "egress" / "evidence.json").stat().st_mode & 0o777 == 0o600


def test_evidence_keeps_the_latest_n(
    provider_server: Any, egress_settings: Any, home: Path
) -> None:
    server = provider_server()
    settings = egress_settings(server.port, keep=2)
    times = iter(dt.datetime(2026, 1, d, tzinfo=dt.UTC) for d in (1, 2, 3))
    with egress_client("stt", home=home, settings=settings, clock=lambda: next(times)) as c:
        for _ in range(3):  # the server closes each connection: three handshakes
            assert c.get("/").status_code == 200
    entries = EvidenceStore(home).read()["stt"]
    assert [e["time"][:10] for e in entries] == ["2026-01-02", "2026-01-03"]


def test_async_client_pins_and_records(
    provider_server: Any, egress_settings: Any, home: Path, pki: Any
) -> None:
    server = provider_server()
    good = egress_settings(server.port, pins=(_pin_of(pki.server_ec.der),))
    bad = egress_settings(server.port, pins=(_random_pin(),))

    async def run() -> None:
        async with async_egress_client("stt", home=home, settings=good) as client:
            assert (await client.get("/")).text == "ok"
        async with async_egress_client("stt", home=home, settings=bad) as client:
            with pytest.raises(PinMismatch):
                await client.post("/", content=BODY)

    asyncio.run(run())
    server.wait(2)
    assert server.received[1] == b""
    entries = EvidenceStore(home).read()["stt"]
    assert [(e["outcome"], e["protocol"]) for e in entries] == [
        ("ok", "TLSv1.3"),
        ("refused", "TLSv1.3"),
    ]
