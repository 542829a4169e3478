"""The S3 client's transport: never plaintext, always verified, TLS 1.3 unless told otherwise.

Every ``S3ObjectStore`` passes its client through :func:`secure_s3_client`, whoever built
it: an ``http://`` endpoint is refused (unless the loudly named
``allow_plaintext_endpoint_for_tests``), a client built with ``verify=False`` is refused,
and an ``https://`` client is put under a :class:`ClientTlsGuard` named ``s3``: TLS 1.3
with the policy's suites (``allow_tls12`` adds TLS 1.2 with ECDHE + AEAD suites only),
the chain and host name verified against the client's CA bundle (``verify="ca.pem"``) or
the system store, and every new connection read back and recorded as evidence.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from callvault.storage.objects._errors import ObjectStoreError
from callvault.transport import TlsProfile
from callvault.transport.clients import ClientTlsGuard, botocore_tls_guard, secure_botocore_client

__all__ = ["check_endpoint", "secure_s3_client"]


def check_endpoint(url: str, allow_plaintext: bool) -> None:
    """Refuse endpoints that would send sealed objects and credentials in the clear."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise ValueError("endpoint_url must not carry credentials")
    if not parts.hostname:
        raise ValueError("endpoint_url must name a host")
    if parts.scheme == "https" or (parts.scheme == "http" and allow_plaintext):
        return
    raise ValueError(
        f"endpoint_url scheme {parts.scheme!r} refused: use https:// "
        "(http:// only with allow_plaintext_endpoint_for_tests)"
    )


def secure_s3_client(
    client: Any, *, allow_plaintext: bool, allow_tls12: bool
) -> ClientTlsGuard | None:
    """Check ``client`` and put it under the ``s3`` guard; None for a plaintext test
    endpoint (nothing to guard). A client that already has a guard keeps it."""
    try:
        check_endpoint(client.meta.endpoint_url, allow_plaintext)
    except ValueError as exc:
        raise ObjectStoreError(str(exc)) from None
    # botocore keeps the client's ``verify`` on its HTTP session; a client built with
    # verify=False would accept any certificate, so it is refused outright.
    http_session = getattr(getattr(client, "_endpoint", None), "http_session", None)
    verify = getattr(http_session, "_verify", True)
    if verify is False:
        raise ObjectStoreError("S3 client does not verify TLS certificates (verify=False)")
    if urlsplit(client.meta.endpoint_url).scheme != "https":
        return None
    existing = botocore_tls_guard(client)
    if existing is not None:
        return existing
    profile = TlsProfile.LEGACY_INTEROP if allow_tls12 else TlsProfile.MODERN
    guard = ClientTlsGuard("s3", profile, ca=verify if isinstance(verify, str) else None)
    return secure_botocore_client(client, guard)
