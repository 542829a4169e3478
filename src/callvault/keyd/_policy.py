"""Who may ask keyd for what: a table from service identity to operations.

Authorisation is by the caller's SPIFFE ID, authenticated by mTLS and ``PeerVerifier``;
nothing in the request body counts. The table names services of keyd's own trust domain
(``api`` stands for ``spiffe://<td>/api``), so an identity of another trust domain can never
match, and matching is exact (no prefixes, no wildcards): a policy that says ``api`` does
not admit ``api-canary``.

The ``default`` preset separates duties as DESIGN.md asks: the api uses keys (generate,
wrap, unwrap, rewrap, describe) and cannot create, rotate, disable or destroy them; ops
administers keys and cannot unwrap anything. Everything else is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from callvault.errors import ConfigError
from callvault.keys.providers._remote_wire import Operation
from callvault.transport.ca import SpiffeId

__all__ = ["DEFAULT_GRANTS", "KeydPolicy"]

_SERVICE = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")

DEFAULT_GRANTS: Mapping[str, frozenset[Operation]] = {
    "api": frozenset(
        {
            Operation.GENERATE_DATA_KEY,
            Operation.WRAP,
            Operation.UNWRAP,
            Operation.REWRAP,
            Operation.DESCRIBE_KEY,
        }
    ),
    "ops": frozenset(
        {
            Operation.CREATE_KEY,
            Operation.ROTATE_KEY,
            Operation.DISABLE_KEY,
            Operation.ENABLE_KEY,
            Operation.SET_MIN_DECRYPT_VERSION,
            Operation.SCHEDULE_DELETION,
            Operation.CANCEL_DELETION,
            Operation.DESTROY,
            Operation.DESCRIBE_KEY,
            Operation.LIST_KEYS,
        }
    ),
}

_PRESETS: Mapping[str, Mapping[str, frozenset[Operation]]] = {"default": DEFAULT_GRANTS}


@dataclass(frozen=True, slots=True)
class KeydPolicy:
    """Operations allowed per SPIFFE ID of one trust domain; built once at start."""

    trust_domain: str
    grants: Mapping[str, frozenset[Operation]]
    """Canonical SPIFFE ID string -> allowed operations."""

    @classmethod
    def build(
        cls,
        trust_domain: str,
        preset: str = "default",
        grants: Mapping[str, Sequence[str]] | None = None,
    ) -> KeydPolicy:
        """The preset's table, or ``grants`` instead when given (validated: an unknown
        service name or operation is a ``ConfigError``, never ignored)."""
        if grants is None:
            try:
                table = _PRESETS[preset]
            except KeyError:
                raise ConfigError(f"unknown keyd policy preset {preset!r}") from None
        else:
            table = {service: _operations(service, ops) for service, ops in grants.items()}
        resolved: dict[str, frozenset[Operation]] = {}
        for service, ops in table.items():
            if not _SERVICE.fullmatch(service):
                raise ConfigError(f"keyd.grants: {service!r} is not a service name")
            resolved[str(SpiffeId.for_service(trust_domain, service))] = frozenset(ops)
        return cls(trust_domain, resolved)

    def allows(self, caller: SpiffeId, operation: Operation) -> bool:
        return operation in self.grants.get(str(caller), frozenset())

    def as_json(self) -> dict[str, list[str]]:
        return {who: sorted(op.value for op in ops) for who, ops in sorted(self.grants.items())}


def _operations(service: str, names: Sequence[str]) -> frozenset[Operation]:
    ops = set()
    for name in names:
        try:
            ops.add(Operation(name))
        except ValueError:
            raise ConfigError(
                f"keyd.grants.{service}: unknown operation {name!r}; known: "
                + ", ".join(op.value for op in Operation)
            ) from None
    return frozenset(ops)
