"""Real handshakes for what probes cannot see: the certificate chain (encrypted in TLS 1.3)
and the HTTP response headers (HSTS).

Uses the standard library's ``ssl`` (OpenSSL 3): no extra dependency, and TLS 1.3
certificates need a real key exchange. The context is deliberately permissive (any
version OpenSSL still has, security level 0, no verification) because its job is to
*observe* a weak server, never to carry data; trust is judged separately by
:func:`verifies`, with a verifying context.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import warnings
from collections.abc import Iterator

from callvault.posture.scan._errors import ScanError

__all__ = ["chain_der", "observe", "verifies"]


def _context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # the hostname is judged against the SAN by the rules
    with warnings.catch_warnings():  # TLSv1 is deprecated: we only observe it
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    ctx.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    if verify:
        ctx.verify_mode = ssl.CERT_REQUIRED
        # The system store always, plus an internal CA when given: a bundle that added
        # trust for one endpoint must not make a publicly issued one look untrusted.
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
        if ca_file:
            ctx.load_verify_locations(cafile=ca_file)
    else:
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


@contextlib.contextmanager
def observe(
    host: str, port: int, server_name: str | None, timeout: float
) -> Iterator[ssl.SSLSocket]:
    """A completed handshake with no verification, for reading the chain or HTTP."""
    ctx = _context(False, None)
    try:
        sock = socket.create_connection((host, port), timeout)
        sock.settimeout(timeout)
        tls = ctx.wrap_socket(sock, server_hostname=server_name)
    except (OSError, ssl.SSLError) as exc:
        raise ScanError(f"{host}:{port}: handshake failed: {exc}") from None
    with tls:
        yield tls


def chain_der(tls: ssl.SSLSocket) -> list[bytes]:
    """The chain as sent by the server (leaf first). Python 3.11 exposes it only on the
    private ``_sslobj`` (public from 3.13); without it, the leaf alone."""
    sslobj = getattr(tls, "_sslobj", None)
    getter = getattr(sslobj, "get_unverified_chain", None)
    if getter is not None:
        chain = getter() or []
        return [c.public_bytes(ssl._ssl.ENCODING_DER) for c in chain]  # type: ignore[attr-defined]
    leaf = tls.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def verifies(
    host: str, port: int, server_name: str | None, timeout: float, ca_file: str | None
) -> str | None:
    """``None`` if the chain verifies against the system store plus ``ca_file``, else the
    verification error. A failure to connect at all is reported as such."""
    try:
        ctx = _context(True, ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ScanError(f"cannot load CA file {ca_file}: {exc}") from None
    try:
        with socket.create_connection((host, port), timeout) as sock:
            sock.settimeout(timeout)
            with ctx.wrap_socket(sock, server_hostname=server_name):
                return None
    except ssl.SSLCertVerificationError as exc:
        return str(exc.verify_message or exc)
    except (OSError, ssl.SSLError) as exc:
        return f"handshake failed: {exc}"
