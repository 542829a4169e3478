"""Transport security: one TLS policy for every callvault listener and client.

The surface::

    from callvault.transport import TlsProfile, server_context, client_context, negotiated
    ctx = server_context(TlsProfile.MODERN, "chain.pem", "key.pem")          # TLS 1.3 only
    ctx = server_context(TlsProfile.MODERN, "chain.pem", "key.pem", client_ca="ca.pem")  # mTLS
    ctx = client_context(TlsProfile.MODERN, ca="internal-ca.pem")             # verify-full

Profiles are versioned data (``profiles/callvault-v1.json``), shared with the posture
scanner. Every factory reads back what OpenSSL will negotiate and raises
:class:`TlsPolicyError` unless it is exactly the profile. The rules and their reasons are
in docs/protocols/tls.md. ``ensure_local_tls(home / "tls")`` gives the embedded default its
self-issued local CA and server certificate. Later modules here: the internal CA (SPIFFE
identities), mTLS helpers and the egress client factory.
"""

from callvault.transport._context import client_context, server_context
from callvault.transport._errors import TlsPolicyError
from callvault.transport._hsts import HSTS_HEADER, HSTS_HEADER_VALUE, HSTS_MAX_AGE_SECONDS
from callvault.transport._local_ca import (
    DEFAULT_SERVER_NAMES,
    LocalTlsFiles,
    ensure_local_tls,
)
from callvault.transport._negotiated import Negotiated, negotiated
from callvault.transport._profiles import (
    CipherSuite,
    ProfileSpec,
    TlsPolicy,
    TlsProfile,
    load_policy,
    profile_spec,
)
from callvault.transport._verify import verify_context

__all__ = [
    "DEFAULT_SERVER_NAMES",
    "HSTS_HEADER",
    "HSTS_HEADER_VALUE",
    "HSTS_MAX_AGE_SECONDS",
    "CipherSuite",
    "LocalTlsFiles",
    "Negotiated",
    "ProfileSpec",
    "TlsPolicy",
    "TlsPolicyError",
    "TlsProfile",
    "client_context",
    "ensure_local_tls",
    "load_policy",
    "negotiated",
    "profile_spec",
    "server_context",
    "verify_context",
]
