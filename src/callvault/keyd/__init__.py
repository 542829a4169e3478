"""keyd, the key service: a home's KMS provider served over mTLS to other callvault
services, each call authorised by the caller's SPIFFE ID and written to the audit log::

    from callvault.keyd import Keyd
    keyd = Keyd(home, host="127.0.0.1", port=8444); keyd.start()   # or serve_forever()
    # clients: kms = "keyd://127.0.0.1:8444/?identity=api" (callvault.keys.providers)

The protocol, policy, audit records and failure modes are specified in
docs/protocols/keyd.md.
"""

from callvault.keyd._audit import UNAUTHENTICATED, KeydAudit
from callvault.keyd._keyd import Keyd
from callvault.keyd._policy import DEFAULT_GRANTS, KeydPolicy
from callvault.keyd._server import HANDSHAKE_TIMEOUT, IDLE_TIMEOUT, KeydServer
from callvault.keyd._service import KeydService
from callvault.keys.providers._remote_wire import KeyAccessDenied, Operation

__all__ = [
    "DEFAULT_GRANTS",
    "HANDSHAKE_TIMEOUT",
    "IDLE_TIMEOUT",
    "UNAUTHENTICATED",
    "KeyAccessDenied",
    "Keyd",
    "KeydAudit",
    "KeydPolicy",
    "KeydServer",
    "KeydService",
    "Operation",
]
