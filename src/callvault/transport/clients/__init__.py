"""The TLS policy of callvault's service clients: S3, AWS KMS and Vault Transit.

The surface::

    from callvault.transport.clients import ClientTlsGuard, secure_botocore_client
    guard = ClientTlsGuard("s3", TlsProfile.MODERN, ca=ca_bundle)   # TLS 1.3, verify-full
    secure_botocore_client(s3_client, guard)                         # or guarded_https_pool
    guard.latest()   # ClientTlsEvidence: protocol, suite, peer fingerprint of the last one

A guard owns the one ``client_context`` its client may use and reads every new connection
back after the handshake, before a request byte, refusing (``ClientTlsRefused``) anything
outside its profile and recording the outcome as evidence. ``LEGACY_INTEROP`` (TLS 1.2 with
ECDHE + AEAD suites only) is chosen by an explicit ``allow_tls12`` setting of each client;
verification cannot be turned off. The rules are in docs/protocols/tls.md, section
"S3 and KMS clients".
"""

from callvault.transport.clients._botocore import botocore_tls_guard, secure_botocore_client
from callvault.transport.clients._guard import (
    EVIDENCE_KEEP,
    ClientTlsEvidence,
    ClientTlsGuard,
    ClientTlsRefused,
)
from callvault.transport.clients._urllib3 import guarded_https_pool

__all__ = [
    "EVIDENCE_KEEP",
    "ClientTlsEvidence",
    "ClientTlsGuard",
    "ClientTlsRefused",
    "botocore_tls_guard",
    "guarded_https_pool",
    "secure_botocore_client",
]
