"""``put_stream`` and ``get_stream`` hold a bounded amount in memory whatever the object
size: one block locally, about one multipart part for S3 (measured with tracemalloc)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

from callvault.storage.objects import MIN_PART_SIZE, LocalObjectStore, S3ObjectStore

MIB = 1024 * 1024
KEY = "acme/recording/big"


def _pieces(total: int) -> Iterator[bytes]:
    for _ in range(total // MIB):
        yield bytes(MIB)


def _peak(fn: object) -> int:
    tracemalloc.start()
    try:
        fn()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_local_streams_in_constant_memory(local_store: LocalObjectStore) -> None:
    size = 64 * MIB
    assert _peak(lambda: local_store.put_stream(KEY, _pieces(size))) < 4 * MIB
    assert _peak(lambda: sum(len(b) for b in local_store.get_stream(KEY))) < 4 * MIB
    assert local_store.stat(KEY).size == size


def test_s3_streams_in_about_one_part(s3_store: S3ObjectStore) -> None:
    size = 5 * MIN_PART_SIZE
    peak = _peak(lambda: s3_store.put_stream(KEY, _pieces(size)))
    assert peak < 3 * MIN_PART_SIZE, peak  # a part and its copy, not the 40 MiB object
    assert _peak(lambda: sum(len(b) for b in s3_store.get_stream(KEY))) < 8 * MIB
    assert s3_store.stat(KEY).size == size
