"""The format v1 vectors (format_v1.json), checked three ways.

(a) Reproduction: every valid vector is rebuilt from its recorded inputs with the
    deterministic builder and must match byte for byte; the whole file must equal what
    generate.py writes today; and the builder must reproduce what the real sealer writes.
    So no change to the format goes unnoticed.
(b) Independent opening: header fields checked one by one, the DEK unwrapped with AESGCM and
    AADs encoded here from docs/format.md (not with callvault's encoders), the body decrypted
    with ``cryptography.cobblestone`` (an independent Cobblestone-256), chunk by chunk at the
    documented offsets, and through callvault's RangeReader. Invalid vectors must fail at
    their stated layer and no earlier.
(c) The real opener: ``callvault.envelope`` over a local KMS keyring holding the vector's
    master key (and, for subject vectors, the vector's managed-key record).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import io
import json
import struct
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography.cobblestone import Cobblestone256Decryptor
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from callvault import errors
from callvault._ids import DataClass, Environment
from callvault.envelope import open_bytes, open_iter, open_stream, range_reader, seal_bytes
from callvault.errors import OpenError
from callvault.format import Header, ObjectContext, RangeReader, header_length
from callvault.format._cobblestone import BodyLayout, derive
from callvault.keys import CachePolicy, Kek, KeyCache, KeyHierarchy, KeyMaterial, ManagedKeyStore
from callvault.keys._managed import ManagedKeyRecord
from callvault.keys.providers import LocalKms, WrappedKey
from callvault.keys.providers._keyring_file import KeyringFile
from callvault.testing import local_kms_wrap, seal_v1, subject_key_id

HERE = Path(__file__).parent
VECTORS_FILE = HERE / "format_v1.json"
DOCUMENT: dict[str, Any] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
VECTORS: list[dict[str, Any]] = DOCUMENT["vectors"]
VALID = [v for v in VECTORS if v["expect"] == "valid"]
INVALID = [v for v in VECTORS if v["expect"] == "invalid"]
BY_ID = {v["id"]: v for v in VECTORS}

RECIPES: dict[str, Callable[[int], bytes]] = {
    "bytes(i % 251 for i in range(length))": lambda n: bytes(i % 251 for i in range(n)),
}
CHUNK = 16384
ENCRYPTED_CHUNK = CHUNK + 16
HKDF_INFO = b"c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM\x00"


def _params(vectors: list[dict[str, Any]]) -> list[Any]:
    params = []
    for v in vectors:
        marks = []
        if "known_issue" in v:
            marks.append(pytest.mark.xfail(strict=True, reason=v["known_issue"]))
        params.append(pytest.param(v, id=v["id"], marks=marks))
    return params


# -- the encodings of docs/format.md, written out independently of callvault.format ---------


def fields(label: bytes, items: Sequence[bytes]) -> bytes:
    out = struct.pack(">H", len(label)) + label + struct.pack(">H", len(items))
    for item in items:
        out += struct.pack(">I", len(item)) + item
    return out


def context_fields(ctx: dict[str, Any]) -> list[bytes]:
    subject = b"\x00" if ctx["subject"] is None else b"\x01" + ctx["subject"].encode("utf-8")
    return [
        ctx["tenant"].encode(),
        ctx["environment"].encode(),
        ctx["data_class"].encode(),
        ctx["object_id"].encode(),
        subject,
    ]


def body_context(header: Header, ctx: dict[str, Any]) -> bytes:
    return fields(
        b"callvault/body-context/v1",
        [
            b"CVLT\x01\x00",
            header.key_ref.provider.encode(),
            header.key_ref.key_id.encode(),
            header.subject_key_id,
            *context_fields(ctx),
        ],
    )


def dek_wrap_aad(header: Header, ctx: dict[str, Any]) -> bytes:
    items = [header.key_ref.provider.encode(), header.key_ref.key_id.encode()]
    items.append(header.subject_key_id)
    if header.subject_key_id:  # a subject key has no versions: the AAD binds the header's
        items.append(struct.pack(">I", header.key_ref.version))
    return fields(b"callvault/dek-wrap/v1", [*items, *context_fields(ctx)])


def local_kms_aad(key_id: str, version: int, associated_data: bytes) -> bytes:
    return fields(
        b"callvault/local-kms-wrap/v1",
        [key_id.encode(), struct.pack(">I", version), associated_data],
    )


def aes_gcm_open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """nonce(12) || ciphertext || tag(16) of a 32-byte key; any failure is OpenError."""
    if len(blob) != 12 + 32 + 16:
        raise OpenError
    try:
        return AESGCM(key).decrypt(blob[:12], blob[12:], aad)
    except InvalidTag:
        raise OpenError from None


def unwrap_dek(v: dict[str, Any], header: Header, ctx: dict[str, Any]) -> bytes:
    """Recover the DEK the way docs/format.md says, holding only the vector's key material."""
    keys = v["keys"]
    master = bytes.fromhex(keys["master_key"])
    if header.key_ref.provider != "local":
        raise OpenError  # no such provider configured
    if not header.subject_key_id:
        # The KMS holds one key; a header naming another id or version is still tried with
        # it, so that the AAD binding (not a failed lookup) is what rejects the edit.
        aad = local_kms_aad(
            header.key_ref.key_id, header.key_ref.version, dek_wrap_aad(header, ctx)
        )
        return aes_gcm_open(master, header.wrapped_dek, aad)
    subject = keys["subject"]
    if subject is None:
        raise OpenError  # no subject keys at all
    record = subject["record"]
    name = f"{ctx['tenant']}/{ctx['data_class']}/subject/{header.subject_key_id.hex()}"
    if name != record["name"] or record["kek_id"] != header.key_ref.key_id:
        raise OpenError  # no such managed-key record
    managed_aad = fields(b"callvault/managed-key/v1", [name.encode()])
    subject_key = aes_gcm_open(
        master,
        bytes.fromhex(record["wrapped"]),
        local_kms_aad(record["kek_id"], record["version"], managed_aad),
    )
    assert subject_key.hex() == subject["subject_key"]
    return aes_gcm_open(subject_key, header.wrapped_dek, dek_wrap_aad(header, ctx))


def split(sealed: bytes) -> tuple[Header, bytes]:
    if len(sealed) < 8:
        raise OpenError
    size = header_length(sealed[:8])
    return Header.parse(sealed[:size]), sealed[size:]


def hkdf(dek: bytes, salt: bytes, context: bytes) -> tuple[bytes, bytes, bytes]:
    okm = HKDFExpand(hashes.SHA512(), 32 + 12 + 32, HKDF_INFO + salt + context).derive(dek)
    return okm[:32], okm[32:44], okm[44:]


def cobblestone_open(dek: bytes, context: bytes, body: bytes, piece: int = 0) -> bytes:
    dec = Cobblestone256Decryptor(dek, context)
    if not piece:
        return dec.update(body) + dec.finalize()
    out = b"".join(dec.update(body[i : i + piece]) for i in range(0, len(body), piece))
    return out + dec.finalize()


def context_of(v: dict[str, Any]) -> ObjectContext:
    c = v["context"]
    return ObjectContext(
        c["tenant"],
        Environment(c["environment"]),
        DataClass(c["data_class"]),
        c["object_id"],
        c["subject"],
    )


def plaintext_of(v: dict[str, Any]) -> bytes:
    spec = v["plaintext"]
    if "hex" in spec:
        data = bytes.fromhex(spec["hex"])
    else:
        assert spec["recipe"] in DOCUMENT["recipes"]
        data = RECIPES[spec["recipe"]](spec["length"])
    assert len(data) == spec["length"]
    assert hashlib.sha256(data).hexdigest() == spec["sha256"]
    return data


# -- the file itself ------------------------------------------------------------------------


def test_document_header() -> None:
    assert DOCUMENT["format"] == "callvault-format-vectors/v1"
    provenance = DOCUMENT["provenance"]
    assert provenance["format_version"] == 1
    assert provenance["generator"].startswith("tests/vectors/generate.py")
    assert provenance["date"]
    assert len({v["id"] for v in VECTORS}) == len(VECTORS)
    for v in VECTORS:
        assert v["expect"] in ("valid", "invalid")
        assert v["comment"]
        if v["expect"] == "invalid":
            assert v["error"] == "OpenError"
            assert v["layer"] in ("parse", "unwrap", "commitment", "body")
            assert v["derived_from"] in BY_ID


def test_coverage() -> None:
    lengths = {v["plaintext"]["length"] for v in VALID}
    assert {0, 1, CHUNK, CHUNK + 1} <= lengths
    assert any(n > 2 * CHUNK for n in lengths)
    assert {v["context"]["data_class"] for v in VALID} == {c.value for c in DataClass}
    assert {v["context"]["environment"] for v in VALID} == {e.value for e in Environment}
    subjects = [v["context"]["subject"] for v in VALID]
    assert None in subjects
    assert any(s is not None and not s.isascii() for s in subjects)
    assert {v["layer"] for v in INVALID} == {"parse", "unwrap", "commitment", "body"}


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "callvault_vectors_generate", HERE / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_file_is_what_the_generator_writes() -> None:
    generator = _load_generator()
    assert generator.render(generator.build_document()) == VECTORS_FILE.read_text(
        encoding="utf-8"
    ), "format_v1.json is stale or the format changed: run tests/vectors/generate.py"


# -- (a) every valid vector rebuilt from its recorded inputs --------------------------------


@pytest.mark.parametrize("v", _params(VALID))
def test_valid_vector_rebuilds_byte_for_byte(v: dict[str, Any]) -> None:
    keys = v["keys"]
    subject = keys["subject"]
    ctx = context_of(v)
    rebuilt = seal_v1(
        ctx,
        plaintext_of(v),
        dek=bytes.fromhex(keys["dek"]),
        salt=bytes.fromhex(keys["salt"]),
        dek_wrap_nonce=bytes.fromhex(keys["dek_wrap_nonce"]),
        key_id=keys["key_id"],
        key_version=keys["key_version"],
        master_key=bytes.fromhex(keys["master_key"]),
        subject_key=bytes.fromhex(subject["subject_key"]) if subject else None,
        subject_id=bytes.fromhex(subject["subject_key_id"]) if subject else b"",
    )
    assert rebuilt.hex() == v["sealed"]
    if subject:
        assert (
            subject_key_id(bytes.fromhex(subject["index_key"]), ctx.subject or "").hex()
            == (subject["subject_key_id"])
        )
        record = subject["record"]
        blob = local_kms_wrap(
            bytes.fromhex(keys["master_key"]),
            record["kek_id"],
            record["version"],
            bytes.fromhex(record["wrap_nonce"]),
            bytes.fromhex(subject["subject_key"]),
            fields(b"callvault/managed-key/v1", [record["name"].encode()]),
        )
        assert blob.hex() == record["wrapped"]


# -- (b) valid vectors opened with independent code -----------------------------------------


@pytest.mark.parametrize("v", _params(VALID))
def test_valid_vector_header_fields(v: dict[str, Any]) -> None:
    sealed = bytes.fromhex(v["sealed"])
    keys = v["keys"]
    header, body = split(sealed)
    size = v["header_length"]
    assert len(sealed) - len(body) == size
    assert sealed[:4] == b"CVLT" and sealed[4] == 1 and sealed[5] == 0
    assert struct.unpack(">H", sealed[6:8])[0] == size
    assert header.encode() == sealed[:size]
    assert header.key_ref.provider == keys["provider"] == "local"
    assert header.key_ref.key_id == keys["key_id"]
    assert header.key_ref.version == keys["key_version"]
    assert header.wrapped_dek[:12].hex() == keys["dek_wrap_nonce"]
    assert len(header.wrapped_dek) == 60
    subject = keys["subject"]
    if subject is None:
        assert header.subject_key_id == b""
    else:
        index_key = bytes.fromhex(subject["index_key"])
        message = fields(b"callvault/subject-id/v1", [v["context"]["subject"].encode()])
        assert header.subject_key_id == hmac.digest(index_key, message, "sha256")
        assert header.subject_key_id.hex() == subject["subject_key_id"]
    # every byte of the header accounted for, in the order of docs/format.md
    p = header.key_ref.provider.encode()
    k = header.key_ref.key_id.encode()
    expected = (
        b"CVLT\x01\x00"
        + struct.pack(">H", size)
        + bytes([len(p)])
        + p
        + struct.pack(">H", len(k))
        + k
        + struct.pack(">I", header.key_ref.version)
        + bytes([len(header.subject_key_id)])
        + header.subject_key_id
        + struct.pack(">H", len(header.wrapped_dek))
        + header.wrapped_dek
    )
    assert expected == sealed[:size]
    assert header.body_context(context_of(v)) == body_context(header, v["context"])
    assert header.wrap_aad(context_of(v)) == dek_wrap_aad(header, v["context"])


@pytest.mark.parametrize("v", _params(VALID))
def test_valid_vector_opens_independently(v: dict[str, Any]) -> None:
    sealed = bytes.fromhex(v["sealed"])
    plaintext = plaintext_of(v)
    header, body = split(sealed)
    dek = unwrap_dek(v, header, v["context"])
    assert dek.hex() == v["keys"]["dek"]
    context = body_context(header, v["context"])
    assert body[:24].hex() == v["keys"]["salt"]
    assert cobblestone_open(dek, context, body) == plaintext
    assert cobblestone_open(dek, context, body, piece=1000) == plaintext

    # the fixed layout: chunk k at H + 56 + k * 16400 of the sealed object
    key, base_nonce, commitment = hkdf(dek, body[:24], context)
    assert body[24:56] == commitment
    count = len(plaintext) // CHUNK + 1
    h = v["header_length"]
    assert len(sealed) == h + 56 + len(plaintext) + 16 * count
    recovered = b""
    for k in range(count):
        start = h + 56 + k * ENCRYPTED_CHUNK
        encrypted = sealed[start : min(start + ENCRYPTED_CHUNK, len(sealed))]
        nonce = (int.from_bytes(base_nonce, "big") ^ k).to_bytes(12, "big")
        recovered += AESGCM(key).decrypt(nonce, encrypted, None)
    assert recovered == plaintext


@pytest.mark.parametrize("v", _params(VALID))
def test_valid_vector_range_reader(v: dict[str, Any]) -> None:
    sealed = bytes.fromhex(v["sealed"])
    plaintext = plaintext_of(v)
    header, body = split(sealed)
    dek = unwrap_dek(v, header, v["context"])
    h = v["header_length"]
    reads: list[tuple[int, int]] = []

    def read_at(offset: int, size: int) -> bytes:
        reads.append((offset, size))
        return sealed[offset : offset + size]

    reader = RangeReader(read_at, h, len(body), dek, body_context(header, v["context"]))
    assert reads == [(h, 56)]  # the commitment, before any chunk
    assert reader.length == len(plaintext)
    assert reader.authenticated_length() == len(plaintext)
    if not plaintext:
        return
    assert reader.read(0, len(plaintext) - 1) == plaintext
    n = len(plaintext)
    for start, end in [(0, 0), (n - 1, n - 1), (CHUNK - 1, CHUNK), (CHUNK, n - 1), (1, n - 2)]:
        if 0 <= start <= end < n:
            reads.clear()
            assert reader.read(start, end) == plaintext[start : end + 1]
            chunks = {(o - h - 56) // ENCRYPTED_CHUNK for o, _ in reads}
            assert chunks == set(range(start // CHUNK, end // CHUNK + 1))


# -- (b) invalid vectors fail at their layer, and not before --------------------------------


@pytest.mark.parametrize("v", _params(INVALID))
def test_invalid_vector_fails_at_its_layer(v: dict[str, Any]) -> None:
    sealed = bytes.fromhex(v["sealed"])
    ctx = v["context"]
    layer = v["layer"]
    if layer == "parse":
        with pytest.raises(OpenError):
            split(sealed)
        return
    header, body = split(sealed)
    if layer == "unwrap":
        with pytest.raises(OpenError):
            unwrap_dek(v, header, ctx)
        return
    dek = unwrap_dek(v, header, ctx)
    context = body_context(header, ctx)
    if layer == "commitment":
        BodyLayout(len(body))  # a well-formed length: it is the commitment that fails
        assert hkdf(dek, body[:24], context)[2] != body[24:56]
        with pytest.raises(OpenError):
            derive(dek, body[:56], context)
    elif len(body) >= 56:
        derive(dek, body[:56], context)  # the commitment holds; a later check fails
    with pytest.raises(InvalidTag):
        cobblestone_open(dek, context, body)
    try:
        reader = RangeReader(
            lambda o, n: sealed[o : o + n], len(sealed) - len(body), len(body), dek, context
        )
    except OpenError:
        return  # the stored length alone is impossible
    assert_range_reader_refuses(reader, OpenError)


def assert_range_reader_refuses(reader: RangeReader, error: type[Exception]) -> None:
    """Reading the whole inferred range must fail by itself: a reader that returned it
    would have handed out a truncated or altered object as complete."""
    with pytest.raises(error):
        if reader.length:
            reader.read(0, reader.length - 1)
        else:
            reader.authenticated_length()


# -- (c) the real opener over a local KMS keyring -------------------------------------------


def real_hierarchy(tmp_path: Path, v: dict[str, Any]) -> KeyHierarchy:
    """A local KMS whose keyring holds the vector's master key version, plus its subject
    key record; configured for the environment the key belongs to."""
    keys = v["keys"]
    environment = Environment(keys["key_id"].split("/", 1)[0])
    root = KeyMaterial(bytes(range(32)), "test root key")
    path = tmp_path / "keyring.cvkr"
    now = "2026-01-01T00:00:00+00:00"
    version = str(keys["key_version"])
    material = base64.b64encode(bytes.fromhex(keys["master_key"])).decode()
    KeyringFile(path, root, environment).store(
        {
            "format": "callvault-keyring/v1",
            "environment": environment.value,
            "keys": {
                keys["key_id"]: {
                    "labels": {"tenant": "vectors"},
                    "state": "enabled",
                    "primary": keys["key_version"],
                    "min_decrypt": 1,
                    "created_at": now,
                    "rotated_at": now,
                    "deletion_date": None,
                    "versions": {version: {"created_at": now, "material": material}},
                }
            },
        }
    )
    managed = ManagedKeyStore(tmp_path / "managed.json")
    if keys["subject"] is not None:
        record = keys["subject"]["record"]
        managed.put_if_absent(
            ManagedKeyRecord(
                record["name"],
                record["kek_id"],
                WrappedKey(record["version"], bytes.fromhex(record["wrapped"])),
                now,
            )
        )
    provider = LocalKms(path, root, environment)
    kek = Kek(keys["key_id"])
    return KeyHierarchy(provider, managed, lambda _t, _c: kek, KeyCache(CachePolicy()))


@pytest.mark.parametrize("v", _params(VALID))
def test_valid_vector_opens_with_real_opener(tmp_path: Path, v: dict[str, Any]) -> None:
    hierarchy = real_hierarchy(tmp_path, v)
    ctx = context_of(v)
    sealed = bytes.fromhex(v["sealed"])
    plaintext = plaintext_of(v)
    assert open_bytes(hierarchy, ctx, sealed) == plaintext
    out = io.BytesIO()
    assert open_stream(hierarchy, ctx, io.BytesIO(sealed), out) == len(plaintext)
    assert out.getvalue() == plaintext
    pieces = [sealed[i : i + 1000] for i in range(0, len(sealed), 1000)]
    assert b"".join(open_iter(hierarchy, ctx, pieces)) == plaintext
    reader = range_reader(hierarchy, ctx, sealed)
    assert reader.authenticated_length() == len(plaintext)
    if plaintext:
        assert reader.read(0, len(plaintext) - 1) == plaintext


@pytest.mark.parametrize("v", _params(INVALID))
def test_invalid_vector_refused_by_real_opener(tmp_path: Path, v: dict[str, Any]) -> None:
    hierarchy = real_hierarchy(tmp_path, v)
    ctx = context_of(v)
    expected: type[Exception] = getattr(errors, v.get("opener_error", v["error"]))
    with pytest.raises(expected) as info:
        open_bytes(hierarchy, ctx, bytes.fromhex(v["sealed"]))
    if expected is OpenError:
        assert str(info.value) == OpenError.MESSAGE  # the same message, whatever failed
    sealed = bytes.fromhex(v["sealed"])
    with pytest.raises(expected):
        open_stream(hierarchy, ctx, io.BytesIO(sealed), io.BytesIO())
    with pytest.raises(expected):
        b"".join(open_iter(hierarchy, ctx, [sealed[i : i + 7] for i in range(0, len(sealed), 7)]))
    try:
        reader = range_reader(hierarchy, ctx, sealed)
    except expected:
        return
    assert_range_reader_refuses(reader, expected)


# -- the builder is the real sealer with its randomness injected ----------------------------


@pytest.mark.parametrize("subject", [None, "+15551234567", "Zoë"])
@pytest.mark.parametrize("size", [0, 1, CHUNK, 2 * CHUNK + 5])
def test_builder_reproduces_real_sealer(tmp_path: Path, subject: str | None, size: int) -> None:
    root = KeyMaterial(bytes(range(32)), "test root key")
    path = tmp_path / "keyring.cvkr"
    provider = LocalKms(path, root, Environment.DEV)
    key_id = "dev/acme/default"
    provider.create_key(key_id, {"tenant": "acme"})
    provider.rotate_key(key_id)  # seal under version 2
    managed = ManagedKeyStore(tmp_path / "managed.json")
    kek = Kek(key_id)
    hierarchy = KeyHierarchy(provider, managed, lambda _t, _c: kek, KeyCache(CachePolicy()))
    ctx = ObjectContext("acme", Environment.DEV, DataClass.RECORDING, "call-1", subject)
    plaintext = RECIPES["bytes(i % 251 for i in range(length))"](size)
    sealed = seal_bytes(hierarchy, ctx, plaintext)

    header, body = split(sealed)
    assert header.key_ref.version == 2
    entry = KeyringFile(path, root, Environment.DEV).load()["keys"][key_id]
    master = base64.b64decode(entry["versions"]["2"]["material"])
    ctx_json = {
        "tenant": ctx.tenant,
        "environment": ctx.environment.value,
        "data_class": ctx.data_class.value,
        "object_id": ctx.object_id,
        "subject": subject,
    }
    subject_key = None
    if subject is None:
        aad = local_kms_aad(key_id, 2, dek_wrap_aad(header, ctx_json))
        dek = aes_gcm_open(master, header.wrapped_dek, aad)
    else:
        name = f"acme/recording/subject/{header.subject_key_id.hex()}"
        record = managed.get(name)
        assert record is not None and record.wrapped.version == 2
        managed_aad = fields(b"callvault/managed-key/v1", [name.encode()])
        subject_key = aes_gcm_open(
            master, record.wrapped.blob, local_kms_aad(key_id, 2, managed_aad)
        )
        dek = aes_gcm_open(subject_key, header.wrapped_dek, dek_wrap_aad(header, ctx_json))
    rebuilt = seal_v1(
        ctx,
        plaintext,
        dek=dek,
        salt=body[:24],
        dek_wrap_nonce=header.wrapped_dek[:12],
        key_id=key_id,
        key_version=2,
        master_key=master,
        subject_key=subject_key,
        subject_id=header.subject_key_id,
    )
    assert rebuilt == sealed
