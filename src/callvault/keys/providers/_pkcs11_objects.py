"""How a callvault master key is laid out on a PKCS#11 token.

* **One AES-256 secret key object per version**: ``CKA_LABEL = "callvault:" + key id``,
  ``CKA_ID = u32 version`` (big-endian), generated on the token with ``CKA_TOKEN``,
  ``CKA_PRIVATE``, ``CKA_SENSITIVE`` true and ``CKA_EXTRACTABLE``, ``CKA_COPYABLE``,
  ``CKA_WRAP``, ``CKA_UNWRAP``, ``CKA_DERIVE``, ``CKA_SIGN``, ``CKA_VERIFY`` false. Its
  value never exists outside the token.
* **Key state is enforced by the token**: ``CKA_ENCRYPT`` is true only on the primary
  version of an enabled key, ``CKA_DECRYPT`` only on the enabled versions at or above the
  minimum decryption version. A disabled, pending-deletion or retired key is refused by the
  HSM itself (``CKR_KEY_FUNCTION_NOT_PERMITTED``), not only by callvault.
* **The record** (labels, state, primary and minimum versions, dates) has no native
  PKCS#11 home, so it is a private data object (``CKO_DATA``, ``CKA_APPLICATION =
  "callvault-kms/v1"``, same label, JSON in ``CKA_VALUE``). SoftHSM makes a data object's
  value read-only, so a change writes a new record with the next generation number and
  then destroys the old one; readers take the highest generation, so a crash between the
  two steps leaves the new record in force.
"""

from __future__ import annotations

import json
import struct
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

import pkcs11
from pkcs11 import Attribute, KeyType, MechanismFlag, ObjectClass

from callvault._ids import Environment
from callvault.errors import KeyUnavailable
from callvault.keys.providers._base import KeyDescription, KeyState

__all__ = [
    "HandleCache",
    "KeyRecord",
    "discard_unrecorded",
    "find_versions",
    "generate_version",
    "load_record",
    "load_records",
    "set_usage",
    "store_record",
    "usage",
    "version_of",
]

APPLICATION = "callvault-kms/v1"
_PREFIX = "callvault:"
_VERSION = struct.Struct(">I")
_KEY_TEMPLATE: dict[Attribute, Any] = {
    Attribute.TOKEN: True,
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.COPYABLE: False,
    Attribute.MODIFIABLE: True,  # CKA_ENCRYPT / CKA_DECRYPT carry the key's state
    Attribute.ENCRYPT: False,  # granted by set_usage once the record says so
    Attribute.DECRYPT: False,
    Attribute.WRAP: False,
    Attribute.UNWRAP: False,
    Attribute.DERIVE: False,
    Attribute.SIGN: False,
    Attribute.VERIFY: False,
}


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """What the token cannot say about a master key itself (JSON in a data object)."""

    key_id: str
    state: str
    primary: int
    min_decrypt: int
    versions: tuple[int, ...]
    created_at: str
    rotated_at: str
    deletion_date: str | None = None
    destroyed_at: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    generation: int = 1

    def evolve(self, **changes: Any) -> KeyRecord:
        return replace(self, generation=self.generation + 1, **changes)

    def describe(self, scheme: str, environment: Environment) -> KeyDescription:
        deletion = self.deletion_date
        return KeyDescription(
            provider=scheme,
            key_id=self.key_id,
            environment=environment,
            state=KeyState(self.state),
            primary_version=self.primary,
            min_decrypt_version=self.min_decrypt,
            versions=tuple(sorted(self.versions)),
            created_at=datetime.fromisoformat(self.created_at),
            rotated_at=datetime.fromisoformat(self.rotated_at),
            deletion_date=datetime.fromisoformat(deletion) if deletion else None,
            labels=dict(self.labels),
        )

    def encode(self) -> bytes:
        document = asdict(self)
        document["versions"] = list(self.versions)
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes) -> KeyRecord:
        document = json.loads(raw)
        document["versions"] = tuple(int(v) for v in document["versions"])
        return cls(**document)


class HandleCache:
    """Key objects found on the token, per key id; used only under the module lock."""

    def __init__(self) -> None:
        self.primary: dict[str, tuple[pkcs11.EncryptMixin, int]] = {}
        self.versions: dict[tuple[str, int], pkcs11.DecryptMixin] = {}

    def forget(self, key_id: str) -> None:
        self.primary.pop(key_id, None)
        for entry in [e for e in self.versions if e[0] == key_id]:
            del self.versions[entry]

    def clear(self) -> None:
        self.primary.clear()
        self.versions.clear()


def usage(record: KeyRecord | None, version: int) -> tuple[bool, bool]:
    """(may encrypt, may decrypt) for one version under ``record``."""
    if record is None or record.state != KeyState.ENABLED.value:
        return False, False
    if version not in record.versions:
        return False, False
    return version == record.primary, version >= record.min_decrypt


def label(key_id: str) -> str:
    return _PREFIX + key_id


def version_id(version: int) -> bytes:
    return _VERSION.pack(version)


def version_of(key: pkcs11.Object) -> int:
    raw = key[Attribute.ID]
    return int(_VERSION.unpack(raw)[0]) if len(raw) == _VERSION.size else 0


def find_versions(session: pkcs11.Session, key_id: str, **where: Any) -> list[pkcs11.Object]:
    """The secret keys of ``key_id``, narrowed by ``version=``, ``encrypt=``, ``decrypt=``."""
    template: dict[Attribute, Any] = {
        Attribute.CLASS: ObjectClass.SECRET_KEY,
        Attribute.LABEL: label(key_id),
    }
    if "version" in where:
        template[Attribute.ID] = version_id(where["version"])
    if "encrypt" in where:
        template[Attribute.ENCRYPT] = where["encrypt"]
    if "decrypt" in where:
        template[Attribute.DECRYPT] = where["decrypt"]
    return list(session.get_objects(template))


def generate_version(session: pkcs11.Session, key_id: str, version: int) -> pkcs11.Object:
    """A new AES-256 version, generated inside the token, with no usage granted yet."""
    return session.generate_key(
        KeyType.AES,
        256,
        id=version_id(version),
        label=label(key_id),
        store=True,
        capabilities=MechanismFlag(0),
        template=dict(_KEY_TEMPLATE),
    )


def set_usage(key: pkcs11.Object, encrypt: bool, decrypt: bool) -> None:
    if key[Attribute.ENCRYPT] != encrypt:
        key[Attribute.ENCRYPT] = encrypt
    if key[Attribute.DECRYPT] != decrypt:
        key[Attribute.DECRYPT] = decrypt


def _record_objects(session: pkcs11.Session, key_id: str | None) -> list[pkcs11.Object]:
    template: dict[Attribute, Any] = {
        Attribute.CLASS: ObjectClass.DATA,
        Attribute.APPLICATION: APPLICATION,
    }
    if key_id is not None:
        template[Attribute.LABEL] = label(key_id)
    return list(session.get_objects(template))


def load_records(session: pkcs11.Session) -> dict[str, KeyRecord]:
    """Every callvault key record on the token, newest generation of each."""
    newest: dict[str, KeyRecord] = {}
    for obj in _record_objects(session, None):
        record = KeyRecord.decode(obj[Attribute.VALUE])
        current = newest.get(record.key_id)
        if current is None or record.generation > current.generation:
            newest[record.key_id] = record
    return newest


def load_record(session: pkcs11.Session, key_id: str) -> KeyRecord | None:
    records = [KeyRecord.decode(o[Attribute.VALUE]) for o in _record_objects(session, key_id)]
    return max(records, key=lambda r: r.generation, default=None)


def store_record(session: pkcs11.Session, record: KeyRecord) -> None:
    """Write ``record`` as a new object, then remove the older generations."""
    old = _record_objects(session, record.key_id)
    session.create_object(
        {
            Attribute.CLASS: ObjectClass.DATA,
            Attribute.TOKEN: True,
            Attribute.PRIVATE: True,
            Attribute.MODIFIABLE: False,
            Attribute.APPLICATION: APPLICATION,
            Attribute.LABEL: label(record.key_id),
            Attribute.VALUE: record.encode(),
        }
    )
    for obj in old:
        if KeyRecord.decode(obj[Attribute.VALUE]).generation < record.generation:
            obj.destroy()


def discard_unrecorded(session: pkcs11.Session, key_id: str, version: int) -> None:
    """Remove objects of a version a crashed rotation generated but never recorded. They
    were never granted a usage, so nothing was wrapped under them; one that was is not
    ours to judge, and the rotation stops."""
    for key in find_versions(session, key_id, version=version):
        if key[Attribute.ENCRYPT] or key[Attribute.DECRYPT]:
            raise KeyUnavailable(
                f"an unrecorded object for {key_id} version {version} is usable on the token; "
                "refusing to rotate over it"
            )
        key.destroy()
