"""What a leaked master-key version exposes, computed the way an attacker would, and every
DEK the store uses now, computed the way the vault does.

Loaded by path from test_revoke (the test tree is not a package). ``walk`` yields every
sealed value with the context it opens under (a recording's and a row's subject come from
its sidecar / subject part; a transcript's field-level seals are values of their own).
``attacker_deks`` takes the raw bytes of one local-KMS version (read from the keyring
file, as a thief of the keyring and root key would), a copy of managed.json and copies of
the sealed values, and returns every DEK and subject key that version can recover.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from callvault import DataClass, Vault
from callvault.api._transcripts import split_subject_frame
from callvault.envelope import header_of
from callvault.format import Header, ObjectContext
from callvault.keys._hierarchy import _managed_aad
from callvault.keys.providers import resolve_root_key
from callvault.keys.providers._keyring_file import KeyringFile
from callvault.keys.providers._keyring_view import aad_prefix, wrap_aad
from callvault.storage.objects import ObjectStore, split_key
from callvault.storage.records import RecordStore, SealedTable

_CLASSES = {
    SealedTable.TRANSCRIPTS: DataClass.TRANSCRIPT,
    SealedTable.ANALYTICS: DataClass.ANALYTICS,
}


def raw_version(vault: Vault, key_id: str, version: int) -> bytes:
    """The bytes of ``key_id`` version ``version``, straight out of the keyring file."""
    path = vault.home / "keys" / "keyring.cvkr"
    document = KeyringFile(path, resolve_root_key(vault.home), vault.environment).load()
    material = document["keys"][key_id]["versions"][str(version)]["material"]
    return base64.b64decode(material)


def walk(
    vault: Vault, objects: ObjectStore, records: RecordStore
) -> Iterator[tuple[str, ObjectContext, bytes]]:
    """``(label, context, sealed)`` for every sealed value, opened with the current keys."""
    for tenant in ("acme", "globex"):
        for key in objects.list(tenant):
            _t, data_class, object_id = split_key(key)
            sealed = b"".join(objects.get_stream(key))
            subject = None
            if header_of(sealed).subject_key_id:
                meta = b"".join(objects.get_stream(key + ":meta"))
                meta_context = vault.context(tenant, data_class, object_id + ":meta")
                subject = json.loads(vault.open(meta_context, meta))["subject"]
            yield f"object {key}", vault.context(tenant, data_class, object_id, subject), sealed
        for table, data_class in _CLASSES.items():
            for page in records.iter_sealed(tenant, table):
                for record_id, blob in page:
                    yield from _row(vault, tenant, table, data_class, record_id, blob)


def _row(
    vault: Vault, tenant: str, table: SealedTable, data_class: DataClass, rid: str, blob: bytes
) -> Iterator[tuple[str, ObjectContext, bytes]]:
    part, document = split_subject_frame(blob)
    meta = vault.context(tenant, data_class, rid + ":meta")
    yield f"{table} {tenant}/{rid} part", meta, part
    subject = json.loads(vault.open(meta, part))["subject"]
    context = vault.context(tenant, data_class, rid, subject)
    yield f"{table} {tenant}/{rid} document", context, document
    if data_class is DataClass.TRANSCRIPT:
        fields = json.loads(vault.open(context, document))["sealed"]
        for name, value in sorted(fields.items()):
            field = vault.context(tenant, data_class, f"{rid}:{name}", subject)
            yield f"{table} {tenant}/{rid} field {name}", field, base64.b64decode(value)


def current_deks(vault: Vault, objects: ObjectStore, records: RecordStore) -> dict[str, bytes]:
    vault.cache.clear()
    return {
        label: vault.keys.data_key(header_of(sealed), context).secret_bytes()
        for label, context, sealed in walk(vault, objects, records)
    }


def _open(key: bytes, blob: bytes, aad: bytes) -> bytes | None:
    try:
        return AESGCM(key).decrypt(blob[:12], blob[12:], aad)
    except InvalidTag:
        return None


def attacker_deks(
    raw: bytes,
    key_id: str,
    version: int,
    managed_json: Path,
    values: list[tuple[str, ObjectContext, bytes]],
) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """``(DEKs by label, subject keys by record name)`` that ``raw`` (``key_id`` at
    ``version``) recovers from the copies ``managed_json`` and ``values``."""
    subject_keys = {}
    for name, entry in json.loads(managed_json.read_bytes())["keys"].items():
        if entry.get("kek_id") != key_id or entry.get("version") != version:
            continue
        blob = base64.b64decode(entry["blob"])
        found = _open(raw, blob, wrap_aad(aad_prefix(key_id, version), _managed_aad(name)))
        assert found is not None, name  # the raw bytes really are that version
        subject_keys[name] = found
    deks = {}
    for label, context, sealed in values:
        header: Header = header_of(sealed)
        if not header.subject_key_id:
            if (header.key_ref.key_id, header.key_ref.version) != (key_id, version):
                continue
            aad = wrap_aad(aad_prefix(key_id, version), header.wrap_aad(context))
            dek = _open(raw, header.wrapped_dek, aad)
        else:
            name = f"{context.tenant}/{context.data_class.value}/subject/"
            subject_key = subject_keys.get(name + header.subject_key_id.hex())
            if subject_key is None:
                continue
            dek = _open(subject_key, header.wrapped_dek, header.wrap_aad(context))
        if dek is not None:  # None: not under the stolen key (any more)
            deks[label] = dek
    return deks, subject_keys


def everything(vault: Vault, objects: ObjectStore, records: RecordStore) -> dict[str, Any]:
    """A snapshot of every stored byte the revocation may write (a dry run must not)."""
    return {
        "values": {label: sealed for label, _c, sealed in walk(vault, objects, records)},
        "managed": (vault.home / "keys" / "managed.json").read_bytes(),
        "keys": [
            (k.key_id, k.primary_version, k.min_decrypt_version) for k in vault.provider.list_keys()
        ],
    }
