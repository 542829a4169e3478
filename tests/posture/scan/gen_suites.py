"""Regenerate ``src/callvault/posture/scan/data/suites.json`` (run by hand, not by pytest).

Sources: every suite Debian's OpenSSL 3.0 knows (``openssl ciphers -V -stdname
'ALL:COMPLEMENTOFALL:@SECLEVEL=0'`` plus its TLS 1.3 suites), and the IANA names of the
two-byte suites that Debian's testssl.sh probes (the IANA "TLS Cipher Suites" registry names
as listed in /etc/testssl/cipher-mapping.txt; only the registered ``TLS_*`` names are taken,
not testssl.sh's code). The attributes the grading rules need (key exchange, auth, cipher,
mode, MAC) are derived from the IANA name, which encodes them by construction.

    .venv/bin/python tests/posture/scan/gen_suites.py
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

OUT = Path(__file__).parents[3] / "src/callvault/posture/scan/data/suites.json"
TESTSSL_MAP = Path("/etc/testssl/cipher-mapping.txt")
TLS13 = {
    0x1301: "TLS_AES_128_GCM_SHA256",
    0x1302: "TLS_AES_256_GCM_SHA384",
    0x1303: "TLS_CHACHA20_POLY1305_SHA256",
    0x1304: "TLS_AES_128_CCM_SHA256",
    0x1305: "TLS_AES_128_CCM_8_SHA256",
}
_LINE = re.compile(r"0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)\s+-?\s*(\S+)")


def _openssl() -> dict[int, tuple[str, str]]:
    cmd = ["openssl", "ciphers", "-V", "-stdname", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    found: dict[int, tuple[str, str]] = {}
    for line in out.splitlines():
        m = _LINE.search(line)
        if m:
            found[int(m[1] + m[2], 16)] = (m[3], m[4])
    return found


def _testssl() -> dict[int, str]:
    names: dict[int, str] = {}
    for line in TESTSSL_MAP.read_text().splitlines():
        parts = line.split()
        code = parts[0].split(",")
        if len(code) != 2 or parts[1] != "-":  # SSLv2 three-byte codes
            continue
        iana = parts[3]
        if iana.startswith("TLS_") and not iana.endswith("_OLD"):
            names[int(code[0][2:] + code[1][2:], 16)] = iana
    return names


def attributes(iana: str) -> dict[str, object]:
    if "_WITH_" not in iana:  # TLS 1.3: key exchange and auth are negotiated separately
        body = iana[4:].rsplit("_", 1)[0]
        kx, auth, prf = "any", "any", iana.rsplit("_", 1)[1]
    else:
        left, body = iana[4:].split("_WITH_")
        kxauth = left.split("_")
        kx = kxauth[0]
        auth = "_".join(kxauth[1:]) or ("RSA" if kx == "RSA" else kx)
        body, prf = body.rsplit("_", 1) if re.search(r"_(SHA\d*|MD5|NULL)$", body) else (body, "")
    if body.endswith(("_CCM", "_CCM_8")) or body.endswith("_CCM_8"):
        prf = prf or "SHA256"
    mode = "NULL" if body in ("NULL", "") else "STREAM" if body.startswith("RC4") else "CBC"
    for marker in ("GCM", "CCM", "POLY1305", "MGM", "CNT"):
        if marker in body:
            mode = {"POLY1305": "POLY1305", "MGM": "AEAD", "CNT": "STREAM"}.get(marker, marker)
    aead = mode in ("GCM", "CCM", "POLY1305", "AEAD")
    return {
        "kx": kx,
        "auth": auth,
        "cipher": body or "NULL",
        "mode": mode,
        "mac": "AEAD" if aead else prf,
        "aead": aead,
        "forward_secrecy": kx in ("any", "ECDHE", "DHE"),
        "export": "EXPORT" in iana,
        "tls13": "_WITH_" not in iana,
    }


def main() -> None:
    openssl, testssl = _openssl(), _testssl()
    codes = sorted(set(openssl) | set(testssl) | set(TLS13))
    suites = []
    for code in codes:
        iana = TLS13.get(code) or (openssl[code][0] if code in openssl else testssl[code])
        if not iana.startswith("TLS_"):
            continue
        entry: dict[str, object] = {"code": f"0x{code:04X}", "iana": iana}
        entry["openssl"] = openssl[code][1] if code in openssl else None
        entry.update(attributes(iana))
        suites.append(entry)
    doc = {
        "format": "callvault.scan.suites/v1",
        "source": "IANA TLS Cipher Suites registry names; OpenSSL 3.0.19 names "
        "(openssl ciphers -V -stdname 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'); attributes "
        "derived from the IANA name (tests/posture/scan/gen_suites.py)",
        "suites": suites,
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{len(suites)} suites -> {OUT}")


if __name__ == "__main__":
    main()
