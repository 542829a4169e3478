"""What keyd does with one request on an established mTLS connection.

In order, each step audited when it refuses: (1) re-check the peer with ``PeerVerifier``
(revocation takes effect on kept-alive connections too), (2) find the operation from the
versioned path, (3) parse and validate the JSON body, (4) authorise the caller's SPIFFE ID
for the operation, (5) run it on the provider as that caller (``acting_as``), (6) write the
audit entry, and only then (7) answer. An entry that cannot be written turns the answer
into ``AuditUnavailable`` (503): no key leaves keyd unaccounted for.

Error answers carry the error kind and its message; internal errors carry neither the
exception text nor a traceback (they could hold anything), only ``InternalError``.
"""

from __future__ import annotations

import json
import logging
import ssl
from typing import Any

from callvault.errors import AuditUnavailable, InvalidRequest, OpenError
from callvault.keyd._audit import UNAUTHENTICATED, KeydAudit, presented_spiffe_id
from callvault.keyd._dispatch import Result, check_fields, dispatch
from callvault.keyd._policy import KeydPolicy
from callvault.keys import acting_as
from callvault.keys.providers import KmsProvider
from callvault.keys.providers._remote_wire import (
    API_PREFIX,
    KeyAccessDenied,
    Operation,
    error_body,
    error_code,
    error_status,
)
from callvault.transport.ca import CaError, PeerRejected, PeerVerifier

__all__ = ["Answer", "KeydService"]

_log = logging.getLogger(__name__)

Answer = tuple[int, dict[str, Any]]


def _error(exc: BaseException) -> Answer:
    code = error_code(exc)
    if code == "InternalError":
        return 500, error_body(code, "internal error")
    message = OpenError.MESSAGE if isinstance(exc, OpenError) else str(exc)
    return error_status(code), error_body(code, message)


class KeydService:
    """The provider, the policy, the verifier and the audit trail of one keyd."""

    def __init__(
        self, provider: KmsProvider, policy: KeydPolicy, verifier: PeerVerifier, audit: KeydAudit
    ) -> None:
        self.provider, self.policy, self.verifier, self.audit = provider, policy, verifier, audit

    def refused_handshake(self, exc: ssl.SSLError, peer: str) -> None:
        """Audit a handshake OpenSSL refused (another CA, expired, no certificate, TLS 1.2,
        not TLS at all). Never raises: the connection is closed either way."""
        reason = PeerVerifier.explain(exc).reason.value
        try:
            self.audit.refused_connection(reason, peer, None)
        except AuditUnavailable:
            _log.error("keyd could not audit a refused handshake (reason %s)", reason)

    def handle(self, conn: ssl.SSLSocket, path: str, raw: bytes, peer: str) -> Answer:
        """The status and JSON body answering ``POST path`` with body ``raw``."""
        operation_name = path.removeprefix(API_PREFIX) if path.startswith(API_PREFIX) else "?"
        try:
            caller = self.verifier.check(conn)
        except (PeerRejected, CaError) as exc:
            reason = exc.reason.value if isinstance(exc, PeerRejected) else "ca-error"
            presented = presented_spiffe_id(conn.getpeercert(binary_form=True))
            return self._refuse_peer(operation_name, reason, peer, presented)
        actor = str(caller)
        try:
            operation = Operation(operation_name)
        except ValueError:
            return self._finish(
                actor, "unknown", peer, None, InvalidRequest(f"no such path {path}")
            )
        body: Any = None
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise InvalidRequest("the body must be a JSON object")
            check_fields(operation, body)
        except (ValueError, InvalidRequest) as exc:
            failure = exc if isinstance(exc, InvalidRequest) else InvalidRequest("bad JSON")
            return self._finish(actor, operation.value, peer, body, failure)
        if not self.policy.allows(caller, operation):
            denied = KeyAccessDenied(f"{actor} may not {operation.value}")
            return self._finish(actor, operation.value, peer, body, denied)
        try:
            with acting_as(actor):
                result = dispatch(self.provider, operation, body)
        except Exception as exc:
            return self._finish(actor, operation.value, peer, body, exc)
        return self._finish(actor, operation.value, peer, body, result)

    def _refuse_peer(self, operation: str, reason: str, peer: str, presented: str | None) -> Answer:
        try:
            self.audit.call(
                UNAUTHENTICATED,
                operation if operation in set(Operation) else "unknown",
                "PeerRejected",
                peer=peer,
                reason=reason,
                presented=presented,
            )
        except AuditUnavailable as exc:
            return _error(exc)
        return _error(KeyAccessDenied(f"client certificate refused ({reason})"))

    def _finish(
        self,
        actor: str,
        operation: str,
        peer: str,
        body: Any,
        outcome: Result | BaseException,
    ) -> Answer:
        fields = body if isinstance(body, dict) else {}
        version = None if isinstance(outcome, BaseException) else outcome.key_version
        try:
            self.audit.call(
                actor,
                operation,
                error_code(outcome) if isinstance(outcome, BaseException) else "ok",
                key_id=fields.get("key_id"),
                key_version=version,
                peer=peer,
                on_behalf_of=fields.get("on_behalf_of"),
                reason="policy" if isinstance(outcome, KeyAccessDenied) else None,
            )
        except AuditUnavailable as exc:
            return _error(exc)
        if isinstance(outcome, BaseException):
            if error_code(outcome) == "InternalError":
                _log.error("keyd %s failed: %s", operation, type(outcome).__name__)
            return _error(outcome)
        return 200, outcome.body
