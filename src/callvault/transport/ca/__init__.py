"""The internal CA: SPIFFE service identities for mTLS between callvault services.

An offline root (its own directory, to be moved off the machine) signs a name-constrained
intermediate, which issues short-lived service certificates whose only URI SAN is
``spiffe://<trust-domain>/<service>``::

    from callvault.transport.ca import InternalCa, CertificateRenewer, PeerVerifier
    ca = InternalCa.init(home / "ca", home / "ca-root", trust_domain="example.org")
    issued = ca.issue("keyd", ttl="24h", dns=["keyd.internal"])   # paths only
    renewer = CertificateRenewer(ca, "keyd", dns=["keyd.internal"]); renewer.start()
    # serve with renewer.server_context; after each handshake:
    spiffe_id = PeerVerifier(home / "ca").check(tls_socket)      # or PeerRejected(reason)

Hierarchy, lifetimes, extensions, file layout, renewal, revocation and the inventory
schema are specified in docs/protocols/ca.md.
"""

from callvault.transport.ca._authority import (
    REVOCATION_REASONS,
    InternalCa,
    IssuedCertificate,
)
from callvault.transport.ca._errors import CaError, PeerRejected, RejectReason
from callvault.transport.ca._inventory import (
    INVENTORY_SCHEMA,
    CertificateInfo,
    CertStatus,
    Inventory,
)
from callvault.transport.ca._peer import PeerVerifier
from callvault.transport.ca._policy import (
    DEFAULT_SERVICE_TTL,
    DEFAULT_TRUST_DOMAIN,
    INTERMEDIATE_LIFETIME,
    MAX_SERVICE_TTL,
    MIN_SERVICE_TTL,
    RENEW_WHEN_REMAINING,
    ROOT_LIFETIME,
    KeyAlgorithm,
    parse_ttl,
)
from callvault.transport.ca._renewal import CertificateRenewer
from callvault.transport.ca._spiffe import SpiffeId

__all__ = [
    "DEFAULT_SERVICE_TTL",
    "DEFAULT_TRUST_DOMAIN",
    "INTERMEDIATE_LIFETIME",
    "INVENTORY_SCHEMA",
    "MAX_SERVICE_TTL",
    "MIN_SERVICE_TTL",
    "RENEW_WHEN_REMAINING",
    "REVOCATION_REASONS",
    "ROOT_LIFETIME",
    "CaError",
    "CertStatus",
    "CertificateInfo",
    "CertificateRenewer",
    "InternalCa",
    "Inventory",
    "IssuedCertificate",
    "KeyAlgorithm",
    "PeerRejected",
    "PeerVerifier",
    "RejectReason",
    "SpiffeId",
    "parse_ttl",
]
