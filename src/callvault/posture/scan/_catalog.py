"""What the scanner can name: the cipher-suite table (data/suites.json) and the groups.

The suite table maps IANA codes to IANA names plus the attributes the grading rules read
(key exchange, authentication, cipher mode, MAC, forward secrecy). It is data, generated
once from OpenSSL's and the IANA registry's names (tests/posture/scan/gen_suites.py), so
the probes can offer, and the report can name, suites no local TLS library supports.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

__all__ = ["GROUPS", "HYBRID_PQ_GROUPS", "Suite", "suites"]

# IANA "TLS Supported Groups" registry: code -> name. Hybrid post-quantum groups are listed
# with their IANA names (draft-ietf-tls-ecdhe-mlkem).
GROUPS: dict[int, str] = {
    0x0017: "secp256r1",
    0x0018: "secp384r1",
    0x0019: "secp521r1",
    0x001D: "x25519",
    0x001E: "x448",
    0x001A: "brainpoolP256r1",
    0x001B: "brainpoolP384r1",
    0x001C: "brainpoolP512r1",
    0x001F: "brainpoolP256r1tls13",
    0x0020: "brainpoolP384r1tls13",
    0x0021: "brainpoolP512r1tls13",
    0x0015: "secp224r1",
    0x0016: "secp256k1",
    0x0100: "ffdhe2048",
    0x0101: "ffdhe3072",
    0x0102: "ffdhe4096",
    0x0103: "ffdhe6144",
    0x0104: "ffdhe8192",
    0x11EB: "SecP256r1MLKEM768",
    0x11EC: "X25519MLKEM768",
    0x11ED: "SecP384r1MLKEM1024",
    0x6399: "X25519Kyber768Draft00",
}
HYBRID_PQ_GROUPS = frozenset({"X25519MLKEM768", "SecP256r1MLKEM768", "SecP384r1MLKEM1024"})


@dataclass(frozen=True)
class Suite:
    """One cipher suite as the rules see it."""

    code: int
    iana: str
    openssl: str | None
    kx: str
    auth: str
    cipher: str
    mode: str  # GCM, CCM, POLY1305, AEAD, CBC, STREAM, NULL
    mac: str
    aead: bool
    forward_secrecy: bool
    export: bool
    tls13: bool


@functools.cache
def suites() -> dict[int, Suite]:
    """The table, by code (read once)."""
    path = resources.files("callvault.posture.scan").joinpath("data", "suites.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    table: dict[int, Suite] = {}
    for entry in doc["suites"]:
        code = int(entry.pop("code"), 16)
        table[code] = Suite(code=code, **entry)
    return table
