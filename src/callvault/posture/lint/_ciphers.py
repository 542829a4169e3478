"""What an OpenSSL cipher string really enables, for ``tls.weak-suite`` and ``tls.no-pfs``.

``HIGH:!aNULL:!MD5`` does not say "CBC" anywhere, yet enables dozens of CBC suites. So the
string is expanded by the OpenSSL this process links (``ssl.SSLContext.set_ciphers`` then
``get_ciphers``) at security level 0, which is how nginx/HAProxy/Apache read the same
string. OpenSSL 3 no longer builds RC4, 3DES or export suites into its default provider,
so a string naming them expands to nothing here while an older server would enable them:
a lexical pass over the string's *positive* tokens catches those names.

Only TLS 1.2-and-below suites are judged: every TLS 1.3 suite is AEAD with ephemeral key
exchange, and OpenSSL lists them whatever the string says.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CipherVerdict", "evaluate", "shown"]

_WEAK_WORDS = re.compile(r"RC4|3DES|DES-CBC|(?<![A-Z])DES(?![A-Z])|MD5|EXP|NULL|CBC|IDEA|SEED")
_PFS_PREFIXES = ("ECDHE", "DHE", "EDH", "TLS_", "kECDHE", "kDHE", "kEDH", "EECDH", "EDH")
_NOT_RSA_KEX = (*_PFS_PREFIXES, "PSK", "SRP")
_SUITE_NAME = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)+$")


@dataclass(frozen=True, slots=True)
class CipherVerdict:
    """The TLS <= 1.2 suites a string enables that break the seed's rules: ``weak``
    (CBC, RC4, 3DES, MD5/SHA-1 MAC, NULL, export) and ``no_pfs`` (RSA key exchange)."""

    weak: tuple[str, ...]
    no_pfs: tuple[str, ...]


def evaluate(cipher_string: str) -> CipherVerdict:
    weak: list[str] = []
    no_pfs: list[str] = []
    for suite in _expand(cipher_string):
        if not suite.get("aead") or suite.get("digest") in ("md5", "sha1"):
            weak.append(str(suite["name"]))
        if suite.get("kea") in ("kx-rsa", "kx-rsa-psk"):
            no_pfs.append(str(suite["name"]))
    for token in _positive_tokens(cipher_string):
        if _WEAK_WORDS.search(token.upper()) and token not in weak:
            weak.append(token)
        # an explicit suite name without ECDHE/DHE: RSA (or static DH) key exchange
        if _SUITE_NAME.match(token) and not token.startswith(_NOT_RSA_KEX) and token not in no_pfs:
            no_pfs.append(token)
    return CipherVerdict(tuple(dict.fromkeys(weak)), tuple(dict.fromkeys(no_pfs)))


def _expand(cipher_string: str) -> list[dict[str, Any]]:
    spec = cipher_string.strip().strip("\"'")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.set_ciphers(spec + ":@SECLEVEL=0")
    except ssl.SSLError:
        return []  # nothing OpenSSL 3 knows; the lexical pass judges the names
    return [dict(s) for s in context.get_ciphers() if s.get("protocol") != "TLSv1.3"]


def _positive_tokens(cipher_string: str) -> list[str]:
    """Tokens that add suites (not ``!X``, ``-X``, ``+X`` or ``@STRENGTH``)."""
    tokens = re.split(r"[:,\s]+", cipher_string.strip().strip("\"'"))
    return [t for t in tokens if t and t[0] not in "!-+@"]


def shown(suites: Sequence[str], first: int = 3) -> str:
    """The first few suite names of a finding, and how many more there are."""
    more = len(suites) - first
    return ", ".join(suites[:first]) + (f" and {more} more" if more > 0 else "")
