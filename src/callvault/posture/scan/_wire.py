"""TLS framing for the probes: build a ClientHello, read the server's first answer.

Framing only, no cryptography: a probe never completes a handshake, it only asks "would you
accept this?" and reads the ServerHello (chosen version and suite), a HelloRetryRequest
(TLS 1.3: the group and suite the server wants, answered to an *empty* key_share), or an
alert. This is how testssl.sh enumerates with bash sockets, and why the scanner sees SSLv3,
TLS 1.0, CBC and RSA-kex suites that the local OpenSSL 3 would refuse to negotiate.
Anything that is not TLS framing raises :class:`NotTls`; the caller turns it into a
:class:`~callvault.posture.scan.ScanError`.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["VERSIONS", "Answer", "NotTls", "client_hello", "parse_answer"]

VERSIONS: dict[str, int] = {
    "SSLv3": 0x0300,
    "TLSv1": 0x0301,
    "TLSv1.1": 0x0302,
    "TLSv1.2": 0x0303,
    "TLSv1.3": 0x0304,
}
# SHA-256("HelloRetryRequest"), RFC 8446 4.1.3: a ServerHello with this random is an HRR.
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
# Every signature scheme we know, old ones included: the probe must not be refused for
# asking too little (RFC 8446 4.2.3 and RFC 5246 7.4.1.4.1 codes).
_SIG_ALGS = (
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501,
    0x0601, 0x0303, 0x0301, 0x0302, 0x0402, 0x0502, 0x0602, 0x0203, 0x0201, 0x0202,
    0x0101, 0x0102, 0x0103, 0x081A, 0x081B, 0x081C,
)  # fmt: skip


class NotTls(Exception):
    """The peer answered with something that is not a TLS record."""


@dataclass(frozen=True)
class Answer:
    """The server's first answer to a probe. ``kind``: ``hello`` (ServerHello), ``hrr``
    (HelloRetryRequest), ``alert``, or ``closed`` (the peer hung up without a word)."""

    kind: Literal["hello", "hrr", "alert", "closed"]
    version: int | None = None
    suite: int | None = None
    group: int | None = None
    alert: int | None = None


def _vec(data: bytes, width: int) -> bytes:
    return len(data).to_bytes(width, "big") + data


def _ext(kind: int, body: bytes) -> bytes:
    return struct.pack("!HH", kind, len(body)) + body


def _u16s(values: Sequence[int]) -> bytes:
    return b"".join(v.to_bytes(2, "big") for v in values)


def client_hello(
    version: int,
    suites: Sequence[int],
    groups: Sequence[int],
    server_name: str | None,
) -> bytes:
    """One ClientHello record. For ``version`` 0x0304 it offers only TLS 1.3
    (supported_versions) with an empty key_share, so a willing server must answer with a
    HelloRetryRequest naming its group; below that it offers exactly ``version``."""
    tls13 = version == 0x0304
    legacy = 0x0303 if tls13 else version
    exts = b""
    if server_name:
        name = server_name.encode("idna")
        exts += _ext(0x0000, _vec(b"\x00" + _vec(name, 2), 2))
    if version >= 0x0301:
        exts += _ext(0x000A, _vec(_u16s(groups), 2))  # supported_groups
        exts += _ext(0x000B, b"\x01\x00")  # ec_point_formats: uncompressed
        exts += _ext(0x000D, _vec(_u16s(_SIG_ALGS), 2))  # signature_algorithms
        exts += _ext(0x0017, b"")  # extended_master_secret
        exts += _ext(0xFF01, b"\x00")  # renegotiation_info (initial handshake)
    if tls13:
        exts += _ext(0x002B, _vec(_u16s([0x0304]), 1))  # supported_versions
        exts += _ext(0x0033, _vec(b"", 2))  # key_share: deliberately empty
        exts += _ext(0x002D, b"\x01\x01")  # psk_key_exchange_modes: psk_dhe_ke
    body = legacy.to_bytes(2, "big") + os.urandom(32)
    body += _vec(os.urandom(32) if tls13 else b"", 1)  # session id (middlebox compat)
    body += _vec(_u16s(suites), 2) + b"\x01\x00"  # suites, null compression only
    if exts:
        body += _vec(exts, 2)
    handshake = b"\x01" + _vec(body, 3)
    record_version = 0x0300 if version == 0x0300 else 0x0301
    return struct.pack("!BHH", 0x16, record_version, len(handshake)) + handshake


def _records(data: bytes) -> tuple[list[tuple[int, bytes]], bool]:
    """Complete records in ``data`` and whether the buffer ends on a record boundary."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while len(data) - pos >= 5:
        ctype, major, length = data[pos], data[pos + 1], int.from_bytes(data[pos + 3 : pos + 5])
        if ctype not in (0x14, 0x15, 0x16, 0x17) or major != 3 or length > 18432:
            raise NotTls("not a TLS record")
        if len(data) - pos - 5 < length:
            return out, False
        out.append((ctype, data[pos + 5 : pos + 5 + length]))
        pos += 5 + length
    return out, pos == len(data)


def parse_answer(data: bytes, eof: bool) -> Answer | None:
    """The answer in the bytes received so far, or ``None`` if more bytes are needed."""
    if len(data) >= 5 and data[0] in (0x14, 0x15, 0x16, 0x17) and data[1] != 3:
        raise NotTls("not a TLS record")
    if data and data[0] not in (0x14, 0x15, 0x16, 0x17):
        raise NotTls("not a TLS record")
    records, _ = _records(data)
    handshake = b""
    for ctype, payload in records:
        if ctype == 0x15 and len(payload) >= 2:
            return Answer("alert", alert=payload[1])
        if ctype == 0x16:
            handshake += payload
            if len(handshake) >= 4:
                size = int.from_bytes(handshake[1:4])
                if handshake[0] != 0x02:
                    raise NotTls("first handshake message is not a ServerHello")
                if len(handshake) >= 4 + size:
                    return _server_hello(handshake[4 : 4 + size])
    return Answer("closed") if eof else None


def _server_hello(body: bytes) -> Answer:
    try:
        version = int.from_bytes(body[0:2])
        random = body[2:34]
        sid_len = body[34]
        pos = 35 + sid_len
        suite = int.from_bytes(body[pos : pos + 2])
        pos += 3
        group = None
        if len(body) > pos + 2:
            end = pos + 2 + int.from_bytes(body[pos : pos + 2])
            pos += 2
            while pos + 4 <= end:
                kind, size = struct.unpack("!HH", body[pos : pos + 4])
                data = body[pos + 4 : pos + 4 + size]
                if kind == 0x002B and size == 2:
                    version = int.from_bytes(data)
                elif kind == 0x0033 and size >= 2:
                    group = int.from_bytes(data[0:2])
                pos += 4 + size
    except IndexError:
        raise NotTls("truncated ServerHello") from None
    answer_kind: Literal["hello", "hrr"] = "hrr" if random == HRR_RANDOM else "hello"
    return Answer(answer_kind, version=version, suite=suite, group=group)
