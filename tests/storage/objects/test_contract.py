"""The ``ObjectStore`` contract, run against both backends on real storage (a tmp dir and
moto's S3 server)."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from callvault.errors import InvalidRequest
from callvault.storage.objects import ObjectNotFound, ObjectStore, object_key

KEY = "acme/recording/call-1"


def test_is_an_object_store(store: ObjectStore) -> None:
    assert isinstance(store, ObjectStore)


def test_put_then_read_back_every_way(store: ObjectStore) -> None:
    data = os.urandom(300_000)
    info = store.put_stream(KEY, [data[:1000], data[1000:200_000], b"", data[200_000:]])
    assert (info.key, info.size) == (KEY, len(data))
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert b"".join(store.get_stream(KEY)) == data
    with store.open_reader(KEY) as reader:
        assert reader.size == len(data)
        assert reader.read_at(12_345, 100) == data[12_345:12_445]
        assert reader.read_at(len(data) - 10, 100) == data[-10:]  # clamped at the end
        assert reader.read_at(len(data), 5) == b""
        assert reader.seek(-4, os.SEEK_END) == len(data) - 4
        assert reader.read() == data[-4:]
        reader.seek(7)
        assert reader.read(3) == data[7:10]
        assert reader.tell() == 10
    assert store.stat(KEY).size == len(data)
    assert store.exists(KEY)


def test_put_from_a_file(store: ObjectStore) -> None:
    data = os.urandom(2 * 1024 * 1024 + 17)
    info = store.put_stream(KEY, io.BytesIO(data))
    assert info.size == len(data)
    assert b"".join(store.get_stream(KEY)) == data


def test_empty_object(store: ObjectStore) -> None:
    info = store.put_stream(KEY, [])
    assert info.size == 0
    assert info.sha256 == hashlib.sha256(b"").hexdigest()
    assert b"".join(store.get_stream(KEY)) == b""
    with store.open_reader(KEY) as reader:
        assert reader.size == 0
        assert reader.read() == b""


def test_overwrite_replaces(store: ObjectStore) -> None:
    store.put_stream(KEY, [b"first version"])
    store.put_stream(KEY, [b"second"])
    assert b"".join(store.get_stream(KEY)) == b"second"
    assert list(store.list("acme")) == [KEY]


def test_missing_objects_are_object_not_found(store: ObjectStore) -> None:
    missing = "acme/recording/nope"
    assert not store.exists(missing)
    for call in (store.open_reader, store.get_stream, store.delete, store.stat):
        with pytest.raises(ObjectNotFound) as caught:
            call(missing)
        assert caught.value.key == missing


def test_delete(store: ObjectStore) -> None:
    store.put_stream(KEY, [b"x"])
    store.delete(KEY)
    assert not store.exists(KEY)
    assert list(store.list()) == []
    with pytest.raises(ObjectNotFound):
        store.delete(KEY)


def test_list_by_whole_segments(store: ObjectStore) -> None:
    keys = [
        object_key("acme", "recording", "b"),
        object_key("acme", "recording", "a"),
        object_key("acme", "transcript", "t1"),
        object_key("acme-corp", "recording", "a"),
        object_key("globex", "backup", "2026-01-01"),
    ]
    for key in keys:
        store.put_stream(key, [key.encode()])
    assert list(store.list()) == sorted(keys)
    # 'acme' is a whole tenant: acme-corp's objects are not under it.
    assert list(store.list("acme")) == sorted(keys[:3])
    assert list(store.list("acme/")) == sorted(keys[:3])
    assert list(store.list("acme/recording")) == ["acme/recording/a", "acme/recording/b"]
    assert list(store.list("globex/audit")) == []
    with pytest.raises(InvalidRequest):
        list(store.list("acme/recording/a"))
    with pytest.raises(InvalidRequest):
        list(store.list("../etc"))


@pytest.mark.parametrize(
    "bad",
    [
        "../acme/recording/x",
        "/acme/recording/x",
        "acme/recording/../x",
        "acme/recording/..",
        "acme/recording/.hidden",
        "acme/recording",
        "acme/recording/x/y",
        "acme/secrets/x",
        "Acme/recording/x",
        "acme//x",
        "acme/recording/x\x00",
        "acme/recording/",
        "",
    ],
)
def test_bad_keys_refused_before_any_io(store: ObjectStore, bad: str) -> None:
    with pytest.raises(InvalidRequest):
        store.put_stream(bad, [b"sealed"])
    for call in (store.open_reader, store.get_stream, store.delete, store.stat, store.exists):
        with pytest.raises(InvalidRequest):
            call(bad)
    assert list(store.list()) == []


def test_bytes_source_refused(store: ObjectStore) -> None:
    # An iterable of ints would be a silent corruption: refused loudly instead.
    with pytest.raises(TypeError):
        store.put_stream(KEY, b"sealed bytes")  # type: ignore[arg-type]
    assert not store.exists(KEY)


def test_failing_source_keeps_previous_version(store: ObjectStore) -> None:
    store.put_stream(KEY, [b"previous"])

    class SealFailed(Exception):
        pass

    def pieces() -> object:
        yield os.urandom(100_000)
        raise SealFailed

    with pytest.raises(SealFailed):  # the source's own error, unchanged
        store.put_stream(KEY, pieces())  # type: ignore[arg-type]
    assert b"".join(store.get_stream(KEY)) == b"previous"
    assert list(store.list()) == [KEY]


def test_closed_reader_refuses(store: ObjectStore) -> None:
    store.put_stream(KEY, [b"abc"])
    reader = store.open_reader(KEY)
    reader.close()
    with pytest.raises(ValueError):
        reader.read_at(0, 1)
