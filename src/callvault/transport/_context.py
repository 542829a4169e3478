"""The two factories every callvault listener and client uses to get an ``SSLContext``.

Callers choose a :class:`TlsProfile`; protocol window, suites, options and verification come
from the profile data and are read back by :func:`verify_context` before the context is
returned. A context that cannot be made to match its profile exactly is never returned.

Choices that are not in the data file because they are not negotiable per profile:

* **No session resumption on servers** (``OP_NO_TICKET`` and ``num_tickets = 0``). Python
  gives no way to rotate the ticket-encryption key, so it would live as long as the process;
  in TLS 1.2 whoever obtains it decrypts every recorded ticketed session, which undoes
  forward secrecy. A full handshake costs one ECDHE and one signature; API clients keep
  connections alive, so the cost is small, and every connection's evidence is a real
  handshake.
* **No renegotiation, no compression** (TLS 1.2 renegotiation attacks and CPU DoS; CRIME).
* **OpenSSL security level 2** (112-bit keys: RSA >= 2048, no SHA-1 handshake signatures).
* **Clients always verify** the chain and the hostname, against subjectAltName only, with
  ``VERIFY_X509_STRICT``; a server given ``client_ca`` demands a client certificate (mTLS).
"""

from __future__ import annotations

import os
import ssl

from callvault.transport._errors import TlsPolicyError
from callvault.transport._profiles import ProfileSpec, TlsProfile, load_policy, profile_spec
from callvault.transport._verify import REQUIRED_OPTIONS, verify_context

__all__ = ["client_context", "server_context"]

StrPath = str | os.PathLike[str]

_VERSIONS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}


def _tls12_cipher_string(spec: ProfileSpec) -> str:
    """OpenSSL cipher string for TLS <= 1.2 suites.

    TLS 1.3-only profiles still get a list (``set_ciphers`` refuses an empty one): the
    policy's TLS 1.2 suites, unreachable behind the version floor but never anything else.
    """
    names = [s.name for s in spec.tls12_suites] or [
        s.name for p in load_policy().profiles.values() for s in p.tls12_suites
    ]
    return ":".join(names) + f":@SECLEVEL={spec.min_security_level}"


def _apply_profile(ctx: ssl.SSLContext, profile: TlsProfile) -> None:
    spec = profile_spec(profile)
    ctx.minimum_version = _VERSIONS[spec.min_version]
    ctx.maximum_version = _VERSIONS[spec.max_version]
    try:
        ctx.set_ciphers(_tls12_cipher_string(spec))
    except ssl.SSLError as exc:
        raise TlsPolicyError(f"OpenSSL refused the {profile.value!r} suites: {exc}") from None
    ctx.options |= REQUIRED_OPTIONS
    # Groups: Python 3.11's set_ecdh_curve() installs a single group, which would cut off
    # clients that lack it; OpenSSL's default list is used instead (docs/protocols/tls.md).
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT


def _load_chain(ctx: ssl.SSLContext, cert: StrPath, key: StrPath | None) -> None:
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise TlsPolicyError(f"cannot load certificate chain {os.fspath(cert)}: {exc}") from None


def _load_trust(ctx: ssl.SSLContext, ca: StrPath) -> None:
    try:
        ctx.load_verify_locations(cafile=ca)
    except (OSError, ssl.SSLError) as exc:
        raise TlsPolicyError(f"cannot load CA bundle {os.fspath(ca)}: {exc}") from None


def server_context(
    profile: TlsProfile,
    cert_chain_path: StrPath,
    key_path: StrPath,
    *,
    client_ca: StrPath | None = None,
) -> ssl.SSLContext:
    """A listener's context for ``profile``; with ``client_ca``, clients must present a
    certificate issued under that CA bundle (mTLS, ``CERT_REQUIRED``)."""
    profile = TlsProfile(profile)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _apply_profile(ctx, profile)
    ctx.num_tickets = 0
    _load_chain(ctx, cert_chain_path, key_path)
    if client_ca is not None:
        _load_trust(ctx, client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    verify_context(ctx, profile, role="server", mutual=client_ca is not None)
    return ctx


def client_context(
    profile: TlsProfile,
    *,
    ca: StrPath | None = None,
    cert: StrPath | None = None,
    key: StrPath | None = None,
) -> ssl.SSLContext:
    """A client's context for ``profile``. Verification is always on: ``ca`` replaces the
    system trust store (internal CA); ``cert``/``key`` present a client certificate."""
    profile = TlsProfile(profile)
    if key is not None and cert is None:
        raise TlsPolicyError("a client key was given without its certificate")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _apply_profile(ctx, profile)
    ctx.check_hostname = True
    ctx.hostname_checks_common_name = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    if ca is not None:
        _load_trust(ctx, ca)
    else:
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    if cert is not None:
        _load_chain(ctx, cert, key)
    verify_context(ctx, profile, role="client")
    return ctx
