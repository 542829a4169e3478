"""Fail-closed verification of a built ``ssl.SSLContext`` against its profile.

Python's ``ssl`` (3.11) cannot choose TLS 1.3 suites: they come from OpenSSL's defaults and
from whatever ``openssl.cnf`` (or ``OPENSSL_CONF``) says. So after building a context we
*read back* what OpenSSL will actually negotiate and refuse the context unless it is
exactly the profile: same protocol window, same suite set (no more, no fewer), every suite
ECDHE + AEAD, security level, options and verification settings. If a distribution build
or a config file enables ``TLS_AES_128_CCM_SHA256`` or a CBC suite, we raise instead of
serving it.

Group (curve) selection is *not* checked here: Python 3.11 has no way to read it back
(see docs/protocols/tls.md).
"""

from __future__ import annotations

import ssl
from typing import Literal

from callvault.transport._errors import TlsPolicyError
from callvault.transport._profiles import TlsProfile, load_policy, profile_spec

__all__ = ["REQUIRED_OPTIONS", "Role", "verify_context"]

Role = Literal["server", "client"]

#: No compression (CRIME), no renegotiation (TLS 1.2 renegotiation attacks and DoS), no
#: stateless session tickets (a process-lifetime ticket key would undo forward secrecy).
REQUIRED_OPTIONS = ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION | ssl.OP_NO_TICKET

_VERSIONS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}
# What OpenSSL's get_ciphers() reports for key exchange and bulk cipher of suites we allow.
_ALLOWED_KEA = frozenset({"kx-ecdhe", "kx-any"})  # kx-any: TLS 1.3, always (EC)DHE here
_ALLOWED_SYMMETRIC = frozenset({"aes-256-gcm", "aes-128-gcm", "chacha20-poly1305"})


def _fail(profile: TlsProfile, what: str) -> TlsPolicyError:
    return TlsPolicyError(
        f"TLS profile {profile.value!r} cannot be enforced with {ssl.OPENSSL_VERSION}: {what}"
    )


def verify_context(
    ctx: ssl.SSLContext, profile: TlsProfile, *, role: Role, mutual: bool = False
) -> None:
    """Raise :class:`TlsPolicyError` unless ``ctx`` negotiates exactly ``profile``.

    ``mutual`` says a server must demand client certificates (mTLS). The check only reads
    the context; it is safe to call on any context, e.g. one handed to us by a framework.
    """
    profile = TlsProfile(profile)
    spec = profile_spec(profile)

    if ctx.minimum_version != _VERSIONS[spec.min_version]:
        raise _fail(profile, f"minimum version is {ctx.minimum_version.name}")
    if ctx.maximum_version != _VERSIONS[spec.max_version]:
        raise _fail(profile, f"maximum version is {ctx.maximum_version.name}")

    ciphers = ctx.get_ciphers()
    for c in ciphers:
        if (
            not c["aead"]
            or c["kea"] not in _ALLOWED_KEA
            or c["symmetric"] not in _ALLOWED_SYMMETRIC
        ):
            raise _fail(profile, f"suite {c['name']} is not ECDHE with an allowed AEAD")
    tls13 = {c["name"] for c in ciphers if c["protocol"] == "TLSv1.3"}
    # Pre-1.3 suites (whatever version introduced them) are all usable over TLS 1.2.
    tls12 = {c["name"] for c in ciphers if c["protocol"] != "TLSv1.3"}
    want13 = {s.name for s in spec.tls13_suites}
    if tls13 != want13:
        extra, missing = sorted(tls13 - want13), sorted(want13 - tls13)
        raise _fail(profile, f"TLS 1.3 suites differ: extra {extra}, missing {missing}")
    if spec.min_version == "TLSv1.2":
        want12 = {s.name for s in spec.tls12_suites}
        if tls12 != want12:
            extra, missing = sorted(tls12 - want12), sorted(want12 - tls12)
            raise _fail(profile, f"TLS 1.2 suites differ: extra {extra}, missing {missing}")
    else:
        # Unreachable while the version floor holds; still never anything off-policy.
        every12 = {s.name for p in load_policy().profiles.values() for s in p.tls12_suites}
        if not tls12 <= every12:
            raise _fail(profile, f"off-policy TLS 1.2 suites {sorted(tls12 - every12)}")

    if ctx.security_level < spec.min_security_level:
        raise _fail(profile, f"OpenSSL security level {ctx.security_level}")
    if ctx.options & REQUIRED_OPTIONS != REQUIRED_OPTIONS:
        raise _fail(profile, "compression, renegotiation or session tickets are enabled")
    if not ctx.verify_flags & ssl.VERIFY_X509_STRICT:
        raise _fail(profile, "certificate checks are not strict (VERIFY_X509_STRICT)")

    if role == "server":
        if ctx.num_tickets != 0:
            raise _fail(profile, "the server would issue TLS 1.3 session tickets")
        want_mode = ssl.CERT_REQUIRED if mutual else ssl.CERT_NONE
        if ctx.verify_mode != want_mode:
            raise _fail(profile, f"client certificate mode is {ctx.verify_mode.name}")
    else:
        if ctx.verify_mode != ssl.CERT_REQUIRED or not ctx.check_hostname:
            raise _fail(profile, "client contexts must verify the server and its hostname")
        if ctx.hostname_checks_common_name:
            raise _fail(profile, "hostname checks must use subjectAltName only")
