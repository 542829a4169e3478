"""Erasure: once a data subject's keys are destroyed, that subject's objects answer
``KeyDestroyed`` (a fact about the key, distinct from ``OpenError``) through every open API,
while every other object of the tenant, and the same caller at another tenant, still opens.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from callvault import DataClass, KeyDestroyed, ObjectContext, OpenError, Vault

CALLER = "+15551234567"
OTHER_CALLER = "+15557654321"


def _open_all_ways(vault: Vault, ctx: ObjectContext, blob: bytes) -> list[Callable[[], object]]:
    def stream() -> bytes:
        dst = io.BytesIO()
        vault.open_stream(ctx, io.BytesIO(blob), dst)
        return dst.getvalue()

    return [
        lambda: vault.open(ctx, blob),
        stream,
        lambda: b"".join(vault.open_iter(ctx, [blob])),
        lambda: vault.range_reader(ctx, blob),
        lambda: vault.open_range(ctx, blob, 0, 0),
    ]


def _reopen(home: Path, monkeypatch: pytest.MonkeyPatch) -> Vault:
    for name in list(os.environ):
        if name.startswith("CALLVAULT_"):
            monkeypatch.delenv(name)
    return Vault.open_home(home)


def test_destroyed_subject_answers_key_destroyed_and_others_still_open(
    vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    contexts = {
        "caller recording": vault.context("acme", DataClass.RECORDING, "call-1", CALLER),
        "caller transcript": vault.context("acme", DataClass.TRANSCRIPT, "call-1", CALLER),
        "other caller": vault.context("acme", DataClass.RECORDING, "call-2", OTHER_CALLER),
        "no subject": vault.context("acme", DataClass.RECORDING, "call-3"),
        "caller at globex": vault.context("globex", DataClass.RECORDING, "call-1", CALLER),
    }
    erased = {"caller recording", "caller transcript"}
    plaintexts = {name: os.urandom(40_000) for name in contexts}
    blobs = {name: vault.seal(ctx, plaintexts[name]) for name, ctx in contexts.items()}
    for name, ctx in contexts.items():  # opened once: their keys are now in the cache
        assert vault.open(ctx, blobs[name]) == plaintexts[name]

    assert vault.destroy_subject("acme", CALLER)

    for current in (vault, _reopen(vault.home, monkeypatch)):  # cached, then a cold process
        for name, ctx in contexts.items():
            if name in erased:
                for attempt in _open_all_ways(current, ctx, blobs[name]):
                    with pytest.raises(KeyDestroyed) as info:
                        attempt()
                    assert not isinstance(info.value, OpenError)
            else:
                assert current.open(ctx, blobs[name]) == plaintexts[name]
                assert current.open_range(ctx, blobs[name], 100, 200) == plaintexts[name][100:201]


def test_key_destroyed_is_not_confused_with_a_bad_ciphertext(vault: Vault) -> None:
    """A tampered body of a live subject is an OpenError; the same object after erasure is
    KeyDestroyed: the key outcome says nothing about the ciphertext."""
    ctx = vault.context("acme", DataClass.RECORDING, "call-1", CALLER)
    blob = bytearray(vault.seal(ctx, b"hello" * 10_000))
    blob[-1] ^= 1
    with pytest.raises(OpenError):
        vault.open(ctx, bytes(blob))
    vault.destroy_subject("acme", CALLER)
    with pytest.raises(KeyDestroyed):
        vault.open(ctx, bytes(blob))
