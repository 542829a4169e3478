"""Seal a 5 MiB recording with a real ``Vault``, store it in both stores, and read a 1 KiB
range back through ``vault.range_reader(ctx, store.open_reader(key))``, counting on the
wire (botocore's own events) that S3 served only the header, the body prefix and the two
chunks that cover the range, never the whole object."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from callvault import OpenError, Vault
from callvault.format import ENCRYPTED_CHUNK_SIZE, PREFIX_SIZE, header_length
from callvault.storage.objects import LocalObjectStore, S3ObjectStore, object_key

SIZE = 5 * 1024 * 1024
BODY_PREFIX = 56  # Cobblestone salt + commitment, read once to check the commitment
START = 183 * 16384 - 512  # a 1 KiB range that straddles a chunk boundary
END = START + 1023


class WireCounter:
    """Counts GET requests and the bytes their responses carried, as botocore saw them."""

    def __init__(self, client: Any) -> None:
        self.ranges: list[str] = []
        self.bytes = 0
        client.meta.events.register("before-call.s3.GetObject", self._request)
        client.meta.events.register("after-call.s3.GetObject", self._response)

    def _request(self, params: dict[str, Any], **_: Any) -> None:
        self.ranges.append(params["headers"].get("Range", "<whole object>"))

    def _response(self, http_response: Any, **_: Any) -> None:
        self.bytes += int(http_response.headers["content-length"])


@pytest.fixture
def sealed(vault: Vault, local_store: LocalObjectStore, s3_store: S3ObjectStore) -> bytes:
    """The plaintext; its sealed form is stored under KEY in both stores."""
    plaintext = os.urandom(SIZE)
    ctx = vault.context("acme", "recording", "call-1")
    pieces = (plaintext[i : i + 200_000] for i in range(0, SIZE, 200_000))
    local = local_store.put_stream(KEY, vault.seal_iter(ctx, pieces))
    remote = s3_store.put_stream(KEY, local_store.get_stream(KEY))  # constant memory copy
    assert (local.size, local.sha256) == (remote.size, remote.sha256)
    assert local.size > SIZE  # header, tags
    return plaintext


KEY = object_key("acme", "recording", "call-1")


def test_local_range_read(vault: Vault, local_store: LocalObjectStore, sealed: bytes) -> None:
    ctx = vault.context("acme", "recording", "call-1")
    with local_store.open_reader(KEY) as handle:
        assert vault.range_reader(ctx, handle).read(START, END) == sealed[START : END + 1]
    stored = (local_store.root / KEY).read_bytes()
    assert (
        hashlib.sha256(stored).hexdigest()
        == hashlib.sha256(b"".join(local_store.get_stream(KEY))).hexdigest()
    )
    assert sealed[START : START + 64] not in stored  # the store only ever saw sealed bytes


def test_s3_range_read_fetches_only_the_covering_chunks(
    vault: Vault, s3_store: S3ObjectStore, sealed: bytes
) -> None:
    ctx = vault.context("acme", "recording", "call-1")
    with s3_store.open_reader(KEY) as handle:
        header_size = header_length(handle.read_at(0, PREFIX_SIZE))
    budget = PREFIX_SIZE + header_size + BODY_PREFIX + 2 * ENCRYPTED_CHUNK_SIZE
    wire = WireCounter(s3_store._client)
    with s3_store.open_reader(KEY) as handle:
        reader = vault.range_reader(ctx, handle)
        assert reader.read(START, END) == sealed[START : END + 1]
        assert wire.bytes == handle.bytes_fetched == budget  # two chunks: it straddles
    assert "<whole object>" not in wire.ranges
    assert len(wire.ranges) == 5  # prefix, header, body prefix, two chunks
    assert wire.bytes < SIZE // 100


def test_whole_object_opens_from_s3_stream(
    vault: Vault, s3_store: S3ObjectStore, sealed: bytes
) -> None:
    ctx = vault.context("acme", "recording", "call-1")
    assert b"".join(vault.open_iter(ctx, s3_store.get_stream(KEY))) == sealed


@pytest.mark.parametrize("which", ["local", "s3"])
def test_object_moved_to_another_tenant_does_not_open(
    vault: Vault, local_store: LocalObjectStore, s3_store: S3ObjectStore, sealed: bytes, which: str
) -> None:
    store = local_store if which == "local" else s3_store
    other = object_key("globex", "recording", "call-1")
    store.put_stream(other, store.get_stream(KEY))  # an operator copies the blob across
    with store.open_reader(other) as handle, pytest.raises(OpenError):
        vault.range_reader(vault.context("globex", "recording", "call-1"), handle).read(0, 9)


def test_range_reader_accepts_handles_by_type(
    local_store: LocalObjectStore, tmp_path: Path
) -> None:
    # Both readers are binary files as far as the type system and read_at_for are concerned.
    from callvault.envelope._io import read_at_for

    local_store.put_stream(KEY, [b"0123456789"])
    with local_store.open_reader(KEY) as handle:
        read_at, size = read_at_for(handle)
        assert (read_at(3, 4), size) == (b"3456", 10)
