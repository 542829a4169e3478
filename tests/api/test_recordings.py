"""Recordings end to end over HTTPS: streamed upload, exact download, Range, delete, and
what ends up on disk (sealed bytes only: no plaintext, no subject)."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from callvault.format import CHUNK_SIZE
from callvault.transport import TlsProfile, client_context

MIB = 1024 * 1024
SUBJECT = "+15551234567"


def _pieces(data: bytes, size: int = 100_003) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _id() -> str:
    return f"call-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def audio() -> bytes:
    # Distinct content per position, so any leaked window of plaintext is recognisable.
    return b"".join(hashlib.sha512(i.to_bytes(4, "big")).digest() for i in range(3 * MIB // 64))


@pytest.fixture(scope="module")
def stored(api, audio: bytes) -> str:
    """A 3 MiB recording uploaded chunked, in uneven pieces, with a subject."""
    recording = _id()
    with api.client(api.token("service", "acme")) as client:
        response = client.put(f"/v1/tenants/acme/recordings/{recording}",
                              params={"subject": SUBJECT}, content=_pieces(audio))
    assert response.status_code == 201, response.text
    assert response.json()["size"] == len(audio) == 3 * MIB
    assert response.json()["sealed_size"] > len(audio)
    return recording


def test_round_trip_byte_exact(api, audio: bytes, stored: str) -> None:
    with api.client(api.token("tenant-admin", "acme")) as client:
        response = client.get(f"/v1/tenants/acme/recordings/{stored}")
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(audio))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["cache-control"] == "no-store"
    assert response.content == audio


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=1000-2999", 1000, 2999),
        (f"bytes={CHUNK_SIZE - 5}-{CHUNK_SIZE + 5}", CHUNK_SIZE - 5, CHUNK_SIZE + 5),
        (f"bytes={2 * MIB}-", 2 * MIB, 3 * MIB - 1),
        ("bytes=-100", 3 * MIB - 100, 3 * MIB - 1),
        (f"bytes=10-{10 * MIB}", 10, 3 * MIB - 1),  # end clamped to the object
    ],
)
def test_range_returns_the_exact_slice(api, audio: bytes, stored: str, header: str,
                                       start: int, end: int) -> None:
    with api.client(api.token("service", "acme")) as client:
        response = client.get(f"/v1/tenants/acme/recordings/{stored}", headers={"range": header})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(audio)}"
    assert response.content == audio[start : end + 1]


@pytest.mark.parametrize(
    "header",
    [f"bytes={3 * MIB}-", f"bytes={3 * MIB + 5}-{3 * MIB + 9}", "bytes=9-3", "bytes=-0",
     "bytes=0-1,5-9", "items=0-1", "bytes=abc", "bytes=-"],
)
def test_unsatisfiable_range_is_416(api, stored: str, header: str) -> None:
    with api.client(api.token("service", "acme")) as client:
        response = client.get(f"/v1/tenants/acme/recordings/{stored}", headers={"range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{3 * MIB}"
    assert response.json()["error"]["code"] == "range_not_satisfiable"


def test_delete_then_404(api) -> None:
    recording = _id()
    with api.client(api.token("tenant-admin", "acme")) as client:
        url = f"/v1/tenants/acme/recordings/{recording}"
        assert client.put(url, content=b"short call").status_code == 201
        assert client.get(url).content == b"short call"
        assert client.delete(url).status_code == 204
        gone = client.get(url)
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
        assert client.delete(url).status_code == 404
        assert client.get(url, headers={"range": "bytes=0-1"}).status_code == 404
    assert not any(recording in p.name for p in (api.vault.home / "objects").rglob("*"))


def test_ids_are_write_once_and_checked(api) -> None:
    recording = _id()
    with api.client(api.token("service", "acme")) as client:
        url = f"/v1/tenants/acme/recordings/{recording}"
        assert client.put(url, content=b"first").status_code == 201
        again = client.put(url, content=b"second")
        assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
        assert client.get(url).content == b"first"
        for bad in ("a:meta", ".hidden", "x" * 200):
            response = client.put(f"/v1/tenants/acme/recordings/{bad}", content=b"x")
            assert response.status_code == 400, bad
        assert client.put("/v1/tenants/acme/recordings/s", params={"subject": "a\x00b"},
                          content=b"x").status_code == 400
        assert client.put("/v1/tenants/globex/recordings/x", content=b"x").status_code == 403


def test_empty_recording(api) -> None:
    url = f"/v1/tenants/acme/recordings/{_id()}"
    with api.client(api.token("service", "acme")) as client:
        assert client.put(url, content=b"").json()["size"] == 0
        response = client.get(url)
        assert response.status_code == 200 and response.content == b""
        assert client.get(url, headers={"range": "bytes=0-0"}).status_code == 416


def test_disk_holds_no_plaintext_and_no_subject(api, audio: bytes, stored: str) -> None:
    files = [p for p in (api.vault.home).rglob("*") if p.is_file()]
    assert any(p.name == stored for p in files)
    windows = [audio[i : i + 32] for i in range(0, len(audio), 256 * 1024)]
    subject_forms = [SUBJECT.encode(), SUBJECT.encode("utf-16-le"), b"15551234567"]
    for path in files:
        data = path.read_bytes()
        for window in windows:
            assert window not in data, path
        for form in subject_forms:
            assert form not in data, path


def test_tampered_object_is_an_integrity_error(api) -> None:
    recording = _id()
    with api.client(api.token("service", "acme")) as client:
        url = f"/v1/tenants/acme/recordings/{recording}"
        assert client.put(url, content=os.urandom(3 * CHUNK_SIZE)).status_code == 201
        path = api.vault.home / "objects" / "acme" / "recording" / recording
        blob = bytearray(path.read_bytes())
        blob[len(blob) // 2] ^= 1  # inside a middle chunk
        path.write_bytes(bytes(blob))
        middle = client.get(url, headers={"range": f"bytes={CHUNK_SIZE}-{CHUNK_SIZE + 9}"})
        assert middle.status_code == 500
        assert middle.json()["error"]["code"] == "integrity_error"
        first = client.get(url, headers={"range": "bytes=0-9"})  # untouched chunk still reads
        assert first.status_code == 206


def test_erased_subject_is_410(api) -> None:
    recording, subject = _id(), f"+1555{uuid.uuid4().int % 10**7:07d}"
    with api.client(api.token("service", "acme")) as client:
        url = f"/v1/tenants/acme/recordings/{recording}"
        assert client.put(url, params={"subject": subject}, content=b"voice").status_code == 201
        assert client.get(url).content == b"voice"
        api.vault.destroy_subject("acme", subject)
        erased = client.get(url)
        assert erased.status_code == 410
        assert erased.json()["error"]["code"] == "key_destroyed"
        assert b"voice" not in erased.content


def test_body_over_the_limit_is_413_and_stores_nothing(served) -> None:
    small = served(max_recording_bytes=50_000)
    objects = small.vault.home / "objects"
    with small.client(small.token("service", "acme")) as client:
        declared = client.put("/v1/tenants/acme/recordings/big1", content=b"x" * 60_000)
        assert declared.status_code == 413
        assert declared.json()["error"]["code"] == "payload_too_large"
        streamed = client.put("/v1/tenants/acme/recordings/big2",
                              content=_pieces(b"y" * 200_000, 10_000))
        assert streamed.status_code == 413
        assert client.get("/v1/tenants/acme/recordings/big2").status_code == 404
        assert client.put("/v1/tenants/acme/recordings/fits", content=b"z" * 50_000
                          ).status_code == 201
    leftovers = [p.name for p in Path(objects).rglob("*") if p.is_file()]
    assert sorted(leftovers) == ["fits", "fits:meta"]


def test_not_found_does_not_leak_store_keys(api) -> None:
    token = api.token("service", "acme")
    with api.client(token) as client:
        response = client.get("/v1/tenants/acme/recordings/never-stored")
    assert response.status_code == 404
    assert "acme/recording" not in response.text  # store keys never leak
    assert ":meta" not in response.text
    assert response.json() == {"error": {"code": "not_found",
                                         "message": "no recording never-stored"}}


def test_concurrent_upload_of_one_id_is_409(api) -> None:
    url = f"/v1/tenants/acme/recordings/{_id()}"
    release, started = threading.Event(), threading.Event()
    result: dict[str, int] = {}

    def slow_body() -> Iterator[bytes]:
        yield b"first half "
        started.set()
        assert release.wait(20)
        yield b"second half"

    def first_upload() -> None:
        with api.client(api.token("service", "acme")) as client:
            result["first"] = client.put(url, content=slow_body()).status_code

    thread = threading.Thread(target=first_upload)
    thread.start()
    try:
        assert started.wait(20)
        time.sleep(0.2)  # the first body is in flight on the server
        with api.client(api.token("service", "acme")) as client:
            second = client.put(url, content=b"intruder")
            assert second.status_code == 409
    finally:
        release.set()
        thread.join(20)
    assert result["first"] == 201
    with api.client(api.token("service", "acme")) as client:
        assert client.get(url).content == b"first half second half"


def test_upload_and_download_run_in_constant_memory(api) -> None:
    """24 MiB through PUT and GET while Python's allocations are traced: the peak stays a
    small fraction of the size, so neither side buffers the recording."""
    size, url = 24 * MIB, f"/v1/tenants/acme/recordings/{_id()}"
    block = hashlib.sha512(b"block").digest() * 1024  # 64 KiB, reused: the client holds 64 KiB
    with api.client(api.token("service", "acme")) as client:
        tracemalloc.start()
        try:
            put = client.put(url, content=(block for _ in range(size // len(block))))
            assert put.status_code == 201 and put.json()["size"] == size
            _, put_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            received = 0
            with client.stream("GET", url) as response:
                for piece in response.iter_raw():
                    received += len(piece)
            _, get_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert received == size
    assert put_peak < 8 * MIB, put_peak
    assert get_peak < 8 * MIB, get_peak


def test_an_interrupted_upload_leaves_nothing_visible(api, audio: bytes) -> None:
    """The client vanishes half-way through its body: no recording appears, no partial or
    temporary file stays behind, and the id is free for a retry at once (lease released)."""
    recording = _id()
    path = f"/v1/tenants/acme/recordings/{recording}"
    objects = api.vault.home / "objects"
    before = {p for p in objects.rglob("*") if p.is_file()}
    ctx = client_context(TlsProfile.MODERN, ca=api.tls.ca)
    with socket.create_connection(("127.0.0.1", api.port)) as raw, ctx.wrap_socket(
        raw, server_hostname="localhost"
    ) as tls:
        head = (
            f"PUT {path} HTTP/1.1\r\nHost: localhost\r\n"
            f"Authorization: Bearer {api.token('service', 'acme')}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {len(audio)}\r\n\r\n"
        )
        tls.sendall(head.encode() + audio[: len(audio) // 2])
    with api.client(api.token("service", "acme")) as client:
        deadline = time.monotonic() + 20
        while True:  # the server notices the disconnect asynchronously
            retry = client.put(path, content=audio[:1000])
            if retry.status_code != 409 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert retry.status_code == 201, retry.text  # nothing committed; lease released
        assert client.get(path).content == audio[:1000]
    after = {p for p in objects.rglob("*") if p.is_file()}
    new = sorted(p.name for p in after - before)
    assert new == [recording, f"{recording}:meta"]  # no temporary or partial file left
