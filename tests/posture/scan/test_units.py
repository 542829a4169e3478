"""Framing, hostname matching, the suite table and the profiles, without a network."""

from __future__ import annotations

import shutil
import struct
import subprocess

import pytest

from callvault.posture.scan import load_profiles
from callvault.posture.scan._catalog import suites
from callvault.posture.scan._certs import hostname_matches
from callvault.posture.scan._wire import HRR_RANDOM, NotTls, parse_answer
from callvault.transport import load_policy


def _server_hello(random: bytes, suite: int, exts: bytes) -> bytes:
    body = b"\x03\x03" + random + b"\x00" + suite.to_bytes(2, "big") + b"\x00"
    body += len(exts).to_bytes(2, "big") + exts
    hs = b"\x02" + len(body).to_bytes(3, "big") + body
    return struct.pack("!BHH", 0x16, 0x0303, len(hs)) + hs


def test_hello_retry_request_names_group_and_suite() -> None:
    exts = b"\x00\x2b\x00\x02\x03\x04" + b"\x00\x33\x00\x02\x00\x1d"
    record = _server_hello(HRR_RANDOM, 0x1302, exts)
    assert parse_answer(record[:20], eof=False) is None  # waits for the rest
    answer = parse_answer(record, eof=False)
    assert answer is not None
    assert (answer.kind, answer.version, answer.suite, answer.group) == (
        "hrr",
        0x0304,
        0x1302,
        0x1D,
    )


def test_alert_closed_and_garbage() -> None:
    alert = parse_answer(b"\x15\x03\x03\x00\x02\x02\x28", eof=False)
    assert alert is not None and alert.kind == "alert" and alert.alert == 40
    closed = parse_answer(b"", eof=True)
    assert closed is not None and closed.kind == "closed"
    for junk in (b"HTTP/1.1 400", b"\x16\x07\x03\x00\x05hello", b"\x16\x03\x03\xff\xff"):
        with pytest.raises(NotTls):
            parse_answer(junk, eof=True)


def test_hostname_matching() -> None:
    assert hostname_matches("a.example.com", ["*.example.com"], [])
    assert not hostname_matches("b.a.example.com", ["*.example.com"], [])
    assert not hostname_matches("example.com", ["*.com"], [])
    assert hostname_matches("127.0.0.1", [], ["127.0.0.1"])
    assert not hostname_matches("127.0.0.1", ["127.0.0.1"], [])  # IPs only in iPAddress


def test_table_knows_every_openssl_suite() -> None:
    openssl = shutil.which("openssl")
    assert openssl is not None
    out = subprocess.run(
        [openssl, "ciphers", "-V", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    codes = {int(line.split()[0].replace(",0x", "")[2:], 16) for line in out.splitlines()}
    assert codes <= set(suites())
    table = suites()
    assert table[0x002F].mode == "CBC" and table[0x002F].kx == "RSA"
    assert table[0xC030].forward_secrecy and table[0xC030].aead
    assert table[0x1301].tls13


def test_callvault_profiles_follow_the_enforced_policy() -> None:
    spec = load_policy().profiles
    profiles = load_profiles()
    modern = profiles["callvault-modern"]
    assert modern.protocols == ("TLSv1.3",)
    assert set(modern.tls13_suites) == {s.iana for s in spec["modern"].tls13_suites}
    legacy = profiles["callvault-legacy-interop"]
    assert set(legacy.tls12_suites) == {s.iana for s in spec["legacy-interop"].tls12_suites}
    assert len(legacy.tls12_suites) == 4
    known = {s.iana for s in suites().values()}
    for p in profiles.values():
        assert set(p.tls13_suites) | set(p.tls12_suites) <= known, p.id
