"""Object stores for sealed objects (recordings, exports): a local directory or S3.

A store only ever receives bytes callvault has already sealed, so it needs no keys and can
leak no plaintext. Every backend implements ``ObjectStore``: atomic ``put_stream`` (last
complete write wins), ``open_reader`` for range reads that fetch only what a range needs
(``vault.range_reader(ctx, store.open_reader(key))``), ``get_stream``, ``delete``,
``exists``, ``stat`` and ``list``. Keys are ``tenant/class/object-id`` (``object_key``).
See docs/storage.md.
"""

from callvault.storage.objects._base import ObjectInfo, ObjectStat, ObjectStore, Source
from callvault.storage.objects._errors import ObjectNotFound, ObjectStoreError
from callvault.storage.objects._keys import check_key, check_prefix, object_key, split_key
from callvault.storage.objects._local import LocalObjectReader, LocalObjectStore
from callvault.storage.objects._reader import ObjectReader
from callvault.storage.objects._s3 import MIN_PART_SIZE, S3ObjectReader, S3ObjectStore
from callvault.storage.objects._s3_settings import S3Settings, open_s3_store

__all__ = [
    "MIN_PART_SIZE",
    "LocalObjectReader",
    "LocalObjectStore",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectReader",
    "ObjectStat",
    "ObjectStore",
    "ObjectStoreError",
    "S3ObjectReader",
    "S3ObjectStore",
    "S3Settings",
    "Source",
    "check_key",
    "check_prefix",
    "object_key",
    "open_s3_store",
    "split_key",
]
