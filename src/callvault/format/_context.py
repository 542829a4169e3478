"""The object context: what a sealed object belongs to.

The context is never stored; the opener must know it. It is bound into the body's key
derivation, so a ciphertext moved to another tenant, environment, class, object id or
subject fails its commitment check and does not open.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from callvault._ids import (
    DataClass,
    Environment,
    check_object_id,
    check_subject,
    check_tenant_id,
)
from callvault.format._encoding import encode_fields, encode_tail

__all__ = ["ObjectContext"]

_NO_SUBJECT = b"\x00"
_SUBJECT = b"\x01"


@dataclass(frozen=True, slots=True)
class ObjectContext:
    """Tenant, environment, data class, object id and optional data subject of one object."""

    tenant: str
    environment: Environment
    data_class: DataClass
    object_id: str
    subject: str | None = None
    # Derived once: every seal and open encodes the fields twice (wrap AAD, body context).
    _fields: tuple[bytes, ...] = field(init=False, repr=False, compare=False)
    _tail: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_tenant_id(self.tenant)
        check_object_id(self.object_id)
        object.__setattr__(self, "environment", Environment(self.environment))
        object.__setattr__(self, "data_class", DataClass(self.data_class))
        if self.subject is not None:
            check_subject(self.subject)
        subject = _NO_SUBJECT if self.subject is None else _SUBJECT + self.subject.encode()
        fields = (
            self.tenant.encode(),
            self.environment.value.encode(),
            self.data_class.value.encode(),
            self.object_id.encode(),
            subject,
        )
        object.__setattr__(self, "_fields", fields)
        object.__setattr__(self, "_tail", encode_tail(fields))

    def fields(self) -> tuple[bytes, ...]:
        """The canonical field list, in the order docs/format.md fixes."""
        return self._fields

    def encoded_tail(self) -> bytes:
        """The fields' share of any encoding they end (``encode_tail(self.fields())``)."""
        return self._tail

    def encode(self) -> bytes:
        return encode_fields(b"callvault/object-context/v1", self.fields())
